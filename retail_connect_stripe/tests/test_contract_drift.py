"""Contract drift (issue 13) on Stripe: the sandbox's events (written from
Stripe's docs and OpenAPI contract) conform to the shipped schemas; events
sent in another API version than the pinned one open one drift exception."""

from odoo.tests import tagged

from .common import StripeCase, run_jobs


@tagged("post_install", "-at_install")
class TestStripeContractDrift(StripeCase):
    def drifts(self):
        return self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id), ("category", "=", "drift")]
        )

    def test_events_of_the_pinned_version_open_nothing(self):
        self.backend.contract_sample_rate = 100
        sale = self.order()
        self.pay(12000, metadata={"odoo_order": sale.name})
        self.flush()
        run_jobs(self.env)
        self.assertEqual(len(self.payments()), 1)
        self.assertTrue(self.events())
        self.assertFalse(self.drifts())

    def test_events_in_another_version_open_one_exception(self):
        self.backend.contract_sample_rate = 100
        # the endpoint was created with 2026-09-30.endive; the backend now
        # pins an older version the connector would be written for
        self.backend.api_version = "2026-03-25.dahlia"
        for _i in range(2):
            self.pay(12000, metadata={"odoo_order": self.order().name})
        self.flush()
        run_jobs(self.env)
        found = self.drifts()
        self.assertEqual(
            found.mapped("subject_key"),
            ["drift:stripe:2026-03-25.dahlia:event:api_version"],
        )
        # once per event processed (a skipped one is not checked)
        processed = self.events().filtered(
            lambda e: e.state in ("done", "failed", "dead")
        )
        self.assertGreaterEqual(len(processed), 2)
        self.assertEqual(found.count, len(processed))
        self.assertIn("Register the webhook again", found.message)

    def test_no_end_of_support_is_published(self):
        self.assertFalse(self.backend.api_support_end)
        self.assertIn("docs.stripe.com/upgrades", self.backend.api_support_note)
        found = self.backend._cron_api_support()
        self.assertFalse(found.filtered(lambda e: e.backend_id == self.backend))
