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


@tagged("post_install", "-at_install")
class TestFlowTours(ShopifyCase):
    """The flows people do by hand on a running shop (issue 12), in Chromium;
    each test asserts what the tour left behind."""

    def test_tour_a_location_mapped_on_the_backend_form_publishes_its_stock(self):
        berlin = self.env["stock.warehouse"].create(
            {"name": "Berlin DC", "code": "BER"}
        )
        variant = self.sandbox.variant_by_sku("MUG-002")
        mug = self.products["MUG-002"]
        self.Binding._bind(
            self.backend,
            mug,
            variant["id"],
            external_ref="MUG-002",
            extra={"inventory_item_id": variant["inventoryItemId"]},
        )
        self.assertFalse(self.backend.shopify_location_ids)
        self.start_tour("/odoo", "retail_connect_shopify_map_location", login="admin")
        location = self.backend.shopify_location_ids
        self.assertEqual(len(location), 1)
        self.assertEqual(location.shopify_id, self.location["id"])
        self.assertEqual(location.warehouse_id, berlin)
        # the stock Shopify shows at that location is now Berlin's (the
        # company's main warehouse holds 50 mugs, Berlin the 7 received)
        self.env["stock.quant"]._update_available_quantity(mug, berlin.lot_stock_id, 7)
        run_jobs(self.env)
        item = variant["inventoryItemId"]
        self.assertEqual(self.sandbox.inventory(item, self.location["id"]), 7)

    def unknown_sku_exception(self):
        order = self.new_order(
            lines=[{"sku": "TEST-404", "quantity": 1, "price": "9.00", "title": "Cap"}]
        )
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        exception = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id), ("state", "=", "new")]
        )
        self.assertEqual(len(exception), 1)
        return exception

    def test_tour_an_exception_ignored_with_its_reason(self):
        exception = self.unknown_sku_exception()
        self.start_tour(
            "/odoo", "retail_connect_shopify_ignore_exception", login="admin"
        )
        reason = "Test order placed by the shop owner, cancelled on Shopify"
        self.assertEqual(exception.state, "ignored")
        self.assertEqual(exception.resolution_note, reason)
        admin = self.env.ref("base.user_admin")
        self.assertEqual(exception.resolved_by_id, admin)
        # the audit: who changed the state, to what, and why
        tracked = exception.message_ids.filtered(
            lambda m: m.author_id == admin.partner_id
        )
        values = tracked.tracking_value_ids
        state = values.filtered(lambda v: v.field_id.name == "state")
        self.assertEqual(
            (state.old_value_char, state.new_value_char), ("New", "Ignored")
        )
        note = values.filtered(lambda v: v.field_id.name == "resolution_note")
        self.assertEqual(note.new_value_text, reason)
        # ignored, not fixed: the order is still not imported, its event kept
        self.assertFalse(self.sale_orders())
        self.assertEqual(exception.event_ids.state, "failed")

    def test_tour_an_event_replayed_after_its_policy_is_fixed_imports_once(self):
        policy = self.backend._policy("order")
        direction = policy.direction
        policy.direction = "off"
        order = self.new_order()
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        original = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(original.mapped("state"), ["skipped_policy"])
        self.assertFalse(self.sale_orders())
        policy.direction = direction  # the owner turns order import back on
        self.start_tour("/odoo", "retail_connect_shopify_replay_event", login="admin")
        replay = self.Event.search([("replay_of_id", "=", original.id)])
        self.assertEqual(len(replay), 1, "one click, one replay")
        self.assertEqual(replay.state, "queued")
        run_jobs(self.env)
        self.assertEqual(replay.state, "done", replay.error)
        self.assertEqual(original.state, "skipped_policy")  # kept as history
        sale = self.sale_orders()
        self.assertEqual(len(sale), 1)
        self.assertEqual(sale.client_order_ref, order["name"])
        self.assertEqual((replay.res_model, replay.res_id), ("sale.order", sale.id))
        self.assertEqual(
            self.Event.search_count([("backend_id", "=", self.backend.id)]), 2
        )
