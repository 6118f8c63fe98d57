"""Setting a shop up is a checklist on its backend (issue 15)."""

from unittest.mock import patch

from odoo.tests import Form, tagged

from .common import SECRET, SHOP, TOKEN, ShopifyCase, run_jobs

STEPS = [
    "credentials",
    "connection",
    "activation",
    "webhooks",
    "locations",
    "policies",
    "backfill",
]


@tagged("post_install", "-at_install")
class TestSetupChecklist(ShopifyCase):
    def states(self, backend):
        backend.invalidate_recordset()
        return {step["key"]: step["state"] for step in backend.setup_steps}

    def results(self, backend):
        return {step["key"]: step["result"] for step in backend.setup_steps}

    def test_a_new_backend_shows_every_step_to_do(self):
        form = Form(self.env["retail.backend"])
        form.name = "New shop"
        form.platform = "shopify"
        form.shopify_shop_domain = "new-shop.myshopify.com"
        backend = form.save()
        steps = backend.setup_steps
        self.assertEqual([step["key"] for step in steps], STEPS)
        self.assertFalse([s for s in steps if s["state"] == "done"], steps)
        self.assertFalse(backend.setup_done)
        # each step says what is missing, and the ones that call Shopify wait
        # for the activation
        results = self.results(backend)
        self.assertIn("Access token", results["credentials"])
        self.assertIn("Webhook secret", results["credentials"])
        self.assertEqual(results["connection"], "Never tested")
        self.assertEqual(self.states(backend)["webhooks"], "blocked")
        buttons = {step["key"]: step["button"] for step in steps}
        self.assertEqual(buttons["connection"], "action_test_connection")
        self.assertEqual(buttons["webhooks"], "action_shopify_register_webhooks")
        self.assertEqual(buttons["backfill"], "action_shopify_backfill")

    def test_the_steps_turn_done_as_the_shop_is_set_up(self):
        self.backend.action_pause()  # the shop is connected once
        backend = self.env["retail.backend"].create(
            {
                "name": "Acme, set up again",
                "platform": "shopify",
                "base_url": self.server.url,
                "shopify_shop_domain": SHOP,
            }
        )
        backend.access_token = TOKEN
        backend.webhook_secret = SECRET
        self.assertEqual(self.states(backend)["credentials"], "done")

        answer = backend.action_test_connection()
        self.assertEqual(answer["params"]["type"], "success")
        # the form reloads its record after the notification: the last check
        # and the checklist show the result without reloading the page
        self.assertEqual(
            answer["params"]["next"]["type"], "ir.actions.act_window_close"
        )
        self.assertEqual(self.states(backend)["connection"], "done")
        self.assertIn("Passed on", self.results(backend)["connection"])

        backend.action_activate()
        self.assertEqual(self.states(backend)["activation"], "done")
        self.assertEqual(self.states(backend)["webhooks"], "todo")

        backend.action_shopify_register_webhooks()
        self.assertEqual(self.states(backend)["webhooks"], "done")

        backend.action_shopify_fetch_locations()
        self.assertEqual(self.states(backend)["locations"], "todo")
        self.assertIn("none mapped", self.results(backend)["locations"])
        backend.shopify_location_ids.warehouse_id = self.warehouse
        self.assertEqual(self.states(backend)["locations"], "done")

        backend.action_setup_policies_reviewed()
        self.assertEqual(self.states(backend)["policies"], "done")
        self.assertIn(self.env.user.name, self.results(backend)["policies"])

        self.new_order()
        backend.action_shopify_backfill()
        run_jobs(self.env, channel="root.retail_connect.bulk")
        self.assertEqual(self.states(backend)["backfill"], "running")
        self.sandbox.finish_bulk()
        run_jobs(self.env, channel="root.retail_connect.bulk")  # variants
        run_jobs(self.env, channel="root.retail_connect.bulk")  # starts orders
        self.sandbox.finish_bulk()
        Users = type(self.env["res.users"])
        with patch.object(Users, "_bus_send", autospec=True) as sent:
            run_jobs(self.env, channel="root.retail_connect.bulk")  # orders read
        self.assertEqual(self.states(backend)["backfill"], "done")
        self.assertIn("1 orders read", self.results(backend)["backfill"])
        self.assertTrue(backend.setup_done)
        # the result of the long action stays until read
        (_user, kind, payload), _kw = sent.call_args
        self.assertEqual(kind, "simple_notification")
        self.assertTrue(payload["sticky"])
        self.assertIn("Backfill finished", payload["message"])

    def test_a_failed_connection_test_says_so_and_stays_on_screen(self):
        self.backend.access_token = "shpat_wrong"
        self.backend.shopify_token_expires_at = False
        answer = self.backend.action_test_connection()
        self.assertEqual(answer["params"]["type"], "danger")
        self.assertTrue(answer["params"]["sticky"])
        self.assertEqual(self.states(self.backend)["connection"], "failed")
        self.assertIn("Failed on", self.results(self.backend)["connection"])

    def test_fields_the_platform_does_not_use_are_hidden(self):
        self.assertIn("api_key", self.backend.unused_fields.split())
        self.assertNotIn("access_token", self.backend.unused_fields.split())
        view = self.env["retail.backend"].get_views([(False, "form")])["views"]
        arch = view["form"]["arch"]
        self.assertIn("'api_key' in unused_fields", arch)

    def test_the_platform_defaults_to_the_only_installed_one(self):
        field = self.env["retail.backend"]._fields["platform"]
        with patch.object(field, "selection", [("shopify", "Shopify")]):
            self.assertEqual(
                self.env["retail.backend"].default_get(["platform"])["platform"],
                "shopify",
            )
        with patch.object(
            field, "selection", [("shopify", "Shopify"), ("stripe", "Stripe")]
        ):
            self.assertFalse(
                self.env["retail.backend"].default_get(["platform"]).get("platform")
            )
