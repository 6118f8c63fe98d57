from odoo.tests import tagged

from .common import ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestShopifyReturns(ShopifyCase):
    """Issue 7, point 12: a Shopify return becomes one return picking of what
    was restocked; its refund one credit note, never a second picking."""

    def _shipped(self, lines):
        order = self.new_order(lines=lines)
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        sale = self.sale_orders().filtered(
            lambda s: s.client_order_ref == order["name"]
        )
        for move in sale.picking_ids.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        sale.picking_ids._action_done()
        run_jobs(self.env)  # the fulfilment reaches Shopify
        return order, sale

    def _returns(self, sale):
        return sale.picking_ids.filtered(lambda p: p.picking_type_code == "incoming")

    def _credit_notes(self, sale):
        return self.env["account.move"].search(
            [("move_type", "=", "out_refund"), ("invoice_origin", "=", sale.name)]
        )

    def test_one_of_two_returned_and_restocked_then_refunded(self):
        order, sale = self._shipped([{"sku": "MUG-002", "quantity": 2}])
        line_id = self.sandbox.order(order["id"])["lineItems"][0]["id"]
        ret = self.sandbox.request_return(
            order["id"], [{"line_item_id": line_id, "quantity": 1}], emit=True
        )
        run_jobs(self.env)
        self.assertFalse(self._returns(sale), "a request brings nothing back yet")
        self.sandbox.approve_return(ret["id"], emit=True)
        self.sandbox.dispose_return(
            ret["id"],
            [
                {
                    "line_item_id": line_id,
                    "quantity": 1,
                    "type": "RESTOCKED",
                    "location_id": self.location["id"],
                }
            ],
            emit=True,
        )
        run_jobs(self.env)
        picking = self._returns(sale)
        self.assertEqual(len(picking), 1, "one return picking")
        self.assertEqual(picking.move_ids.product_id, self.products["MUG-002"])
        self.assertEqual(picking.move_ids.product_uom_qty, 1)
        self.assertIn(ret["name"], picking.origin)
        self.sandbox.refund_return(ret["id"], emit=True)
        self.sandbox.close_return(ret["id"], emit=True)
        run_jobs(self.env)
        credit = self._credit_notes(sale)
        self.assertEqual(len(credit), 1, "one credit note")
        self.assertEqual(credit.state, "posted")
        self.assertAlmostEqual(credit.amount_total, 14.88, places=2)  # 12.50 + 19%
        self.assertEqual(self._returns(sale), picking, "no second picking")

    def test_a_disposed_unit_does_not_come_back_to_stock(self):
        order, sale = self._shipped([{"sku": "MUG-002", "quantity": 2}])
        line_id = self.sandbox.order(order["id"])["lineItems"][0]["id"]
        ret = self.sandbox.create_return(
            order["id"], [{"line_item_id": line_id, "quantity": 2}], emit=True
        )
        self.sandbox.dispose_return(
            ret["id"],
            [
                {"line_item_id": line_id, "quantity": 1, "type": "NOT_RESTOCKED"},
                {
                    "line_item_id": line_id,
                    "quantity": 1,
                    "type": "RESTOCKED",
                    "location_id": self.location["id"],
                },
            ],
            emit=True,
        )
        run_jobs(self.env)
        picking = self._returns(sale)
        self.assertEqual(len(picking), 1)
        self.assertEqual(picking.move_ids.product_uom_qty, 1, "only the restocked one")

    def test_duplicated_and_reordered_webhooks_make_one_picking_per_unit(self):
        """The refund (restocking through the return) arrives before the
        dispose, each twice; a later dispose of the second unit adds only it."""
        order, sale = self._shipped([{"sku": "MUG-002", "quantity": 2}])
        line_id = self.sandbox.order(order["id"])["lineItems"][0]["id"]
        ret = self.sandbox.create_return(
            order["id"], [{"line_item_id": line_id, "quantity": 2}]
        )
        refund = self.sandbox.refund_return(
            ret["id"], [{"line_item_id": line_id, "quantity": 1}], restock=True
        )
        (rfo,) = self.sandbox.return_(ret["id"])["reverseFulfillmentOrders"]
        for topic, ref in (
            ("refunds/create", refund["id"]),
            ("reverse_fulfillment_orders/dispose", rfo["id"]),
            ("returns/approve", ret["id"]),
        ):
            self.sandbox.emit(topic, ref, deliver=False)
        self.sandbox.flush_webhooks(duplicate_every=1)
        run_jobs(self.env)
        picking = self._returns(sale)
        self.assertEqual(len(picking), 1, "one picking for the returned unit")
        self.assertEqual(picking.move_ids.product_uom_qty, 1)
        self.assertEqual(len(self._credit_notes(sale)), 1)
        self.sandbox.dispose_return(
            ret["id"],
            [
                {
                    "line_item_id": line_id,
                    "quantity": 1,
                    "type": "RESTOCKED",
                    "location_id": self.location["id"],
                }
            ],
        )
        self.sandbox.emit(
            "reverse_fulfillment_orders/dispose", rfo["id"], deliver=False
        )
        self.sandbox.emit("returns/close", ret["id"], deliver=False)
        self.sandbox.flush_webhooks(duplicate_every=1)
        run_jobs(self.env)
        returned = self._returns(sale).move_ids
        self.assertEqual(sum(returned.mapped("product_uom_qty")), 2, "2 units, once")
