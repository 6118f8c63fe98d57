"""The "Stock published on Shopify" report shows where Shopify offers more
than Odoo can sell, until the next push puts it right."""

from odoo.tests import tagged

from .common import run_jobs
from .test_stock import StockCase


@tagged("post_install", "-at_install")
class TestStockPublishedReport(StockCase):
    SKU = "MUG-002"

    def _level(self):
        return self.env["shopify.stock.level"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("product_id", "=", self.products[self.SKU].id),
                ("location_id", "=", self.shopify_location.id),
            ]
        )

    def test_over_offered_until_the_push(self):
        self._receive(self.SKU, 1)
        run_jobs(self.env)
        level = self._level()
        published = self._remote(self.SKU)
        self.assertEqual(level.remote_qty, published)
        self.assertFalse(level.over_offered)
        self.assertEqual(level.odoo_target, published)

        # Odoo loses 4 units (damaged): Shopify still offers them until the push
        self._receive(self.SKU, -4)
        self.env.invalidate_all()
        self.assertEqual(level.odoo_target, published - 4)
        self.assertEqual(level.published_gap, 4)
        Level = self.env["shopify.stock.level"]
        self.assertEqual(Level.search([("over_offered", "=", True)]), level)

        # a retail user without Inventory rights reads the same figures
        retail_user = self.env["res.users"].create(
            {
                "name": "Retail user",
                "login": "rc_stock_report",
                "groups_id": [
                    (
                        6,
                        0,
                        [
                            self.env.ref("base.group_user").id,
                            self.env.ref("retail_connect_base.group_user").id,
                        ],
                    )
                ],
            }
        )
        self.assertFalse(retail_user.has_group("stock.group_stock_user"))
        as_user = Level.with_user(retail_user)
        self.assertEqual(as_user.search([("over_offered", "=", True)]), level)
        self.assertEqual(as_user.browse(level.id).published_gap, 4)

        run_jobs(self.env)
        self.env.invalidate_all()
        self.assertEqual(self._remote(self.SKU), published - 4)
        self.assertFalse(level.over_offered)
        self.assertFalse(Level.search([("over_offered", "=", True)]))

    def test_oversell_risk_in_the_live_overview_until_the_push(self):
        def at_risk():
            figures = self.backend._watch_platform_figures()[self.backend.id]
            (risk,) = [f for f in figures if f["metric"] == "oversell_risk_skus"]
            return risk["value"]

        self._receive(self.SKU, 1)
        run_jobs(self.env)
        self.assertEqual(at_risk(), 0)
        # Odoo loses 4 units: Shopify offers them until the push
        self._receive(self.SKU, -4)
        self.assertEqual(at_risk(), 1)
        run_jobs(self.env)
        self.assertEqual(at_risk(), 0)

    def test_safety_stock_lowers_what_odoo_can_sell(self):
        self._receive(self.SKU, 1)
        run_jobs(self.env)
        level = self._level()
        published = level.remote_qty
        self.backend._policy("inventory").safety_stock = 5
        self.env.invalidate_all()
        self.assertEqual(level.odoo_target, published - 5)
        self.assertTrue(level.over_offered)
