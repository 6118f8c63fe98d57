"""Run a flash sale on the demo: ``python3 -m sandboxes.flashsale`` (from
``tests/``, or with ``tests`` on ``PYTHONPATH``), ``make demo`` running.

It wires the four demo backends together (idempotent), drives the sandboxes
for ``--duration`` seconds, waits for Odoo to drain its backlog, makes the
day's Stripe payout, then prints the business checks, the oversell window and
the peak backlog's drain time. Exit status 0 when every check holds.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from . import checks
from .odoo import JsonRpc
from .options import Options
from .traffic import FlashSale
from .wiring import wire

# --sandbox-port + offset (tests/sandboxes/__init__.py SANDBOXES order)
PORTS = {"shopify": 1, "stripe": 2, "threepl": 3, "amazon": 4}


def parse(argv=None):
    defaults = Options()
    parser = argparse.ArgumentParser(
        prog="python3 -m sandboxes.flashsale", description=__doc__
    )
    add = parser.add_argument
    add("--odoo", default="http://127.0.0.1:8069", help="the demo's Odoo")
    add("--database", default="retail_connect_demo")
    add("--login", default="admin")
    add("--password", default="admin")
    add("--sandbox-port", type=int, default=8070, help="as given to make demo")
    add("--duration", type=float, default=defaults.duration, help="seconds of sale")
    add(
        "--orders-per-minute",
        type=float,
        default=defaults.orders_per_minute,
        help="at the peak",
    )
    add(
        "--shopify-share",
        type=float,
        default=defaults.shopify_share,
        help="channel mix: the share of Shopify orders, the rest Amazon",
    )
    add("--duplicate-rate", type=float, default=defaults.duplicate_rate)
    add("--reorder-rate", type=float, default=defaults.reorder_rate)
    add("--late-rate", type=float, default=defaults.late_rate)
    add(
        "--fault-rate",
        type=float,
        default=defaults.fault_rate,
        help="API faults (5xx, 429, timeouts) per order",
    )
    add(
        "--outage-start",
        type=float,
        default=defaults.outage_start,
        help="the 3PL outage's start, share of the duration",
    )
    add(
        "--outage-seconds",
        type=float,
        default=defaults.outage_seconds,
        help="0: no outage",
    )
    add("--unknown-skus", type=int, default=defaults.unknown_skus)
    add("--disputes", type=int, default=defaults.disputes)
    add("--short-shipments", type=int, default=defaults.short_shipments)
    add("--seed", type=int, default=None)
    add(
        "--drain-timeout",
        type=float,
        default=900,
        help="seconds to wait for the backlog after the sale",
    )
    return parser.parse_args(argv)


class DemoPump:
    """The demo's Odoo runs its jobs and crons itself; the Amazon order poll
    (a cron every 5 minutes) is triggered every minute, as an operator would
    with "Run manually" (Amazon allows one searchOrders every 3 minutes and
    a burst of 20: more often, the polls wait for the rate limit)."""

    def __init__(self, odoo, wiring):
        self.odoo, self.wiring, self.last = odoo, wiring, 0.0

    def __call__(self):
        if time.monotonic() - self.last < 60:
            return
        self.last = time.monotonic()
        odoo = self.odoo
        policies = odoo(
            "retail.sync.policy",
            "search",
            [
                ["backend_id", "=", self.wiring.backends["amazon"]],
                ["domain", "=", "order"],
            ],
        )
        odoo("retail.sync.policy", "write", policies, {"next_poll_at": False})
        cron = odoo(
            "ir.model.data",
            "search_read",
            [["module", "=", "retail_connect_base"], ["name", "=", "cron_poll"]],
            ["res_id"],
        )
        odoo("ir.cron", "method_direct_trigger", [cron[0]["res_id"]])


def main(argv=None):
    args = parse(argv)
    options = Options(
        duration=args.duration,
        orders_per_minute=args.orders_per_minute,
        shopify_share=args.shopify_share,
        duplicate_rate=args.duplicate_rate,
        reorder_rate=args.reorder_rate,
        late_rate=args.late_rate,
        fault_rate=args.fault_rate,
        outage_start=args.outage_start,
        outage_seconds=args.outage_seconds,
        unknown_skus=args.unknown_skus,
        disputes=args.disputes,
        short_shipments=args.short_shipments,
        seed=args.seed if args.seed is not None else random.randrange(10**6),
    )
    odoo = JsonRpc(args.odoo, args.database, args.login, args.password)
    urls = {
        name: f"http://127.0.0.1:{args.sandbox_port + offset}"
        for name, offset in PORTS.items()
    }

    def log(text):
        print(f"[flashsale] {text}", flush=True)

    log(
        f"seed {options.seed}: {options.expected_orders()} orders over "
        f"{options.duration:.0f} s, peak {options.orders_per_minute:g}/min"
    )
    # make demo subscribed Odoo to the running sandboxes' webhooks
    wiring = wire(
        odoo,
        urls,
        options,
        lambda: time.sleep(2),
        log=log,
        odoo_url=args.odoo,
        register=False,
    )
    pump = DemoPump(odoo, wiring)
    sale = FlashSale(odoo, wiring, options, pump, log=log)
    # the stock published before the first buyer comes
    time.sleep(15)
    journal = sale.run()
    log("the sale is over: waiting for Odoo to drain its backlog")
    sale.pump = lambda: (pump(), time.sleep(3))
    drained = sale.drain(args.drain_timeout)
    if not drained:
        log(f"still busy after {args.drain_timeout:.0f} s")
    sale.finale()
    for _ in range(10):
        sale.pump()
    report = checks.run(odoo, wiring, journal, options)
    print("\n".join(report.lines()), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
