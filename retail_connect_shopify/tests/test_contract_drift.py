"""Contract drift (issue 13): Shopify webhook bodies checked against the
shipped contract of the pinned version (contracts/2026-10/), and the pinned
version's end of support announced 90 days ahead."""

from datetime import date

from odoo.tests import tagged

from .common import ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestContractDrift(ShopifyCase):
    def drifts(self):
        return self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id), ("category", "=", "drift")]
        )

    def deliver(self, mutate, n=1, topic="orders/create"):
        """``n`` orders/create webhooks whose body ``mutate`` changed."""
        for _i in range(n):
            order = self.new_order()
            body = self.sandbox.payload(topic, order["id"])
            mutate(body)
            self.sandbox.emit(topic, payload=body)
        run_jobs(self.env)

    def test_a_renamed_field_opens_one_exception_for_many_payloads(self):
        self.backend.contract_sample_rate = 100

        def rename(body):
            body["order_name"] = body.pop("name")

        self.deliver(rename, n=4)
        # the orders themselves are imported: they are read through GraphQL
        self.assertEqual(len(self.sale_orders()), 4)
        found = self.drifts()
        self.assertEqual(
            sorted(found.mapped("subject_key")),
            [
                "drift:shopify:2026-10:order:name",
                "drift:shopify:2026-10:order:order_name",
            ],
        )
        self.assertEqual(found.mapped("count"), [4, 4])
        missing = found.filtered(lambda e: e.subject_key.endswith(":name"))
        self.assertEqual(missing.severity, "high")
        self.assertIn("name is missing", missing.message)
        self.assertIn("tools/contract_schemas.py", missing.message)
        self.assertEqual(missing.fix_data["kind"], "missing")

    def test_a_changed_type_opens_an_exception_naming_the_field(self):
        self.backend.contract_sample_rate = 100

        def retype(body):
            body["id"] = str(body["id"])
            for line in body["line_items"]:
                line["quantity"] = str(line["quantity"])

        self.deliver(retype, n=2)
        found = self.drifts()
        self.assertEqual(
            found.mapped("subject_key"), ["drift:shopify:2026-10:order:id"]
        )
        self.assertEqual(found.count, 2)
        self.assertIn("integer", found.message)
        self.assertEqual(found.fix_data["found"], "string")

    def test_a_conforming_payload_opens_nothing(self):
        self.backend.contract_sample_rate = 100
        self.deliver(lambda body: None, n=2)
        self.assertEqual(len(self.sale_orders()), 2)
        self.assertFalse(self.drifts())

    def test_the_sample_rate_is_respected_and_failures_always_checked(self):
        def rename(body):
            body["order_name"] = body.pop("name")

        self.backend.contract_sample_rate = 0
        self.deliver(rename, n=3)
        self.assertEqual(len(self.sale_orders()), 3)
        self.assertFalse(self.drifts(), "0 %: a payload processed well is not checked")

        self.backend.contract_sample_rate = 50
        self.deliver(rename, n=20)
        counts = self.drifts().mapped("count")
        self.assertEqual(len(counts), 2)
        self.assertEqual(counts[0], counts[1])
        self.assertTrue(2 <= counts[0] <= 18, f"about half of 20 checked: {counts}")

        # a failed event is always checked, whatever the rate
        self.backend.contract_sample_rate = 0
        self.drifts().unlink()

        def break_(body):
            body.pop("admin_graphql_api_id")
            body["order_id"] = body.pop("id")

        self.deliver(break_)
        event = self.Event.search(
            [("backend_id", "=", self.backend.id)], order="id desc", limit=1
        )
        self.assertEqual(event.state, "failed")
        self.assertIn(
            "drift:shopify:2026-10:order:id", self.drifts().mapped("subject_key")
        )


@tagged("post_install", "-at_install")
class TestApiVersionSupport(ShopifyCase):
    def test_a_version_served_other_than_the_pinned_one_opens_one_exception(self):
        Exception_ = self.env["retail.sync.exception"]
        mine = [("backend_id", "=", self.backend.id), ("category", "=", "drift")]
        client = self.backend._shopify_client()
        client.graphql("query Shop { shop { id } }", operation="Shop", cost=1)
        self.assertFalse(Exception_.search(mine), "2026-10 is served as pinned")
        self.backend.api_version = "2024-01"  # unsupported: falls forward
        client = self.backend._shopify_client()
        for _call in range(2):
            client.graphql("query Shop { shop { id } }", operation="Shop", cost=1)
        found = Exception_.search(mine)
        self.assertEqual(
            found.mapped("subject_key"), ["drift:shopify:2024-01:api:version_served"]
        )
        self.assertIn("served API 2026-01", found.message)

    def test_the_backend_shows_its_version_and_end_of_support(self):
        self.assertEqual(self.backend.api_version, "2026-10")
        # "Each stable version is supported for a minimum of 12 months"
        self.assertEqual(self.backend.api_support_end, date(2027, 10, 1))

    def test_a_warning_90_days_before_the_end_with_what_to_change(self):
        Exception_ = self.env["retail.sync.exception"]
        mine = [("backend_id", "=", self.backend.id), ("category", "=", "drift")]
        self.backend._cron_api_support(today=date(2027, 6, 1))  # 122 days left
        self.assertFalse(Exception_.search(mine))
        self.backend._cron_api_support(today=date(2027, 7, 10))  # 83 days
        self.backend._cron_api_support(today=date(2027, 7, 11))
        found = Exception_.search(mine)
        self.assertEqual(len(found), 1)
        self.assertEqual(found.count, 2)
        self.assertEqual(found.subject_key, "drift:shopify:2026-10:api:support")
        self.assertIn("2027-10-01", found.message)
        self.assertIn("What to change", found.message)
        self.assertIn("release notes", found.message)

    def test_the_overview_warns_within_90_days(self):
        today = date.today()
        # the stable version released 11 months ago leaves support next month
        month = today.month + 1
        year = today.year - 1 + (month > 12)
        version = f"{year}-{(month - 1) % 12 + 1:02d}"
        self.backend.api_version = version
        self.assertLessEqual((self.backend.api_support_end - today).days, 31)
        self.backend.invalidate_recordset(["health", "health_message"])
        self.assertIn(self.backend.health, ("warning", "error"))
        self.assertIn(
            f"Shopify API {version} leaves support", self.backend.health_message
        )
        self.assertIn("What to change", self.backend.health_message)
