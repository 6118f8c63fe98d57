"""The sale: orders ramping to the peak on Shopify (paid through Stripe) and
Amazon, the 3PL shipping them, and the trouble such a day brings.

Everything goes through the sandboxes' own admin routes (what buyers, card
networks, the warehouse floor and the platforms themselves do) and their
documented fault behaviours; Odoo is only pumped (the test runs its jobs,
the demo's job runner does) and sampled (its free quantities, its backlog).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .options import arrivals
from .wiring import AMAZON_DE, AMAZON_SELLER

BUYERS = [
    ("Jane", "Doe", "100 N Racine Ave", "Chicago", "60607", "IL"),
    ("Li", "Wei", "1 Market St", "San Francisco", "94105", "CA"),
    ("Ana", "Silva", "350 5th Ave", "New York", "10118", "NY"),
    ("Omar", "Haddad", "600 Congress Ave", "Austin", "78701", "TX"),
]
# API faults: (kind, extra) as the toolkit's FaultPlan takes them
FAULTS = [
    ("status", {"status": 500}),
    ("status", {"status": 503}),
    ("throttle", {"seconds": 2}),
    ("timeout", {}),
]


@dataclass
class Order:
    channel: str  # shopify | amazon
    ref: str  # Shopify's order name (#1001), Amazon's order id
    remote_id: str
    lines: list  # [(sku, quantity, price)]
    total: float = 0.0
    placed_at: float = 0.0
    unknown_sku: bool = False
    intent: str = ""  # the Stripe PaymentIntent paying it
    charge: str = ""
    disputed: bool = False
    short: bool = False  # the 3PL ships it a unit short


@dataclass
class Journal:
    """What the sale did and saw, for the checks."""

    started: float = 0.0
    ended: float = 0.0  # the last order placed
    orders: list = field(default_factory=list)
    allowed: list = field(default_factory=list)  # (time, {channel: {sku: qty}})
    backlog: list = field(default_factory=list)  # (time, waiting)
    faults: dict = field(default_factory=dict)  # platform: count injected
    outage: tuple = ()
    duplicates: int = 0
    late: int = 0
    reordered: int = 0
    payout: str = ""
    open_before: list = field(default_factory=list)  # exceptions open at the start


class FlashSale:
    def __init__(self, odoo, wiring, options, pump, log=print):
        self.odoo = odoo
        self.wiring = wiring
        self.options = options
        self.pump = pump
        self.log = log
        self.rng = random.Random(options.seed)
        self.admin = wiring.admins
        self.journal = Journal()
        self.shipped = set()  # 3PL order ids shipped
        self.held = {}  # platform: rounds its webhooks are held back
        self.safety = {
            "shopify": wiring.policy(odoo, "shopify", "inventory")["safety_stock"],
            "amazon": self._amazon_safety(),
        }

    # ------------------------------------------------------------ the sale
    def run(self):
        options, journal = self.options, self.journal
        times = arrivals(options)
        count = len(times)
        rng = self.rng
        shopify = [i for i in range(count) if rng.random() < options.shopify_share]
        shopify = shopify or [0]
        picks = rng.sample(shopify, min(len(shopify), options.unknown_skus + 2))
        unknown = set(picks[: options.unknown_skus])
        special = [i for i in picks if i not in unknown]
        short = set(special[: options.short_shipments])
        disputed = set(special[options.short_shipments :][: options.disputes])
        faults = self._fault_plan(count)
        outage_at = options.outage_start * options.duration
        # webhooks wait in each platform's queue: the sale delivers them,
        # late, shuffled or twice
        for platform in ("shopify", "stripe", "threepl"):
            self.admin[platform]("config", {"webhook_mode": "queue"})
        # what was open before the sale (make demo's own examples) is not
        # the sale's doing
        journal.open_before = self.odoo(
            "retail.sync.exception",
            "search",
            [["state", "in", ["new", "in_progress"]]],
        )
        journal.started = time.time()
        start = time.monotonic()
        index, horizon = 0, 0.0
        self.sample()
        while index < count:
            horizon += options.round_seconds
            if options.realtime:
                time.sleep(max(0.0, start + horizon - time.monotonic()))
            while index < count and times[index] < horizon:
                if index in faults:
                    self._inject(*faults[index])
                if index in shopify:
                    self.shopify_order(
                        unknown=index in unknown,
                        short=index in short,
                        disputed=index in disputed,
                    )
                else:
                    self.amazon_order()
                index += 1
            if options.outage_seconds and not journal.outage and horizon > outage_at:
                self.outage()
            self.deliver()
            self.ship()
            self.pump()
            self.sample()
        journal.ended = time.time()
        self.log(f"{count} orders placed in {time.monotonic() - start:.0f} s")
        return journal

    def drain(self, timeout):
        """The tail: every held webhook delivered, the 3PL ships the rest,
        until Odoo's backlog is empty and every order is shipped."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            self.held.clear()
            self.deliver(chaos=False)
            self.ship()
            self.pump()
            waiting = self.sample()
            unshipped = self._unshipped()
            if (
                not waiting
                and not unshipped
                and not self._not_imported()
                and not self._not_at_warehouse()
            ):
                quiet += 1
                if quiet >= 2:
                    return True
            else:
                quiet = 0
        return False

    def finale(self):
        """After the sale: a dispute on a shipped order, then the payout of
        the day's charges, paid and reconciled by Stripe."""
        stripe = self.admin["stripe"]
        for order in self.journal.orders:
            if order.disputed and order.charge:
                stripe(
                    "disputes",
                    {"charge": order.charge, "reason": "product_not_received"},
                )
        stripe("webhooks/flush")
        self.pump()
        payout = stripe("payouts", {"description": "Flash sale payout"})
        stripe(f"payouts/{payout['id']}/paid")
        stripe("webhooks/flush")
        self.journal.payout = payout["id"]
        self.pump()
        # the shop posts its webhooks at once again (as make demo has it)
        self.admin["shopify"]("config", {"webhook_mode": "sync"})

    # -------------------------------------------------------------- orders
    def basket(self, big=False):
        skus = list(self.options.skus)
        lines = []
        for sku in self.rng.sample(skus, self.rng.choice([1, 1, 2])):
            quantity = 2 if big and not lines else self.rng.choice([1, 1, 2])
            lines.append((sku, quantity, self.options.skus[sku]))
        return lines

    def shopify_order(self, unknown=False, short=False, disputed=False):
        shop, stripe = self.admin["shopify"], self.admin["stripe"]
        first, last, street, city, zip_code, state = self.rng.choice(BUYERS)
        number = len(self.journal.orders) + 1
        lines = self.basket(big=short)
        body = {
            "customer": {
                "email": f"{first.lower()}.{number}@example.com",
                "first_name": first,
                "last_name": last,
                "address": {
                    "address1": street,
                    "city": city,
                    "zip": zip_code,
                    "provinceCode": state,
                    "countryCodeV2": "US",
                },
            },
            "lines": [
                {"sku": sku, "quantity": qty, "price": price}
                for sku, qty, price in lines
            ],
            "gateway": "stripe",
            "emit": True,
        }
        if unknown:
            # a SKU the shop sells that Odoo does not know (yet)
            lines = [(f"FS-NEW-{number}", 1, "9.00")]
            body["lines"] = [{"sku": lines[0][0], "quantity": 1, "price": "9.00"}]
        created = shop("orders", body)
        view = shop.get(f"orders/{created['id'].rsplit('/', 1)[-1]}")
        order = Order(
            "shopify",
            view["name"],
            view["id"],
            lines,
            total=float(view["totals"]["total"]),
            placed_at=time.time(),
            unknown_sku=unknown,
            short=short,
            disputed=disputed,
        )
        if not unknown:
            # checkout paid through Stripe: the PaymentIntent names the order
            paid = stripe(
                "payments",
                {
                    "amount": round(order.total * 100),
                    "currency": self.wiring.currency.lower(),
                    "metadata": {"shopify_order": order.ref},
                    "description": f"Shopify order {order.ref}",
                },
            )
            order.intent = paid["payment_intent"]["id"]
            order.charge = paid["charge"]["id"]
        self.journal.orders.append(order)
        return order

    def amazon_order(self):
        lines = self.basket()
        created = self.admin["amazon"](
            "orders",
            {
                "seller_id": AMAZON_SELLER,
                "marketplace_id": AMAZON_DE,
                "items": [
                    {"sku": sku, "quantity": qty, "price": price}
                    for sku, qty, price in lines
                ],
            },
        )
        order_id = created.get("orderId") or created.get("amazonOrderId")
        order = Order("amazon", order_id, order_id, lines, placed_at=time.time())
        self.journal.orders.append(order)
        return order

    # -------------------------------------------------------------- trouble
    def _fault_plan(self, count):
        """``{order index: (platform, kind, extra)}``: API faults spread
        over the sale, each let through a few requests before it strikes."""
        total = round(self.options.fault_rate * count)
        platforms = ["shopify", "stripe", "threepl", "amazon"]
        plan = {}
        for number in range(total):
            index = self.rng.randrange(count)
            kind, extra = FAULTS[number % len(FAULTS)]
            plan[index] = (platforms[number % len(platforms)], kind, extra)
        return plan

    def _inject(self, platform, kind, extra):
        if kind == "timeout":
            extra = {"seconds": self.options.slow_seconds}
        self.admin[platform](
            "faults",
            dict(extra, kind=kind, times=1, skip=self.rng.randint(0, 3)),
        )
        self.journal.faults[platform] = self.journal.faults.get(platform, 0) + 1

    def outage(self):
        seconds = self.options.outage_seconds
        self.admin["threepl"]("outage", {"seconds": seconds})
        self.journal.outage = (time.time(), seconds)
        self.log(f"the 3PL is down for {seconds:.0f} s")

    def deliver(self, chaos=True):
        """Each platform's queued webhooks: some held back to a later round
        (late), some shuffled (reordered), some posted twice (duplicates)."""
        options = self.options
        for platform, path in (
            ("shopify", "webhooks/flush"),
            ("stripe", "webhooks/flush"),
            ("threepl", "webhooks/flush"),
        ):
            if chaos and self.rng.random() < options.late_rate:
                self.journal.late += 1
                continue
            body = {"seed": self.rng.randrange(10**6)}
            if chaos and self.rng.random() < options.reorder_rate:
                body["order"] = "shuffle"
                self.journal.reordered += 1
            if chaos and options.duplicate_rate:
                body["duplicate_every"] = max(1, round(1 / options.duplicate_rate))
                self.journal.duplicates += 1
            self.admin[platform](path, body)

    def ship(self):
        """The warehouse floor ships what it received (short of a unit for
        the order the scenario picked), then says so by webhook."""
        threepl = self.admin["threepl"]
        shorts = {o.ref for o in self.journal.orders if o.short}
        refs = self._picking_refs(shorts)
        for remote in threepl.get("orders"):
            if remote["id"] in self.shipped or remote["status"] != "Processing":
                continue
            body = {"order": remote["id"], "carrier": "USPS"}
            if remote["reference_id"] in refs:
                body["quantities"] = self._short_quantities(remote["reference_id"])
                body["reason"] = "out_of_stock"
            threepl("ship", body, ok=(200, 201, 409))
            self.shipped.add(remote["id"])

    def _picking_refs(self, channel_refs):
        """The delivery names of the orders named ``channel_refs``."""
        if not channel_refs:
            return set()
        sales = self.odoo(
            "sale.order",
            "search_read",
            [["client_order_ref", "in", list(channel_refs)]],
            ["picking_ids"],
        )
        pickings = [p for sale in sales for p in sale["picking_ids"]]
        if not pickings:
            return set()
        return {
            p["name"] for p in self.odoo("stock.picking", "read", pickings, ["name"])
        }

    def _short_quantities(self, picking_name):
        moves = self.odoo(
            "stock.move",
            "search_read",
            [["picking_id.name", "=", picking_name]],
            ["product_id", "product_uom_qty"],
        )
        skus = {
            p["id"]: p["default_code"]
            for p in self.odoo(
                "product.product",
                "read",
                [m["product_id"][0] for m in moves],
                ["default_code"],
            )
        }
        quantities = {skus[m["product_id"][0]]: m["product_uom_qty"] for m in moves}
        first = sorted(quantities)[0]
        quantities[first] -= 1
        return quantities

    # ------------------------------------------------------------ sampling
    def _amazon_safety(self):
        return self.odoo(
            "amazon.marketplace",
            "search_read",
            [["backend_id", "=", self.wiring.backends["amazon"]]],
            ["safety_stock"],
        )[0]["safety_stock"]

    def sample(self):
        """Odoo now: what each channel may offer (free quantity at the 3PL's
        warehouse minus the channel's safety stock), and the backlog."""
        odoo = self.odoo
        products = odoo(
            "product.product",
            "read",
            list(self.wiring.products.values()),
            ["default_code", "free_qty"],
            context={"warehouse_id": self.wiring.warehouse},
        )
        now = time.time()
        allowed = {
            channel: {
                p["default_code"]: max(0, int(p["free_qty"] - safety)) for p in products
            }
            for channel, safety in self.safety.items()
        }
        self.journal.allowed.append((now, allowed))
        waiting = self.waiting()
        self.journal.backlog.append((now, waiting))
        return waiting

    def waiting(self):
        """Odoo's backlog: events not processed yet, jobs due and not run
        yet (a job waiting for its time, such as the next order poll held
        by Amazon's rate limit, is no work left behind)."""
        events = self.odoo(
            "retail.event",
            "search_count",
            [["state", "in", ["received", "queued"]]],
        )
        now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        jobs = self.odoo(
            "queue.job",
            "search_count",
            [
                ["state", "in", ["pending", "enqueued", "started"]],
                ["channel", "=like", "root.retail_connect%"],
                "|",
                ["eta", "=", False],
                ["eta", "<=", now],
            ],
        )
        return events + jobs

    def _not_imported(self):
        """Orders Odoo does not hold yet (an Amazon order waits for the
        next poll), but those made to fail."""
        known = set()
        for channel in ("shopify", "amazon"):
            for row in self.odoo(
                "retail.binding",
                "search_read",
                [
                    ["backend_id", "=", self.wiring.backends[channel]],
                    ["res_model", "=", "sale.order"],
                ],
                ["external_id"],
            ):
                known.add(row["external_id"])
                known.add(row["external_id"].rsplit("/", 1)[-1])
        return [
            o
            for o in self.journal.orders
            if not o.unknown_sku and o.remote_id not in known
        ]

    def _not_at_warehouse(self):
        """How many imported orders the 3PL has not received yet: a delivery
        whose sending the outage postponed waits in a job due later, which
        the backlog does not count (its time has not come), yet it is work
        left behind."""
        expected = sum(1 for o in self.journal.orders if not o.unknown_sku)
        return max(0, expected - len(self.admin["threepl"].get("orders")))

    def _unshipped(self):
        return [
            o
            for o in self.admin["threepl"].get("orders")
            if o["status"] == "Processing"
        ]
