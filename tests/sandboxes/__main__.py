"""Serve the sandboxes until SIGINT or SIGTERM.

``python -m sandboxes --all --port-base 8070`` (``tests/`` on ``PYTHONPATH``)
prints one ``name url`` line per sandbox; ``--only NAME`` (repeatable) serves
only those, on consecutive ports from ``--port-base`` too; port base 0 gives
each sandbox a free port. ``--state-dir DIR`` (``make demo``: ``$RC_CACHE/sandboxes``)
keeps the ids handed out in DIR: a restarted sandbox never hands out an old one.
"""

import argparse
import signal
import sys
import threading
from pathlib import Path

from . import available
from .toolkit import SandboxServer


def main(argv=None) -> int:
    factories = available()
    parser = argparse.ArgumentParser(prog="python -m sandboxes", description=__doc__)
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--all", action="store_true", help="serve every sandbox (the default)"
    )
    which.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        choices=sorted(factories),
        help="serve this sandbox (repeatable)",
    )
    parser.add_argument("--port-base", type=int, default=8070)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument(
        "--state-dir",
        help="keep the ids handed out here: a restarted sandbox never reuses one",
    )
    args = parser.parse_args(argv)

    names = [name for name in factories if not args.only or name in args.only]
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    servers = []
    try:
        for index, name in enumerate(names):
            port = args.port_base + index if args.port_base else 0
            sandbox = factories[name]()
            if getattr(sandbox, "sftp", None) is not None and args.port_base:
                # the 3PL's SFTP server: 100 ports above its HTTP port
                sandbox.sftp_port = port + 100
            if args.state_dir:
                sandbox.persist_ids(Path(args.state_dir) / f"{name}.ids")
            server = SandboxServer(sandbox, port, args.host, quiet=not args.verbose)
            try:
                server.start()
            except OSError as exc:
                print(f"{name}: cannot listen on port {port}: {exc}", file=sys.stderr)
                return 1
            servers.append(server)
            print(f"{name} {server.url}", flush=True)
            sftp = getattr(sandbox, "sftp", None)
            if sftp is not None:
                print(f"{name}-sftp sftp://{args.host}:{sftp.server.port}", flush=True)
        # A timed wait lets the signal handlers run promptly.
        while not stop.wait(0.5):
            pass
    finally:
        for server in servers:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
