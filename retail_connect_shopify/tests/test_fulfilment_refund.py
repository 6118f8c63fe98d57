from odoo.tests import tagged

from .common import ShopifyCase, run_jobs

STATUS = """query S($id: ID!) { order(id: $id) {
  displayFulfillmentStatus
  fulfillments(first: 5) { status trackingInfo { company number url } }
} }"""


@tagged("post_install", "-at_install")
class TestFulfilmentAndRefund(ShopifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.carrier = cls.env["delivery.carrier"].create(
            {
                "name": "DHL",
                "product_id": cls.env["product.product"]
                .create({"name": "DHL shipping", "type": "service"})
                .id,
            }
        )

    def _imported(self, **kwargs):
        order = self.new_order(**kwargs)
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        sale = self.sale_orders().filtered(
            lambda s: s.client_order_ref == order["name"]
        )
        self.assertEqual(sale.state, "sale")
        return order, sale

    def _remote(self, order):
        _status, body, _wait = self.sandbox.graphql(STATUS, {"id": order["id"]})
        return body["data"]["order"]

    def _ship(self, picking, quantity, tracking):
        picking.write({"carrier_id": self.carrier.id, "carrier_tracking_ref": tracking})
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty if quantity is None else quantity
            move.picked = True
        picking._action_done()

    def _calls(self, operation):
        return [
            r
            for r in self.sandbox.requests("/admin/api/")
            if (r.json() or {}).get("operationName") == operation
        ]

    def test_partial_then_complete_delivery_makes_two_fulfilments(self):
        order, sale = self._imported(lines=[{"sku": "TSHIRT-001", "quantity": 2}])
        picking = sale.picking_ids
        self._ship(picking, 1, "TRACK-1")
        run_jobs(self.env)
        remote = self._remote(order)
        self.assertEqual(remote["displayFulfillmentStatus"], "PARTIALLY_FULFILLED")
        self.assertEqual(
            remote["fulfillments"][0]["trackingInfo"][0]["number"], "TRACK-1"
        )
        self.assertEqual(remote["fulfillments"][0]["trackingInfo"][0]["company"], "DHL")
        backorder = sale.picking_ids - picking
        self.assertEqual(len(backorder), 1)
        self._ship(backorder, 1, "TRACK-2")
        run_jobs(self.env)
        remote = self._remote(order)
        self.assertEqual(remote["displayFulfillmentStatus"], "FULFILLED")
        self.assertEqual(len(remote["fulfillments"]), 2)
        # the job is idempotent: running it again sends nothing
        before = len(self._calls("FulfillmentCreate"))
        self.assertEqual(self.backend._job_shopify_fulfil(picking), "already fulfilled")
        self.assertEqual(len(self._calls("FulfillmentCreate")), before)

    def test_a_delivery_from_two_locations_is_fulfilled_once_per_location(self):
        """Shopify fulfils the fulfillment orders of one location per call
        (issue 7, point 11): one fulfilment per location, nothing twice."""
        store = self.sandbox.add_location("Store")["id"]
        mug = self.sandbox.variant_by_sku("MUG-002")["inventoryItemId"]
        self.sandbox.set_inventory(mug, store, 5)
        order, sale = self._imported(
            lines=[
                {"sku": "TSHIRT-001", "quantity": 1, "location": self.location["id"]},
                {"sku": "MUG-002", "quantity": 2, "location": store},
            ]
        )
        self._ship(sale.picking_ids, None, "TRACK-9")
        run_jobs(self.env)
        calls = self._calls("FulfillmentCreate")
        self.assertEqual(len(calls), 2, "one call per location")
        remote = self._remote(order)
        self.assertEqual(remote["displayFulfillmentStatus"], "FULFILLED")
        self.assertEqual(len(remote["fulfillments"]), 2)
        self.assertEqual(
            {f["trackingInfo"][0]["number"] for f in remote["fulfillments"]},
            {"TRACK-9"},
        )
        self.assertEqual(self.sandbox.inventory(mug, store, "on_hand"), 3)
        job = self.backend._job_shopify_fulfil(sale.picking_ids)
        self.assertEqual(job, "already fulfilled")
        self.assertEqual(len(self._calls("FulfillmentCreate")), 2)

    def test_tracking_edited_after_the_fulfilment_reaches_shopify(self):
        """Issue 7, point 12: a corrected tracking number after the delivery
        updates the Shopify fulfilment instead of staying wrong."""
        order, sale = self._imported(lines=[{"sku": "MUG-002", "quantity": 1}])
        self._ship(sale.picking_ids, 1, "WRONG-1")
        run_jobs(self.env)
        sale.picking_ids.carrier_tracking_ref = "RIGHT-1"
        run_jobs(self.env)
        (fulfilment,) = self._remote(order)["fulfillments"]
        self.assertEqual([t["number"] for t in fulfilment["trackingInfo"]], ["RIGHT-1"])
        self.assertEqual(len(self._calls("FulfillmentCreate")), 1)
        self.assertEqual(len(self._calls("FulfillmentTrackingUpdate")), 1)

    def test_refund_makes_a_credit_note_and_a_return_once(self):
        order, sale = self._imported(lines=[{"sku": "MUG-002", "quantity": 3}])
        self._ship(sale.picking_ids, 3, "TRACK-3")
        run_jobs(self.env)
        line_id = self.sandbox.order(order["id"])["lineItems"][0]["id"]
        refund = self.sandbox.refund_order(
            order["id"],
            [{"line_item_id": line_id, "quantity": 1, "restock_type": "RETURN"}],
        )
        events = self.sandbox.emit("refunds/create", refund["id"], deliver=False)
        self.sandbox.flush_webhooks(duplicate_every=1)
        self.assertTrue(events)
        run_jobs(self.env)
        credit = self.env["account.move"].search(
            [("move_type", "=", "out_refund"), ("invoice_origin", "=", sale.name)]
        )
        self.assertEqual(len(credit), 1, "one credit note, duplicate ignored")
        self.assertEqual(credit.state, "posted")
        self.assertAlmostEqual(credit.amount_total, 14.88, places=2)  # 12.50 + 19%
        returns = sale.picking_ids.filtered(lambda p: p.picking_type_code == "incoming")
        self.assertEqual(len(returns), 1)
        self.assertEqual(returns.move_ids.product_uom_qty, 1)
        self.assertEqual(returns.move_ids.product_id, self.products["MUG-002"])

    def test_order_and_refund_in_the_customers_currency_use_shop_money(self):
        """A EUR shop, a customer paying in USD: Odoo books shop amounts in EUR
        (issue 7, point 4)."""
        order, sale = self._imported(
            lines=[{"sku": "MUG-002", "quantity": 2}],
            presentment_currency="USD",
            presentment_rate="1.25",
        )
        self.assertEqual(sale.currency_id, self.eur)
        self.assertAlmostEqual(sale.amount_total, 29.75, places=2)  # 2 x 12.50 + 19%
        line_id = self.sandbox.order(order["id"])["lineItems"][0]["id"]
        refund = self.sandbox.refund_order(
            order["id"],
            [{"line_item_id": line_id, "quantity": 1, "restock_type": "NO_RESTOCK"}],
        )
        payload = self.sandbox.payload("refunds/create", refund["id"])
        self.assertEqual(payload["transactions"][0]["currency"], "USD")
        self.sandbox.emit("refunds/create", refund["id"])
        run_jobs(self.env)
        credit = self.env["account.move"].search(
            [("move_type", "=", "out_refund"), ("invoice_origin", "=", sale.name)]
        )
        self.assertEqual(len(credit), 1)
        self.assertEqual(credit.currency_id, self.eur)
        self.assertAlmostEqual(credit.amount_total, 14.88, places=2)  # not 18.60 USD
        self.assertAlmostEqual(
            sum(credit.invoice_line_ids.mapped("price_subtotal")), 12.50, places=2
        )
