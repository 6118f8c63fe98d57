import json
from unittest.mock import patch
from urllib.parse import parse_qs, urlparse

from odoo.tests import BaseCase, tagged

from ..models import shopify_backfill
from .common import TOKEN, ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestAssemble(BaseCase):
    def test_children_are_nested_by_parent_id_in_any_order(self):
        """Children before their parent, far after it, grandchildren, blank
        lines, a file larger than the memory spool: each object gets exactly
        its own nodes, roots in file order."""
        lines = [
            {"id": "gid://shopify/LineItem/12", "__parentId": "gid://shopify/Order/2"},
            {"id": "gid://shopify/Order/1", "name": "#1"},
            {"id": "gid://shopify/X/9", "__parentId": "gid://shopify/LineItem/11"},
            {"id": "gid://shopify/Order/2", "name": "#2"},
            {"id": "gid://shopify/Order/3", "name": "#3"},
            {"id": "gid://shopify/LineItem/11", "__parentId": "gid://shopify/Order/1"},
            {
                "id": "gid://shopify/ShippingLine/5",
                "__parentId": "gid://shopify/Order/2",
            },
            {"id": "gid://shopify/LineItem/13", "__parentId": "gid://shopify/Order/2"},
        ]
        raw = b"\n".join(json.dumps(line).encode() for line in lines) + b"\n\n"
        chunks = [raw[i : i + 7] for i in range(0, len(raw), 7)]
        with patch.object(shopify_backfill, "SPOOL_IN_MEMORY", 64):
            roots = list(shopify_backfill.assemble(chunks))
        self.assertEqual(
            roots,
            [
                {
                    "id": "gid://shopify/Order/1",
                    "name": "#1",
                    "lineItems": {
                        "nodes": [
                            {
                                "id": "gid://shopify/LineItem/11",
                                "children": {"nodes": [{"id": "gid://shopify/X/9"}]},
                            }
                        ]
                    },
                },
                {
                    "id": "gid://shopify/Order/2",
                    "name": "#2",
                    "lineItems": {
                        "nodes": [
                            {"id": "gid://shopify/LineItem/12"},
                            {"id": "gid://shopify/LineItem/13"},
                        ]
                    },
                    "shippingLines": {
                        "nodes": [{"id": "gid://shopify/ShippingLine/5"}]
                    },
                },
                {"id": "gid://shopify/Order/3", "name": "#3"},
            ],
        )


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

    def test_each_order_gets_its_own_lines_whatever_the_file_order(self):
        """From 2026-01 Shopify does not group a line item after its order:
        only ``__parentId`` says whose it is, never the last order read."""
        orders = [
            self.new_order(
                lines=[
                    {"sku": "TSHIRT-001", "quantity": n},
                    {"sku": "MUG-002", "quantity": n + 4},
                ],
                shipping={"title": f"DHL {n}", "price": f"{n}.90"},
            )
            for n in (1, 2, 3, 4)
        ]
        self.backend.action_shopify_backfill()
        self._run_bulk_step()  # variants
        self._run_bulk_step()  # orders
        (operation,) = [
            op
            for op in self.sandbox.bulk_operations.values()
            if "orders(" in op["query"]
        ]
        lines = [
            json.loads(x) for x in self.sandbox.bulk_file(operation["id"]).splitlines()
        ]
        last = None
        misplaced = 0
        for line in lines:
            if "__parentId" not in line:
                last = line["id"]
            misplaced += line.get("__parentId", last) != last
        self.assertGreater(misplaced, 0, "the file is not grouped by order")
        run_jobs(self.env, channel="root.retail_connect.bulk")
        imported = {sale.client_order_ref: sale for sale in self.sale_orders()}
        self.assertEqual(set(imported), {order["name"] for order in orders})
        for order in orders:
            sale = imported[order["name"]]
            products = sale.order_line.filtered(
                lambda line: line.product_id.default_code in ("TSHIRT-001", "MUG-002")
            )
            self.assertEqual(
                sorted(
                    (line.product_id.default_code, line.product_uom_qty)
                    for line in products
                ),
                sorted((line["sku"], line["quantity"]) for line in order["lineItems"]),
                order["name"],
            )
            (shipping,) = order["shippingLines"]
            self.assertIn(shipping["title"], " ".join(sale.order_line.mapped("name")))

    def test_a_second_backfill_the_same_day_is_a_new_bulk_operation(self):
        """The bulk start's idempotency key names one intended start (its job),
        not the day: a second backfill runs again, its own operation."""
        self.backend.action_shopify_backfill()
        self._run_bulk_step()  # variants
        first = self.backend.shopify_bulk_id
        self._run_bulk_step()  # orders
        self.new_order()
        self.backend.action_shopify_backfill()
        self._run_bulk_step()  # variants, again
        self.assertNotEqual(self.backend.shopify_bulk_id, first, "not a replay")
        self._run_bulk_step()  # orders, again: the new order arrives
        self.assertEqual(len(self.sandbox.bulk_operations), 4)
        keys = [r.json()["variables"]["key"] for r in self._operations("BulkRun")]
        self.assertEqual(len(keys), 4)
        self.assertEqual(len(set(keys)), 4)
        self.assertEqual(
            len(self.Event.search([("backend_id", "=", self.backend.id)])), 1
        )

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
