from urllib.parse import parse_qs, urlparse

from odoo.tests import tagged

from .common import TOKEN, ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestBackfill(ShopifyCase):
    def _operations(self, name):
        return [
            r
            for r in self.sandbox.requests("/admin/api/")
            if (r.json() or {}).get("operationName") == name
        ]

    def _run_bulk_step(self):
        run_jobs(self.env, channel="root.retail_connect.bulk")
        self.sandbox.finish_bulk()
        run_jobs(self.env, channel="root.retail_connect.bulk")

    def test_backfill_binds_the_catalog_then_imports_recent_orders(self):
        self.sandbox.add_product("Unknown", [{"sku": "NOT-IN-ODOO", "price": "1.00"}])
        orders = [self.new_order() for _ in range(3)]
        self.backend.action_shopify_backfill()
        self._run_bulk_step()  # variants: bind by SKU
        bound = self.Binding.search(
            [
                ("backend_id", "=", self.backend.id),
                ("res_model", "=", "product.product"),
            ]
        )
        self.assertEqual(set(bound.mapped("external_ref")), {"TSHIRT-001", "MUG-002"})
        self.assertTrue(all(b.extra.get("inventory_item_id") for b in bound))
        self.assertEqual(self.backend.shopify_bulk_status, "INGESTED")
        self._run_bulk_step()  # orders: one event each, in the bulk channel
        events = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(len(events), 3)
        self.assertEqual(set(events.mapped("traffic")), {"bulk"})
        jobs = self.env["queue.job"].search([("uuid", "in", events.mapped("job_uuid"))])
        self.assertTrue(all(".bulk." in j.channel for j in jobs))
        run_jobs(self.env, channel="root.retail_connect.bulk")
        self.assertEqual(
            sorted(self.sale_orders().mapped("client_order_ref")),
            sorted(o["name"] for o in orders),
        )
        self.assertFalse(self._operations("OrderById"), "bulk data is not re-fetched")
        self.assertEqual(len(self._operations("BulkRun")), 2)

    def test_check_jobs_reschedule_instead_of_sleeping(self):
        self.backend.action_shopify_backfill()
        run_jobs(self.env, channel="root.retail_connect.bulk")  # starts it
        checks = run_jobs(self.env, channel="root.retail_connect.bulk")
        self.assertIn("checking again", checks[0].result)
        pending = self.env["queue.job"].search(
            [("method_name", "=", "_job_shopify_bulk_check"), ("state", "=", "pending")]
        )
        self.assertEqual(len(pending), 1, "the next check is a new job")
        self.assertTrue(pending.eta)

    def test_bulk_file_is_downloaded_without_the_access_token(self):
        """The result file is on a storage host: the token stays with Shopify."""
        self.new_order()
        self.backend.action_shopify_backfill()
        self._run_bulk_step()  # variants
        self._run_bulk_step()  # orders
        downloads = self.sandbox.storage.requests()
        self.assertEqual(len(downloads), 2, "both files came from the storage host")
        for request in downloads:
            self.assertNotIn(TOKEN, str(request.headers))
            self.assertFalse(
                {"x-shopify-access-token", "authorization"}
                & {name.lower() for name in request.headers}
            )
        self.assertEqual(
            len(self.Event.search([("backend_id", "=", self.backend.id)])), 1
        )
        logged = self.env["retail.exchange"].search(
            [("backend_id", "=", self.backend.id), ("operation", "like", "bulk.%")]
        )
        self.assertEqual(len(logged), 2)
        for exchange in logged:
            signature = parse_qs(urlparse(exchange.url).query).get("Signature")
            self.assertNotIn(downloads[0].query, exchange.url)
            self.assertEqual(signature, ["***"], "the signed URL is not replayable")
