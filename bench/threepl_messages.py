#!/usr/bin/env python3
"""3PL messages per second: shipping orders out, shipping advice in, each
against a baseline measured in the same run.

One run (``python3 bench/threepl_messages.py``), in this process (Odoo's
registry, no HTTP server: the webhook route's own cost is ``run.py``'s), on a
fresh copy of the test template database and the 3PL sandbox (REST) on
127.0.0.1:

- **out**: N deliveries reserved in a 3PL-managed warehouse, hence N shipping
  orders and their queue jobs; the jobs run one after the other as queue_job's
  runner runs them (load, perform, store, commit each). Baseline: the same N
  Create Order bodies POSTed to the sandbox by a bare ``requests`` session (the
  wire and the 3PL's own cost, nothing of Odoo's).
- **in**: the N orders shipped at the sandbox; each shipment webhook verified
  (Standard Webhooks signature), stored in the event inbox and its job run
  (re-read of the order at the 3PL, delivery validated with carrier and
  tracking), one commit per job. Baseline: the bare ORM validating the same
  deliveries with the same quantities and tracking (``_action_done``), in one
  transaction rolled back.

Prints the table, checks nothing was lost or done twice, writes
bench/results/threepl_messages.json. See bench/README.md, "3PL messages".
"""

import argparse
import contextlib
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests")]

import devenv  # noqa: E402
from common import begin_run, log, machine  # noqa: E402
from sandboxes.threepl import DEFAULT_CHANNEL, ThreePLSandbox  # noqa: E402
from sandboxes.threepl import admin as floor  # noqa: E402

RESULTS = BENCH / "results" / "threepl_messages.json"
DB = "rc_bench_threepl"
CHANNEL = "root.retail_connect"


class InProcess:
    """Odoo's registry in this process."""

    def __init__(self, pg):
        import odoo

        self.odoo = odoo
        config = devenv.write_config(
            pg, "bench-threepl-inproc", with_tests=True, extra={"log_level": "warn"}
        )
        odoo.tools.config.parse_config(["-c", str(config)])

    @contextlib.contextmanager
    def env(self, db, context=None):
        from odoo import SUPERUSER_ID, api
        from odoo.modules.registry import Registry

        with Registry(db).cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, dict(context or {}))

    def release(self, db):
        from odoo.modules.registry import Registry

        Registry.delete(db)
        self.odoo.sql_db.close_db(db)


def setup(env, sandbox, url, n_orders):
    """A 3PL warehouse with stock, an active REST backend, N reserved deliveries."""
    warehouse = env["stock.warehouse"].create({"name": "3PL Illinois", "code": "IL1"})
    products = env["product.product"].create(
        [
            {"name": f"Bench {i}", "default_code": f"BENCH-{i}", "is_storable": True}
            for i in range(5)
        ]
    )
    for product in products:
        env["stock.quant"]._update_available_quantity(
            product, warehouse.lot_stock_id, 100000
        )
        floor.stock(sandbox, product.default_code, 100000, name=product.name)
    env["delivery.carrier"].create(
        {
            "name": "USPS",
            "product_id": env["product.product"]
            .create({"name": "USPS", "type": "service"})
            .id,
        }
    )
    partner = env["res.partner"].create(
        {
            "name": "Jane Doe",
            "street": "100 N Racine Ave",
            "city": "Chicago",
            "zip": "60607",
            "country_id": env.ref("base.us").id,
        }
    )
    env["ir.config_parameter"].set_param("web.base.url", "http://127.0.0.1:9")
    backend = env["retail.backend"].create(
        {
            "name": "Bench 3PL",
            "platform": "threepl",
            "environment": "sandbox",
            "base_url": url,
            "threepl_channel_id": str(DEFAULT_CHANNEL["id"]),
            "threepl_warehouse_ids": [(6, 0, warehouse.ids)],
            # the bench measures throughput, not the limiter
            "rate_limit_capacity": 100000,
            "rate_limit_per_second": 100000,
        }
    )
    backend.access_token = sandbox.token
    backend.action_activate()
    env.cr.commit()  # side cursors (exchange log, limiter) need it
    backend._threepl_register_webhook()
    sandbox.rate_limit = 10**9
    for i in range(n_orders):
        order = env["sale.order"].create(
            {
                "partner_id": partner.id,
                "warehouse_id": warehouse.id,
                "order_line": [
                    (0, 0, {"product_id": products[i % 5].id, "product_uom_qty": 1}),
                    (
                        0,
                        0,
                        {"product_id": products[(i + 1) % 5].id, "product_uom_qty": 2},
                    ),
                ],
            }
        )
        order.action_confirm()
    return backend.id


def run_jobs(env):
    """Every pending job of the suite's channels, as the runner runs them."""
    from odoo.addons.queue_job.exception import RetryableJobError
    from odoo.addons.queue_job.job import Job

    done = retried = 0
    while True:
        uuids = (
            env["queue.job"]
            .search(
                [("state", "=", "pending"), ("channel", "=like", f"{CHANNEL}%")],
                order="id",
            )
            .mapped("uuid")
        )
        if not uuids:
            return done, retried
        for uuid in uuids:
            job = Job.load(env, uuid)
            job.set_started()
            job.store()
            env.cr.commit()
            try:
                job.perform()
                job.set_done()
                job.store()
                done += 1
            except RetryableJobError as err:
                env.cr.rollback()
                job = Job.load(env, uuid)
                job.postpone(result=str(err), seconds=0)
                job.set_pending(reset_retry=False)
                job.store()
                retried += 1
            env.cr.commit()


def bare_out(url, token, bodies):
    session = requests.Session()
    session.headers.update(
        {
            "Authorization": f"Bearer {token}",
            "shipbob_channel_id": str(DEFAULT_CHANNEL["id"]),
        }
    )
    started = time.perf_counter()
    for body in bodies:
        response = session.post(f"{url}/2026-07/order", json=body, timeout=30)
        response.raise_for_status()
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)
    n = args.orders
    load_before = begin_run()
    pg = devenv.Postgres().start()
    sandbox = ThreePLSandbox(sftp=False)
    server = sandbox.serve()
    inproc = InProcess(pg)
    try:
        template = devenv.template_db(pg, demo=False, with_tests=True)
        devenv.fresh_db(pg, template, DB)
        ctx = {"tracking_disable": True}
        with inproc.env(DB, ctx) as env:
            log(f"setup: {n} deliveries reserved in the 3PL warehouse")
            backend_id = setup(env, sandbox, server.url, n)
            env.cr.commit()
            from odoo.addons.retail_connect_3pl.lib.rest import order_body

            messages = env["threepl.message"].search([], order="id")
            assert len(messages) == n, f"{len(messages)} messages for {n}"
            bodies = []
            backend = env["retail.backend"].browse(backend_id)
            for i, message in enumerate(messages):
                body = order_body(backend._threepl_order_payload(message))
                body["reference_id"] = f"BASELINE-{i}"
                bodies.append(body)
            env.cr.rollback()

            log("out: baseline (bare HTTP POST of the same bodies)")
            base_out = bare_out(server.url, sandbox.token, bodies)
            for order in list(sandbox.warehouse.orders.values()):
                if order["reference_id"].startswith("BASELINE-"):
                    del sandbox.warehouse.orders[order["id"]]

            log("out: the connector's jobs")
            started = time.perf_counter()
            jobs_out, retried_out = run_jobs(env)
            conn_out = time.perf_counter() - started
            states = env["threepl.message"].search([])
            sent = states.filtered(lambda m: m.state == "acknowledged")
            refs = [
                o["reference_id"]
                for o in sandbox.warehouse.orders.values()
                if not o["reference_id"].startswith("BASELINE-")
            ]
            lost_out = n - len(sent)
            twice_out = len(refs) - len(set(refs))
            in_order = refs == messages.mapped("order_ref")

            pickings = messages.picking_id
            for picking in pickings:
                floor.ship(sandbox, picking.name, carrier="USPS")
            env.cr.commit()

            log("in: baseline (bare ORM validation of the same deliveries)")
            started = time.perf_counter()
            for i, picking in enumerate(pickings):
                for move in picking.move_ids:
                    move.quantity = move.product_uom_qty
                picking.carrier_tracking_ref = f"TRACK{i}"
                picking.with_context(cancel_backorder=False)._action_done()
            env.flush_all()
            base_in = time.perf_counter() - started
            env.cr.rollback()
            env.invalidate_all()

            log("in: webhooks verified, stored, applied by their jobs")
            backend = env["retail.backend"].browse(backend_id)
            hub = sandbox.hub
            items = hub.due()
            hub.queue = []
            started = time.perf_counter()
            for item in items:
                subscription = hub.subscriptions[item["subscription_id"]]
                raw = hub.messages[item["msg_id"]]["raw"]
                headers = hub._headers(
                    raw,
                    {
                        **item,
                        "secret": subscription["secret"],
                        "timestamp": int(time.time()),
                    },
                )
                delivery = backend._get_webhook_verifier().accept(
                    headers, raw, backend.webhook_replay_window
                )
                env["retail.event"]._ingest(backend, delivery, "webhook")
                env.cr.commit()
            jobs_in, retried_in = run_jobs(env)
            conn_in = time.perf_counter() - started
            pickings.invalidate_recordset()
            done = pickings.filtered(lambda p: p.state == "done")
            advices = env["threepl.message"].search(
                [("message_type", "=", "shipping_advice")]
            )
            lost_in = n - len(done)
            twice_in = len(advices) - len(set(advices.mapped("picking_id").ids))
        result = {
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(pg, load_before),
            "orders": n,
            "out": {
                "connector_per_s": round(n / conn_out, 1),
                "baseline_per_s": round(n / base_out, 1),
                "ratio": round(base_out / conn_out, 2),
                "jobs": jobs_out,
                "retried": retried_out,
                "lost": lost_out,
                "twice": twice_out,
                "in_order": in_order,
            },
            "in": {
                "webhooks": len(items),
                "connector_per_s": round(n / conn_in, 1),
                "baseline_per_s": round(n / base_in, 1),
                "ratio": round(base_in / conn_in, 2),
                "jobs": jobs_in,
                "retried": retried_in,
                "lost": lost_in,
                "twice": twice_in,
            },
        }
        report(result)
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2))
        ok = not (lost_out or twice_out or lost_in or twice_in) and in_order
        return 0 if ok else 1
    finally:
        server.stop()
        inproc.release(DB)
        if not args.keep:
            pg.psql(f"DROP DATABASE IF EXISTS {DB}")


def report(result):
    n = result["orders"]
    print(f"\n3PL messages, {n} deliveries of 2 lines (REST, in process)")
    print(f"{'path':<12}{'connector/s':>13}{'baseline/s':>12}{'ratio':>8}  checks")
    for key, label in (("out", "orders out"), ("in", "advices in")):
        r = result[key]
        checks = f"lost {r['lost']}, twice {r['twice']}, retried {r['retried']}"
        if key == "out":
            checks += f", in order {r['in_order']}"
        print(
            f"{label:<12}{r['connector_per_s']:>13}{r['baseline_per_s']:>12}"
            f"{r['ratio']:>8}  {checks}"
        )
    print(
        "baselines: out = bare HTTP POST of the same Create Order bodies; "
        "in = bare ORM validation of the same deliveries"
    )


if __name__ == "__main__":
    sys.exit(main())
