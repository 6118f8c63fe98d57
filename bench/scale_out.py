#!/usr/bin/env python3
"""Two Odoo servers on one database import a burst with duplicates exactly once.

``python3 bench/scale_out.py [--orders 100] [--senders 8] [--keep]``: the
production layout of the README ("Scale beyond one server") on one machine:

- one database prepared as ``shopify_orders.py`` prepares it (products in stock,
  an active Shopify backend on the sandbox, products bound);
- two real Odoo servers (``tools/odoo_bin.py``, 2 workers each) on that
  database: server A runs queue_job's job runner, server B does not;
- a round-robin TCP balancer in this process, the runner's ``[queue_job] port``:
  the runner dispatches every job through it, so to both servers' workers;
- the Shopify sandbox holds N paid orders; each gets ``orders/create`` and
  ``orders/updated`` (two events, one order), and every delivery is posted
  **to both servers** (4 posts per order, shuffled, ``--senders`` at once).

Checks (exit 1 otherwise): exactly N sale orders, none twice, all confirmed;
N order bindings; every event done or skipped, 2N events; each delivery stored
once (the other copy answered ``duplicate``); no failed job; jobs run by
workers of both servers (queue_job's ``worker_pid``). A check of guarantees
across processes, not a speed figure (the time is reported for information).
Writes bench/results/scale_out.json.
"""

import argparse
import json
import queue
import random
import socket
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT / "tools"), str(ROOT / "tests")]

import devenv  # noqa: E402
import shopify_orders as so  # noqa: E402
from common import OdooServer, begin_run, log, machine, server_config  # noqa: E402

RESULTS = BENCH / "results" / "scale_out.json"
PREFIX = "rc_bench_scale"
TIMEOUT = 300  # seconds the import may take before the run is declared stuck


class Balancer:
    """Round-robin TCP proxy: each connection goes to the next server."""

    def __init__(self, ports):
        self.ports, self.turn, self.lock = ports, 0, threading.Lock()
        self.counts = dict.fromkeys(ports, 0)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                port = self.ports[self.turn % len(self.ports)]
                self.turn += 1
                self.counts[port] += 1
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def deliveries(sandbox, orders, urls, seed=8):
    """Every order's create and update events, each copy to every server.

    The update's body differs by one key the connector does not read (the
    same body would be one event: the body digest is unique per backend), so
    each order is two events whose jobs may run at once on both servers."""
    posts = []
    for order in orders:
        body = sandbox.payload("orders/create", order["gid"])
        for topic, payload in (
            ("orders/create", body),
            ("orders/updated", dict(body, bench_copy=True)),
        ):
            for event in sandbox.emit(topic, payload=payload, deliver=False):
                posts += [dict(event, url=url) for url in urls]
    sandbox.webhooks.clear()
    random.Random(seed).shuffle(posts)
    return posts


def send_all(sandbox, posts, senders):
    todo = queue.SimpleQueue()
    for post in posts:
        todo.put(post)
    answers, lock = {}, threading.Lock()

    def send():
        while True:
            try:
                event = todo.get_nowait()
            except queue.Empty:
                return
            ((status, body),) = sandbox.webhooks.deliver(event)
            with lock:
                key = f"{status} {body[:20]}"
                answers[key] = answers.get(key, 0) + 1

    threads = [threading.Thread(target=send, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT)
    return answers


def wait_done(db, deadline):
    while time.monotonic() < deadline:
        (open_jobs,) = db.one(
            "SELECT count(*) FROM queue_job WHERE state IN "
            "('pending', 'enqueued', 'started', 'wait_dependencies')"
        )
        (waiting,) = db.one(
            "SELECT count(*) FROM retail_event WHERE state IN ('received', 'queued')"
        )
        if not open_jobs and not waiting:
            return True
        time.sleep(0.5)
    return False


def checks(db, n, stored_expected):
    result = so.check_orders(db, "Shopify %", n)
    result["events"] = dict(
        db.all("SELECT state, count(*) FROM retail_event GROUP BY state")
    )
    (result["bindings_sale_order"],) = db.one(
        "SELECT count(*) FROM retail_binding WHERE res_model = 'sale.order'"
    )
    result["jobs"] = {
        f"{method} {state}": count
        for method, state, count in db.all(
            "SELECT method_name, state, count(*) FROM queue_job GROUP BY 1, 2"
        )
    }
    (result["jobs_retried"],) = db.one("SELECT count(*) FROM queue_job WHERE retry > 1")
    (result["jobs_failed"],) = db.one(
        "SELECT count(*) FROM queue_job WHERE state = 'failed'"
    )
    (result["worker_pids"],) = db.one(
        "SELECT count(DISTINCT worker_pid) FROM queue_job WHERE state = 'done'"
    )
    events = sum(result["events"].values())
    final = sum(
        count
        for state, count in result["events"].items()
        if state == "done" or state.startswith("skipped")
    )
    result["ok"] = (
        result["ok"]
        and result["bindings_sale_order"] == n
        and events == stored_expected
        and final == events
        and result["jobs_failed"] == 0
    )
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    devenv.check_odoo()
    load_before = begin_run()
    pg = devenv.Postgres().start()
    db_name = f"{PREFIX}_db"
    servers, balancer, sandbox_server, conn = [], None, None, None
    try:
        template = devenv.template_db(pg, demo=False, with_tests=True)
        sandbox, _location, catalog, orders = so.build_sandbox(
            args.orders, args.products
        )
        sandbox_server = sandbox.serve()
        inproc = so.InProcess(pg)
        pg.drop(db_name)
        devenv.fresh_db(pg, template, db_name)
        returning = sorted({o["email"] for o in orders if o["returning"]})
        ids = so.setup_base(inproc, db_name, catalog, returning, 1000)
        backend_id = so.setup_backend(inproc, db_name, sandbox_server.url, catalog, ids)
        inproc.release(db_name)
        ports = [devenv.free_port(), devenv.free_port()]
        balancer = Balancer(ports)
        conn = so.Db(pg, db_name)
        servers = [
            OdooServer(
                server_config(
                    pg,
                    f"bench-scale-{tag}",
                    db_name,
                    port,
                    workers=so.WORKERS,
                    runner_port=balancer.port,
                ),
                port,
            )
            for tag, port in zip("ab", ports, strict=True)
        ]
        # A with queue_job's job runner, B without (server-wide base,web)
        servers[0].spawn()
        servers[1].spawn(load="base,web")
        servers[1].wait_ready()
        servers[0].wait_ready(runner_db=conn)
        time.sleep(0.5)
        urls = [f"{s.url}/retail_connect/webhook/{backend_id}" for s in servers]
        posts = deliveries(sandbox, orders, urls)
        n = len(orders)
        log(
            f"2 servers (2 workers each; the runner on A, dispatching through a "
            f"balancer to both): {len(posts)} posts for {n} orders, 2 events "
            f"each, every delivery to both servers, {args.senders} senders"
        )
        t0 = time.monotonic()
        answers = send_all(sandbox, posts, args.senders)
        finished = wait_done(conn, time.monotonic() + TIMEOUT)
        seconds = time.monotonic() - t0
        result = checks(conn, n, 2 * n)
        result["answers"] = answers
        # a delivery whose answer timed out (Shopify waits 5 s) may have been
        # stored or not: Shopify would send it again; the counts must add up
        lost_answers = sum(v for k, v in answers.items() if not k.startswith("200"))
        result["ok"] = (
            result["ok"]
            and finished
            and 2 * n - lost_answers <= answers.get("200 stored", 0) <= 2 * n
            and sum(answers.values()) == 4 * n
        )
        result["runjob_connections"] = {
            "A": balancer.counts[ports[0]],
            "B": balancer.counts[ports[1]],
        }
        report = {
            "machine": machine(pg, load_before),
            "settings": {
                "orders": n,
                "senders": args.senders,
                "servers": 2,
                "workers_each": so.WORKERS,
                "channels": "root:2",
            },
            "seconds": round(seconds, 1),
            "orders_per_s": round(n / seconds, 2),
            "check": result,
        }
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2, default=str))
        print(json.dumps(report, indent=2, default=str))
        log(
            f"{'OK' if result['ok'] else 'FAILED'}: {result['sale_orders']} sale "
            f"orders for {n}, {result['duplicates']} duplicates, events "
            f"{result['events']}, jobs run through A/B "
            f"{result['runjob_connections']}, {result['worker_pids']} worker "
            f"processes, {result['jobs_retried']} retried, {seconds:.1f} s"
        )
        return 0 if result["ok"] else 1
    finally:
        for server in servers:
            server.stop()
        if balancer:
            balancer.close()
        if conn:
            conn.close()
        if sandbox_server:
            sandbox_server.stop()
        if not args.keep:
            pg.drop(db_name)
            devenv.drop_filestore(db_name)
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
