import requests

from odoo.tests import tagged

from .common import DE, SELLER, AmazonCase, run_jobs

PUSH = "_job_amazon_push_stock"


@tagged("post_install", "-at_install")
class TestListingQuantities(AmazonCase):
    def setUp(self):
        super().setUp()
        self.Listing = self.env["amazon.listing"]
        self.mfn = self.Listing.create(
            {
                "marketplace_id": self.de.id,
                "product_id": self.products["SKU-1"].id,
                "product_type": "PRODUCT",
            }
        )
        self.fba_listing = self.Listing.create(
            {
                "marketplace_id": self.de.id,
                "product_id": self.products["SKU-2"].id,
                "fulfillment": "AFN",
            }
        )
        for sku, channel in (("SKU-1", "DEFAULT"), ("SKU-2", "AMAZON_EU")):
            requests.post(
                f"{self.server.url}/__sandbox__/listings",
                json={
                    "seller_id": SELLER,
                    "sku": sku,
                    "product_type": "PRODUCT",
                    "channel": channel,
                    "quantity": {DE: 7},
                },
                timeout=10,
            )
        self.env["queue.job"].search([("method_name", "=", PUSH)]).unlink()

    def remote(self, sku):
        answer = requests.get(
            f"{self.server.url}/__sandbox__/listings/{SELLER}/{sku}", timeout=10
        )
        return answer.json()

    def receive(self, sku, quantity):
        self.env["stock.quant"]._update_available_quantity(
            self.products[sku], self.warehouse.lot_stock_id, quantity
        )

    def receive_product(self, product, quantity):
        self.env["stock.quant"]._update_available_quantity(
            product, self.warehouse.lot_stock_id, quantity
        )

    def patches(self):
        return self.sandbox.requests("/listings/2021-08-01/items/", method="PATCH")

    def test_mfn_quantity_is_free_stock_minus_safety_stock_in_one_push(self):
        for _ in range(3):
            self.receive("SKU-1", 1)
            self.receive("SKU-2", 1)
        jobs = self.env["queue.job"].search([("method_name", "=", PUSH)])
        self.assertEqual(len(jobs), 1, "a burst of moves makes one push")
        run_jobs(self.env)
        # 50 + 3 on hand, 2 kept back on Amazon.de
        self.assertEqual(self.remote("SKU-1")["quantity"][DE], 51)
        # FBA: Amazon's own stock, never pushed
        self.assertEqual(self.remote("SKU-2")["quantity"][DE], 7)
        self.assertEqual(len(self.patches()), 1)
        self.assertEqual(self.mfn.sent_qty, 51)
        # a product without seller SKU has nothing Amazon could match
        no_sku = self.env["product.product"].create(
            {"name": "No SKU", "is_storable": True}
        )
        self.Listing.create({"marketplace_id": self.de.id, "product_id": no_sku.id})
        self.receive_product(no_sku, 4)
        run_jobs(self.env)
        self.assertEqual(len(self.patches()), 1)
        # nothing changed: nothing sent again
        self.mfn.dirty = True
        self.backend._job_amazon_push_stock()
        self.assertEqual(len(self.patches()), 1)

    def test_oversell_risk_in_the_live_overview_until_the_push(self):
        def at_risk():
            figures = self.backend._watch_platform_figures()[self.backend.id]
            (risk,) = [f for f in figures if f["metric"] == "oversell_risk_skus"]
            return risk["value"]

        self.receive("SKU-1", 1)
        run_jobs(self.env)
        self.assertEqual(at_risk(), 0)
        # Odoo loses 4 units: Amazon offers them until the push
        self.receive("SKU-1", -4)
        self.assertEqual(at_risk(), 1)
        run_jobs(self.env)
        self.assertEqual(at_risk(), 0)

    def test_units_of_orders_odoo_has_not_imported_are_not_offered_again(self):
        self.place(
            items=[{"sku": "SKU-1", "quantity": 3, "price": "19.99"}],
            pending_seconds=3600,
        )
        self.poll()
        self.assertFalse(self.sale_orders())
        self.receive("SKU-1", 1)
        run_jobs(self.env)
        # 51 on hand - 2 safety - 3 sold on Amazon, Pending in Odoo
        self.assertEqual(self.remote("SKU-1")["quantity"][DE], 46)

    def test_a_refused_listing_is_set_aside_and_pushed_once_corrected(self):
        self.mfn.product_type = "SHOES"  # not the listing's type on Amazon
        self.receive("SKU-1", 1)
        run_jobs(self.env)
        exception = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id), ("domain", "=", "inventory")]
        )
        self.assertEqual(len(exception), 1)
        self.assertIn("8101", exception.message)
        self.assertEqual(exception.fix_data["sku"], "SKU-1")
        self.assertEqual(self.remote("SKU-1")["quantity"][DE], 7)
        self.mfn.product_type = "PRODUCT"
        run_jobs(self.env)
        self.assertEqual(self.remote("SKU-1")["quantity"][DE], 49)
        self.assertEqual(exception.state, "resolved")

    def test_quota_exceeded_reschedules_the_push(self):
        self.receive("SKU-1", 1)
        # Amazon's bucket of the seller exists (its first call)
        self.backend._amazon_client().call(
            "PATCH",
            f"/listings/2021-08-01/items/{SELLER}/SKU-1",
            operation="patchListingsItem",
            params={"marketplaceIds": DE},
            json={
                "productType": "PRODUCT",
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/fulfillment_availability",
                        "value": [
                            {"fulfillment_channel_code": "DEFAULT", "quantity": 7}
                        ],
                    }
                ],
            },
        )
        requests.post(
            f"{self.server.url}/__sandbox__/throttle/drain",
            json={"operation": "patchListingsItem"},
            timeout=10,
        )
        jobs = [job for job in run_jobs(self.env) if job.method_name == PUSH]
        self.assertEqual([job.state for job in jobs], ["done"])
        self.assertIn("rate limit", jobs[0].result)
        later = self.env["queue.job"].search(
            [("method_name", "=", PUSH), ("state", "=", "pending")]
        )
        self.assertEqual(len(later), 1, "the rest is pushed by a new job")
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id)]
            )
        )
        self.assertEqual(self.remote("SKU-1")["quantity"][DE], 7)
