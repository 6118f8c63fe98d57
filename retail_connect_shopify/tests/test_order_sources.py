from odoo.tests import tagged

from .common import ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestOrderSources(ShopifyCase):
    """Test orders and point-of-sale orders follow the backend's options."""

    def import_order(self, order):
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        return self.Event.search(
            [("backend_id", "=", self.backend.id)], order="id desc", limit=1
        )

    def test_test_orders_are_skipped_unless_asked_for(self):
        self.assertFalse(self.backend.shopify_import_test_orders)
        event = self.import_order(self.new_order(test=True))
        self.assertEqual(event.state, "skipped_policy")
        self.assertIn("test order", event.error)
        self.assertFalse(self.sale_orders(), "no sale order of a test order")
        self.backend.shopify_import_test_orders = True
        event = self.import_order(self.new_order(test=True))
        self.assertEqual(event.state, "done", event.error)
        self.assertEqual(len(self.sale_orders()), 1)

    def test_pos_orders_skipped_or_imported_with_their_team_and_warehouse(self):
        self.assertEqual(self.backend.shopify_pos_orders, "skip")
        event = self.import_order(self.new_order(source_name="pos"))
        self.assertEqual(event.state, "skipped_policy")
        self.assertFalse(self.sale_orders())
        team = self.env["crm.team"].create({"name": "Shop counter"})
        store = self.env["stock.warehouse"].create({"name": "Store", "code": "STO"})
        self.backend.write(
            {
                "shopify_pos_orders": "import",
                "shopify_pos_team_id": team.id,
                "shopify_pos_warehouse_id": store.id,
            }
        )
        event = self.import_order(self.new_order(source_name="pos"))
        self.assertEqual(event.state, "done", event.error)
        pos_sale = self.sale_orders()
        self.assertEqual((pos_sale.team_id, pos_sale.warehouse_id), (team, store))
        event = self.import_order(self.new_order())
        self.assertEqual(event.state, "done", event.error)
        web_sale = self.sale_orders() - pos_sale
        self.assertNotEqual(web_sale.team_id, team)
        self.assertNotEqual(web_sale.warehouse_id, store)
