"""Events and exceptions speak the retailer's language (issue 15)."""

import json

from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from .common import ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestChannelOnOrderEvents(ShopifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = new_test_user(
            cls.env,
            login="rc_clerk",
            groups="base.group_user,retail_connect_base.group_user,"
            "sales_team.group_sale_salesman_all_leads,stock.group_stock_user",
        )

    def test_unknown_sku_from_wizard_to_the_order_it_created(self):
        order = self.new_order(
            lines=[
                {"sku": "NEW-SKU-9", "quantity": 1, "price": "5.00", "title": "Tote"}
            ]
        )
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        exception = event.exception_id.with_user(self.clerk)
        self.assertEqual(exception.state, "new")
        # the subject is the order's number on the channel, not "order:123"
        self.assertEqual(exception.subject_label, order["name"])
        self.assertEqual(event.with_user(self.clerk).subject_label, order["name"])

        # the wizard comes prefilled from the order line
        wizard_model = (
            self.env["shopify.map.sku"]
            .with_user(self.clerk)
            .with_context(default_exception_id=exception.id)
        )
        with Form(wizard_model) as form:
            self.assertEqual(form.sku, "NEW-SKU-9")
            self.assertEqual(form.title, "Tote")
            self.assertEqual(form.price, 5.0)
            # a product created from the wizard starts from the line
            arch = wizard_model.get_views([(False, "form")])["views"]["form"]["arch"]
            self.assertIn("'default_default_code': sku", arch)
            self.assertIn("'default_list_price': price", arch)
            product = self.env["product.product"].create(
                {"name": "Tote", "type": "consu", "taxes_id": [(6, 0, self.tax.ids)]}
            )
            form.product_id = product
        # (mapping writes the SKU on the product: as the admin here)
        self.env["shopify.map.sku"].browse(form.record.id).action_map_and_retry()
        run_jobs(self.env)
        sale = self.sale_orders()
        self.assertEqual(exception.state, "resolved")
        # the resolved exception links to what it created
        self.assertEqual(
            (exception.res_model, exception.res_id), ("sale.order", sale.id)
        )
        self.assertEqual(exception.record_name, sale.display_name)
        action = exception.action_open_record()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("sale.order", sale.id)
        )
        self.assertEqual(event.with_user(self.clerk).subject_label, order["name"])

    def test_payload_pretty_for_managers_and_replay_opens_the_new_event(self):
        order = self.new_order()
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(event.state, "done")
        pretty = event.payload_pretty
        self.assertIn('\n  "', pretty, "indented")
        self.assertEqual(json.loads(pretty), json.loads(event.payload))
        # a Retail user without payload rights sees nothing of it
        with self.assertRaises(AccessError):
            event.with_user(self.clerk).read(["payload_pretty"])
        views = self.Event.with_user(self.clerk).get_views([(False, "form")])
        self.assertNotIn("payload_pretty", views["views"]["form"]["arch"])
        manager_views = self.Event.get_views([(False, "form"), (False, "list")])
        self.assertIn("payload_pretty", manager_views["views"]["form"]["arch"])
        self.assertIn("subject_label", manager_views["views"]["list"]["arch"])

        action = event.action_replay()
        replay = self.Event.search([("replay_of_id", "=", event.id)])
        self.assertEqual(len(replay), 1)
        self.assertEqual(action["res_model"], "retail.event")
        self.assertEqual(action["res_id"], replay.id)
        self.assertEqual(action["view_mode"], "form")
