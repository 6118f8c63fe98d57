"""Chaos over both transports, through real HTTP/SFTP and real queue jobs:
a burst of orders meets the sandbox's faults (429, 5xx, timeouts, an outage,
duplicate, late and reordered advices, a half-written file). Whatever the
seed, every order reaches the 3PL once, in order, every delivery is validated
once with what was shipped, and nothing is lost or left waiting.

The seed is random per run and printed in any failure (``CHAOS_SEED=<n>``
replays one)."""

import os
import random
from unittest.mock import patch

from odoo.tests import tagged

from ..lib.rest import ThreeplClient
from .common import SftpTransport, ThreeplCase, floor, run_jobs

ORDERS = 8


class ChaosMixin:
    def setUp(self):
        super().setUp()
        self.seed = int(os.environ.get("CHAOS_SEED") or random.randrange(10**6))
        self.rng = random.Random(self.seed)

    def note(self, text):
        return f"{text} (CHAOS_SEED={self.seed})"

    def burst(self):
        products = [self.mug, self.tee]
        return [
            self.sell((self.rng.choice(products), self.rng.randint(1, 3)))
            for _ in range(ORDERS)
        ]

    def drain(self, rounds=12):
        """Jobs and the backlog cron until nothing waits (bounded)."""
        for _ in range(rounds):
            run_jobs(self.env, rounds=ORDERS + 4)
            if not self.messages(state="draft"):
                return
            self.backend._cron_threepl_backlog()
        self.fail(self.note(f"still waiting: {self.messages(state='draft')}"))

    def check_every_order_once(self, pickings):
        refs = [o["reference_id"] for o in self.sandbox.warehouse.orders.values()]
        self.assertEqual(refs, [p.name for p in pickings], self.note("once, in order"))

    def check_validated_once(self, pickings):
        for picking in pickings:
            self.assertEqual(picking.state, "done", self.note(picking.name))
            self.assertFalse(picking.backorder_ids, self.note(picking.name))
            move = picking.move_ids
            self.assertEqual(move.quantity, move.product_uom_qty, self.note("qty"))
            self.assertTrue(picking.carrier_tracking_ref, self.note("tracking"))
            advices = self.messages(
                message_type="shipping_advice", picking_id=picking.id
            )
            self.assertEqual(len(advices), 1, self.note(f"{picking.name} advices"))
        # stock left the warehouse once per delivery
        for product in self.products:
            shipped = sum(
                p.move_ids.quantity for p in pickings if p.product_id == product
            )
            self.assertEqual(
                self.env["stock.quant"]._get_available_quantity(
                    product, self.warehouse.lot_stock_id
                ),
                50 - shipped,
                self.note(f"stock of {product.default_code}"),
            )
        self.assertFalse(self.messages(state="draft"), self.note("backlog"))
        self.assertFalse(
            self.Exception.search(
                [
                    ("backend_id", "=", self.backend.id),
                    ("state", "in", ("new", "in_progress")),
                ]
            ),
            self.note("an exception stayed open"),
        )


@tagged("post_install", "-at_install")
class TestChaosRest(ChaosMixin, ThreeplCase):
    def test_chaos_over_rest(self):
        sandbox, clock = self.sandbox, self.sandbox.clock
        order_path = "/2026-07/order"
        faults = [
            ("throttle", {"seconds": self.rng.randint(1, 40)}),
            ("status", {"status": self.rng.choice([500, 502, 503])}),
            ("status", {"status": 503, "times": 2}),
            # a slow 3PL: the client gives up, the 3PL still creates the
            # order; the retry adopts it
            ("timeout", {"seconds": 2}),
        ]
        self.rng.shuffle(faults)
        for kind, kwargs in faults:
            sandbox.inject_fault(
                kind, path=order_path, skip=self.rng.randint(0, 4), **kwargs
            )
        # an outage from the first call on (the clock stays put: the
        # webhooks are signed with its time, checked against Odoo's)
        sandbox.add_outage(clock.now(), clock.now() + 3600)
        with patch.object(ThreeplClient, "timeout_seconds", 1):
            pickings = self.burst()
            run_jobs(self.env, rounds=self.rng.randint(1, ORDERS))
            self.backend._cron_threepl_backlog()
            sandbox.outages.clear()  # the 3PL is back
            if self.rng.random() < 0.3:
                sandbox.faults.clear()
            self.drain()
        self.check_every_order_once(pickings)
        for picking in pickings:
            floor.ship(sandbox, picking.name, carrier="USPS")
        # duplicates, reordered (late) deliveries, and a second round of them
        self.deliver_webhooks(
            order="shuffle",
            duplicate_every=self.rng.randint(1, 3),
            seed=self.seed,
        )
        run_jobs(self.env, rounds=3)
        self.check_validated_once(pickings)
        self.check_every_order_once(pickings)


@tagged("post_install", "-at_install")
class TestChaosSftp(ChaosMixin, SftpTransport, ThreeplCase):
    def poll(self):
        self.assertFalse(self.policy._job_poll().startswith("failed"))
        run_jobs(self.env, rounds=3)

    def test_chaos_over_sftp(self):
        sandbox, clock = self.sandbox, self.sandbox.clock
        sftp = sandbox.sftp
        # the SFTP server closes every connection while the 3PL is down
        start = clock.now() + self.rng.choice([0, 1])
        sandbox.add_outage(start, start + 600)
        pickings = self.burst()
        run_jobs(self.env, rounds=ORDERS)
        clock.advance(601)
        self.drain()
        self.check_every_order_once(pickings)
        self.poll()  # the acks
        # advice files: half-written, duplicated, held back (late), reordered
        kinds = ["truncate", "duplicate", "hold", "stale_tmp", None, None]
        truncated = []
        for picking in pickings:
            kind = self.rng.choice(kinds)
            if kind:
                sftp.add_file_fault(kind)
            floor.ship(sandbox, picking.name, carrier="USPS")
            if kind in ("truncate", "stale_tmp"):
                truncated.append(
                    next(
                        name
                        for name in reversed(list(sftp.dropped))
                        if name.startswith("shipping_advice")
                    )
                )
            if self.rng.random() < 0.3:
                self.poll()  # the 3PL's files read as they come
        sftp.release(order=self.rng.choice(["fifo", "reverse"]))
        self.poll()
        for name in truncated:  # the 3PL finishes what it had cut
            sftp.redeliver(name)
        self.poll()
        sftp.release()  # and a late copy of the held duplicates
        self.poll()
        self.poll()
        self.check_validated_once(pickings)
        self.check_every_order_once(pickings)
        self.assertFalse(
            self.sandbox.sftp.info()["files"]["inbox"],
            self.note("a file left in the inbox"),
        )
