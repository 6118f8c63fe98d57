from odoo.tests import tagged

from .common import ShopifyCase, run_jobs

FULFILLMENTS = """query S($id: ID!) { order(id: $id) {
  displayFulfillmentStatus
  fulfillments(first: 5) { id fulfillmentLineItems(first: 5) { nodes { quantity } } }
} }"""

FULFILLMENT_ORDER = """query F($id: ID!) { order(id: $id) {
  fulfillmentOrders(first: 5) { nodes { id lineItems(first: 5) { nodes { id } } } }
} }"""
FULFIL_ONE = """mutation C($fo: ID!, $line: ID!) { fulfillmentCreate(fulfillment: {
  lineItemsByFulfillmentOrder: [{fulfillmentOrderId: $fo,
    fulfillmentOrderLineItems: [{id: $line, quantity: 1}]}]
}) { userErrors { message } } }"""
COUNT = """query S($id: ID!) { order(id: $id) {
  displayFulfillmentStatus
  fulfillments { id }
} }"""


@tagged("post_install", "-at_install")
class TestFulfilmentRetry(ShopifyCase):
    def test_retry_after_one_location_failed_fulfils_only_the_rest(self):
        """Location A's fulfillmentCreate succeeded, B's failed: the retry
        fulfils B only, A never twice, and the job ends done."""
        store = self.sandbox.add_location("Store")["id"]
        mug = self.sandbox.variant_by_sku("MUG-002")["inventoryItemId"]
        self.sandbox.set_inventory(mug, store, 5)
        order = self.new_order(
            lines=[
                {"sku": "TSHIRT-001", "quantity": 1, "location": self.location["id"]},
                {"sku": "MUG-002", "quantity": 2, "location": store},
            ]
        )
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        sale = self.sale_orders().filtered(
            lambda s: s.client_order_ref == order["name"]
        )
        self.sandbox.inject_fault(
            "status", status=500, operation="FulfillmentCreate", skip=1
        )
        for move in sale.picking_ids.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        sale.picking_ids._action_done()
        jobs = run_jobs(self.env, rounds=3)
        fulfil = [j for j in jobs if j.method_name == "_job_shopify_fulfil"]
        self.assertEqual(fulfil[-1].state, "done", fulfil[-1].result)
        _status, body, _wait = self.sandbox.graphql(FULFILLMENTS, {"id": order["id"]})
        remote = body["data"]["order"]
        self.assertEqual(remote["displayFulfillmentStatus"], "FULFILLED")
        self.assertEqual(
            sorted(
                sum(n["quantity"] for n in f["fulfillmentLineItems"]["nodes"])
                for f in remote["fulfillments"]
            ),
            [1, 2],
            "each location fulfilled once",
        )
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [
                    ("backend_id", "=", self.backend.id),
                    ("state", "in", ("new", "in_progress")),
                ]
            ),
            "no conflict left for anyone to resolve",
        )
        binding = self.Binding._lookup_record(self.backend, sale.picking_ids)
        self.assertEqual(len(binding.extra["fulfillments"]), 2)

    def test_a_retry_adopts_every_fulfilment_of_an_order_of_many(self):
        """An order already holds more fulfilments than a page of anything:
        the retried job reads all of them (Order.fulfillments is a list that
        ``first`` would truncate), adopts those no delivery of Odoo claims and
        fulfils only the rest, never one unit twice."""
        tshirt = self.sandbox.variant_by_sku("TSHIRT-001")["inventoryItemId"]
        self.sandbox.set_inventory(tshirt, self.location["id"], 100)
        order = self.new_order(lines=[{"sku": "TSHIRT-001", "quantity": 53}])
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        sale = self.sale_orders().filtered(
            lambda s: s.client_order_ref == order["name"]
        )
        # an earlier try shipped 52 units one by one, its answers lost
        _status, body, _wait = self.sandbox.graphql(
            FULFILLMENT_ORDER, {"id": order["id"]}
        )
        (fo,) = body["data"]["order"]["fulfillmentOrders"]["nodes"]
        (line,) = fo["lineItems"]["nodes"]
        for _n in range(52):
            _status, body, _wait = self.sandbox.graphql(
                FULFIL_ONE, {"fo": fo["id"], "line": line["id"]}
            )
            self.assertFalse(body["data"]["fulfillmentCreate"]["userErrors"])
        for move in sale.picking_ids.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        sale.picking_ids._action_done()
        jobs = run_jobs(self.env, rounds=3)
        fulfil = [j for j in jobs if j.method_name == "_job_shopify_fulfil"]
        self.assertEqual(fulfil[-1].state, "done", fulfil[-1].result)
        _status, body, _wait = self.sandbox.graphql(COUNT, {"id": order["id"]})
        remote = body["data"]["order"]
        self.assertEqual(remote["displayFulfillmentStatus"], "FULFILLED")
        self.assertEqual(len(remote["fulfillments"]), 53, "the last unit once")
        binding = self.Binding._lookup_record(self.backend, sale.picking_ids)
        self.assertEqual(len(binding.extra["fulfillments"]), 53)
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id), ("state", "=", "new")]
            )
        )

    def test_a_retry_adopts_a_fulfilment_of_more_lines_than_a_page(self):
        """An earlier try fulfilled a delivery of 55 lines in one fulfilment
        and its answer was lost: the retry reads the fulfilment's lines page
        after page and adopts it whole, nothing fulfilled twice, no conflict."""
        tshirt = self.sandbox.variant_by_sku("TSHIRT-001")["inventoryItemId"]
        self.sandbox.set_inventory(tshirt, self.location["id"], 100)
        order = self.new_order(
            lines=[{"sku": "TSHIRT-001", "quantity": 1} for _n in range(55)]
        )
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        sale = self.sale_orders().filtered(
            lambda s: s.client_order_ref == order["name"]
        )
        self.assertEqual(len(sale.order_line.filtered("product_id")), 55)
        made = self.sandbox.fulfill(order["id"])  # the try whose answer was lost
        for move in sale.picking_ids.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        sale.picking_ids._action_done()
        run_jobs(self.env, rounds=3)
        _status, body, _wait = self.sandbox.graphql(COUNT, {"id": order["id"]})
        remote = body["data"]["order"]
        self.assertEqual(remote["displayFulfillmentStatus"], "FULFILLED")
        self.assertEqual([f["id"] for f in remote["fulfillments"]], [made["id"]])
        binding = self.Binding._lookup_record(self.backend, sale.picking_ids)
        self.assertTrue(binding, "the delivery is bound to the fulfilment")
        self.assertEqual(binding.extra["fulfillments"], [made["id"]])
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id), ("state", "=", "new")]
            )
        )
