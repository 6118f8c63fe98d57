import requests

from odoo.tests import tagged

from .common import AmazonCase


@tagged("post_install", "-at_install")
class TestOrders(AmazonCase):
    def test_an_order_polled_twice_is_one_sale_order(self):
        order = self.place(
            items=[
                {"sku": "SKU-1", "quantity": 2, "price": "19.99", "tax": "3.80"},
                {"sku": "SKU-2", "quantity": 1, "price": "5.00", "shipping": "4.50"},
            ]
        )
        self.poll()
        self.poll()
        sales = self.sale_orders()
        self.assertEqual(len(sales), 1)
        self.assertEqual(
            len(self.Event.search([("backend_id", "=", self.backend.id)])), 1
        )
        sale = sales
        self.assertEqual(sale.client_order_ref, order.order_id)
        self.assertEqual(sale.state, "sale")
        self.assertEqual(sale.currency_id, self.eur)
        self.assertEqual(sale.pricelist_id, self.pricelist)
        # Amazon's total to the cent: 2 x 19.99 + 2 x 3.80 + 5.00 + 4.50
        self.assertAlmostEqual(sale.amount_total, 57.08, places=2)
        lines = sale.order_line.filtered(lambda line: line.product_id.is_storable)
        self.assertEqual(
            {(line.product_id.default_code, line.product_uom_qty) for line in lines},
            {("SKU-1", 2), ("SKU-2", 1)},
        )
        self.assertEqual(sale.retail_backend_id, self.backend)
        self.assertEqual(sale.retail_fulfilment_status, "Unshipped")
        picking = sale.picking_ids
        self.assertEqual(picking.picking_type_id.warehouse_id, self.warehouse)
        # one customer, the delivery address as its contact
        self.assertEqual(sale.partner_shipping_id.parent_id, sale.partner_id)
        self.assertEqual(sale.partner_shipping_id.type, "delivery")

    def test_pending_waits_then_imports_when_unshipped(self):
        order = self.place(pending_seconds=600)
        self.poll()
        self.assertFalse(self.sale_orders())
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(event.state, "skipped_policy")
        self.assertIn("imported once Unshipped", event.error)
        self.advance(600)
        self.poll()
        sale = self.sale_of(order.order_id)
        self.assertTrue(sale)
        self.assertEqual(sale.state, "sale")

    def test_cancelled_before_shipment_cancels_the_sale_order(self):
        order = self.place()
        self.poll()
        sale = self.sale_of(order.order_id)
        self.assertEqual(sale.state, "sale")
        with self.sandbox.lock:
            self.sandbox.book.cancel(order, "BUYER", "BuyerCanceled")
        self.poll()
        self.assertEqual(sale.state, "cancel")
        self.assertEqual(sale.picking_ids.mapped("state"), ["cancel"])
        self.assertEqual(len(self.sale_orders()), 1)

    def test_cancelled_before_import_is_not_imported(self):
        order = self.place(pending_seconds=600)
        with self.sandbox.lock:
            self.sandbox.book.cancel(order, "BUYER", "BuyerCanceled")
        self.poll()
        self.assertFalse(self.sale_orders())

    def test_fba_order_consumes_the_fba_warehouse_and_ships_nothing(self):
        product = self.products["SKU-1"]
        main_before = product.with_context(warehouse_id=self.warehouse.id).qty_available
        order = self.place(fulfilled_by="AMAZON", ship_after=3600)
        self.poll()
        sale = self.sale_of(order.order_id)
        self.assertTrue(sale)
        self.assertEqual(sale.warehouse_id, self.fba)
        self.assertTrue(sale.picking_ids)
        self.assertFalse(
            sale.picking_ids.filtered(
                lambda p: p.picking_type_id.warehouse_id != self.fba
            ),
            "no delivery from Odoo's own warehouse",
        )
        self.advance(3600)  # Amazon ships it
        self.poll()
        self.assertEqual(sale.picking_ids.mapped("state"), ["done"])
        self.assertEqual(sale.retail_fulfilment_status, "Shipped")
        product.invalidate_recordset()
        self.assertEqual(
            product.with_context(warehouse_id=self.fba.id).qty_available, 18
        )
        self.assertEqual(
            product.with_context(warehouse_id=self.warehouse.id).qty_available,
            main_before,
        )
        # Amazon shipped it: no shipment confirmation is queued
        self.assertFalse(
            self.env["queue.job"].search(
                [("method_name", "=", "_job_amazon_confirm_shipment")]
            )
        )

    def test_unknown_sku_opens_a_mapping_exception_then_imports_once_mapped(self):
        order = self.place(items=[{"sku": "NEW-SKU", "quantity": 1, "price": "9.00"}])
        self.poll()
        self.assertFalse(self.sale_orders())
        exception = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertEqual(exception.category, "mapping")
        self.assertEqual(exception.fix_data["sku"], "NEW-SKU")
        self.assertIn("internal reference NEW-SKU", exception.message)
        self.env["product.product"].create(
            {"name": "New", "default_code": "NEW-SKU", "is_storable": True}
        )
        exception.action_retry()
        from .common import run_jobs

        run_jobs(self.env, rounds=2)
        self.assertTrue(self.sale_of(order.order_id))
        self.assertEqual(exception.state, "resolved")

    def test_one_customer_per_buyer_or_per_marketplace(self):
        # the buyer's details need a tax role (Orders API v2026-01-01)
        roles = sorted(self.sandbox.roles)
        config = f"{self.server.url}/__sandbox__/config"
        requests.post(
            config, json={"roles": [*roles, "Tax Invoicing (Restricted)"]}, timeout=10
        )
        self.addCleanup(requests.post, config, json={"roles": roles}, timeout=10)
        buyer = {"buyerName": "Jane Doe", "buyerEmail": "jane@marketplace.amazon.de"}
        first = self.place(buyer=buyer)
        second = self.place(buyer=buyer)
        self.poll()
        one, two = self.sale_of(first.order_id), self.sale_of(second.order_id)
        self.assertEqual(one.partner_id, two.partner_id)
        self.assertEqual(one.partner_id.name, "Jane Doe")
        self.backend.amazon_customer_strategy = "marketplace"
        third = self.place(buyer={"buyerName": "John Roe", "buyerEmail": "j@x.de"})
        fourth = self.place()
        self.poll()
        three, four = self.sale_of(third.order_id), self.sale_of(fourth.order_id)
        self.assertEqual(three.partner_id, four.partner_id)
        self.assertEqual(three.partner_id, self.de.partner_id)
        self.assertNotEqual(three.partner_shipping_id, four.partner_shipping_id)
