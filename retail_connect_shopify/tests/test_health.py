"""Health tells the truth: what is wrong and what to do (issue 15)."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import ShopifyCase


@tagged("post_install", "-at_install")
class TestHealth(ShopifyCase):
    def _health(self):
        self.backend.invalidate_recordset(["health", "health_message"])
        return self.backend.health, self.backend.health_message or ""

    def test_health_says_what_is_missing_and_what_to_do(self):
        self.backend.action_test_connection()
        self.backend.shopify_webhooks_ok = False
        health, message = self._health()
        self.assertEqual(health, "warning")
        self.assertIn("Webhooks", message)
        self.assertIn("Register webhooks", message)
        self.assertIn("no location", message)
        self.backend.action_shopify_register_webhooks()
        self.backend.action_shopify_fetch_locations()
        health, message = self._health()
        self.assertNotIn("Webhooks", message)
        self.assertIn("no location", message, "fetched but mapped to no warehouse")
        self.backend.shopify_location_ids.warehouse_id = self.warehouse
        health, message = self._health()
        self.assertEqual((health, message), ("ok", ""))
        # stock export off: no location needed
        self.backend.shopify_location_ids.warehouse_id = False
        self.backend._policy("inventory").direction = "off"
        self.assertEqual(self._health(), ("ok", ""))

    def test_stuck_polling_is_a_warning(self):
        self.backend.action_test_connection()
        self.backend.action_shopify_register_webhooks()
        self.backend.action_shopify_fetch_locations()
        self.backend.shopify_location_ids.warehouse_id = self.warehouse
        self.backend.policy_ids.last_poll_at = fields.Datetime.now()
        policy = self.backend._policy("order")
        long_ago = fields.Datetime.now() - timedelta(
            minutes=3 * policy.interval_minutes
        )
        self.backend.activated_at = long_ago
        policy.last_poll_at = long_ago
        health, message = self._health()
        self.assertEqual(health, "warning")
        self.assertIn("Orders", message)
        self.assertIn("poll", message.lower())
        policy.last_poll_at = fields.Datetime.now()
        self.assertEqual(self._health(), ("ok", ""))
