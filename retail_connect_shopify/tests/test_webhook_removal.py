"""Shopify deletes a subscription whose deliveries keep failing (issue 7, point 17).

Shopify retries a failed delivery 8 times over 4 hours, then deletes a
subscription created through the Admin API (the sandbox follows those rules).
The connector's webhook health check must notice, re-create it, say so, and
read what was missed meanwhile.
"""

from odoo.tests import tagged

from .common import SECRET, ShopifyCase, run_jobs  # isort: skip (sets the path)

from sandboxes.shopify import WEBHOOK_RETRY_DELAYS as RETRY_DELAYS  # noqa: E402


@tagged("post_install", "-at_install")
class TestWebhookRemoval(ShopifyCase):
    def _topics(self):
        _status, body, _ = self.sandbox.graphql(
            "{ webhookSubscriptions(first: 50) { nodes { topic uri } } }"
        )
        return {
            n["topic"]
            for n in body["data"]["webhookSubscriptions"]["nodes"]
            if n["uri"] == self.backend.webhook_url
        }

    def test_removed_subscription_is_repaired_and_missed_order_imported(self):
        self.backend.action_shopify_register_webhooks()
        registered = self._topics()
        self.assertIn("ORDERS_CREATE", registered)
        # Odoo refuses every delivery (here: the app secret was rotated on
        # Shopify's side and not yet in Odoo) for more than four hours
        self.sandbox.webhook_secret = "rotated-" + SECRET
        order = self.new_order()
        self.sandbox.emit("orders/create", order["id"], deliver=True)
        for _retry in RETRY_DELAYS:
            self.sandbox.clock.advance(max(RETRY_DELAYS))
            self.sandbox.webhooks.deliver_due()
        self.assertNotIn("ORDERS_CREATE", self._topics(), "Shopify deleted it")
        self.assertFalse(self.sale_orders())
        self.sandbox.webhook_secret = SECRET

        self.env["retail.backend"]._cron_shopify_webhook_health()
        run_jobs(self.env, rounds=3, channel="root.retail_connect")

        self.assertEqual(self._topics(), registered, "re-created, nothing twice")
        note = self.backend.message_ids[:1]
        self.assertIn("ORDERS_CREATE", note.body)
        self.assertIn("deleted", note.body)
        self.assertEqual(
            len(self.sale_orders()), 1, "the order missed meanwhile is imported once"
        )
