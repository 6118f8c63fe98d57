"""A local SFTP server (paramiko) in the test process, on 127.0.0.1.

- Key-based authentication only: ``get_allowed_auths`` offers ``publickey``
  and a password is always refused (paramiko ``ServerInterface``:
  https://docs.paramiko.org/en/stable/api/server.html).
- A fixed host key the client can pin: an Ed25519 key derived from a fixed
  seed, so every run (and ``python -m sandboxes``) presents the same key;
  :attr:`SftpServer.host_key_line` is its ``known_hosts`` entry.
- One account (``username``) whose home is a directory with ``outbox/``,
  ``inbox/`` and ``archive/`` (``docs/3pl-sftp-csv.md``); paths cannot
  escape it. ``rename`` never overwrites (SFTP v3, draft-ietf-secsh-filexfer-02
  §6.5: "It is an error if there already exists a file with the name
  specified by newpath"); ``posix-rename@openssh.com`` does: OpenSSH's
  PROTOCOL file §4.3 (https://github.com/openssh/openssh-portable/blob/master/
  PROTOCOL) gives it "POSIX semantics, which are different to those provided
  by the standard SSH_FXP_RENAME", i.e. rename(2): "If newpath already
  exists, it will be atomically replaced" (man 2 rename); a rename into
  ``outbox/`` tells the warehouse.
- During an outage window of the sandbox, a connection is closed at once.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import socket
import threading
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

_logger = logging.getLogger(__name__)
HOST_KEY_SEED = b"retail_connect 3PL sandbox host key, not a secret"


def fixed_host_key() -> paramiko.Ed25519Key:
    seed = hashlib.sha256(HOST_KEY_SEED).digest()
    private = Ed25519PrivateKey.from_private_bytes(seed)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    return paramiko.Ed25519Key.from_private_key(io.StringIO(pem))


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's ``SHA256:<base64>`` fingerprint of a public key."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


class _Auth(paramiko.ServerInterface):
    def __init__(self, server: SftpServer):
        self.server = server

    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_password(self, username, password):
        self.server.refused.append((username, "password"))
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        if (
            username == self.server.username
            and (
                key.get_name(),
                key.get_base64(),
            )
            in self.server.authorized
        ):
            return paramiko.AUTH_SUCCESSFUL
        self.server.refused.append((username, "publickey"))
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(paramiko.SFTPHandle):
    def stat(self):
        try:
            return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)


class _Files(paramiko.SFTPServerInterface):
    """The account's home as the SFTP root (``/`` = the home)."""

    def __init__(self, auth, *args, sftp_server: SftpServer, **kwargs):
        super().__init__(auth, *args, **kwargs)
        self.server = sftp_server

    def _real(self, path: str) -> Path:
        root = self.server.root.resolve()
        real = (root / self.canonicalize(path).lstrip("/")).resolve()
        if real != root and root not in real.parents:
            raise PermissionError(path)
        return real

    def canonicalize(self, path):
        parts = []
        for part in path.replace("\\", "/").split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(part)
        return "/" + "/".join(parts)

    def _guard(self, function, *args):
        try:
            return function(*args)
        except PermissionError:
            return paramiko.SFTP_PERMISSION_DENIED
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)

    def list_folder(self, path):
        def listing():
            real = self._real(path)
            out = []
            for name in sorted(os.listdir(real)):
                attr = paramiko.SFTPAttributes.from_stat(os.stat(real / name))
                attr.filename = name
                out.append(attr)
            return out

        return self._guard(listing)

    def stat(self, path):
        return self._guard(
            lambda: paramiko.SFTPAttributes.from_stat(os.stat(self._real(path)))
        )

    lstat = stat

    def open(self, path, flags, attr):
        def opening():
            real = self._real(path)
            fd = os.open(real, flags, 0o644)
            append = flags & os.O_APPEND
            if flags & os.O_WRONLY:
                mode = "ab" if append else "wb"
            elif flags & os.O_RDWR:
                mode = "a+b" if append else "r+b"
            else:
                mode = "rb"
            handle = _Handle(flags)
            stream = os.fdopen(fd, mode)
            handle.filename = str(real)
            handle.readfile = stream
            handle.writefile = stream
            return handle

        return self._guard(opening)

    def remove(self, path):
        return self._guard(lambda: os.remove(self._real(path)) or paramiko.SFTP_OK)

    def rename(self, oldpath, newpath):
        return self._rename(oldpath, newpath, overwrite=False)

    def posix_rename(self, oldpath, newpath):
        # posix-rename@openssh.com: rename(2) semantics, an existing file at
        # newpath is replaced atomically (see the module docstring)
        return self._rename(oldpath, newpath, overwrite=True)

    def _rename(self, oldpath, newpath, *, overwrite):
        def renaming():
            old, new = self._real(oldpath), self._real(newpath)
            if new.exists() and not overwrite:
                return paramiko.SFTP_FAILURE
            os.replace(old, new)
            self.server.renamed(new)
            return paramiko.SFTP_OK

        return self._guard(renaming)

    def mkdir(self, path, attr):
        return self._guard(lambda: os.mkdir(self._real(path)) or paramiko.SFTP_OK)

    def rmdir(self, path):
        return self._guard(lambda: os.rmdir(self._real(path)) or paramiko.SFTP_OK)

    def chattr(self, path, attr):
        return paramiko.SFTP_OK


class SftpServer:
    """Listen on ``host``:``port`` (0: any free) for the account in ``root``."""

    def __init__(self, root: Path, *, username="retailer", on_rename=None, closed=None):
        self.root = Path(root)
        self.username = username
        self.on_rename = on_rename
        self.closed = closed or (lambda: False)
        self.host_key = fixed_host_key()
        self.authorized: set[tuple[str, str]] = set()
        self.refused: list[tuple[str, str]] = []
        self.host = "127.0.0.1"
        self.port = 0
        self._socket = None
        self._thread = None
        self._transports: list[paramiko.Transport] = []

    @property
    def host_key_line(self) -> str:
        """The ``known_hosts`` line a client pins."""
        host = f"[{self.host}]:{self.port}"
        return f"{host} {self.host_key.get_name()} {self.host_key.get_base64()}"

    @property
    def host_key_fingerprint(self) -> str:
        return fingerprint(self.host_key)

    def authorize(self, public_key: str) -> None:
        """Accept the OpenSSH public key ``"ssh-ed25519 AAAA... comment"``."""
        kind, blob, *_ = public_key.split()
        paramiko.PKey.from_type_string(kind, base64.b64decode(blob))  # valid?
        self.authorized.add((kind, blob))

    def renamed(self, path: Path) -> None:
        if self.on_rename is not None:
            self.on_rename(path)

    def start(self) -> SftpServer:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.host, self.port))
        self.port = self._socket.getsockname()[1]
        self._socket.listen(16)
        self._socket.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, name=f"sftp-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.closed():
                conn.close()  # outage: the server does not answer
                continue
            try:
                transport = paramiko.Transport(conn)
                transport.add_server_key(self.host_key)
                transport.set_subsystem_handler(
                    "sftp", paramiko.SFTPServer, _Files, sftp_server=self
                )
                transport.start_server(server=_Auth(self))
                self._transports.append(transport)
            except Exception:
                _logger.exception("SFTP sandbox: connection failed")
                conn.close()

    def stop(self) -> None:
        if self._socket is None:
            return
        self._stop.set()
        self._socket.close()
        self._socket = None
        for transport in self._transports:
            transport.close()
        self._transports.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self if self._socket is not None else self.start()

    def __exit__(self, *exc_info):
        self.stop()
