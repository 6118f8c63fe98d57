#!/usr/bin/env python3
"""Amazon listing quantities: API calls and wall time for 10,000 changed SKUs
against the rate-limit floor.

One run (``python3 bench/amazon_stock_calls.py``): an active Amazon backend on
the SP-API sandbox (tests/sandboxes/amazon) with one marketplace (safety stock
2) and N merchant-fulfilled listings in sync at 0. Two rounds, each changing
the stock of its SKUs in one Odoo transaction, then running the coalesced jobs
here through queue_job's Job API as its runner would (ETA ignored):

- **feed**: N SKUs (default 10,000) above the backend's *Feed above (SKUs)*:
  one ``JSON_LISTINGS_FEED``; Amazon's processing time is the sandbox's
  clock, moved forward between job rounds, not waited for;
- **patch**: a sample (default 100) under the threshold: one
  ``patchListingsItem`` each, at the documented 5/s (burst 5), the local
  limiter waiting in real time as in production.

Counts the API calls the sandbox received per operation, times the Odoo side,
and compares each with the floor the documented usage plans make unavoidable
(``(calls - burst) / rate``): PATCH for N SKUs needs N calls and at least
(N - 5) / 5 s (1,999 s for 10,000); the feed needs 4 SP-API calls within
their bursts (0 s). Checks every remote quantity. Writes
bench/results/amazon_stock_calls.json. See bench/README.md, "Amazon stock".
"""

import argparse
import contextlib
import json
import math
import os
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent / "tools"), str(BENCH.parent / "tests")]

from common import begin_run, log, machine  # noqa: E402
from shopify_orders import ROOT, InProcess, addons_changed, devenv  # noqa: E402

RESULTS = BENCH / "results" / "amazon_stock_calls.json"
DB = "rc_bench_amazon_stock"
SELLER = "A1SANDBOXSELLEREU"
REFRESH = "Atzr|sandbox-refresh-token-eu"
DE = "A1PA6795UKMFR9"
SAFETY = 2
PATCH_RATE, PATCH_BURST = 5.0, 5  # patchListingsItem (listingsItems_2021-08-01)
FEED_PROCESSING = 91  # the sandbox queues a feed 30 s, processes it 60 s
JOBS = ("_job_amazon_push_stock", "_job_amazon_feed_step")


def floor_seconds(calls, rate, burst):
    return max(0.0, (calls - burst) / rate)


def setup_odoo(inproc, url, skus, threshold):
    from sandboxes.amazon import CLIENT_ID, CLIENT_SECRET

    with inproc.env(DB, {"tracking_disable": True}) as env:
        warehouse = env["stock.warehouse"].search(
            [("company_id", "=", env.company.id)], limit=1
        )
        eur = env.ref("base.EUR")
        eur.active = True
        pricelist = env["product.pricelist"].create(
            {"name": "Amazon EUR", "currency_id": eur.id}
        )
        products = env["product.product"].create(
            [{"name": sku, "default_code": sku, "is_storable": True} for sku in skus]
        )
        backend = env["retail.backend"].create(
            {
                "name": "Bench Amazon stock",
                "platform": "amazon",
                "environment": "sandbox",
                "base_url": url,
                "amazon_lwa_url": f"{url}/auth/o2/token",
                "amazon_region": "eu",
                "amazon_seller_id": SELLER,
                "client_id": CLIENT_ID,
                "amazon_feed_threshold": threshold,
            }
        )
        backend.client_secret = CLIENT_SECRET
        backend.amazon_refresh_token = REFRESH
        marketplace = env["amazon.marketplace"].create(
            {
                "backend_id": backend.id,
                "code": DE,
                "name": "Amazon.de",
                "currency_id": eur.id,
                "pricelist_id": pricelist.id,
                "warehouse_id": warehouse.id,
                "safety_stock": SAFETY,
            }
        )
        backend.action_activate()
        listings = env["amazon.listing"].create(
            [{"marketplace_id": marketplace.id, "product_id": p.id} for p in products]
        )
        listings.write(
            {"dirty": False, "sent_qty": 0, "sent_at": "2026-01-01 00:00:00"}
        )
        env["queue.job"].search([]).unlink()  # the activation's polls: not measured
        env.cr.commit()
        ids = {
            "backend": backend.id,
            "warehouse": warehouse.id,
            "stock_location": warehouse.lot_stock_id.id,
            "products": dict(zip(skus, products.ids, strict=True)),
        }
    inproc.release(DB)
    return ids


def change_stock(inproc, ids, skus, quantity):
    with inproc.env(DB) as env:
        quants = env["stock.quant"]
        location = env["stock.location"].browse(ids["stock_location"])
        products = env["product.product"].browse([ids["products"][s] for s in skus])
        products.mapped("default_code")
        start = time.perf_counter()
        for product in products:
            quants._update_available_quantity(product, location, quantity)
        env.cr.commit()
        return time.perf_counter() - start


def run_jobs(inproc, sandbox, methods=JOBS):
    """Run the pending jobs of ``methods`` until none is left; between rounds
    the sandbox clock moves on by a feed's processing time."""
    from odoo.addons.queue_job.exception import RetryableJobError
    from odoo.addons.queue_job.job import Job

    results, seconds, rounds = [], 0.0, 0
    with inproc.env(DB) as env:
        for _ in range(200):
            uuids = (
                env["queue.job"]
                .search(
                    [("method_name", "in", methods), ("state", "=", "pending")],
                    order="id",
                )
                .mapped("uuid")
            )
            if not uuids:
                break
            rounds += 1
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
                results.append({"state": job.state, "result": job.result})
                env.invalidate_all()
            if any("feed" in (r["result"] or "") for r in results[-len(uuids) :]):
                sandbox.clock.advance(FEED_PROCESSING)
    return seconds, rounds, results


def verify(inproc, sandbox, ids, skus):
    with inproc.env(DB) as env:
        products = (
            env["product.product"]
            .browse([ids["products"][s] for s in skus])
            .with_context(warehouse_id=ids["warehouse"])
        )
        expected = {
            p.default_code: max(0, math.floor(p.free_qty - SAFETY)) for p in products
        }
        dirty = env["amazon.listing"].search_count([("dirty", "=", True)])
        failed = env["queue.job"].search_count([("state", "=", "failed")])
        exceptions = env["retail.sync.exception"].search_count([])
    inproc.release(DB)
    mismatches = [
        sku
        for sku in skus
        if sandbox.listings[(SELLER, sku)].quantity.get(DE) != expected[sku]
    ]
    return {
        "checked": len(skus),
        "mismatches": len(mismatches),
        "sample": mismatches[:5],
        "still_dirty": dirty,
        "failed_jobs": failed,
        "exceptions": exceptions,
        "ok": not mismatches and not dirty and not failed and not exceptions,
    }


def calls_by_operation(sandbox):
    counts = Counter()
    for request in sandbox.requests():
        counts[request.operation or request.path.split("?")[0]] += 1
    return dict(counts)


def measure(inproc, sandbox, ids, name, skus, quantity):
    sandbox.recorder.clear()
    mark_s = change_stock(inproc, ids, skus, quantity)
    push_s, rounds, results = run_jobs(inproc, sandbox)
    calls = calls_by_operation(sandbox)
    check = verify(inproc, sandbox, ids, skus)
    patch_floor = floor_seconds(len(skus), PATCH_RATE, PATCH_BURST)
    api_calls = sum(v for k, v in calls.items() if "token" not in k)
    row = {
        "round": name,
        "skus": len(skus),
        "calls": calls,
        "api_calls": api_calls,
        "patch_calls_floor": len(skus),
        "patch_floor_s": patch_floor,
        "mark_s": round(mark_s, 2),
        "push_s": round(push_s, 2),
        "job_rounds": rounds,
        "jobs": len(results),
        "check": check,
    }
    log(
        f"{name}: {len(skus)} SKUs, {api_calls} API calls, push {push_s:.1f} s "
        f"(PATCH floor {patch_floor:.0f} s), check "
        f"{'ok' if check['ok'] else 'FAILED'}"
    )
    return row


def measure_orders(inproc, sandbox, url, ids, skus, count):
    """Orders per second end to end (poll job, event jobs, sale orders
    confirmed) against the baseline of the same run: the same orders read
    with ``searchOrders`` by a bare ``requests`` session (the wire and the
    sandbox, nothing of Odoo's)."""
    import requests
    from sandboxes.amazon import CLIENT_ID, CLIENT_SECRET

    with sandbox.lock:
        sandbox.book.tick()
        start_time = sandbox.clock.now()
        placed = [
            sandbox.book.create(
                SELLER,
                DE,
                [{"sku": skus[i % len(skus)], "quantity": 1, "price": "10.00"}],
            ).order_id
            for i in range(count)
        ]
    sandbox.clock.advance(121)  # visible to searchOrders two minutes later
    since = datetime.fromtimestamp(start_time - 60, timezone.utc)
    # baseline: the wire and the sandbox
    started = time.perf_counter()
    session = requests.Session()
    token = session.post(
        f"{url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": REFRESH,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
        timeout=30,
    ).json()["access_token"]
    params = {
        "lastUpdatedAfter": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "marketplaceIds": DE,
        "includedData": "FULFILLMENT,PROCEEDS,RECIPIENT,BUYER",
        "maxResultsPerPage": 100,
    }
    read = 0
    while True:
        page = session.get(
            f"{url}/orders/2026-01-01/orders",
            params=params,
            headers={"x-amz-access-token": token},
            timeout=30,
        ).json()
        read += len(page.get("orders") or [])
        next_token = (page.get("pagination") or {}).get("nextToken")
        if not next_token:
            break
        params["paginationToken"] = next_token
    baseline_s = time.perf_counter() - started
    # end to end: the poll job, then the event jobs
    with inproc.env(DB) as env:
        backend = env["retail.backend"].browse(ids["backend"])
        policy = backend._policy("order")
        policy.with_delay(channel=backend._channel("bulk"))._job_poll()
        env.cr.commit()
    # the stock pushes the orders' reservations queue are the other round's
    e2e_s, rounds, results = run_jobs(
        inproc, sandbox, methods=("_job_poll", "_job_process")
    )
    with inproc.env(DB) as env:
        bindings = env["retail.binding"].search(
            [("res_model", "=", "sale.order"), ("external_id", "in", placed)]
        )
        sales = env["sale.order"].browse(bindings.mapped("res_id"))
        confirmed = len(sales.filtered(lambda s: s.state == "sale"))
        failed = env["queue.job"].search_count([("state", "=", "failed")])
    inproc.release(DB)
    row = {
        "orders": count,
        "baseline_read": read,
        "baseline_s": round(baseline_s, 3),
        "baseline_per_s": round(read / baseline_s, 1),
        "e2e_s": round(e2e_s, 2),
        "e2e_per_s": round(confirmed / e2e_s, 2) if e2e_s else 0,
        "jobs": len(results),
        "sale_orders": len(sales),
        "confirmed": confirmed,
        "failed_jobs": failed,
        "ok": len(sales) == count == confirmed and not failed and read == count,
    }
    row["ratio"] = round(row["e2e_per_s"] / row["baseline_per_s"], 4)
    log(
        f"orders: {confirmed}/{count} in {e2e_s:.1f} s ({row['e2e_per_s']}/s), "
        f"baseline {row['baseline_per_s']}/s, ratio {row['ratio']}"
    )
    return row


def report(result):
    print()
    print(f"Amazon listing quantities (machine: {os.cpu_count()} cores)")
    print(
        f"  {'round':<8}{'SKUs':>7}{'calls':>7}{'PATCH calls':>12}{'push s':>9}"
        f"{'PATCH floor s':>14}{'push/floor':>11}  check"
    )
    for row in result["rounds"]:
        ratio = row["push_s"] / row["patch_floor_s"] if row["patch_floor_s"] else 0
        print(
            f"  {row['round']:<8}{row['skus']:>7}{row['api_calls']:>7}"
            f"{row['patch_calls_floor']:>12}{row['push_s']:>9.1f}"
            f"{row['patch_floor_s']:>14.1f}{ratio:>11.3f}  "
            f"{'ok' if row['check']['ok'] else 'FAILED'}"
        )
    for row in result["rounds"]:
        print(f"  {row['round']} calls: {row['calls']}")
    orders = result.get("orders")
    if orders:
        print(
            f"  orders end to end: {orders['confirmed']}/{orders['orders']} in "
            f"{orders['e2e_s']} s = {orders['e2e_per_s']}/s; baseline (searchOrders "
            f"pages, bare requests) {orders['baseline_per_s']}/s; ratio "
            f"{orders['ratio']}; {'ok' if orders['ok'] else 'FAILED'}"
        )
    print(
        "  push s: Odoo's jobs (Amazon's feed processing is the sandbox clock, "
        "not waited for); PATCH floor: (SKUs - 5 burst) / 5 per s"
    )
    print(f"  written to {RESULTS.relative_to(ROOT)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10000)
    parser.add_argument("--patch-sample", type=int, default=100)
    parser.add_argument("--threshold", type=int, default=50)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)
    from sandboxes.amazon import AmazonSandbox
    from sandboxes.amazon import listings as sandbox_listings

    devenv.check_odoo()
    started = time.monotonic()
    load_before = begin_run()
    pg = devenv.Postgres().start()
    server = None
    try:
        template = devenv.template_db(pg, demo=False, with_tests=True)
        sandbox = AmazonSandbox()
        server = sandbox.serve()
        skus = [f"AMZ-{i:05d}" for i in range(args.skus)]
        with sandbox.lock:
            for sku in skus:
                sandbox_listings.add(sandbox, SELLER, sku, quantity={DE: 0})
        inproc = InProcess(pg)
        devenv.fresh_db(pg, template, DB)
        ids = setup_odoo(inproc, server.url, skus, args.threshold)
        log(f"{DB}: {args.skus} listings in sync at 0")
        rounds = [measure(inproc, sandbox, ids, "feed", skus, 10)]
        if args.patch_sample:
            sample = skus[: min(args.patch_sample, args.threshold)]
            rounds.append(measure(inproc, sandbox, ids, "patch", sample, 1))
        orders = None
        if args.orders:
            orders = measure_orders(inproc, sandbox, server.url, ids, skus, args.orders)
        result = {
            "benchmark": "amazon_stock_calls",
            "orders": orders,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(pg, load_before),
            "settings": {
                "feed_threshold": args.threshold,
                "safety_stock": SAFETY,
                "patch_plan": [PATCH_RATE, PATCH_BURST],
                "jobs_run": "in-process, queue_job Job API, ETA ignored",
            },
            "rounds": rounds,
            "addons_hash": template.rsplit("_", 1)[-1],
            "addons_changed_during_run": addons_changed(template),
            "elapsed_s": round(time.monotonic() - started, 1),
        }
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")
        report(result)
        ok = all(r["check"]["ok"] for r in rounds) and (not orders or orders["ok"])
        return 0 if ok else 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            with contextlib.suppress(Exception):
                pg.drop(DB)
                devenv.drop_filestore(DB)
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
