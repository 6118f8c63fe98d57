"""Listing quantities under a burst: one JSON_LISTINGS_FEED per marketplace,
through the sandbox's Feeds API (document on the storage host, processing on
the sandbox clock, processing report)."""

import requests

from odoo.tests import tagged

from .common import CLIENT_ID, DE, SELLER, UK, AmazonCase, run_jobs

PUSH = "_job_amazon_push_stock"
STEP = "_job_amazon_feed_step"
# the sandbox queues a feed 30 s and processes it 60 s
PROCESSED_AFTER = 91


@tagged("post_install", "-at_install")
class TestListingsFeed(AmazonCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gbp = cls.env.ref("base.GBP")
        cls.gbp.active = True
        cls.uk = cls.env["amazon.marketplace"].create(
            {
                "backend_id": cls.backend.id,
                "code": UK,
                "name": "Amazon.co.uk",
                "currency_id": cls.gbp.id,
                "warehouse_id": cls.warehouse.id,
                "safety_stock": 5,
            }
        )
        cls.skus = [f"FEED-{n}" for n in range(1, 6)]
        for sku in cls.skus:
            cls.products[sku] = cls.env["product.product"].create(
                {"name": sku, "default_code": sku, "is_storable": True}
            )
        cls.backend.amazon_feed_threshold = 3

    def setUp(self):
        super().setUp()
        self.Listing = self.env["amazon.listing"]
        self.listings = self.Listing
        for sku in self.skus:
            for marketplace in (self.de, self.uk):
                self.listings |= self.Listing.create(
                    {
                        "marketplace_id": marketplace.id,
                        "product_id": self.products[sku].id,
                    }
                )
            requests.post(
                f"{self.server.url}/__sandbox__/listings",
                json={
                    "seller_id": SELLER,
                    "sku": sku,
                    "product_type": "PRODUCT",
                    "quantity": {DE: 0, UK: 0},
                },
                timeout=10,
            )
        # in sync with Amazon: nothing on hand, 0 offered
        self.listings.write(
            {"dirty": False, "sent_qty": 0, "sent_at": "2026-01-01 00:00:00"}
        )
        self.env["queue.job"].search([("method_name", "in", (PUSH, STEP))]).unlink()

    def remote(self, sku):
        answer = requests.get(
            f"{self.server.url}/__sandbox__/listings/{SELLER}/{sku}", timeout=10
        )
        return answer.json()["quantity"]

    def receive(self, sku, quantity):
        self.env["stock.quant"]._update_available_quantity(
            self.products[sku], self.warehouse.lot_stock_id, quantity
        )

    def feeds(self):
        return self.env["amazon.feed"].search([("backend_id", "=", self.backend.id)])

    def calls(self, operation):
        return self.exchanges(operation).filtered(lambda e: e.status and e.status < 300)

    def run_until_processed(self):
        # the push, each feed's submission, its first check (queued)
        run_jobs(self.env, rounds=3)
        self.advance(PROCESSED_AFTER)
        return run_jobs(self.env, rounds=3)  # processed: report read

    def test_a_burst_goes_in_one_feed_per_marketplace_with_its_safety_stock(self):
        for n, sku in enumerate(self.skus, 1):
            self.receive(sku, 10 * n)
        self.assertEqual(
            self.env["queue.job"].search_count([("method_name", "=", PUSH)]), 1
        )
        jobs = self.run_until_processed()
        self.assertTrue(all(job.state == "done" for job in jobs), jobs)
        feeds = self.feeds()
        self.assertEqual(len(feeds), 2, "one feed per marketplace")
        self.assertEqual(
            set(feeds.mapped("state")),
            {"done"},
            [(j.method_name, j.result) for j in self.env["queue.job"].search([])],
        )
        self.assertEqual(feeds.mapped("accepted_count"), [5, 5])
        for n, sku in enumerate(self.skus, 1):
            # free stock minus each marketplace's safety stock (DE 2, UK 5)
            self.assertEqual(self.remote(sku), {DE: 10 * n - 2, UK: 10 * n - 5})
        # a few calls instead of ten Listings Items calls
        self.assertFalse(
            self.sandbox.requests("/listings/2021-08-01/items/", method="PATCH")
        )
        self.assertEqual(len(self.calls("createFeedDocument")), 2)
        self.assertEqual(len(self.calls("createFeed")), 2)
        self.assertEqual(len(self.calls("getFeedDocument")), 2)
        self.assertEqual(set(self.listings.mapped("dirty")), {False})
        self.assertFalse(self.listings.filtered("feed_id"))
        self.assertIn('"messagesAccepted": 5', feeds[0].report)

    def test_refused_skus_of_the_report_become_exceptions_the_rest_is_applied(self):
        bad = self.listings.filtered(
            lambda listing: (
                listing.sku == "FEED-2" and listing.marketplace_id == self.de
            )
        )
        bad.product_type = "SHOES"  # not the listing's type on Amazon
        for sku in self.skus:
            self.receive(sku, 10)
        self.run_until_processed()
        de_feed = self.feeds().filtered(lambda f: f.marketplace_id == self.de)
        self.assertEqual((de_feed.accepted_count, de_feed.invalid_count), (4, 1))
        exceptions = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id), ("state", "=", "new")]
        )
        self.assertEqual(len(exceptions), 1, exceptions.mapped("message"))
        self.assertIn("FEED-2", exceptions.message)
        self.assertIn("8101", exceptions.message)
        self.assertEqual(exceptions.fix_data["sku"], "FEED-2")
        self.assertTrue(exceptions.sudo().retry_jobs)
        self.assertTrue(bad.issue)
        self.assertEqual(self.remote("FEED-2"), {DE: 0, UK: 5})
        self.assertEqual(self.remote("FEED-1"), {DE: 8, UK: 5})
        # corrected: pushed again (one listing: a Listings Items call)
        bad.product_type = "PRODUCT"
        run_jobs(self.env)
        self.assertEqual(self.remote("FEED-2"), {DE: 8, UK: 5})
        self.assertEqual(exceptions.state, "resolved")

    def test_a_move_while_the_feed_is_in_flight_is_pushed_after_its_report(self):
        for sku in self.skus:
            self.receive(sku, 10)
        run_jobs(self.env)  # the push: feeds made
        self.assertEqual(len(self.listings.filtered("feed_id")), 10)
        run_jobs(self.env)  # submitted
        self.receive("FEED-1", 1)
        # the push leaves the listings of a feed in flight alone
        run_jobs(self.env)
        self.assertFalse(
            self.sandbox.requests("/listings/2021-08-01/items/", method="PATCH")
        )
        self.advance(PROCESSED_AFTER)
        run_jobs(self.env, rounds=4)  # report read, then the move pushed
        self.assertEqual(self.remote("FEED-1"), {DE: 9, UK: 6})
        self.assertEqual(self.remote("FEED-3"), {DE: 8, UK: 5})
        self.assertEqual(
            len(self.sandbox.requests("/listings/2021-08-01/items/", method="PATCH")),
            2,
        )

    def test_a_few_changes_still_go_as_listings_items_calls(self):
        self.receive("FEED-1", 10)
        run_jobs(self.env)
        self.assertFalse(self.feeds())
        self.assertEqual(self.remote("FEED-1"), {DE: 8, UK: 5})

    def test_throttled_feed_calls_postpone_the_job_and_none_fails(self):
        for sku in self.skus:
            self.receive(sku, 10)
        run_jobs(self.env)  # feeds made
        # Amazon's createFeed bucket of the seller is empty (0.0083/s)
        self.sandbox.buckets.bucket("createFeed", SELLER, CLIENT_ID).drain()
        jobs = run_jobs(self.env)
        steps = [job for job in jobs if job.method_name == STEP]
        self.assertEqual(len(steps), 2)
        self.assertEqual({job.state for job in steps}, {"pending"}, "postponed")
        self.assertEqual(set(self.feeds().mapped("state")), {"draft"})
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id)]
            )
        )
        # two minutes later, on both sides: the feeds go through
        self.advance(300)
        self.env["retail.throttle.bucket"].search(
            [("backend_id", "=", self.backend.id), ("bucket", "=", "sp-api:createFeed")]
        ).write({"tokens": 15})
        run_jobs(self.env)
        self.assertEqual(set(self.feeds().mapped("state")), {"submitted"})
        run_jobs(self.env)
        self.advance(PROCESSED_AFTER)
        jobs = run_jobs(self.env, rounds=3)
        self.assertFalse([job for job in jobs if job.state == "failed"])
        self.assertEqual(set(self.feeds().mapped("state")), {"done"})
        self.assertEqual(self.remote("FEED-5"), {DE: 8, UK: 5})
