from odoo.tests import tagged

from odoo.addons.retail_connect_base.lib.errors import SyncError

from ..models.retail_backend import WEBHOOK_TOPICS
from .common import ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestResilience(ShopifyCase):
    def chaos_orders(self):
        """Twelve orders of the kinds a real shop sends (issue 7): plain,
        order-level and automatic discounts, custom lines, gift cards sold and
        used as payment, a tip, lines shipped from two locations."""
        store = self.sandbox.add_location("Store")["id"]
        for sku in ("TSHIRT-001", "MUG-002"):
            item = self.sandbox.variant_by_sku(sku)["inventoryItemId"]
            self.sandbox.set_inventory(item, self.location["id"], 40)
            self.sandbox.set_inventory(item, store, 40)
        shirt = {"sku": "TSHIRT-001", "quantity": 2}
        kinds = [
            {},
            {
                "lines": [shirt, {"sku": "MUG-002", "quantity": 3}],
                "discount_applications": [
                    {"type": "code", "code": "SAVE5", "amount": "5.00"},
                    {
                        "type": "automatic",
                        "title": "Mugs -10%",
                        "percentage": 10,
                        "target": {"skus": ["MUG-002"]},
                    },
                ],
            },
            {"lines": [shirt, {"title": "Engraving", "price": "7.35"}]},
            {
                "lines": [
                    shirt,
                    {"title": "Gift card", "price": "25.00", "gift_card": True},
                ],
                "discount_applications": [
                    {"type": "code", "code": "TENOFF", "percentage": 10}
                ],
                "gift_card_payment": "15.00",
            },
            {"tip": "2.50", "shipping": {"title": "DHL", "price": "4.90"}},
            {
                "lines": [
                    {"sku": "TSHIRT-001", "quantity": 1, "location": store},
                    {
                        "sku": "MUG-002",
                        "quantity": 2,
                        "location": self.location["id"],
                    },
                    {"title": "Gift wrap", "price": "1.99"},
                ],
                "discounts": "3.33",
            },
        ]
        return [self.new_order(**kinds[n % len(kinds)]) for n in range(12)]

    def test_chaos_imports_n_orders_as_exactly_n_sale_orders(self):
        """Duplicates, reorders, 5xx, a timeout and throttling, over orders
        with discounts, custom lines, gift cards, tips and several locations:
        N in, N exact sale orders out."""
        self.backend.job_max_retries = 20
        self.sandbox.webhook_mode = "queue"
        orders = self.chaos_orders()
        for order in orders:
            self.sandbox.emit("orders/create", order["id"], deliver=False)
        for order in orders[::2]:
            self.sandbox.update_order(order["id"], note="changed")
            self.sandbox.emit("orders/updated", order["id"], deliver=False)
        # order edits (issue 7, point 8): one more of the first line and a line
        # added, on two plain orders, then the balance paid (until then they
        # are partially paid: not confirmed); webhooks shuffled with the rest
        for order in (orders[0], orders[6]):
            first = order["lineItems"][0]
            self.sandbox.edit_order(
                order["id"],
                quantities={first["id"]: first["quantity"] + 1},
                add=[{"sku": "MUG-002", "quantity": 1, "price": "11.00"}],
                emit=True,
            )
            self.sandbox.update_order(order["id"], financial_status="PAID", emit=True)
        answers = self.sandbox.flush_webhooks(
            order="shuffle", duplicate_every=3, seed=7
        )
        self.assertEqual({status for status, _ in answers}, {200})
        self.sandbox.inject_fault("status", status=502, times=3)
        self.sandbox.inject_fault("throttle", times=3)
        self.sandbox.inject_fault("timeout", seconds=11, times=1)
        for _round in range(15):
            if not run_jobs(self.env):
                break
        sales = self.sale_orders()
        self.assertEqual(len(sales), 12)
        self.assertEqual(
            sorted(sales.mapped("client_order_ref")), sorted(o["name"] for o in orders)
        )
        self.assertEqual(set(sales.mapped("state")), {"sale"})
        for order in orders:
            sale = sales.filtered(lambda s, o=order: s.client_order_ref == o["name"])
            totals = self.sandbox.order(order["id"])["totals"]
            self.assertEqual(
                round(sale.amount_total, 2),
                float(totals["current_total"]),
                f"{order['name']}: Shopify's total to the cent",
            )
        events = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(
            len(events),
            24,
            "12 creations, 6 updates, 2 edits (edited, updated, paid), "
            "duplicates dropped",
        )
        self.assertFalse(events.filtered(lambda e: e.state in ("failed", "dead")))
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id)]
            )
        )

    def test_client_credentials_token_is_fetched_and_reused(self):
        backend = self.backend.copy({"name": "Dev Dashboard app"})
        backend.write({"client_id": "cid"})
        backend.client_secret = "csecret"
        self.backend.action_pause()  # one active backend per shop
        backend.action_activate()
        message = backend.action_test_connection()["params"]["message"]
        self.assertIn("Acme", message)
        self.assertTrue(backend.shopify_token_expires_at)
        token = backend._get_secret("access_token")
        self.assertTrue(token.startswith("shpat_"))
        backend.action_test_connection()
        grants = self.sandbox.requests("/admin/oauth/access_token")
        self.assertEqual(len(grants), 1, "the token is reused until it expires")

    def test_webhook_registration_is_repaired_not_duplicated(self):
        self.backend.action_shopify_register_webhooks()
        self.backend.action_shopify_register_webhooks()
        _status, body, _ = self.sandbox.graphql(
            "{ webhookSubscriptions(first: 50) { nodes { id topic uri } } }"
        )
        nodes = body["data"]["webhookSubscriptions"]["nodes"]
        self.assertEqual(len(nodes), len(WEBHOOK_TOPICS))
        self.assertEqual({n["uri"] for n in nodes}, {self.backend.webhook_url})
        # one subscription disappears on Shopify: the health check repairs it
        self.sandbox.graphql(
            "mutation D($id: ID!) { webhookSubscriptionDelete(id: $id) "
            "{ deletedWebhookSubscriptionId userErrors { message } } }",
            {"id": nodes[0]["id"]},
        )
        created = self.backend._shopify_ensure_webhooks()
        self.assertEqual(created, [nodes[0]["topic"]])

    def test_the_bucket_learns_the_plan_limits_shopify_reports(self):
        """A Plus shop restores 1,000 points a second from a 20,000 bucket: the
        shared bucket keeps what Shopify reports, the configured defaults
        (2,000 / 100) never overwrite it (issue 7, point 14)."""
        self.sandbox.set_rate_limit(20000, 1000)
        self.addCleanup(self.sandbox.set_rate_limit, 2000, 100)
        domain = [("backend_id", "=", self.backend.id), ("bucket", "=", "api")]
        self.backend.action_shopify_fetch_locations()
        bucket = self.env["retail.throttle.bucket"].search(domain)
        self.assertEqual((bucket.capacity, bucket.rate), (20000, 1000))
        self.backend._take_token(10)  # the next call takes its tokens
        self.env.invalidate_all()
        self.assertEqual((bucket.capacity, bucket.rate), (20000, 1000))
        # Shopify says the bucket is empty: 500 points come back in half a
        # second at the Plus rate (5 s at the configured 100/s)
        self.backend._observe_budget(0)
        wait = self.env["retail.throttle.bucket"]._take(
            self.backend, "api", 500, 2000, 100
        )
        self.assertAlmostEqual(wait, 0.5, delta=0.05)
        # a later downgrade is learned too
        self.sandbox.set_rate_limit(2000, 100)
        self.backend.action_shopify_fetch_locations()
        self.env.invalidate_all()
        self.assertEqual((bucket.capacity, bucket.rate), (2000, 100))

    def test_the_cost_check_uses_the_capacity_shopify_reported(self):
        """A call costing more than the configured burst (2,000) but less than
        the 20,000 a Plus shop reports is granted; one costing more than a
        1,000-point bucket Shopify reports is refused at once with a clear
        reason, not retried forever waiting for tokens that never come."""
        self.sandbox.set_rate_limit(20000, 1000)
        self.addCleanup(self.sandbox.set_rate_limit, 2000, 100)
        self.backend.action_shopify_fetch_locations()  # learns 20,000 / 1,000
        self.assertEqual(self.backend.rate_limit_capacity, 2000)
        self.backend._take_token(2500)  # granted, no SyncError
        self.sandbox.set_rate_limit(1000, 50)
        self.backend.action_shopify_fetch_locations()  # learns 1,000 / 50
        with self.assertRaisesRegex(SyncError, "reports a rate limit of 1000"):
            self.backend._take_token(1200)


@tagged("post_install", "-at_install")
class TestApiDeprecations(ShopifyCase):
    """Issue 7, point 16: Shopify names the deprecated fields a call used
    (X-Shopify-API-Deprecated-Reason) and the version it served."""

    def _deprecations(self):
        return self.env["retail.sync.exception"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("category", "=", "drift"),
                ("subject_key", "like", "%:deprecated:%"),
            ]
        )

    def test_an_imported_order_uses_no_deprecated_field(self):
        order = self.new_order()
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        sale = self.sale_orders()
        self.assertEqual(len(sale), 1)
        self.assertEqual(sale.partner_id.email, "jane@example.com")
        self.assertTrue(sale.partner_id.phone)
        self.assertFalse(self._deprecations())
        self.assertEqual(self.backend.shopify_served_version, "2026-10")

    def test_one_exception_per_deprecated_field_with_its_support_end(self):
        self.backend.api_version = "2024-01"  # no longer supported: falls forward
        client = self.backend._shopify_client()
        query = "query Old { customers(first: 1) { nodes { id email phone } } }"
        for _call in range(2):
            client.graphql(query, operation="Old", cost=5)
        self.assertEqual(self.backend.shopify_served_version, "2026-01")
        found = self._deprecations()
        self.assertEqual(
            sorted(found.mapped("subject_key")),
            [
                "drift:shopify:2026-01:deprecated:Customer.email",
                "drift:shopify:2026-01:deprecated:Customer.phone",
            ],
        )
        for exception in found:
            self.assertIn("2026-01", exception.name + (exception.message or ""))
            self.assertIn("2027-01-01", exception.name + (exception.message or ""))
