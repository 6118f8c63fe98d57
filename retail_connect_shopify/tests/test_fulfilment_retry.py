from odoo.tests import tagged

from .common import ShopifyCase, run_jobs

FULFILLMENTS = """query S($id: ID!) { order(id: $id) {
  displayFulfillmentStatus
  fulfillments(first: 5) { id fulfillmentLineItems(first: 5) { nodes { quantity } } }
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
