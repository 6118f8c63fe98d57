"""Contract drift (issue 13) on the 3PL: shipment webhooks conform to the
shipped schema; ShipBob's versions carry their end of support."""

from datetime import date

from odoo.tests import tagged

from .common import ThreeplCase, floor, run_jobs


@tagged("post_install", "-at_install")
class TestThreeplContractDrift(ThreeplCase):
    def drifts(self):
        return self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id), ("category", "=", "drift")]
        )

    def test_shipment_webhooks_conform(self):
        self.backend.contract_sample_rate = 100
        picking = self.sell((self.mug, 2))
        run_jobs(self.env)
        floor.ship(self.sandbox, picking.name, carrier="USPS")
        self.deliver_webhooks()
        run_jobs(self.env)
        self.assertEqual(picking.state, "done")
        self.assertFalse(self.drifts())

    def test_the_pinned_version_and_its_end_of_support(self):
        self.assertEqual(self.backend.api_version, "2026-07")
        # "Each version will be supported for 24 months from its release date"
        self.assertEqual(self.backend.api_support_end, date(2028, 7, 31))

    def test_sftp_has_no_api_version_end(self):
        self.backend.threepl_transport = "sftp"
        self.assertFalse(self.backend.api_support_end)
