"""The SFTP transport: CSV files in the 3PL's folders (docs/3pl-sftp-csv.md).

Key-based login only, and the server's host key must be the one pinned on the
backend (a ``known_hosts`` line, or ``<type> <base64>``): a server showing
another key is refused before any credential is sent. Outbound files are
written as ``<name>.csv.tmp`` then renamed, so the 3PL never reads half a
file; inbound files are read, and archived (renamed into ``archive/``) only
once what they say is stored in Odoo.
"""

import io
import posixpath
import socket
import stat

import paramiko

from odoo.addons.retail_connect_base.lib.errors import AuthError, TransientError

from .csv_codec import file_name, write_shipping_order
from .csv_receipts import write_inbound_notice
from .transport import Refused, Transport

WRITERS = {
    "shipping_order": write_shipping_order,
    "inbound_shipment_notice": write_inbound_notice,
}
KEY_TYPES = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


def load_private_key(pem):
    for key_type in KEY_TYPES:
        try:
            return key_type.from_private_key(io.StringIO(pem))
        except (paramiko.SSHException, ValueError):
            continue
    raise AuthError("The SFTP private key is not an OpenSSH/PEM private key.")


def pinned_key(line):
    """``(type, base64)`` of a pinned host key line."""
    parts = (line or "").split()
    if len(parts) < 2:
        raise AuthError("No pinned host key: set the server's key on the backend.")
    return parts[-2], parts[-1]


class SftpTransport(Transport):
    name = "sftp"
    timeout = 30

    def __init__(self, *, host, port, user, private_key, host_key, folders):
        self.host, self.port, self.user = host, int(port or 22), user
        self.private_key = private_key
        self.host_key = host_key
        self.outbox, self.inbox, self.archive = folders
        self._transport = self._sftp = None

    # -- connection --------------------------------------------------------
    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.close()

    def connect(self):
        if self._sftp is not None:
            return self._sftp
        kind, expected = pinned_key(self.host_key)
        pkey = load_private_key(self.private_key)
        try:
            sock = socket.create_connection((self.host, self.port), self.timeout)
            transport = paramiko.Transport(sock)
            transport.banner_timeout = transport.auth_timeout = self.timeout
            transport.start_client(timeout=self.timeout)
        except (OSError, paramiko.SSHException) as err:
            raise TransientError(
                f"SFTP {self.host}:{self.port} unreachable: {err}"
            ) from err
        self._transport = transport
        shown = transport.get_remote_server_key()
        if (shown.get_name(), shown.get_base64()) != (kind, expected):
            self.close()
            raise AuthError(
                f"SFTP {self.host}: the server's host key ({shown.get_name()}) is "
                "not the pinned one: refused (a changed server, or someone in "
                "between). Pin the new key only once the 3PL confirms it."
            )
        try:
            transport.auth_publickey(self.user, pkey)
        except paramiko.AuthenticationException as err:
            self.close()
            raise AuthError(f"SFTP {self.host} refused the key of {self.user}") from err
        except (OSError, paramiko.SSHException) as err:
            self.close()
            raise TransientError(f"SFTP {self.host}: {err}") from err
        self._sftp = paramiko.SFTPClient.from_transport(transport)
        self._sftp.get_channel().settimeout(self.timeout)
        return self._sftp

    def close(self):
        if self._sftp is not None:
            self._sftp.close()
        if self._transport is not None:
            self._transport.close()
        self._transport = self._sftp = None

    def _exists(self, path):
        try:
            self.connect().stat(path)
        except FileNotFoundError:
            return False
        return True

    # -- the interface -----------------------------------------------------
    def send(self, message):
        writer = WRITERS.get(message["type"])
        if writer is None:
            raise Refused("invalid_value", f"cannot send {message['type']} files yet")
        sftp = self.connect()
        name = file_name(message)
        final = posixpath.join(self.outbox, name)
        temporary = final + ".tmp"
        try:
            with sftp.open(temporary, "wb") as handle:
                handle.write(writer(message))
            if self._exists(final):
                # the same message written by an earlier try, not read yet
                sftp.remove(temporary)
            else:
                sftp.rename(temporary, final)
        except OSError as err:
            raise TransientError(f"SFTP write of {name} failed: {err}") from err
        return {"remote_ref": name, "acked": False}

    def inbox_files(self):
        """Names of the complete-looking files in the inbox (``*.csv``)."""
        sftp = self.connect()
        try:
            entries = sftp.listdir_attr(self.inbox)
        except OSError as err:
            raise TransientError(f"SFTP listing of {self.inbox}: {err}") from err
        return sorted(
            e.filename
            for e in entries
            if e.filename.endswith(".csv") and stat.S_ISREG(e.st_mode or 0)
        )

    def read_file(self, name):
        try:
            with self.connect().open(posixpath.join(self.inbox, name), "rb") as handle:
                return handle.read()
        except OSError as err:
            raise TransientError(f"SFTP read of {name} failed: {err}") from err

    def archive_file(self, name):
        """Move a processed inbox file to the archive; a copy already there
        means it was processed before: the inbox copy goes."""
        sftp = self.connect()
        source = posixpath.join(self.inbox, name)
        target = posixpath.join(self.archive, name)
        try:
            if self._exists(target):
                sftp.remove(source)
            else:
                sftp.rename(source, target)
        except OSError as err:
            raise TransientError(f"SFTP archive of {name} failed: {err}") from err
