"""Outbound jobs that fail end as sync exceptions with a Retry, never unseen."""

from odoo.tests import tagged

from .common import TOKEN, ShopifyCase, run_job, run_jobs

STATUS = """query S($id: ID!) { order(id: $id) {
  displayFulfillmentStatus fulfillments(first: 5) { status }
} }"""
BULK = "root.retail_connect.bulk"


@tagged("post_install", "-at_install")
class TestOutboundFailures(ShopifyCase):
    def _exceptions(self):
        return self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id)]
        )

    def _job(self, method):
        return self.env["queue.job"].search(
            [("method_name", "=", method), ("state", "=", "pending")]
        )

    def _exhaust(self, job):
        for _attempt in range(job.max_retries):
            run_job(self.env, job.uuid)
        self.assertEqual(job.state, "done", "the job ends; its exception remains")

    def test_a_stock_push_that_keeps_failing_opens_an_exception_retry_publishes(self):
        self.backend.action_shopify_fetch_locations()
        self.backend.shopify_location_ids.filtered(
            lambda loc: loc.shopify_id == self.location["id"]
        ).warehouse_id = self.warehouse
        variant = self.sandbox.variant_by_sku("MUG-002")
        self.Binding._bind(
            self.backend,
            self.products["MUG-002"],
            variant["id"],
            external_ref="MUG-002",
            extra={"inventory_item_id": variant["inventoryItemId"]},
        )
        self.sandbox.inject_fault(
            "status", status=502, operation="InventorySet", times=None
        )
        self.env["stock.quant"]._update_available_quantity(
            self.products["MUG-002"], self.warehouse.lot_stock_id, 1
        )
        self._exhaust(self._job("_job_shopify_push_stock"))
        exception = self._exceptions()
        self.assertEqual(
            (exception.domain, exception.category, exception.subject_key),
            ("inventory", "remote", "stock:push"),
        )
        self.assertIn("Gave up after 5 attempts", exception.message)
        self.assertIn("push stock", exception.name)
        remote = self.sandbox.inventory(variant["inventoryItemId"], self.location["id"])
        self.assertEqual(remote, 10, "nothing published")
        # Shopify answers again: Retry publishes and resolves
        self.sandbox.faults.clear()
        exception.action_retry()
        run_jobs(self.env)
        remote = self.sandbox.inventory(variant["inventoryItemId"], self.location["id"])
        self.assertEqual(remote, 51)
        self.assertEqual(exception.state, "resolved")

    def test_a_fulfilment_that_keeps_failing_is_retried_from_its_exception(self):
        order = self.new_order(lines=[{"sku": "TSHIRT-001", "quantity": 2}])
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        picking = self.sale_orders().picking_ids
        self.sandbox.inject_fault(
            "status", status=503, operation="FulfillmentCreate", times=None
        )
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        picking._action_done()
        self._exhaust(self._job("_job_shopify_fulfil"))
        exception = self._exceptions()
        self.assertEqual(
            (exception.domain, exception.subject_key, exception.category),
            ("shipment", f"fulfilment:{picking.id}", "remote"),
        )
        self.assertEqual(
            (exception.res_model, exception.res_id), ("stock.picking", picking.id)
        )
        self.assertIn("press Retry", exception.message)
        _status, body, _wait = self.sandbox.graphql(STATUS, {"id": order["id"]})
        self.assertEqual(
            body["data"]["order"]["displayFulfillmentStatus"], "UNFULFILLED"
        )
        self.sandbox.faults.clear()
        exception.action_retry()
        run_jobs(self.env)
        _status, body, _wait = self.sandbox.graphql(STATUS, {"id": order["id"]})
        remote = body["data"]["order"]
        self.assertEqual(remote["displayFulfillmentStatus"], "FULFILLED")
        self.assertEqual(len(remote["fulfillments"]), 1)
        self.assertEqual(exception.state, "resolved")

    def test_an_export_with_refused_credentials_is_an_auth_exception(self):
        self.backend.access_token = "shpat_revoked"
        mug = self.products["MUG-002"].product_tmpl_id
        mug.shopify_backend_ids = [(4, self.backend.id)]
        run_jobs(self.env, channel=BULK)
        exception = self._exceptions()
        self.assertEqual(
            (exception.domain, exception.category, exception.severity),
            ("product", "auth", "critical"),
        )
        self.assertEqual(self.backend.state, "error")
        waiting = self.env["shopify.product.export"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertEqual(waiting.product_tmpl_id, mug, "the export waits")
        # credentials fixed, backend resumed: the export goes and resolves it
        self.backend.access_token = TOKEN
        self.backend.action_activate()
        run_jobs(self.env, channel=BULK)
        self.assertTrue(self.Binding._lookup_record(self.backend, mug))
        self.assertEqual(exception.state, "resolved")

    def test_a_failed_bulk_operation_opens_an_exception(self):
        self.backend.action_shopify_backfill()
        run_jobs(self.env, channel=BULK)  # starts it
        self.sandbox.finish_bulk(status="FAILED", error_code="ACCESS_DENIED")
        run_jobs(self.env, channel=BULK)  # checks it
        exception = self._exceptions()
        self.assertEqual(
            (exception.domain, exception.subject_key), ("product", "backfill:variants")
        )
        self.assertIn("ACCESS_DENIED", exception.message)
        self.assertFalse(
            self.env["queue.job"].search([("state", "=", "failed")]),
            "no job failed unseen",
        )
