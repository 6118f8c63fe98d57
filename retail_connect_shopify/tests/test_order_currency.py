"""An order is booked in its own currency, or not at all (issue 15)."""

from odoo.tests import tagged

from .common import ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestOrderCurrency(ShopifyCase):
    def test_an_order_in_a_currency_odoo_has_no_pricelist_for_is_not_booked(self):
        company_currency = self.env.company.currency_id
        self.assertNotEqual(company_currency, self.eur, "the shop sells in EUR")
        # as on a new database: the company's currency only
        self.backend.shopify_pricelist_id = self.env["product.pricelist"].create(
            {"name": "Company", "currency_id": company_currency.id}
        )
        self.pricelist.active = False
        self.eur.active = False
        order = self.new_order()
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(event.state, "failed")
        self.assertFalse(self.sale_orders(), "nothing booked in another currency")
        exception = event.exception_id
        self.assertEqual(exception.category, "mapping")
        self.assertIn("EUR", exception.message)
        self.assertIn("pricelist", exception.message)
        # the fix it names: the currency and a pricelist in it
        self.eur.active = True
        pricelist = self.env["product.pricelist"].create(
            {"name": "Shop EUR", "currency_id": self.eur.id}
        )
        exception.action_retry()
        run_jobs(self.env)
        self.assertEqual(event.state, "done", event.error)
        sale = self.sale_orders()
        self.assertEqual(sale.currency_id, self.eur)
        self.assertEqual(sale.pricelist_id, pricelist)
        self.assertEqual(exception.state, "resolved")

    def test_a_pricelist_in_another_currency_is_never_used(self):
        company_currency = self.env.company.currency_id
        self.env["product.pricelist"].search(
            [("currency_id", "=", company_currency.id)]
        ).active = False
        order = self.new_order()
        # the shop now sells in the company's currency; only EUR lists exist
        self.sandbox.currency = company_currency.name
        self.addCleanup(setattr, self.sandbox, "currency", "EUR")
        other = self.new_order()
        for ref in (order, other):
            self.sandbox.emit("orders/create", ref["id"])
        run_jobs(self.env)
        sales = self.sale_orders()
        self.assertEqual(len(sales), 2)
        for sale in sales:
            if sale.pricelist_id:
                self.assertEqual(sale.currency_id, sale.pricelist_id.currency_id)
        self.assertEqual(
            sales.filtered(lambda s: s.client_order_ref == other["name"]).currency_id,
            company_currency,
            "no pricelist in the company's currency: none, never the EUR one",
        )
