"""What every benchmark of this folder does the same way: log, stop on a signal,
warn about a busy machine, describe the machine in its results."""

import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests")]

import devenv  # noqa: E402


def log(msg):
    print(f"[bench] {msg}", flush=True)


def on_signal(signum, _frame):
    raise KeyboardInterrupt(signum)


def begin_run():
    """Stop cleanly on SIGINT/SIGTERM; return the load average before the run."""
    # explicit handlers: a run started from a script may inherit SIGINT ignored
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    load_before = os.getloadavg()
    if load_before[0] > 0.5:
        log(
            f"WARNING: load average {load_before[0]:.2f} before the run: other "
            "processes share the CPU, figures will be noisy"
        )
    return load_before


def machine(pg, load_before):
    return {
        "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "odoo": devenv.check_odoo(),
        "postgresql": pg.psql("SHOW server_version"),
    }
