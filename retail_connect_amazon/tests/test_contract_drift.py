"""Contract drift (issue 13) on Amazon: polled orders conform to the schema
derived from the Orders API 2026-01-01 model; a renamed field is one drift
exception whatever the number of orders."""

import json
from datetime import date

from odoo.tests import tagged

from .common import AmazonCase


@tagged("post_install", "-at_install")
class TestAmazonContractDrift(AmazonCase):
    def drifts(self):
        return self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id), ("category", "=", "drift")]
        )

    def test_polled_orders_conform(self):
        self.backend.contract_sample_rate = 100
        self.place()
        self.place()
        self.poll()
        self.assertEqual(len(self.sale_orders()), 2)
        self.assertFalse(self.drifts())

    def test_a_changed_order_opens_one_exception_per_field(self):
        self.backend.contract_sample_rate = 100
        self.place()
        self.place()
        self.poll()
        events = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(len(events), 2)
        for event in events:
            data = event._data()
            data["purchaseTime"] = data.pop("createdTime")
            event.sudo().payload = json.dumps(data)
            self.backend._contract_check(event)
        found = self.drifts()
        self.assertEqual(
            sorted(found.mapped("subject_key")),
            [
                "drift:amazon:2026-01-01:order:createdTime",
                "drift:amazon:2026-01-01:order:purchaseTime",
            ],
        )
        self.assertEqual(found.mapped("count"), [2, 2])

    def test_orders_v0_warns_90_days_before_its_end(self):
        self.backend.api_version = "v0"
        self.assertEqual(self.backend.api_support_end, date(2027, 3, 27))
        found = self.backend._cron_api_support(today=date(2027, 1, 1))
        found = found.filtered(lambda e: e.backend_id == self.backend)
        self.assertEqual(len(found), 1)
        self.assertIn("Orders API 2026-01-01", found.message)
