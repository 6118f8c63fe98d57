"""The sale order and its delivery show their channel (issue 15)."""

from odoo.tests import new_test_user, tagged

from .common import SHOP, ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestChannelOnOrder(ShopifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seller = new_test_user(
            cls.env,
            login="rc_seller",
            groups="base.group_user,sales_team.group_sale_salesman",
        )
        cls.team = cls.env["crm.team"].create({"name": "Webshop"})
        cls.carrier = cls.env["delivery.carrier"].create(
            {
                "name": "DHL",
                "product_id": cls.env["product.product"]
                .create({"name": "DHL shipping", "type": "service"})
                .id,
            }
        )

    def test_imported_order_shows_channel_statuses_and_its_salesperson(self):
        self.backend.write(
            {"sale_user_id": self.seller.id, "sale_team_id": self.team.id}
        )
        order = self.new_order()
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        sale = self.sale_orders()
        self.assertEqual(len(sale), 1)
        numeric = order["id"].rsplit("/", 1)[-1]
        self.assertEqual(sale.retail_backend_id, self.backend)
        self.assertEqual(sale.retail_channel_ref, order["name"])
        self.assertEqual(
            sale.retail_channel_url, f"https://{SHOP}/admin/orders/{numeric}"
        )
        self.assertEqual(sale.retail_payment_status, "Paid")
        self.assertEqual(sale.retail_fulfilment_status, "Unfulfilled")
        self.assertTrue(sale.retail_status_at)
        # the backend's salesperson and team: in the seller's "My Quotations"
        self.assertEqual(sale.user_id, self.seller)
        self.assertEqual(sale.team_id, self.team)
        orders = self.env["sale.order"].with_user(self.seller)
        self.assertIn(sale, orders.search([("user_id", "=", self.seller.id)]))
        # found by its number on the channel (without the '#') and its channel
        self.assertEqual(
            orders.search([("retail_channel_ref", "ilike", order["name"][1:])]), sale
        )
        self.assertEqual(
            orders.search([("retail_backend_id", "=", self.backend.id)]), sale
        )
        # a salesperson without Retail rights opens it and sees the channel
        [data] = sale.with_user(self.seller).web_read(
            {
                "retail_backend_id": {"fields": {"display_name": {}}},
                "retail_channel_ref": {},
                "retail_channel_url": {},
                "retail_payment_status": {},
            }
        )
        self.assertEqual(data["retail_backend_id"]["display_name"], "Acme Shopify")
        self.assertEqual(data["retail_channel_url"], sale.retail_channel_url)
        views = orders.get_views([(False, "form"), (False, "list"), (False, "search")])
        for kind in ("form", "list", "search"):
            self.assertIn("retail_channel_ref", views["views"][kind]["arch"], kind)
        self.assertIn('name="retail_channel"', views["views"]["search"]["arch"])
        self.assertIn("retail_backend_id", views["views"]["search"]["arch"])

        # someone reassigns it: a later update from the channel keeps that
        other = new_test_user(
            self.env, login="rc_seller2", groups="sales_team.group_sale_salesman"
        )
        sale.user_id = other
        picking = sale.picking_ids
        self.assertEqual(picking.retail_backend_id, self.backend)
        self.assertEqual(picking.retail_channel_ref, order["name"])
        self.assertEqual(picking.retail_channel_url, sale.retail_channel_url)
        self.assertFalse(picking.retail_sent_at, "nothing sent yet")
        picking.write({"carrier_id": self.carrier.id, "carrier_tracking_ref": "T-1"})
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        picking._action_done()
        run_jobs(self.env)
        self.assertTrue(picking.retail_sent_at, "tracking sent, with its time")
        self.sandbox.emit("orders/updated", order["id"])
        run_jobs(self.env)
        self.assertEqual(sale.retail_fulfilment_status, "Fulfilled")
        self.assertEqual(sale.user_id, other, "the channel does not reassign it")
        pickings = self.env["stock.picking"]
        self.assertEqual(
            pickings.search([("retail_channel_ref", "ilike", order["name"][1:])]),
            picking,
        )
        views = pickings.get_views([(False, "form"), (False, "search")])
        self.assertIn("retail_sent_at", views["views"]["form"]["arch"])
        self.assertIn("retail_channel_ref", views["views"]["search"]["arch"])
        self.assertIn('name="retail_channel"', views["views"]["search"]["arch"])
