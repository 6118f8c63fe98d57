"""A day in the UI, in Chromium (issue 15): Odoo tours on the live sandbox.

The tours (static/tests/tours) click through the menus and forms as a user
does; the sandbox's address and credentials reach them through system
parameters. Without Chromium, Odoo skips these tests.
"""

from odoo.tests import tagged

from .common import SECRET, SHOP, TOKEN, ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestTours(ShopifyCase):
    def setUp(self):
        super().setUp()
        params = self.env["ir.config_parameter"].sudo()
        # where Shopify will send the webhooks this Odoo registers
        params.set_param("web.base.url", self.base_url())
        params.set_param("retail_connect_shopify.tour_base_url", self.server.url)
        params.set_param("retail_connect_shopify.tour_token", TOKEN)
        params.set_param("retail_connect_shopify.tour_secret", SECRET)

    def test_tour_a_shop_set_up_from_an_empty_form_imports_its_first_order(self):
        self.backend.action_pause()  # the shop is connected once, by the tour
        self.start_tour("/odoo", "retail_connect_shopify_setup", login="admin")
        backend = self.env["retail.backend"].search([("name", "=", "Acme web shop")])
        self.assertEqual(len(backend), 1)
        self.assertEqual(backend.shopify_shop_domain, SHOP)
        self.assertEqual(backend.state, "active")
        self.assertTrue(backend.last_check_ok)
        self.assertTrue(backend.shopify_webhooks_ok)
        self.assertEqual(
            {sub["uri"] for sub in self.sandbox.subscriptions.values()},
            {backend.webhook_url},
        )
        # Shopify sends the shop's next order to the subscriptions. Shopify is
        # no browser: Odoo's test harness, strict about the test cookie after
        # a tour, must let its cookieless webhook through as in production.
        self.http_request_strict_check = False
        order = self.new_order()
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        bindings = self.Binding.search(
            [("backend_id", "=", backend.id), ("res_model", "=", "sale.order")]
        )
        self.assertEqual(len(bindings), 1)
        sale = self.env["sale.order"].browse(bindings.res_id)
        self.assertEqual(sale.client_order_ref, order["name"])
        self.assertEqual(order["name"], "#1001")  # the tour looks for it
        self.start_tour("/odoo", "retail_connect_shopify_order_in_sales", login="admin")

    def test_tour_an_unknown_sku_is_mapped_from_its_exception(self):
        cap = self.env["product.product"].create(
            {"name": "Blue cap", "type": "consu", "taxes_id": [(6, 0, self.tax.ids)]}
        )
        order = self.new_order(
            lines=[{"sku": "CAP-404", "quantity": 1, "price": "9.00", "title": "Cap"}]
        )
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        exception = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id), ("state", "=", "new")]
        )
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "mapping")
        self.assertFalse(self.sale_orders())
        self.start_tour("/odoo", "retail_connect_shopify_map_sku", login="admin")
        self.assertEqual(cap.default_code, "CAP-404")
        run_jobs(self.env)
        self.assertEqual(exception.state, "resolved")
        sale = self.sale_orders()
        self.assertEqual(len(sale), 1)
        self.assertEqual(sale.order_line.product_id.filtered(lambda p: p == cap), cap)
