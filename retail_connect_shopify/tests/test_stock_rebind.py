from odoo.tests import tagged

from .common import run_jobs
from .test_stock import StockCase


@tagged("post_install", "-at_install")
class TestStockRebindBySku(StockCase):
    """A bound variant Shopify no longer knows (deleted and re-created with the
    same SKU by a merchant, or a re-created shop) is found again by its SKU."""

    SKU = "TSHIRT-001"
    MUG = "MUG-002"

    def _recreate(self, sku, copies=1):
        """Delete the bound variant of ``sku`` on Shopify and create ``copies``
        new products with that SKU (stocked 0 at the location); their variants."""
        self.sandbox.delete_variant(self.sandbox.variant_by_sku(sku)["id"])
        return [
            self.sandbox.add_product(f"{sku} again {n}", [{"sku": sku}])["variants"][0]
            for n in range(copies)
        ]

    def _binding(self, sku):
        return self.Binding._lookup_record(self.backend, self.products[sku])

    def _open_exceptions(self):
        return self.env["retail.sync.exception"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("domain", "=", "inventory"),
                ("state", "in", ("new", "in_progress")),
            ]
        )

    def _assert_rebound(self, sku, variant, available):
        binding = self._binding(sku)
        self.assertEqual(binding.external_id, variant["id"])
        self.assertEqual(binding.extra["inventory_item_id"], variant["inventoryItemId"])
        self.assertEqual(
            self.sandbox.inventory(variant["inventoryItemId"], self.location["id"]),
            available,
            "the new variant gets Odoo's stock in the same run",
        )
        self.assertFalse(self._open_exceptions())
        notes = self.backend.message_ids.mapped("body")
        self.assertTrue(
            any(sku in note and variant["id"] in note for note in notes),
            "the backend's chatter says what was re-bound",
        )

    def test_a_recreated_variant_is_rebound_on_the_first_read(self):
        (variant,) = self._recreate(self.SKU)
        self._receive(self.SKU, 2)
        jobs = run_jobs(self.env)
        self.assertEqual({job.state for job in jobs}, {"done"})
        self._assert_rebound(self.SKU, variant, 52)

    def test_a_known_level_refused_as_invalid_is_rebound_and_pushed(self):
        # pushed once: Odoo knows Shopify's quantity and writes without reading
        self._receive(self.MUG, 1)
        self._receive(self.SKU, 1)
        run_jobs(self.env)
        self.assertEqual(self._remote(self.MUG), 51)
        (variant,) = self._recreate(self.MUG)
        self._receive(self.MUG, 2)
        self._receive(self.SKU, 1)
        jobs = run_jobs(self.env)
        self.assertEqual({job.state for job in jobs}, {"done"})
        self._assert_rebound(self.MUG, variant, 53)
        self.assertEqual(self._remote(self.SKU), 52, "the other SKU moves too")
        lookups = [
            r
            for r in self.sandbox.requests("/admin/api/")
            if (r.json() or {}).get("operationName") == "VariantsBySku"
        ]
        self.assertEqual(len(lookups), 1, "one lookup for the set-aside SKUs")

    def test_two_variants_with_the_sku_leave_a_mapping_exception(self):
        first, second = self._recreate(self.SKU, copies=2)
        self._receive(self.SKU, 2)
        self._receive(self.MUG, 1)
        jobs = run_jobs(self.env)
        self.assertEqual({job.state for job in jobs}, {"done"})
        self.assertEqual(self._remote(self.MUG), 51)
        exception = self._open_exceptions()
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "mapping")
        self.assertIn(first["id"], exception.message)
        self.assertIn(second["id"], exception.message)
        self.assertEqual(exception.fix_data["variants"], [first["id"], second["id"]])
        binding = self._binding(self.SKU)
        self.assertNotIn(binding.external_id, (first["id"], second["id"]))
        self.assertFalse((binding.extra or {}).get("inventory_item_id"))
        for variant in (first, second):
            self.assertEqual(
                self.sandbox.inventory(variant["inventoryItemId"], self.location["id"]),
                0,
                "neither gets stock Odoo cannot attribute",
            )
