#!/usr/bin/env python3
"""Stripe: payment events per second end to end, and a payout of 1,000 balance
transactions reconciled, each against a bare-ORM baseline of the same run.

One run (``python3 bench/stripe_payments.py``), the Stripe sandbox of
``tests/sandboxes/stripe/`` served in this process on 127.0.0.1, one prepared
database (test template + USD, a Stripe clearing journal, a fee account, a
service product and 1,000 invoiced orders of distinct customers) copied once
per path so each starts from the same state:

- ``events``: (a) a real Odoo server (2 workers, queue_job runner) with an
  active Stripe backend whose webhook endpoint is registered on the sandbox;
  the sandbox holds ``--payments`` succeeded card payments, each naming its
  order in ``metadata[odoo_order]``, and delivers their signed events (two
  per payment: ``payment_intent.succeeded`` and ``charge.succeeded``) one
  after the other; time from the first delivery to the last event job done.
  (b) baseline: the same payments registered on the same invoices by the bare
  ORM (``account.payment.register``) in this process, one transaction.
- ``payout``: ``--payout-txns`` payments registered by the connector (setup,
  untimed), then one automatic payout of all of them: (a) the connector's
  payout job body (``_stripe_reconcile_payout``: pages of 100 balance
  transactions, one statement line each, reconciled with its payment, fees
  on the fee account), (b) baseline: the same statement lines created and
  reconciled by the bare ORM from the same transactions (read beforehand),
  in the same database state (the connector's work rolled back). Seconds
  and queries per transaction (the main cursor; the connector's side
  transactions — rate limiter, exchange log — are counted apart).

Prints a table, writes bench/results/stripe_payments.json. See bench/README.md,
"Stripe".
"""

import argparse
import json
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
from common import OdooServer, begin_run, log, machine, server_config  # noqa: E402
from sandboxes.stripe import StripeSandbox  # noqa: E402
from shopify_orders import WORKERS, Db, InProcess, addons_changed  # noqa: E402

RESULTS = BENCH / "results" / "stripe_payments.json"
PREFIX = "rc_bench_stripe"
KEY = "sk_test_bench_stripe"
PRICE = 120.0
# live mode's documented limit (https://docs.stripe.com/rate-limits: 100
# read operations per second); the sandbox and the backend both use it, so
# the figures measure Odoo, not the limit (a test-mode account gets 25/s)
RATE_LIMIT = 100
RUN_TIMEOUT = 300


# ------------------------------------------------------------------ dataset
def prepare(inproc, db, n_orders):
    """USD, a clearing journal with its outstanding account, a fee account,
    a product and ``n_orders`` invoiced orders of distinct customers."""
    with inproc.env(db, {"tracking_disable": True}) as env:
        company = env.company
        usd = env.ref("base.USD")
        usd.active = True
        clearing = env["account.account"].create(
            {
                "name": "Stripe clearing",
                "code": "1019901",
                "account_type": "asset_current",
                "reconcile": True,
            }
        )
        journal = env["account.journal"].create(
            {
                "name": "Stripe",
                "code": "STRP",
                "type": "bank",
                "currency_id": usd.id if company.currency_id != usd else False,
            }
        )
        journal.inbound_payment_method_line_ids.payment_account_id = clearing
        journal.outbound_payment_method_line_ids.payment_account_id = clearing
        fees = env["account.account"].create(
            {"name": "Stripe fees", "code": "6279901", "account_type": "expense"}
        )
        if not company.transfer_account_id:
            company.transfer_account_id = env["account.account"].create(
                {
                    "name": "Liquidity transfer",
                    "code": "1019902",
                    "account_type": "asset_current",
                    "reconcile": True,
                }
            )
        product = env["product.product"].create(
            {
                "name": "Course",
                "type": "service",
                "invoice_policy": "order",
                "list_price": PRICE,
                "taxes_id": [(5,)],
            }
        )
        pricelist = env["product.pricelist"].create(
            {"name": "USD", "currency_id": usd.id}
        )
        partners = env["res.partner"].create(
            [
                {"name": f"Customer {i:04d}", "email": f"c{i:04d}@example.com"}
                for i in range(n_orders)
            ]
        )
        sales = env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "pricelist_id": pricelist.id,
                    "order_line": [
                        (0, 0, {"product_id": product.id, "price_unit": PRICE})
                    ],
                }
                for partner in partners
            ]
        )
        sales.action_confirm()
        for sale in sales:
            sale._create_invoices()
        sales.invoice_ids.action_post()
        ids = {
            "journal": journal.id,
            "fees": fees.id,
            "usd": usd.id,
            "orders": sales.mapped("name"),
        }
        env.cr.commit()
    inproc.release(db)
    return ids


def add_backend(inproc, db, sandbox_url, ids, web_url=None):
    with inproc.env(db, {"tracking_disable": True}) as env:
        if web_url:
            env["ir.config_parameter"].set_param("web.base.url", web_url)
        backend = env["retail.backend"].create(
            {
                "name": "Bench Stripe",
                "platform": "stripe",
                "environment": "sandbox",
                "base_url": sandbox_url,
                "stripe_currency_id": ids["usd"],
                "stripe_journal_id": ids["journal"],
                "stripe_fee_account_id": ids["fees"],
                "rate_limit_capacity": RATE_LIMIT,
                "rate_limit_per_second": RATE_LIMIT,
            }
        )
        backend.api_key = KEY
        backend.action_activate()
        env.cr.commit()  # side cursors (limiter, exchange log) need it
        if web_url:
            backend._stripe_register_webhook()
        backend_id = backend.id
        env.cr.commit()
    inproc.release(db)
    return backend_id


def admin(sandbox_url, path, data=None):
    answer = requests.post(
        f"{sandbox_url}/__sandbox__/{path}", json=data or {}, timeout=30
    )
    answer.raise_for_status()
    return answer.json()


def pay_orders(sandbox_url, orders):
    return [
        admin(
            sandbox_url,
            "payments",
            {
                "amount": int(PRICE * 100),
                "currency": "usd",
                "metadata": {"odoo_order": name},
            },
        )["payment_intent"]["id"]
        for name in orders
    ]


# ------------------------------------------------------------------ events
def run_events_connector(pg, sandbox, db, backend_id, orders):
    n_payments = len(orders)
    events = len(sandbox.hub.queue)
    poll = Db(pg, db)
    started_epoch = time.time()
    start = time.perf_counter()
    sender = threading.Thread(target=sandbox.flush_webhooks, daemon=True)
    sender.start()
    registered = 0
    try:
        while time.perf_counter() - start < RUN_TIMEOUT:
            time.sleep(0.5)
            (registered,) = poll.one(
                "SELECT count(*) FROM retail_binding WHERE backend_id = %s "
                "AND res_model = 'account.payment'",
                (backend_id,),
            )
            (open_jobs,) = poll.one(
                "SELECT count(*) FROM queue_job WHERE state IN "
                "('pending', 'enqueued', 'started', 'wait_dependencies')"
            )
            if not sender.is_alive() and not open_jobs:
                break
        sender.join(timeout=30)
        (last_done,) = poll.one(
            "SELECT extract(epoch FROM max(date_done)) FROM queue_job "
            "WHERE state = 'done'"
        )
        seconds = float(last_done) - started_epoch if last_done else None
        states = dict(
            poll.all(
                "SELECT state, count(*) FROM retail_event WHERE backend_id = %s "
                "GROUP BY state",
                (backend_id,),
            )
        )
        jobs = dict(poll.all("SELECT state, count(*) FROM queue_job GROUP BY state"))
        (retried,) = poll.one("SELECT count(*) FROM queue_job WHERE retry > 1")
        (payments, distinct) = poll.one(
            "SELECT count(*), count(DISTINCT external_id) FROM retail_binding "
            "WHERE backend_id = %s AND res_model = 'account.payment'",
            (backend_id,),
        )
        (paid,) = poll.one(
            "SELECT count(*) FROM account_move WHERE move_type = 'out_invoice' "
            "AND payment_state IN ('paid', 'in_payment') AND invoice_origin = ANY(%s)",
            (orders,),
        )
    finally:
        poll.close()
    return {
        "deliveries": events,
        "seconds": seconds,
        "events_per_s": events / seconds if seconds else None,
        "payments_per_s": registered / seconds if seconds else None,
        "events_by_state": states,
        "jobs_by_state": jobs,
        "jobs_retried": retried,
        "check": {
            "payments": payments,
            "distinct_intents": distinct,
            "invoices_paid": paid,
            "ok": payments == distinct == paid == n_payments
            and set(states) <= {"done", "skipped_duplicate"},
        },
    }


def run_events_orm(inproc, db, ids, n_payments):
    """The baseline: the same payments registered on the same invoices."""
    with inproc.env(db, {"tracking_disable": True}) as env:
        sales = env["sale.order"].search([("name", "in", ids["orders"][:n_payments])])
        invoices = sales.invoice_ids
        invoices.mapped("amount_residual")  # read before the clock starts
        start = time.perf_counter()
        for invoice in invoices:
            env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create(
                {
                    "journal_id": ids["journal"],
                    "amount": invoice.amount_residual,
                    "communication": f"Stripe bench {invoice.name}",
                }
            )._create_payments()
        env.flush_all()
        seconds = time.perf_counter() - start
        paid = len(
            invoices.filtered(lambda m: m.payment_state in ("paid", "in_payment"))
        )
        env.cr.rollback()
    inproc.release(db)
    return {"seconds": seconds, "payments_per_s": n_payments / seconds, "paid": paid}


# ------------------------------------------------------------------ payout
def run_payout(inproc, db, sandbox_url, backend_id, intents, ids):
    """Register the payments (untimed), pay them out, then time the
    connector's reconciliation and the ORM baseline on the same state."""
    with inproc.env(db, {"tracking_disable": True}) as env:
        backend = env["retail.backend"].browse(backend_id)
        start = time.perf_counter()
        for intent in intents:
            backend._stripe_import_payment(intent)
        env.cr.commit()
        import_s = time.perf_counter() - start
        payout = admin(sandbox_url, "payouts")
        admin(sandbox_url, f"payouts/{payout['id']}/paid")
        client = backend._stripe_client()
        txns = list(
            client.list_all(
                "/v1/balance_transactions",
                {"payout": payout["id"], "expand": ["data.source"]},
                operation="bench",
            )
        )
        env.cr.commit()

        # (a) the connector's job body
        queries = env.cr.sql_log_count
        start = time.perf_counter()
        result = backend._stripe_reconcile_payout(payout["id"])
        env.flush_all()
        connector_s = time.perf_counter() - start
        connector_q = env.cr.sql_log_count - queries
        statement = env["account.bank.statement"].search(
            [("reference", "=", payout["id"])]
        )
        lines = statement.line_ids
        check = {
            "result": result,
            "transactions": len(txns),
            "statement_lines": len(lines),
            "reconciled": len(lines.filtered("is_reconciled")),
            "nets_equal_payout": sum(t["net"] for t in txns if t["type"] != "payout")
            == payout["amount"],
            "exceptions": env["retail.sync.exception"].search_count(
                [("backend_id", "=", backend_id)]
            ),
        }
        env.cr.rollback()

        # (b) the bare ORM, same transactions, same state
        queries = env.cr.sql_log_count
        start = time.perf_counter()
        baseline_lines = orm_reconcile(env, ids, txns)
        env.flush_all()
        orm_s = time.perf_counter() - start
        orm_q = env.cr.sql_log_count - queries
        check["baseline_reconciled"] = len(baseline_lines.filtered("is_reconciled"))
        env.cr.rollback()
    inproc.release(db)
    n = len(txns)
    return {
        "setup_import_s": import_s,
        "setup_imports_per_s": len(intents) / import_s,
        "payout": payout["id"],
        "amount": payout["amount"],
        "connector": {"seconds": connector_s, "queries": connector_q},
        "orm": {"seconds": orm_s, "queries": orm_q},
        "per_txn": {
            "connector_ms": connector_s * 1000 / n,
            "orm_ms": orm_s * 1000 / n,
            "connector_queries": connector_q / n,
            "orm_queries": orm_q / n,
        },
        "check": check,
    }


def orm_reconcile(env, ids, txns):
    """What a person's script would do: one statement line per transaction
    (net on the journal, gross against the payment, fee on the fee account),
    each reconciled with its payment, one statement."""
    from odoo import Command

    journal = env["account.journal"].browse(ids["journal"])
    fees = env["account.account"].browse(ids["fees"])
    transfer = env.company.transfer_account_id
    memo = {
        p.memo.removeprefix("Stripe "): p
        for p in env["account.payment"].search([("memo", "=like", "Stripe pi\\_%")])
    }
    plan = []
    for txn in txns:
        net, fee, gross = txn["net"] / 100, txn["fee"] / 100, txn["amount"] / 100
        day = datetime.fromtimestamp(txn["created"], tz=timezone.utc).date()
        base = {"name": txn["id"], "account_id": journal.default_account_id.id}
        if txn["type"] == "payout":
            lines = [
                dict(base, balance=gross),
                {"name": txn["id"], "account_id": transfer.id, "balance": -gross},
            ]
            match = None
        else:
            payment = memo[txn["source"]["payment_intent"]]
            match = payment.move_id.line_ids.filtered(
                lambda aml, p=payment: aml.account_id == p.outstanding_account_id
            )
            lines = [
                dict(base, balance=net, partner_id=payment.partner_id.id),
                {
                    "name": txn["id"],
                    "account_id": match.account_id.id,
                    "partner_id": payment.partner_id.id,
                    "balance": -gross,
                },
                {"name": txn["id"], "account_id": fees.id, "balance": fee},
            ]
        plan.append(
            (
                {
                    "journal_id": journal.id,
                    "date": day,
                    "amount": net,
                    "payment_ref": txn["id"],
                    "line_ids": [Command.create(vals) for vals in lines],
                },
                match,
            )
        )
    created = env["account.bank.statement.line"].create([v for v, _m in plan])
    for line, (_values, match) in zip(created, plan, strict=True):
        if match:
            counterpart = line.move_id.line_ids.filtered(
                lambda aml, acc=match.account_id: aml.account_id == acc
            )
            (counterpart | match).reconcile()
    env["account.bank.statement"].create(
        {
            "name": "Bench payout",
            "journal_id": journal.id,
            "line_ids": [Command.set(created.ids)],
        }
    )
    return created


# --------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=300)
    parser.add_argument("--payout-txns", type=int, default=1000)
    parser.add_argument("--parts", default="events,payout")
    parser.add_argument("--channels", default="root:2")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    devenv.check_odoo()
    load_before = begin_run()
    pg = devenv.Postgres().start()
    inproc = InProcess(pg)
    sandbox = StripeSandbox(secret_key=KEY, rate_limit=RATE_LIMIT, available_after=0)
    server_handle = sandbox.serve()
    dbs, server = [], None
    result = {
        "benchmark": "stripe_payments",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": vars(args) | {"rate_limit": RATE_LIMIT},
    }
    try:
        template = devenv.template_db(pg, demo=False, with_tests=True)
        base = f"{PREFIX}_base"
        dbs.append(base)
        devenv.fresh_db(pg, template, base)
        n_orders = max(args.payments, args.payout_txns)
        start = time.perf_counter()
        ids = prepare(inproc, base, n_orders)
        log(
            f"prepared {n_orders} invoiced orders in {time.perf_counter() - start:.0f}s"
        )

        if "events" in parts:
            orders = ids["orders"][: args.payments]
            db = f"{PREFIX}_events"
            dbs.append(db)
            devenv.fresh_db(pg, base, db)
            port = devenv.free_port()
            config = server_config(
                pg, "bench-stripe", db, port, workers=WORKERS, channels=args.channels
            )
            url = f"http://127.0.0.1:{port}"
            backend_id = add_backend(inproc, db, server_handle.url, ids, web_url=url)
            sandbox.reset_bucket()
            pay_orders(server_handle.url, orders)
            log(f"{len(sandbox.hub.queue)} deliveries queued in the sandbox")
            server = OdooServer(config, port)
            poll = Db(pg, db)
            try:
                server.start(runner_db=poll)
            finally:
                poll.close()
            connector = run_events_connector(pg, sandbox, db, backend_id, orders)
            server.stop()
            server = None
            log(f"events, connector: {connector}")
            db = f"{PREFIX}_events_orm"
            dbs.append(db)
            devenv.fresh_db(pg, base, db)
            orm = run_events_orm(inproc, db, ids, args.payments)
            log(f"events, bare ORM: {orm}")
            result["events"] = {
                "connector": connector,
                "orm": orm,
                "ratio_payments": connector["payments_per_s"] / orm["payments_per_s"]
                if connector["payments_per_s"]
                else None,
            }
            sandbox.reset_state()

        if "payout" in parts:
            db = f"{PREFIX}_payout"
            dbs.append(db)
            devenv.fresh_db(pg, base, db)
            backend_id = add_backend(inproc, db, server_handle.url, ids)
            intents = pay_orders(server_handle.url, ids["orders"][: args.payout_txns])
            payout = run_payout(inproc, db, server_handle.url, backend_id, intents, ids)
            payout["ratio_seconds"] = (
                payout["connector"]["seconds"] / payout["orm"]["seconds"]
            )
            payout["ratio_queries"] = (
                payout["connector"]["queries"] / payout["orm"]["queries"]
            )
            log(f"payout: {payout}")
            result["payout"] = payout
        result["addons_changed"] = addons_changed(template)
        result["machine"] = machine(pg, load_before)
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")
        report(result)
        return 0 if all_ok(result) else 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        if server is not None:
            server.stop()
        server_handle.stop()
        if not args.keep:
            for db in dbs:
                pg.drop(db)
                devenv.drop_filestore(db)
        pg.stop()


def all_ok(result):
    events = result.get("events")
    payout = result.get("payout")
    ok = True
    if events:
        ok &= events["connector"]["check"]["ok"]
    if payout:
        check = payout["check"]
        ok &= (
            # every charge line (the payout's own line has nothing to match)
            check["reconciled"] >= check["statement_lines"] - 1
            and check["nets_equal_payout"]
            and not check["exceptions"]
        )
    return ok


def report(result):
    print()
    events = result.get("events")
    if events:
        con, orm = events["connector"], events["orm"]
        print("Payment events, end to end (webhook → inbox → job → registered payment)")
        print(
            f"  connector: {con['deliveries']} deliveries in {con['seconds']:.1f} s: "
            f"{con['events_per_s']:.1f} events/s, {con['payments_per_s']:.1f} "
            f"payments/s; jobs retried {con['jobs_retried']}"
        )
        print(
            f"  bare ORM (register payment, one transaction): "
            f"{orm['payments_per_s']:.1f} payments/s"
        )
        print(f"  connector / ORM: {events['ratio_payments']:.2f}")
        print(f"  checks: {con['check']}")
    payout = result.get("payout")
    if payout:
        per = payout["per_txn"]
        n = payout["check"]["transactions"]
        print(f"Payout of {n} balance transactions")
        print(
            f"  connector job: {payout['connector']['seconds']:.2f} s, "
            f"{per['connector_ms']:.2f} ms and {per['connector_queries']:.1f} "
            "queries per transaction"
        )
        print(
            f"  bare ORM:      {payout['orm']['seconds']:.2f} s, "
            f"{per['orm_ms']:.2f} ms and {per['orm_queries']:.1f} queries per "
            "transaction"
        )
        print(
            f"  connector / ORM: {payout['ratio_seconds']:.2f} (time), "
            f"{payout['ratio_queries']:.2f} (queries)"
        )
        print(f"  checks: {payout['check']}")
    print(f"  written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
