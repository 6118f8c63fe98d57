#!/usr/bin/env python3
"""Shopify API calls per 1,000 changed SKUs: the coalesced, batched stock push.

One run (``python3 bench/shopify_stock_calls.py``): 1,000 storable products bound
to 1,000 variants of the Shopify sandbox, stocked at one Shopify location mapped
to the Odoo warehouse. Twice (first publication, then a change of what Shopify
already has, compare-and-set), the stock of all 1,000 changes in one Odoo
transaction (``stock.quant._update_available_quantity``, as a receipt does),
then the coalesced push job(s) run here through queue_job's Job API, as its
runner would (ETA ignored). Counts the ``inventorySetQuantities`` calls the
sandbox received against one call per SKU, times both steps, and checks every
remote quantity against Odoo's. Prints a table, writes
bench/results/shopify_stock_calls.json. See bench/README.md, "Shopify stock".
"""

import argparse
import contextlib
import json
import math
import os
import random
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent / "tools"), str(BENCH.parent / "tests")]

from common import begin_run, log, machine  # noqa: E402
from shopify_orders import (  # noqa: E402
    PLANS,
    PREFIX,
    ROOT,
    SECRET,
    SHOP,
    TOKEN,
    InProcess,
    addons_changed,
    devenv,
    new_shop,
)

RESULTS = BENCH / "results" / "shopify_stock_calls.json"
DB = f"{PREFIX}_stock"
TARGET_CALLS = 4  # PERFORMANCE.md: <= 4 calls per 1,000 SKUs (250 per call)
ROUNDS = (
    ("first publication", "Shopify's quantities unknown: changeFromQuantity null"),
    ("second change", "compare-and-set on the quantities last pushed"),
)


def build_shop(n_skus, plan):
    sandbox, location = new_shop(plan)
    items = {}
    for i in range(n_skus):
        sku = f"STOCK-{i:05d}"
        product = sandbox.add_product(
            f"Stock product {i:05d}",
            [{"sku": sku, "price": "10.00", "inventory": {location["id"]: 0}}],
        )
        variant = product["variants"][0]
        items[sku] = (variant["id"], variant["inventoryItemId"])
    return sandbox, location, items


def setup_odoo(inproc, sandbox_url, location, items):
    """Products, an active backend, its location mapped, every product bound."""
    with inproc.env(DB, {"tracking_disable": True}) as env:
        warehouse = env["stock.warehouse"].search(
            [("company_id", "=", env.company.id)], limit=1
        )
        skus = sorted(items)
        products = env["product.product"].create(
            [{"name": sku, "default_code": sku, "is_storable": True} for sku in skus]
        )
        backend = env["retail.backend"].create(
            {
                "name": "Bench Shopify stock",
                "platform": "shopify",
                "environment": "sandbox",
                "base_url": sandbox_url,
                "shopify_shop_domain": SHOP,
            }
        )
        backend.access_token = TOKEN
        backend.webhook_secret = SECRET
        backend.action_activate()
        # the rate limiter and the exchange log write on side cursors: they
        # need the backend committed
        env.cr.commit()
        backend.action_shopify_fetch_locations()
        backend.shopify_location_ids.filtered(
            lambda loc: loc.shopify_id == location["id"]
        ).warehouse_id = warehouse
        bindings = env["retail.binding"]
        for sku, product in zip(skus, products, strict=True):
            variant, item = items[sku]
            bindings._bind(
                backend,
                product,
                variant,
                external_ref=sku,
                extra={"inventory_item_id": item},
            )
        ids = {
            "backend": backend.id,
            "warehouse": warehouse.id,
            "stock_location": warehouse.lot_stock_id.id,
            "products": dict(zip(skus, products.ids, strict=True)),
        }
    inproc.release(DB)
    return ids


def change_stock(inproc, ids, rng):
    """Receive a quantity of every product in one transaction; time it.

    Also times the connector's quant hook (``_mark_dirty``) inside it.
    """
    with inproc.env(DB) as env:
        quants = env["stock.quant"]
        location = env["stock.location"].browse(ids["stock_location"])
        products = env["product.product"].browse(list(ids["products"].values()))
        products.mapped("default_code")
        model = env.registry["shopify.stock.level"]
        original, spent = model._mark_dirty, [0.0]

        def timed(self, product, location):
            start = time.perf_counter()
            try:
                return original(self, product, location)
            finally:
                spent[0] += time.perf_counter() - start

        model._mark_dirty = timed
        try:
            start = time.perf_counter()
            for product in products:
                quants._update_available_quantity(product, location, rng.randint(1, 50))
            env.cr.commit()
            seconds = time.perf_counter() - start
        finally:
            del model._mark_dirty
        jobs = env["queue.job"].search(
            [
                ("method_name", "=", "_job_shopify_push_stock"),
                ("state", "=", "pending"),
            ]
        )
        dirty = env["shopify.stock.level"].search_count([("dirty", "=", True)])
        return seconds, spent[0], len(jobs), dirty


def run_push_jobs(inproc):
    """Run the pending push jobs as queue_job's runner does (ETA ignored)."""
    from odoo.addons.queue_job.exception import RetryableJobError
    from odoo.addons.queue_job.job import Job

    results, seconds = [], 0.0
    with inproc.env(DB) as env:
        for _ in range(5):  # a job postponed (throttled) runs again, a few times
            uuids = (
                env["queue.job"]
                .search(
                    [
                        ("method_name", "=", "_job_shopify_push_stock"),
                        ("state", "=", "pending"),
                    ],
                    order="id",
                )
                .mapped("uuid")
            )
            if not uuids:
                break
            for uuid in uuids:
                start = time.perf_counter()
                job = Job.load(env, uuid)
                job.set_started()
                job.store()
                env.cr.commit()
                try:
                    job.perform()
                    env.flush_all()
                    job.set_done()
                    job.store()
                    env.flush_all()
                    env.cr.commit()
                except RetryableJobError as err:
                    env.cr.rollback()
                    job = Job.load(env, uuid)
                    job.postpone(result=str(err), seconds=err.seconds)
                    job.set_pending(reset_retry=False)
                    job.store()
                    env.cr.commit()
                seconds += time.perf_counter() - start
                results.append({"uuid": uuid, "state": job.state, "result": job.result})
                env.invalidate_all()
    return seconds, results


def verify(inproc, sandbox, location, items, ids):
    """Every remote available quantity equals Odoo's free quantity."""
    with inproc.env(DB) as env:
        policy = env["retail.backend"].browse(ids["backend"])._policy("inventory")
        safety = policy.safety_stock or 0
        products = (
            env["product.product"]
            .browse(list(ids["products"].values()))
            .with_context(warehouse_id=ids["warehouse"])
        )
        odoo_qty = {
            p.default_code: max(0, math.floor(p.free_qty - safety)) for p in products
        }
        dirty = env["shopify.stock.level"].search_count([("dirty", "=", True)])
    inproc.release(DB)
    mismatches = []
    for sku, (_variant, item) in items.items():
        remote = sandbox.inventory(item, location["id"])
        if remote != odoo_qty[sku]:
            mismatches.append((sku, remote, odoo_qty[sku]))
    return {
        "checked": len(items),
        "mismatches": len(mismatches),
        "sample": mismatches[:5],
        "still_dirty": dirty,
        "ok": not mismatches and not dirty,
    }


def set_calls(sandbox):
    calls = []
    for request in sandbox.requests("/admin/api/"):
        try:
            body = request.json() or {}
        except ValueError:
            continue
        if body.get("operationName") == "InventorySet":
            quantities = body["variables"]["input"]["quantities"]
            calls.append(len(quantities))
    return calls


def report(result):
    n = result["skus"]
    print()
    print(
        f"Shopify stock push: {n} SKUs changed in one transaction, 1 location "
        f"(machine: {os.cpu_count()} cores)"
    )
    print(
        f"  {'round':<20}{'calls':>6}{'per SKU':>9}{'ratio':>8}{'mark s':>8}"
        f"{'hook s':>8}{'push s':>8}  check"
    )
    for row in result["rounds"]:
        print(
            f"  {row['round']:<20}{row['calls']:>6}{row['baseline_calls']:>9}"
            f"{row['calls'] / row['baseline_calls']:>8.3f}"
            f"{row['mark_s']:>8.2f}{row['mark_hook_s']:>8.2f}{row['push_s']:>8.2f}  "
            f"{'ok' if row['check']['ok'] else 'FAILED'}"
        )
    for row in result["rounds"]:
        verdict = "met" if row["target_met"] else "MISSED"
        print(
            f"  {row['round']}: {row['calls']} inventorySetQuantities call(s) of "
            f"{row['quantities_per_call']} quantities ({row['jobs']} job(s), "
            f"{row['api_calls']} API calls in all) for {n} SKUs; target <= "
            f"{TARGET_CALLS}: {verdict}; remote = Odoo for "
            f"{row['check']['checked'] - row['check']['mismatches']}/"
            f"{row['check']['checked']}"
        )
    print(
        "  mark s: the transaction changing the stock; hook s: its part in the "
        "connector's quant hook (marks levels dirty, enqueues one job); push s: "
        "the push job(s), their 5 s coalescing ETA not counted"
    )
    print(f"  written to {RESULTS.relative_to(ROOT)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=1000)
    parser.add_argument(
        "--plan",
        choices=sorted(PLANS),
        default="standard",
        help="the shop's Shopify plan, i.e. its GraphQL cost budget (default "
        "standard: 2000 points, 100/s)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)
    devenv.check_odoo()
    started = time.monotonic()
    load_before = begin_run()
    pg = devenv.Postgres().start()
    sandbox_server = None
    try:
        template = devenv.template_db(pg, demo=False, with_tests=True)
        log(f"building the shop: {args.skus} products, one variant each")
        sandbox, location, items = build_shop(args.skus, args.plan)
        sandbox_server = sandbox.serve()
        inproc = InProcess(pg)
        devenv.fresh_db(pg, template, DB)
        ids = setup_odoo(inproc, sandbox_server.url, location, items)
        log(f"{DB}: {args.skus} products bound, location mapped to the warehouse")
        rng = random.Random(1000)
        rounds = []
        for name, note in ROUNDS:
            sandbox.recorder.clear()
            mark_s, hook_s, jobs, dirty = change_stock(inproc, ids, rng)
            push_s, runs = run_push_jobs(inproc)
            inproc.release(DB)
            calls = set_calls(sandbox)
            api_calls = len(sandbox.requests("/admin/api/"))
            check = verify(inproc, sandbox, location, items, ids)
            count = len(calls)
            rounds.append(
                {
                    "round": name,
                    "note": note,
                    "skus_changed": args.skus,
                    "levels_dirty": dirty,
                    "jobs": jobs,
                    "job_runs": runs,
                    "calls": count,
                    "quantities_per_call": calls,
                    "api_calls": api_calls,
                    "baseline_calls": args.skus,
                    "calls_vs_baseline": count / args.skus,
                    "target_met": 0 < count <= TARGET_CALLS * args.skus / 1000,
                    "mark_s": round(mark_s, 2),
                    "mark_hook_s": round(hook_s, 2),
                    "push_s": round(push_s, 2),
                    "check": check,
                }
            )
            log(
                f"{name}: {count} calls for {args.skus} SKUs, mark {mark_s:.1f} s, "
                f"push {push_s:.1f} s, check {'ok' if check['ok'] else 'FAILED'}"
            )
        result = {
            "benchmark": "shopify_stock_calls",
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(pg, load_before),
            "skus": args.skus,
            "settings": {
                "locations": 1,
                "shopify_plan": args.plan,
                "jobs_run": "in-process, queue_job Job API, ETA ignored",
            },
            "target_calls_per_1000": TARGET_CALLS,
            "rounds": rounds,
            "addons_hash": template.rsplit("_", 1)[-1],
            "addons_changed_during_run": addons_changed(template),
            "elapsed_s": round(time.monotonic() - started, 1),
        }
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")
        report(result)
        log(f"done in {result['elapsed_s']:.0f} s")
        # a missed target is reported, not an error; a wrong quantity is
        return 0 if all(r["check"]["ok"] for r in rounds) else 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        if sandbox_server is not None:
            sandbox_server.stop()
        if not args.keep:
            with contextlib.suppress(Exception):
                pg.drop(DB)
                devenv.drop_filestore(DB)
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
