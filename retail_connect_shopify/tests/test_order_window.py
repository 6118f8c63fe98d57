"""Shopify serves 60 days of orders without read_all_orders (issue 7, point 15)."""

from datetime import UTC, datetime, timedelta

from odoo.tests import tagged

from .common import ShopifyCase, run_jobs


def days_ago(days):
    when = datetime.now(UTC) - timedelta(days=days)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@tagged("post_install", "-at_install")
class TestOrderWindow(ShopifyCase):
    def _backfill(self):
        self.backend.action_shopify_backfill()
        for _kind in ("variants", "orders"):
            run_jobs(self.env, channel="root.retail_connect.bulk")
            self.sandbox.finish_bulk()
            run_jobs(self.env, channel="root.retail_connect.bulk")
        run_jobs(self.env, channel="root.retail_connect.bulk")

    def test_backfill_beyond_60_days_says_what_it_cannot_read(self):
        recent = self.new_order(created_at=days_ago(30))
        self.new_order(created_at=days_ago(75))
        self.backend.shopify_backfill_days = 90
        self._backfill()
        imported = self.sale_orders().mapped("client_order_ref")
        self.assertEqual(imported, [recent["name"]])
        self.assertFalse(self.backend.shopify_read_all_orders)
        notes = self.backend.message_ids.mapped("body")
        self.assertTrue(
            any("read_all_orders" in n and "60 days" in n for n in notes),
            "the administrator is told why older orders are missing",
        )

    def test_backfill_with_read_all_orders_reads_them_all(self):
        scope = self.sandbox.scope
        self.addCleanup(setattr, self.sandbox, "scope", scope)
        self.sandbox.scope = scope + ",read_all_orders"
        self.new_order(created_at=days_ago(30))
        self.new_order(created_at=days_ago(75))
        self.backend.shopify_backfill_days = 90
        self._backfill()
        self.assertEqual(len(self.sale_orders()), 2)
        self.assertTrue(self.backend.shopify_read_all_orders)

    def test_webhook_of_an_order_older_than_60_days_names_the_scope(self):
        old = self.new_order(created_at=days_ago(75))
        self.sandbox.emit("orders/updated", old["id"], deliver=True)
        run_jobs(self.env)
        self.assertFalse(self.sale_orders())
        exception = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertEqual(len(exception), 1)
        self.assertIn("read_all_orders", exception.message)
