"""The flash sale end to end: the four sandboxes, the four backends wired
together (sandboxes.flashsale.wiring), a short sale driven by the same
generator as ``python3 -m sandboxes.flashsale`` (ramp, peak, duplicates,
reordered and late webhooks, 5xx, 429, timeouts, a 3PL outage, an unknown
SKU, a dispute, a short shipment), real HTTP and real queue jobs; then the
business outcome, as the generator prints it.

Jobs run as queue_job's runner would, when due (their ETA), inside the test
transaction; the seed is random per run and printed in any failure
(``FLASH_SEED=<n>`` replays one)."""

import logging
import os
import random
import time
from unittest.mock import patch

from odoo import fields
from odoo.tests import HttpCase, tagged

from odoo.addons.retail_connect_base.lib.http import RetailHttpClient
from odoo.addons.retail_connect_base.tests.common import run_job, sandboxes

sandboxes()
from sandboxes.amazon import AmazonSandbox  # noqa: E402
from sandboxes.flashsale import Options, checks  # noqa: E402
from sandboxes.flashsale.odoo import EnvCalls  # noqa: E402
from sandboxes.flashsale.traffic import FlashSale  # noqa: E402
from sandboxes.flashsale.wiring import wire  # noqa: E402
from sandboxes.shopify import ShopifySandbox  # noqa: E402
from sandboxes.stripe import StripeSandbox  # noqa: E402
from sandboxes.threepl import ThreePLSandbox  # noqa: E402

_logger = logging.getLogger(__name__)
POLL_SECONDS = 8


@tagged("post_install", "-at_install")
class TestFlashSale(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.sandboxes = {
            "shopify": ShopifySandbox(),
            "stripe": StripeSandbox(),
            "threepl": ThreePLSandbox(),
            "amazon": AmazonSandbox(search_delay=0),
        }
        cls.urls = {}
        for name, sandbox in cls.sandboxes.items():
            server = sandbox.serve()
            cls.addClassCleanup(server.stop)
            cls.urls[name] = server.url

    def setUp(self):
        super().setUp()
        self.seed = int(os.environ.get("FLASH_SEED") or random.randrange(10**6))
        self.env["ir.config_parameter"].sudo().set_param(
            "web.base.url", f"http://127.0.0.1:{self.http_port()}"
        )
        self.options = Options(
            duration=60,
            orders_per_minute=40,  # about 30 orders
            seed=self.seed,
            realtime=False,
            round_seconds=6,
            outage_seconds=20,
            fault_rate=0.15,
            slow_seconds=3,  # the clients below wait 2 s: a real timeout
        )
        self.odoo = EnvCalls(self.env)
        self.polled = 0.0

    def note(self, text):
        return f"{text} (FLASH_SEED={self.seed})"

    # ---------------------------------------------------------------- pump
    def pump(self):
        """What the servers do meanwhile: the poll cron (Amazon's orders),
        the 3PL backlog cron, and the jobs that are due."""
        env = self.env
        if time.monotonic() - self.polled > POLL_SECONDS:
            # the order poll, its cron's work (Amazon allows one
            # searchOrders every 3 minutes, a burst of 20: a poll a round
            # would soon wait minutes for the rate limit)
            self.polled = time.monotonic()
            amazon = self.wiring.backends["amazon"]
            env["retail.sync.policy"].search(
                [("backend_id", "=", amazon), ("domain", "=", "order")]
            ).next_poll_at = False
            env["retail.sync.policy"]._cron_poll()
        env["retail.backend"]._cron_threepl_backlog()
        for _ in range(6):
            due = env["queue.job"].search(
                [
                    ("state", "=", "pending"),
                    ("channel", "=like", "root.retail_connect%"),
                    "|",
                    ("eta", "=", False),
                    ("eta", "<=", fields.Datetime.now()),
                ],
                order="id",
            )
            if not due:
                break
            for job in due:
                run_job(env, job.uuid)

    def wait_pump(self):
        """Between rounds of the drain: time passes (retries come due)."""
        time.sleep(1)
        self.pump()

    # ---------------------------------------------------------------- test
    def test_flash_sale(self):
        started = time.monotonic()
        self.wiring = wire(
            self.odoo, self.urls, self.options, self.pump, log=_logger.info
        )
        # the catalog exported, the stock published on both channels
        for _ in range(30):
            self.pump()
            if self.published():
                break
            time.sleep(1)
        self.assertTrue(self.published(), self.note("stock published"))
        # a tighter objective than the default 5 minutes: the sale is short
        self.env["retail.sync.policy"].search(
            [
                ("backend_id", "in", list(self.wiring.backends.values())),
                ("domain", "=", "inventory"),
            ]
        ).latency_objective_minutes = 1
        self.say(f"wired and published in {time.monotonic() - started:.0f} s")
        sale = FlashSale(
            self.odoo, self.wiring, self.options, self.pump, log=_logger.info
        )
        sale.pump = self.wait_pump
        # the platforms' clients give up after 2 s (30 s in production): a
        # timeout fault is a timeout, its work done on the platform anyway
        with patch.object(RetailHttpClient, "timeout_seconds", 2):
            journal = sale.run()
        self.say(f"sale over after {time.monotonic() - started:.0f} s")
        drained = sale.drain(timeout=120)
        self.say(f"drained ({drained}) after {time.monotonic() - started:.0f} s")
        sale.finale()
        for _ in range(10):
            self.wait_pump()
        report = checks.run(self.odoo, self.wiring, journal, self.options)
        lines = report.lines()
        if not drained or report.failures():
            lines += checks.diagnose(self.odoo, self.wiring)
        text = "\n".join(lines)
        _logger.info("%s", text)
        self.assertGreaterEqual(len(journal.orders), 20)
        self.assertTrue(journal.faults and journal.outage, "trouble was injected")
        self.assertFalse(report.failures(), self.note(text))
        self.say(f"flash sale test: {time.monotonic() - started:.0f} s")

    def say(self, text):
        _logger.info("%s", text)

    def published(self):
        """Every SKU offered on both channels (their sandboxes' records)."""
        offered = {
            channel: {
                e["sku"]
                for e in self.wiring.admins[channel].get("stock_history")
                if e["quantity"]
            }
            for channel in ("shopify", "amazon")
        }
        skus = set(self.options.skus)
        return all(skus <= offered[c] for c in offered)
