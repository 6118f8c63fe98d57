"""What every benchmark of this folder does the same way: log, stop on a signal,
warn about a busy machine, describe the machine in its results, start and stop
a real Odoo server (with or without queue_job's job runner)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

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


# ---------------------------------------------------------------- odoo server
RUNNER_LOCK_ID = 2293787760715711918  # queue_job's jobrunner PG_ADVISORY_LOCK_ID


def server_config(
    pg,
    name,
    db,
    port,
    *,
    workers,
    channels="root:2",
    runner_port=None,
    db_filter=False,
    **options,
):
    """The configuration file of a bench server serving ``db`` on ``port``.

    No cron worker, ``log_level = warn`` (no access log line per request), the
    log in ``<cache>/<name>-odoo.log``; our ``[queue_job]`` section: the runner
    calls the workers on 127.0.0.1 (the only interface they listen on), through
    ``runner_port`` when given (a balancer), with ``channels``. ``options``:
    more Odoo options (``limit_memory_soft``, ...).
    """
    extra = devenv.server_options(
        db,
        port,
        workers=workers,
        logfile=devenv.CACHE / f"{name}-odoo.log",
        db_filter=db_filter,
        max_cron_threads=0,
        log_level="warn",
        **options,
    )
    path = devenv.write_config(pg, name, with_tests=True, extra=extra)
    text = path.read_text().split("[queue_job]")[0]
    section = f"[queue_job]\nchannels = {channels}\nhost = 127.0.0.1\n"
    if runner_port:
        section += f"port = {runner_port}\n"
    path.write_text(text + section)
    return path


class OdooServer:
    """A real Odoo server (``tools/odoo_bin.py``) in its own process group."""

    def __init__(self, config, port):
        self.config, self.port, self.proc = config, port, None
        self.url = f"http://127.0.0.1:{port}"
        self.log = next(
            (
                line.split("=", 1)[1].strip()
                for line in Path(config).read_text().splitlines()
                if line.startswith("logfile")
            ),
            "its log",
        )

    def spawn(self, load=None):
        """Start the process; ``load``: server-wide modules (``base,web``: no
        job runner), else the configuration's (``base,web,queue_job``)."""
        args = [f"--load={load}"] if load else []
        cmd = devenv.odoo_cmd(self.config, *args)
        self.proc = subprocess.Popen(cmd, start_new_session=True, cwd=ROOT)
        return self

    def wait_ready(self, runner_db=None, timeout=90):
        """Wait for HTTP and, with ``runner_db``, for the job runner.

        queue_job's runner sleeps 5 s after the server starts, then LISTENs on
        the database: deliveries sent before would wait for it, so a run starts
        only once the runner holds its lock on the database.
        """
        deadline = time.monotonic() + timeout
        http_up = False
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"Odoo exited ({self.proc.returncode}); see {self.log}"
                )
            if not http_up:
                try:
                    answer = requests.get(f"{self.url}/web/health", timeout=5)
                    http_up = answer.status_code == 200
                except requests.RequestException:
                    pass
            if http_up and (runner_db is None or runner_listening(runner_db)):
                if runner_db is not None:
                    time.sleep(0.5)  # its LISTEN and first scan follow the lock
                return self
            time.sleep(0.3)
        raise RuntimeError(
            f"Odoo or its job runner not ready in {timeout} s; see {self.log}"
        )

    def start(self, runner_db=None, load=None):
        return self.spawn(load).wait_ready(runner_db)

    def stop(self):
        proc, self.proc = self.proc, None
        stop_group(proc)


def stop_group(proc):
    """Stop a server started in its own process group (SIGTERM, then SIGKILL);
    True if it was running."""
    if proc is None or proc.poll() is not None:
        return False
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    return True


def runner_listening(db):
    """True once queue_job's runner holds its master lock on db (then LISTENs).

    ``db``: a connection with ``one(sql, args)`` (``shopify_orders.Db``)."""
    (count,) = db.one(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE d.datname = current_database() AND l.locktype = 'advisory' "
        "AND l.granted AND l.objsubid = 1 "
        "AND ((l.classid::bigint << 32) | l.objid::bigint) = %s",
        (RUNNER_LOCK_ID,),
    )
    return bool(count)
