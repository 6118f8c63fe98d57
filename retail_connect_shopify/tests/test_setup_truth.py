"""A shop set up from the form: platform defaults, limiter, one shop once."""

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from ..models.retail_backend import API_VERSION
from .common import SHOP, ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestSetup(ShopifyCase):
    def _exceptions(self):
        return self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id)]
        )

    # ------------------------------------------------------ platform defaults
    def test_a_backend_created_in_the_form_gets_the_platform_defaults(self):
        form = Form(self.env["retail.backend"])
        form.name = "Second shop"
        form.platform = "shopify"
        # shown as soon as the platform is picked, before saving
        self.assertEqual(form.api_version, API_VERSION)
        self.assertEqual(form.rate_limit_capacity, 2000)
        form.shopify_shop_domain = "second-shop.myshopify.com"
        backend = form.save()
        self.assertEqual(backend.api_version, API_VERSION)
        self.assertEqual(backend.rate_limit_capacity, 2000)
        self.assertEqual(backend.rate_limit_per_second, 100)
        self.assertEqual(backend.webhook_replay_window, 48 * 3600)

    def test_an_explicit_value_wins_over_the_platform_default(self):
        backend = self.env["retail.backend"].create(
            {
                "name": "Plus shop",
                "platform": "shopify",
                "shopify_shop_domain": "plus-shop.myshopify.com",
                "rate_limit_per_second": 1000,
            }
        )
        self.assertEqual(backend.rate_limit_per_second, 1000)
        self.assertEqual(backend.rate_limit_capacity, 2000)
        self.assertEqual(backend.api_version, API_VERSION)

    def test_a_limiter_that_can_never_grant_a_call_is_a_configuration_error(self):
        with self.assertRaises(ValidationError) as refused:
            self.backend.rate_limit_per_second = 0
        self.assertIn("Rate limit (calls/s)", str(refused.exception))
        self.backend.invalidate_recordset()
        with self.assertRaises(ValidationError) as refused:
            self.backend.rate_limit_capacity = 40
        # Shopify's largest query may cost 1,000 points
        self.assertIn("at least 1000", str(refused.exception))
        # a backend saved with the generic values before these checks existed
        self.env.cr.execute(
            "UPDATE retail_backend SET rate_limit_capacity = 40, "
            "rate_limit_per_second = 2 WHERE id = %s",
            [self.backend.id],
        )
        self.backend.invalidate_recordset()
        self.new_order()
        policy = self.backend._policy("order")
        policy._cron_poll()
        run_jobs(self.env, channel="root.retail_connect.bulk")
        pending = self.env["queue.job"].search(
            [("method_name", "=", "_job_poll"), ("state", "=", "pending")]
        )
        self.assertFalse(pending, "no silent retry loop")
        exception = self._exceptions()
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "throttle")
        self.assertIn("Rate limit burst", exception.message)
        self.assertIn("cost of a call (50)", exception.message)
        self.assertIn("at least 1000", exception.message)

    # --------------------------------------------------------- one shop, once
    def test_the_same_shop_connected_twice_is_refused(self):
        twin = self.env["retail.backend"].create(
            {
                "name": "Acme again",
                "platform": "shopify",
                "base_url": self.server.url,
                "shopify_shop_domain": SHOP.upper(),
            }
        )
        with self.assertRaises(ValidationError) as refused:
            twin.action_activate()
        self.assertIn("Acme Shopify", str(refused.exception))
        twin.invalidate_recordset()
        self.assertEqual(twin.state, "draft")
        # the first one paused, the second may take over; not both
        self.backend.action_pause()
        twin.action_activate()
        self.assertEqual(twin.state, "active")
        with self.assertRaises(ValidationError) as refused:
            self.backend.action_activate()
        self.assertIn("Acme again", str(refused.exception))
        # nor by changing the shop of an active backend to one already connected
        other = self.env["retail.backend"].create(
            {
                "name": "Other shop",
                "platform": "shopify",
                "base_url": self.server.url,
                "shopify_shop_domain": "other-shop.myshopify.com",
            }
        )
        other.action_activate()
        with self.assertRaises(ValidationError) as refused:
            other.shopify_shop_domain = SHOP
        self.assertIn("Acme again", str(refused.exception))
