#!/usr/bin/env python3
"""Worker memory over a long Shopify import: RSS growth of each job worker.

``python3 bench/worker_memory.py [--orders 10000] [--warmup 200]``: one real
Odoo server (2 workers, queue_job runner, ``root:2``) on a database prepared
as ``shopify_orders.py`` prepares it (an active Shopify backend on the
sandbox, products bound, enough stock for every order). The RSS (``VmRSS`` of
``/proc/<pid>/status``) of every process of the server is read at each phase
and every 10 s:

1. **warm-up**: the first ``--warmup`` orders imported (webhooks, jobs): every
   worker has loaded its code and filled its caches;
2. **baseline**: as many requests and jobs as the import will make, doing
   nothing: ``GET /web/health`` once per remaining order and a trivial job
   (``res.users.exists``) per job the import is expected to run (jobs per
   order of the warm-up × remaining orders); the growth of the same workers
   over it is what Odoo and queue_job alone cost;
3. **import**: the remaining orders (``orders/create`` webhooks, 4 senders),
   until every job is done.

Growth of a worker = its RSS after the phase − before it. Job workers are the
processes queue_job recorded as ``worker_pid``. Odoo recycles a worker whose
virtual size passes ``limit_memory_soft`` (default 2 GiB) or after
``limit_request`` requests, and kills one whose request (a job) passes
``limit_time_real`` (120 s) or ``limit_time_cpu`` (60 s): all are set out of
reach here (16 GiB, 10^7 requests, 3600 s), so the same processes are measured
from start to end; a worker that still changed (a crash) is reported and fails
the run, and the server log's worker kills are in the JSON.

Target (PERFORMANCE.md): growth of every job worker over the import <= 50 MB.
Exit 1 when missed, when a worker was replaced, or when the orders' checks
fail. Writes bench/results/worker_memory.json.
"""

import argparse
import contextlib
import json
import os
import queue
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT / "tools"), str(ROOT / "tests")]

import devenv  # noqa: E402
import shopify_orders as so  # noqa: E402
from common import OdooServer, begin_run, log, machine, server_config  # noqa: E402

RESULTS = BENCH / "results" / "worker_memory.json"
DB = "rc_bench_memory"  # --db: another name, to run beside a long run
WORKERS = 2
CHANNELS = "root:2"
TARGET_GROWTH_MB = 50.0
LIMITS = {
    # out of reach: the same worker processes from start to end
    "limit_memory_soft": 16 * 2**30,
    "limit_memory_hard": 20 * 2**30,
    "limit_request": 10_000_000,
    # a request (a job) killed after limit_time_real (120 s) or _cpu (60 s)
    # replaces its worker: measured apart (a killed job is reported), not here
    "limit_time_real": 3600,
    "limit_time_cpu": 3600,
}
SAMPLE_EVERY = 10.0


def status(pid):
    """VmRSS, VmHWM and VmSize of a process in MB (None once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = {}
    for line in text.splitlines():
        key, _sep, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "VmSize"):
            found[key] = round(int(value.split()[0]) / 1024, 1)
    return found


def processes(pgid):
    """{pid: kind} of the server's process group (master, gevent, children)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[2]) != pgid:
            continue
        pid = int(stat.parent.name)
        if pid == pgid:
            found[pid] = "master"
        elif b"gevent" in cmdline:
            found[pid] = "gevent"
        else:
            found[pid] = "child"  # HTTP worker or queue_job's runner
    return found


class Memory:
    """Snapshots of the server's processes, named by phase, and a timeline."""

    def __init__(self, pgid):
        self.pgid = pgid
        self.snapshots, self.timeline = {}, []
        self.stop_event = threading.Event()
        self.t0 = time.monotonic()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def read(self):
        return {
            pid: dict(kind=kind, **values)
            for pid, kind in processes(self.pgid).items()
            if (values := status(pid))
        }

    def snap(self, name):
        self.snapshots[name] = self.read()
        return self.snapshots[name]

    def _loop(self):
        while not self.stop_event.wait(SAMPLE_EVERY):
            reading = self.read()
            self.timeline.append(
                {
                    "t": round(time.monotonic() - self.t0),
                    "rss_mb": {str(pid): v["VmRSS"] for pid, v in reading.items()},
                }
            )

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_event.set()
        self.thread.join(timeout=SAMPLE_EVERY + 5)

    def growth(self, before, after, pids):
        """{pid: MB} of RSS growth between two snapshots (None: not in both)."""
        first, last = self.snapshots[before], self.snapshots[after]
        return {
            str(pid): (
                round(last[pid]["VmRSS"] - first[pid]["VmRSS"], 1)
                if pid in first and pid in last
                else None
            )
            for pid in pids
        }


def job_workers(conn):
    return {
        pid
        for (pid,) in conn.all(
            "SELECT DISTINCT worker_pid FROM queue_job WHERE worker_pid > 0"
        )
    }


def jobs_ran(conn):
    (count,) = conn.one("SELECT count(*) FROM queue_job WHERE date_started IS NOT NULL")
    return count


def wait_jobs(conn, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (open_jobs,) = conn.one(
            "SELECT count(*) FROM queue_job WHERE state IN "
            "('pending', 'enqueued', 'started', 'wait_dependencies')"
        )
        if not open_jobs:
            return True
        time.sleep(1)
    return False


def baseline(inproc, db, server, conn, requests_n, jobs_n, senders, timeout):
    """``requests_n`` GET /web/health and ``jobs_n`` trivial jobs, all done."""
    with inproc.env(db) as env:
        user = env.user
        for _ in range(jobs_n):
            user.with_delay(description="bench: trivial job").exists()
    inproc.release(db)
    todo = queue.SimpleQueue()
    for _ in range(requests_n):
        todo.put(None)
    errors = []

    def send():
        session = requests.Session()
        while True:
            try:
                todo.get_nowait()
            except queue.Empty:
                return
            try:
                answer = session.get(f"{server.url}/web/health", timeout=30)
                if answer.status_code != 200:
                    errors.append(answer.status_code)
            except requests.RequestException as exc:
                errors.append(type(exc).__name__)

    threads = [threading.Thread(target=send, daemon=True) for _ in range(senders)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    done = wait_jobs(conn, timeout)
    return {
        "requests": requests_n,
        "jobs": jobs_n,
        "request_errors": len(errors),
        "all_done": done,
        "seconds": round(time.monotonic() - start, 1),
    }


def import_orders(sandbox, conn, orders, total, senders, budget):
    for order in orders:
        sandbox.emit("orders/create", order["gid"], deliver=False)
    run = so.run_connector(sandbox, conn, total, senders, budget)
    wait_jobs(conn, 120)
    return run


def summary(mem, before, after, workers):
    growth = mem.growth(before, after, sorted(workers))
    values = [v for v in growth.values() if v is not None]
    return {
        "by_worker_mb": growth,
        "max_mb": max(values) if values else None,
        "rss_before_mb": {
            str(p): mem.snapshots[before].get(p, {}).get("VmRSS") for p in workers
        },
        "rss_after_mb": {
            str(p): mem.snapshots[after].get(p, {}).get("VmRSS") for p in workers
        },
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--batch", type=int, default=10, help="events per job")
    parser.add_argument(
        "--budget", type=int, default=4 * 3600, help="seconds the import may take"
    )
    parser.add_argument("--db", default=DB, help=f"database (default {DB})")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    db = args.db
    if not 0 < args.warmup < args.orders:
        parser.error("--warmup must be between 0 and --orders")
    devenv.check_odoo()
    load_before = begin_run()
    started = time.monotonic()
    pg = devenv.Postgres().start()
    server = sandbox_server = conn = mem = None
    try:
        template = devenv.template_db(pg, demo=False, with_tests=True)
        log(f"building the shop: {args.orders} orders on {args.products} products")
        sandbox, _location, catalog, orders = so.build_sandbox(
            args.orders, args.products
        )
        sandbox_server = sandbox.serve()
        # at most 3 units of 3 of the products per order: never short
        stock = 1000 + args.orders // 5
        inproc, ids = so.prepare_shop_db(pg, template, db, catalog, orders, stock)
        backend_id = so.setup_backend(
            inproc, db, sandbox_server.url, catalog, ids, batch=args.batch
        )
        port = devenv.free_port()
        conn = so.Db(pg, db)
        config = server_config(
            pg,
            f"bench-{db}".replace("_", "-"),
            db,
            port,
            workers=WORKERS,
            channels=CHANNELS,
            **LIMITS,
        )
        server = OdooServer(config, port).start(runner_db=conn)
        sandbox.webhook_url = f"{server.url}/retail_connect/webhook/{backend_id}"
        mem = Memory(server.proc.pid).start()
        mem.snap("started")
        n, w = len(orders), args.warmup
        log(
            f"Odoo up ({WORKERS} workers, {CHANNELS}, {args.batch} events per job, "
            f"limit_memory_soft 16 GiB); warm-up: {w} orders"
        )
        warm = import_orders(sandbox, conn, orders[:w], w, args.senders, 1800)
        mem.snap("warm")
        per_order = jobs_ran(conn) / w
        jobs_n = round(per_order * (n - w))
        log(
            f"warm-up done in {warm['polled_s']} s ({per_order:.3f} jobs per order); "
            f"baseline: {n - w} GET /web/health and {jobs_n} trivial jobs"
        )
        ran_before = jobs_ran(conn)
        base = baseline(inproc, db, server, conn, n - w, jobs_n, args.senders, 3600)
        base["jobs_ran"] = jobs_ran(conn) - ran_before
        mem.snap("after_baseline")
        log(f"baseline done in {base['seconds']} s; import: {n - w} orders")
        t_import = time.monotonic()
        try:
            run = import_orders(sandbox, conn, orders[w:], n, args.senders, args.budget)
        except KeyboardInterrupt:
            # stopped during the import: the growth so far is still a figure
            log("interrupted: reporting the import so far")
            run = None
        import_s = time.monotonic() - t_import
        (confirmed,) = conn.one("SELECT count(*) FROM sale_order WHERE state = 'sale'")
        time.sleep(2)
        mem.snap("end")
        mem.stop()
        workers = job_workers(conn)
        before_pids = set(mem.snapshots["warm"])
        end_pids = set(mem.snapshots["end"])
        replaced = sorted((before_pids ^ end_pids) | (workers - before_pids))
        check = so.connector_checks(conn, n)
        with contextlib.suppress(OSError):
            check["worker_kills"] = [
                line.strip()
                for line in Path(server.log).read_text().splitlines()
                if "timeout after" in line or "limit" in line and "reached" in line
            ]
        imported = summary(mem, "after_baseline", "end", workers)
        baselined = summary(mem, "warm", "after_baseline", workers)
        others = sorted(set(mem.snapshots["end"]) - workers)
        missed = imported["max_mb"] is None or imported["max_mb"] > TARGET_GROWTH_MB
        ok = check["ok"] and not replaced and base["all_done"] and run is not None
        result = {
            "benchmark": "worker_memory",
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(pg, load_before),
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "settings": {
                "orders": n,
                "warmup_orders": w,
                "workers": WORKERS,
                "channels": CHANNELS,
                "event_batch_size": args.batch,
                "senders": args.senders,
                **LIMITS,
            },
            "import": {
                "orders": confirmed - w,
                "complete": run is not None,
                "seconds": round(import_s, 1),
                "orders_per_s": round((confirmed - w) / import_s, 2),
                "jobs_ran": jobs_ran(conn) - ran_before - base["jobs_ran"],
                "answers": run and run["answers"],
                "ack_p99_ms": run and so.pct(run["ack_ms"], 0.99),
                "growth": imported,
            },
            "baseline": dict(base, growth=baselined),
            "other_processes_growth_mb": mem.growth("warm", "end", others),
            "other_processes_kind": {
                str(p): mem.snapshots["end"][p]["kind"] for p in others
            },
            "job_workers": sorted(workers),
            "workers_replaced": replaced,
            "snapshots": {
                name: {str(pid): v for pid, v in snap.items()}
                for name, snap in mem.snapshots.items()
            },
            "timeline": mem.timeline,
            "target_growth_mb": TARGET_GROWTH_MB,
            "target_met": not missed,
            "check": check,
            "addons_hash": template.rsplit("_", 1)[-1],
            "addons_changed_during_run": so.addons_changed(template),
            "elapsed_s": round(time.monotonic() - started, 1),
        }
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(
            json.dumps(
                {k: v for k, v in result.items() if k not in ("snapshots", "timeline")},
                indent=2,
                default=str,
            )
        )
        verdict = "MISSED" if missed else "met" if run else "met so far"
        log(
            f"import of {confirmed - w} orders after {w} of warm-up"
            f"{'' if run else ' (interrupted)'}: job workers grew "
            f"{imported['by_worker_mb']} MB (max {imported['max_mb']}; target <= "
            f"{TARGET_GROWTH_MB:g} MB: {verdict}); baseline "
            f"(same requests and jobs, trivial): {baselined['by_worker_mb']} MB; "
            f"workers replaced: {replaced or 'none'}; orders "
            f"{check['sale_orders']}/{n}, check {'ok' if check['ok'] else 'FAILED'}"
        )
        return 0 if ok and not missed else 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        if mem:
            mem.stop()
        if server:
            server.stop()
        if conn:
            conn.close()
        if sandbox_server:
            sandbox_server.stop()
        if not args.keep:
            with contextlib.suppress(Exception):
                pg.drop(db)
                devenv.drop_filestore(db)
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
