from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import DE, REFRESH, UK, AmazonCase


@tagged("post_install", "-at_install")
class TestBackend(AmazonCase):
    def test_platform_defaults_and_policies(self):
        backend = self.env["retail.backend"].create(
            {"name": "Amazon NA", "platform": "amazon", "amazon_region": "na"}
        )
        self.assertEqual(backend.api_version, "2026-01-01")
        self.assertEqual(backend._api_url(), "https://sellingpartnerapi-na.amazon.com")
        order = backend._policy("order")
        self.assertEqual((order.direction, order.timing), ("in", "batch"))
        self.assertEqual(backend._policy("shipment").direction, "out")
        # a sandbox backend refuses the production SP-API host
        with self.assertRaises(ValidationError):
            backend.base_url = "https://sellingpartnerapi-eu.amazon.com"

    def test_refresh_token_is_write_only(self):
        self.assertEqual(self.backend.amazon_refresh_token, "••••••••")
        stored = (
            self.env["retail.secret"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.backend.id),
                    ("name", "=", "amazon_refresh_token"),
                ]
            )
        )
        self.assertTrue(stored)
        self.assertNotIn(REFRESH, stored.ciphertext)
        user = new_test_user(
            self.env,
            login="amz_plain_user",
            groups="base.group_user,retail_connect_base.group_user",
        )
        with self.assertRaises(AccessError):
            self.backend.with_user(user).read(["amazon_refresh_token"])

    def test_test_connection_gets_a_token_and_calls_orders(self):
        result = self.backend.action_test_connection()
        self.assertEqual(result["params"]["type"], "success", result)
        self.assertIn("Connected to Amazon", result["params"]["message"])
        self.assertTrue(self.backend.last_check_ok)
        lwa = self.exchanges("lwa.token")
        self.assertEqual(len(lwa), 1)
        self.assertNotIn(REFRESH, lwa.request_body or "")
        search = self.exchanges("searchOrders")
        self.assertEqual(search.status, 200)
        self.assertTrue(search.request_id, "x-amzn-RequestId is logged")

    def test_test_connection_says_what_to_do_with_a_bad_refresh_token(self):
        self.backend.amazon_refresh_token = "Atzr|not-a-grant"
        result = self.backend.action_test_connection()
        self.assertEqual(result["params"]["type"], "danger")
        self.assertIn("invalid_grant", result["params"]["message"])
        self.assertIn("authorize the app again", result["params"]["message"])
        self.assertFalse(self.backend.last_check_ok)

    def test_setup_checklist(self):
        steps = {step["key"]: step for step in self.backend.setup_steps}
        self.assertEqual(steps["credentials"]["state"], "done")
        self.assertEqual(steps["marketplaces"]["state"], "done")
        self.assertIn("Amazon.de (EUR)", steps["marketplaces"]["result"])
        self.de.active = False
        self.backend.invalidate_recordset(["setup_steps"])
        steps = {step["key"]: step for step in self.backend.setup_steps}
        self.assertEqual(steps["marketplaces"]["state"], "todo")
        backend = self.env["retail.backend"].create(
            {"name": "Amazon new", "platform": "amazon"}
        )
        steps = {step["key"]: step for step in backend.setup_steps}
        self.assertIn("LWA refresh token", steps["credentials"]["result"])
        self.assertIn("Seller ID", steps["credentials"]["result"])

    def test_marketplace_pricelist_currency_and_region(self):
        gbp = self.env.ref("base.GBP")
        gbp.active = True
        with self.assertRaises(ValidationError):
            self.env["amazon.marketplace"].create(
                {
                    "backend_id": self.backend.id,
                    "code": UK,
                    "name": "Amazon.co.uk",
                    "currency_id": gbp.id,
                    "pricelist_id": self.pricelist.id,  # in EUR
                }
            )
        with self.assertRaises(ValidationError):
            self.env["amazon.marketplace"].create(
                {
                    "backend_id": self.backend.id,
                    "code": "ATVPDKIKX0DER",  # Amazon.com: North America
                    "name": "Amazon.com",
                    "currency_id": self.env.ref("base.USD").id,
                }
            )
        self.assertEqual(self.de.code, DE)
