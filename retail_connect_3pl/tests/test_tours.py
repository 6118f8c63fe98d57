"""A 3PL warehouse in the UI, in Chromium (issue 12): Odoo tours on the live
3PL sandbox, whose address and token reach them through system parameters.
Without Chromium, Odoo skips these tests."""

from odoo.tests import tagged

from .common import DEFAULT_CHANNEL, ThreeplCase, floor, run_jobs


@tagged("post_install", "-at_install")
class TestThreeplTours(ThreeplCase):
    def setUp(self):
        super().setUp()
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("retail_connect_3pl.tour_base_url", self.server.url)
        params.set_param("retail_connect_3pl.tour_token", self.sandbox.token)
        params.set_param("retail_connect_3pl.tour_channel", str(DEFAULT_CHANNEL["id"]))

    def test_tour_a_3pl_set_up_from_an_empty_form_ships_its_first_delivery(self):
        # the warehouse is the tour's to hand to a new 3PL backend
        self.backend.threepl_warehouse_ids = False
        self.backend.action_pause()
        self.start_tour("/odoo", "retail_connect_3pl_setup", login="admin")
        backend = self.env["retail.backend"].search([("name", "=", "Chicago 3PL")])
        self.assertEqual(len(backend), 1)
        self.assertEqual(backend.platform, "threepl")
        self.assertEqual(backend.state, "active")
        self.assertEqual(backend.threepl_warehouse_ids, self.warehouse)
        self.assertTrue(backend.last_check_ok)
        subscription = self.sandbox.hub.subscriptions[
            int(backend.threepl_webhook_subscription)
        ]
        self.assertEqual(subscription["url"], backend.webhook_url)
        # its first delivery goes to the 3PL, once, and the 3PL's shipment
        # (signed with the secret the subscription gave) validates it
        picking = self.sell((self.mug, 2))
        run_jobs(self.env)
        message = self.Message.search([("picking_id", "=", picking.id)])
        self.assertEqual(message.backend_id, backend)
        self.assertEqual(message.state, "acknowledged")
        self.assertEqual(len(self.remote_orders(picking.name)), 1)
        floor.ship(self.sandbox, picking.name, carrier="USPS")
        # the 3PL is no browser: Odoo's test harness, strict about the test
        # cookie after a tour, must let its cookieless webhook through as in
        # production (Odoo's own runner enforces it; the Shopify tour does so)
        self.http_request_strict_check = False
        self.deliver_webhooks()
        run_jobs(self.env)
        self.assertEqual(picking.state, "done")
        self.assertTrue(picking.carrier_tracking_ref)
