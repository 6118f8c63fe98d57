#!/usr/bin/env python3
"""Where a webhook acknowledgement's time goes: queries and a cProfile.

``python3 bench/profile_webhook.py [--requests N]``: a fresh database from the
test template with the bench's TestShop backend (as bench/run.py), then, in this
process, Odoo's WSGI application driven by werkzeug's test client (no socket, no
worker): milliseconds and SQL queries per request for ``GET /web/health`` and
for the webhook, the queries of one webhook request with their times, and the
top of a cProfile of N webhook requests. The database is dropped at the end.
"""

import argparse
import cProfile
import io
import json
import pstats
import subprocess
import sys
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests")]

import devenv  # noqa: E402
from sandboxes.testshop import sign  # noqa: E402

DB = "rc_bench_profile"
SECRET = "bench-whsec-0123456789"


def delivery(i):
    ts = int(time.time())
    event = {
        "id": f"evt_prof_{uuid.uuid4().hex}",
        "topic": "customer/created",
        "occurred_at": "2026-01-01T00:00:00.000Z",
        "data": {"id": f"cus_{i}", "email": f"p{i}@example.com", "name": "P"},
    }
    raw = json.dumps(event).encode()
    headers = {
        "Content-Type": "application/json",
        "X-TestShop-Topic": event["topic"],
        "X-TestShop-Event-Id": event["id"],
        "X-TestShop-Timestamp": str(ts),
        "X-TestShop-Signature": sign(raw, ts, SECRET),
    }
    return raw, headers


def profile(config, backend_id, count):
    from werkzeug.test import Client

    import odoo
    from odoo import sql_db

    odoo.tools.config.parse_config(["-c", str(config), "--log-level=warn"])
    odoo.service.server.load_server_wide_modules()
    client = Client(odoo.http.root)
    environ = {"REMOTE_ADDR": "127.0.0.1"}
    queries = []
    original = sql_db.Cursor.execute

    def execute(self, query, params=None, log_exceptions=True):
        t0 = time.perf_counter()
        try:
            return original(self, query, params, log_exceptions)
        finally:
            text = " ".join(str(query).split())
            queries.append((time.perf_counter() - t0, text))

    sql_db.Cursor.execute = execute

    def health(_i):
        answer = client.get("/web/health", environ_base=environ)
        assert answer.status_code == 200, answer.status

    def webhook(i):
        raw, headers = delivery(i)
        answer = client.post(
            f"/retail_connect/webhook/{backend_id}",
            data=raw,
            headers=headers,
            environ_base=environ,
        )
        assert answer.get_data() == b"stored", answer.get_data()

    for route in (health, webhook):
        for i in range(30):  # warm the registry, the routing map, the caches
            route(i)
        queries.clear()
        t0 = time.perf_counter()
        for i in range(count):
            route(i)
        elapsed = time.perf_counter() - t0
        sql = sum(t for t, _ in queries)
        print(
            f"{route.__name__:>8}: {elapsed / count * 1000:6.2f} ms/request, "
            f"{len(queries) / count:4.1f} queries/request "
            f"({sql / count * 1000:.2f} ms in execute)"
        )
    queries.clear()
    webhook(10**6)
    print("\nqueries of one webhook request (ms, first 110 characters):")
    for seconds, text in queries:
        print(f"  {seconds * 1000:6.2f}  {text[:110]}")
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(count):
        webhook(i)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(r"retail_connect|queue_job|odoo/(http|models|sql_db)\.py", 40)
    print(f"\ncProfile of {count} webhook requests (cumulative):")
    print(out.getvalue())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    devenv.check_odoo()
    pg = devenv.Postgres().start()
    try:
        template = devenv.template_db(pg, demo=False, with_tests=True)
        devenv.fresh_db(pg, template, DB)
        config = devenv.write_config(
            pg,
            "bench-profile",
            with_tests=True,
            extra={"db_name": DB, "log_level": "warn"},
        )
        setup = subprocess.run(
            [sys.executable, str(BENCH / "odoo_setup.py"), str(config), DB, SECRET],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        profile(config, int(setup.stdout.split()[-1]), args.requests)
    finally:
        pg.drop(DB)
        devenv.drop_filestore(DB)
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
