from odoo.tests import tagged

from .common import ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestStockPush(ShopifyCase):
    def setUp(self):
        super().setUp()
        self.backend.action_shopify_fetch_locations()
        self.shopify_location = self.backend.shopify_location_ids.filtered(
            lambda loc: loc.shopify_id == self.location["id"]
        )
        self.shopify_location.warehouse_id = self.warehouse
        self.items = {}
        for sku, product in self.products.items():
            variant = self.sandbox.variant_by_sku(sku)
            self.items[sku] = variant["inventoryItemId"]
            self.Binding._bind(
                self.backend,
                product,
                variant["id"],
                external_ref=sku,
                extra={"inventory_item_id": variant["inventoryItemId"]},
            )

    def _set_calls(self):
        return [
            r
            for r in self.sandbox.requests("/admin/api/")
            if (r.json() or {}).get("operationName") == "InventorySet"
        ]

    def _remote(self, sku):
        return self.sandbox.inventory(self.items[sku], self.location["id"])

    def _receive(self, sku, quantity):
        self.env["stock.quant"]._update_available_quantity(
            self.products[sku], self.warehouse.lot_stock_id, quantity
        )

    def test_a_burst_of_moves_makes_one_job_and_one_call(self):
        for _ in range(5):
            self._receive("TSHIRT-001", 1)
            self._receive("MUG-002", 2)
        jobs = self.env["queue.job"].search(
            [("method_name", "=", "_job_shopify_push_stock"), ("state", "=", "pending")]
        )
        self.assertEqual(len(jobs), 1, "stock moves are coalesced per backend")
        run_jobs(self.env)
        self.assertEqual(len(self._set_calls()), 1)
        self.assertEqual(self._remote("TSHIRT-001"), 55)
        self.assertEqual(self._remote("MUG-002"), 60)
        # nothing changed since: no call
        self.env["shopify.stock.level"]._push(self.backend)
        self.assertEqual(len(self._set_calls()), 1)

    def test_safety_stock_is_kept_back(self):
        self.backend._policy("inventory").safety_stock = 8
        self._receive("MUG-002", 1)
        run_jobs(self.env)
        self.assertEqual(self._remote("MUG-002"), 51 - 8)

    def test_stale_compare_and_set_rereads_then_sets(self):
        self._receive("TSHIRT-001", 1)
        run_jobs(self.env)
        self.assertEqual(self._remote("TSHIRT-001"), 51)
        # someone edits Shopify by hand: our changeFromQuantity is now stale
        self.sandbox.set_inventory(self.items["TSHIRT-001"], self.location["id"], 7)
        self._receive("TSHIRT-001", 1)
        run_jobs(self.env)
        self.assertEqual(self._remote("TSHIRT-001"), 52, "Odoo owns the stock")
        calls = self._set_calls()
        self.assertEqual(len(calls), 3, "first push, stale try, retry")
        last = calls[-1].json()["variables"]["input"]["quantities"][0]
        self.assertEqual(last["changeFromQuantity"], 7)

    def test_reconciliation_repairs_drift(self):
        self._receive("MUG-002", 1)
        run_jobs(self.env)
        self.sandbox.set_inventory(self.items["MUG-002"], self.location["id"], 3)
        result = self.backend._job_shopify_reconcile_stock()
        self.assertIn("1 push call", result)
        self.assertEqual(self._remote("MUG-002"), 51)

    def test_nothing_is_pushed_when_the_policy_does_not_export(self):
        self.backend._policy("inventory").direction = "off"
        self._receive("TSHIRT-001", 3)
        run_jobs(self.env)
        self.assertFalse(self._set_calls())
        self.assertEqual(self._remote("TSHIRT-001"), 10)
