"""Promotion of an Amazon backend: its marketplaces arrive on the target
backend by Amazon's marketplace id, with the target's own warehouse (by
code), currency and pricelist; a warehouse the target lacks is to create first.

The two-database round trip is in retail_connect_shopify (test_promotion.py);
this one checks Amazon's part of the file in one database."""

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

DE = "A1PA6795UKMFR9"


@tagged("post_install", "-at_install")
class TestAmazonPromotion(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.warehouse = cls.env["stock.warehouse"].create(
            {"name": "EU hub", "code": "EUH"}
        )
        Backend = cls.env["retail.backend"]
        cls.staging = Backend.create(
            {
                "name": "Amazon staging",
                "platform": "amazon",
                "amazon_customer_strategy": "marketplace",
                "amazon_fba_warehouse_id": cls.warehouse.id,
            }
        )
        cls.env["amazon.marketplace"].create(
            {
                "backend_id": cls.staging.id,
                "code": DE,
                "name": "Amazon.de",
                "currency_id": cls.eur.id,
                "warehouse_id": cls.warehouse.id,
                "safety_stock": 4,
            }
        )
        cls.live = Backend.create({"name": "Amazon live", "platform": "amazon"})

    def test_marketplaces_arrive_by_marketplace_id(self):
        content = self.staging._promotion_export()
        row = content["mappings"]["amazon_marketplaces"][0]
        self.assertEqual(row["code"], DE)
        self.assertEqual(row["warehouse_id"]["code"], "EUH")
        self.assertEqual(row["currency_id"]["xmlid"], "base.EUR")

        row["warehouse_id"] = {"code": "NOPE", "name": "Elsewhere"}
        plan = self.live._promotion_plan(content)
        self.assertIn("NOPE", plan.missing[0][1])
        with self.assertRaisesRegex(UserError, "Nothing was applied"):
            self.live._promotion_apply(content)
        self.assertFalse(self.live.amazon_marketplace_ids)
        self.assertEqual(self.live.amazon_customer_strategy, "buyer")

        content = self.staging._promotion_export()
        self.live._promotion_apply(content)
        marketplace = self.live.amazon_marketplace_ids
        self.assertEqual(
            (marketplace.code, marketplace.name, marketplace.safety_stock),
            (DE, "Amazon.de", 4),
        )
        self.assertEqual(marketplace.warehouse_id, self.warehouse)
        self.assertEqual(marketplace.currency_id, self.eur)
        self.assertEqual(self.live.amazon_fba_warehouse_id, self.warehouse)
        self.assertEqual(self.live.amazon_customer_strategy, "marketplace")
        self.assertFalse(self.live._promotion_plan(content).changes)
