from datetime import datetime, timedelta

from odoo.tests import tagged

from .common import ShopifyCase, dispatch, run_job, run_jobs


@tagged("post_install", "-at_install")
class TestOrders(ShopifyCase):
    def test_order_webhook_duplicate_and_reorder_give_one_correct_sale_order(self):
        order = self.new_order(shipping={"title": "DHL", "price": "4.90"})
        self.sandbox.webhooks.url = self.sandbox.webhook_url
        self.sandbox.emit("orders/create", order["id"], deliver=False)
        self.sandbox.clock.advance(5)
        self.sandbox.update_order(order["id"], note="gift wrap")
        self.sandbox.emit("orders/updated", order["id"], deliver=False)
        # the update arrives first, the creation twice and last
        answers = self.sandbox.flush_webhooks(order="reverse", duplicate_every=2)
        self.assertEqual({status for status, _body in answers}, {200})
        run_jobs(self.env)
        sales = self.sale_orders()
        self.assertEqual(len(sales), 1)
        sale = sales
        self.assertEqual(sale.client_order_ref, order["name"])
        self.assertEqual(sale.state, "sale", "paid orders are confirmed")
        # 2 x 29.95 + 4.90 shipping, 19% VAT on both, as Shopify computed it
        self.assertAlmostEqual(sale.amount_total, 77.11, places=2)
        self.assertEqual(sale.note and "gift wrap" in str(sale.note), True)
        product_lines = sale.order_line.filtered(
            lambda line: line.product_id.type != "service"
        )
        self.assertEqual(product_lines.product_id, self.products["TSHIRT-001"])
        self.assertEqual(product_lines.product_uom_qty, 2)
        self.assertEqual(product_lines.tax_id, self.tax)
        events = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(len(events), 2, "the duplicate was not stored")
        self.assertEqual(sorted(events.mapped("state")), ["done", "skipped_stale"])

    def test_forged_order_webhook_is_refused(self):
        order = self.new_order()
        self.sandbox.webhook_secret = "not-the-app-secret"
        try:
            self.sandbox.emit("orders/create", order["id"])
        finally:
            self.sandbox.webhook_secret = "csecret"
        self.assertEqual(self.sandbox.webhooks.history[-1].status, 401)
        self.assertFalse(self.Event.search([("backend_id", "=", self.backend.id)]))

    def test_unknown_sku_opens_a_mapping_exception_fixed_by_mapping(self):
        order = self.new_order(
            lines=[{"sku": "NEW-SKU-9", "quantity": 1, "price": "5.00"}]
        )
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(event.state, "failed")
        exception = event.exception_id
        self.assertEqual(exception.category, "mapping")
        self.assertEqual(exception.fix_data["sku"], "NEW-SKU-9")
        self.assertFalse(self.sale_orders(), "no half-imported order")
        product = self.env["product.product"].create(
            {"name": "New", "type": "consu", "taxes_id": [(6, 0, self.tax.ids)]}
        )
        self.env["shopify.map.sku"].create(
            {"exception_id": exception.id, "product_id": product.id}
        ).action_map_and_retry()
        run_jobs(self.env)
        self.assertEqual(event.state, "done", event.error)
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(
            self.sale_orders()
            .order_line.filtered(lambda line: line.product_id == product)
            .product_uom_qty,
            1,
        )

    def test_cancellation_cancels_an_unshipped_order(self):
        order = self.new_order()
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        sale = self.sale_orders()
        self.assertEqual(sale.state, "sale")
        self.sandbox.cancel_order(order["id"])
        self.sandbox.emit("orders/cancelled", order["id"])
        run_jobs(self.env)
        events = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(
            sale.state, "cancel", [(e.topic, e.state, e.error) for e in events]
        )

    def test_polling_catches_a_missed_webhook(self):
        orders = [self.new_order() for _ in range(3)]
        policy = self.backend._policy("order")
        policy.watermark = datetime.now() - timedelta(hours=1)
        policy._job_poll()
        run_jobs(self.env)
        self.assertEqual(
            sorted(self.sale_orders().mapped("client_order_ref")),
            sorted(o["name"] for o in orders),
        )
        policy._job_poll()  # the overlap sees them again: nothing new
        run_jobs(self.env)
        self.assertEqual(len(self.sale_orders()), 3)

    def test_returning_customer_with_another_phone_format_is_one_partner(self):
        first = self.new_order()
        second = self.new_order(
            customer={
                "email": None,
                "first_name": "Jane",
                "last_name": "D.",
                "phone": "0151 1234 5678",
                "address": {
                    "address1": "Hauptstr. 1",
                    "city": "Berlin",
                    "zip": "10115",
                    "countryCodeV2": "DE",
                },
            },
        )
        for order in (first, second):
            self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        sales = self.sale_orders()
        self.assertEqual(len(sales), 2)
        self.assertEqual(len(sales.mapped("partner_id")), 1)

    def test_throttling_reschedules_and_never_fails_the_job(self):
        order = self.new_order()
        self.sandbox.emit("orders/create", order["id"])
        dispatch(self.env)
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        # more throttled answers than the backend allows retries (3)
        self.sandbox.inject_fault("throttle", times=5)
        for _attempt in range(5):
            job = run_job(self.env, event.job_uuid)
            self.assertEqual(job.state, "pending")
            self.assertEqual(event.state, "queued")
        self.assertLessEqual(job.retry, 1, "throttling uses up no retry")
        run_job(self.env, event.job_uuid)
        self.assertEqual(event.state, "done", event.error)
        self.assertEqual(len(self.sale_orders()), 1)

    def test_customer_webhooks_create_one_partner_matched_later_by_orders(self):
        customer = self.sandbox.add_customer(
            "amy@example.com", "Amy", "Lee", "+4930123456"
        )
        self.sandbox.emit("customers/create", customer["id"])
        self.sandbox.emit("customers/update", customer["id"])
        run_jobs(self.env)
        bound = self.Binding.search(
            [("backend_id", "=", self.backend.id), ("res_model", "=", "res.partner")]
        )
        self.assertEqual(len(bound), 1)
        partner = self.env["res.partner"].browse(bound.res_id)
        self.assertEqual(partner.email, "amy@example.com")
        self.assertEqual(partner.retail_phone_e164, "+4930123456")
        order = self.sandbox.add_order(
            customer=customer["id"],
            lines=[{"sku": "MUG-002", "quantity": 1}],
            taxes=[{"title": "VAT", "rate": 0.19}],
        )
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        self.assertEqual(self.sale_orders().partner_id, partner)

    def test_partially_paid_order_waits_until_fully_paid(self):
        """Under "When paid" a partial capture is not paid (issue 7, point 5)."""
        self.assertEqual(self.backend.shopify_confirm_on, "paid")
        order = self.new_order(financial_status="PARTIALLY_PAID")
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        sale = self.sale_orders()
        self.assertEqual(len(sale), 1)
        self.assertEqual(sale.state, "draft", "half paid stays a quotation")
        self.sandbox.clock.advance(5)
        self.sandbox.update_order(order["id"], financial_status="PAID")
        self.sandbox.emit("orders/updated", order["id"])
        run_jobs(self.env)
        self.assertEqual(self.sale_orders(), sale, "no second order")
        self.assertEqual(sale.state, "sale", "confirmed once fully paid")
