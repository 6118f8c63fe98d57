import requests

from odoo.tests import tagged

from odoo.addons.retail_connect_base.lib.errors import ThrottledError

from .common import DE, AmazonCase


@tagged("post_install", "-at_install")
class TestClient(AmazonCase):
    def search(self):
        client = self.backend._amazon_client()
        return client.call(
            "GET",
            "/orders/2026-01-01/orders",
            operation="searchOrders",
            params={"lastUpdatedAfter": "2026-01-01T00:00:00Z", "marketplaceIds": DE},
        )

    def test_access_token_is_kept_until_it_expires(self):
        self.search()
        self.search()
        self.assertEqual(len(self.exchanges("lwa.token")), 1)
        calls = self.exchanges("searchOrders")
        self.assertEqual(calls.mapped("status"), [200, 200])
        self.assertTrue(all(calls.mapped("request_id")))

    def test_an_expired_token_is_renewed_once_and_the_call_repeated(self):
        self.search()
        requests.post(f"{self.server.url}/__sandbox__/lwa/expire", timeout=10)
        self.search()
        self.assertEqual(
            self.exchanges("searchOrders").mapped("status"), [200, 403, 200]
        )
        self.assertEqual(len(self.exchanges("lwa.token")), 2)

    def test_a_token_past_its_time_is_renewed_before_the_call(self):
        self.search()
        self.advance(3600)  # Amazon's tokens last an hour
        self.backend.sudo().amazon_token_expires_at = "2000-01-01 00:00:00"
        self.search()
        self.assertEqual(self.exchanges("searchOrders").mapped("status"), [200, 200])
        self.assertEqual(len(self.exchanges("lwa.token")), 2)

    def throttled(self):
        """The ThrottledError of a search (outside assertRaises, whose
        savepoint would roll the exchange log back)."""
        try:
            self.search()
        except ThrottledError as err:
            return err
        self.fail("the search was not throttled")

    def test_quota_exceeded_waits_one_token_at_the_operation_rate(self):
        self.search()  # Amazon's bucket of the seller exists
        requests.post(
            f"{self.server.url}/__sandbox__/throttle/drain",
            json={"operation": "searchOrders"},
            timeout=10,
        )
        err = self.throttled()
        # 0.0056 calls/s: one token back in about 178 s
        self.assertAlmostEqual(err.seconds, 178.6, delta=1)
        calls = self.exchanges("searchOrders")
        self.assertEqual(calls.mapped("status"), [200, 429])
        # the local bucket learned it is empty: no call until a token is back
        err = self.throttled()
        self.assertGreater(err.seconds, 100)
        calls = self.exchanges("searchOrders")
        self.assertEqual(calls.mapped("status"), [200, 429, 0])
        self.assertEqual(calls[-1].throttle_state, "local-limit")

    def test_local_buckets_follow_each_operations_usage_plan(self):
        for _ in range(20):  # searchOrders: burst 20
            self.backend._amazon_take_token("searchOrders")
        with self.assertRaises(ThrottledError) as caught:
            self.backend._amazon_take_token("searchOrders")
        self.assertGreater(caught.exception.seconds, 100)
        # another operation has its own bucket
        self.backend._amazon_take_token("confirmShipment")

    def test_a_poll_refused_by_quota_is_rescheduled_not_failed(self):
        self.place()
        self.search()  # the sandbox bucket exists
        requests.post(
            f"{self.server.url}/__sandbox__/throttle/drain",
            json={"operation": "searchOrders"},
            timeout=10,
        )
        jobs = self.poll(rounds=1)
        self.assertEqual([job.state for job in jobs], ["pending"])
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id)]
            )
        )
        self.assertFalse(self.sale_orders())
