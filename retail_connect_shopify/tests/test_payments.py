import unittest

import requests

from odoo.tests import tagged

from .common import ShopifyCase, run_jobs

STRIPE_KEY = "sk_test_retailconnect"


@tagged("post_install", "-at_install")
class TestPayments(ShopifyCase):
    """A paid order's transactions become payments in the gateway's journal,
    each once; an unmapped gateway is one exception to fix."""

    def setUp(self):
        super().setUp()
        self.backend._policy("payment").direction = "in"
        self.journal = self.env["account.journal"].create(
            {"name": "PayPal", "code": "PPL", "type": "bank"}
        )

    def map(self, gateway, **values):
        return self.env["shopify.payment.gateway"].create(
            {
                "backend_id": self.backend.id,
                "name": gateway,
                "journal_id": self.journal.id,
                **values,
            }
        )

    def deliver(self, order, *topics):
        for topic in topics or ("orders/create", "orders/paid"):
            self.sandbox.emit(topic, order["id"])
        run_jobs(self.env, rounds=4)

    def payments(self):
        bindings = self.Binding.search(
            [
                ("backend_id", "=", self.backend.id),
                ("res_model", "=", "account.payment"),
            ]
        )
        return self.env["account.payment"].browse(bindings.mapped("res_id"))

    def payment_events(self):
        return self.Event.search(
            [("backend_id", "=", self.backend.id), ("topic", "=", "orders/payments")]
        )

    def test_paid_order_payment_registered_on_its_invoice_once(self):
        self.backend.shopify_invoice_paid_orders = True
        self.map("paypal")
        # paid in USD by a customer of a EUR shop, after one declined attempt
        order = self.new_order(
            gateway="paypal",
            declined=1,
            presentment_currency="USD",
            presentment_rate="1.10",
        )
        self.deliver(order)
        sale = self.sale_orders()
        self.assertEqual(sale.state, "sale")
        invoice = sale.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        payment = self.payments()
        self.assertEqual(len(payment), 1, "the declined attempt is not a payment")
        self.assertEqual(payment.journal_id, self.journal)
        # shop money (EUR) to the cent, never the USD the customer saw
        self.assertEqual(payment.currency_id.name, "EUR")
        self.assertAlmostEqual(payment.amount, float(order["totals"]["total"]))
        self.assertAlmostEqual(payment.amount, invoice.amount_total)
        # the same order again (update, replay, poll): nothing twice
        events = self.payment_events()
        self.sandbox.update_order(order["id"], note="gift wrap", emit=True)
        run_jobs(self.env, rounds=4)
        self.assertEqual(self.payment_events(), events, "nothing left to book")
        for event in self.payment_events():
            event.action_replay()
        run_jobs(self.env, rounds=4)
        self.assertEqual(self.payments(), payment)
        self.assertEqual(len(sale.invoice_ids), 1)

    def test_unmapped_gateway_one_exception_then_map_and_retry(self):
        first = self.new_order(gateway="paypal")
        second = self.new_order(gateway="paypal", lines=[{"sku": "MUG-002"}])
        self.deliver(first)
        self.deliver(second)
        self.assertEqual(len(self.sale_orders()), 2, "the orders import anyway")
        self.assertFalse(self.payments())
        exception = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id), ("domain", "=", "payment")]
        )
        self.assertEqual(len(exception), 1, exception.mapped("name"))
        self.assertEqual(exception.subject_key, "gateway:paypal")
        self.assertIn('"paypal" has no journal', exception.message)
        self.assertEqual(exception.fix_data, {"gateway": "paypal"})
        self.assertEqual(exception.count, 2)
        self.assertEqual(set(exception.event_ids.mapped("state")), {"failed"})
        self.map("paypal")
        exception.action_retry()
        run_jobs(self.env, rounds=2)
        self.assertEqual(len(self.payments()), 2)
        self.assertEqual(exception.state, "resolved")
        # outstanding on the customer (no invoice policy): each order's own
        for sale in self.sale_orders():
            payment = self.payments().filtered(
                lambda p, s=sale: s.client_order_ref in p.memo
            )
            self.assertAlmostEqual(payment.amount, sale.amount_total)
            self.assertFalse(payment.is_reconciled)

    def test_outstanding_payment_settles_the_invoice_posted_later(self):
        self.map("shopify_payments")
        self.deliver(self.new_order())
        sale = self.sale_orders()
        payment = self.payments()
        self.assertEqual(len(payment), 1)
        self.assertFalse(sale.invoice_ids)
        self.assertEqual(
            payment.partner_id, sale.partner_invoice_id.commercial_partner_id
        )
        invoice = sale._create_invoices()
        invoice.action_post()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertTrue(payment.is_reconciled)

    def test_captured_authorization_and_refund_on_the_credit_note(self):
        self.backend.shopify_invoice_paid_orders = True
        self.map("manual")
        order = self.new_order(financial_status="AUTHORIZED", gateway="manual")
        self.deliver(order, "orders/create")
        self.assertFalse(self.payments(), "an authorization moves no money")
        self.sandbox.update_order(order["id"], financial_status="PAID", emit=True)
        run_jobs(self.env, rounds=4)
        sale = self.sale_orders()
        invoice = sale.invoice_ids
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(len(self.payments()), 1)
        line_id = order["lineItems"][0]["id"]
        refund = self.sandbox.refund_order(
            order["id"], [{"line_item_id": line_id, "quantity": 1}]
        )
        self.sandbox.emit("refunds/create", refund["id"])
        self.sandbox.emit("orders/updated", order["id"])
        run_jobs(self.env, rounds=4)
        credit = sale.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(len(credit), 1)
        back = self.payments().filtered(lambda p: p.payment_type == "outbound")
        self.assertEqual(len(back), 1)
        self.assertAlmostEqual(back.amount, float(refund["amount"]))
        self.assertAlmostEqual(back.amount, credit.amount_total)
        self.assertIn(credit.payment_state, ("paid", "in_payment"))
        self.assertEqual(len(self.payments()), 2)

    def test_a_refund_paid_back_in_many_transactions_is_booked_whole_once(self):
        """105 refund transactions (one refund): more than a page of the
        refund's transactions and than 100 of the order's, each booked once
        on the refund's credit note."""
        self.backend.shopify_invoice_paid_orders = True
        self.map("manual")
        order = self.new_order(gateway="manual")
        self.deliver(order)
        sale = self.sale_orders()
        line_id = order["lineItems"][0]["id"]
        refund = self.sandbox.refund_order(
            order["id"], [{"line_item_id": line_id, "quantity": 1}], split=105
        )
        self.sandbox.emit("refunds/create", refund["id"])
        self.sandbox.emit("orders/updated", order["id"])
        run_jobs(self.env, rounds=4)
        credit = sale.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(len(credit), 1)
        back = self.payments().filtered(lambda p: p.payment_type == "outbound")
        self.assertEqual(len(back), 105, "every refund transaction booked")
        self.assertAlmostEqual(sum(back.mapped("amount")), float(refund["amount"]))
        self.assertIn(credit.payment_state, ("paid", "in_payment"))
        self.assertTrue(all(back.mapped("is_reconciled")), "all on the credit note")
        # replayed: nothing twice
        for event in self.payment_events():
            event.action_replay()
        run_jobs(self.env, rounds=4)
        self.assertEqual(len(self.payments()), 106)

    def test_a_gateway_another_backend_books_is_left_to_it(self):
        platforms = dict(self.env["retail.backend"]._fields["platform"].selection)
        if "stripe" not in platforms:
            self.skipTest("retail_connect_stripe is not installed")
        stripe = self.env["retail.backend"].create(
            {"name": "Acme Stripe", "platform": "stripe", "environment": "sandbox"}
        )
        stripe.state = "active"
        stripe._policy("payment").direction = "in"
        # the Stripe backend books the PaymentIntents of the orders the shop
        # took through its Stripe account (stripe_payment.py)
        self.deliver(self.new_order(gateway="stripe"))
        self.assertFalse(self.payments())
        event = self.payment_events()
        self.assertEqual(event.state, "skipped_policy", event.error)
        self.assertIn("booked by Acme Stripe", event.error)
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id), ("domain", "=", "payment")]
            )
        )
        # named explicitly for another gateway name, the same
        self.map("stripe_connect", booked_by_id=stripe.id)
        self.deliver(self.new_order(gateway="stripe_connect"))
        self.assertFalse(self.payments())
        # Stripe no longer imports payments: Shopify books them in the journal
        stripe._policy("payment").direction = "off"
        self.deliver(self.new_order(gateway="stripe_connect"))
        self.assertEqual(len(self.payments()), 1)
        self.assertEqual(self.payments().journal_id, self.journal)


@tagged("post_install", "-at_install")
class TestPaymentsWithStripe(ShopifyCase):
    """A shop taking payments through its own Stripe account, both connected:
    the Stripe backend owns payments, so the money is booked once, by it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "stripe_journal_id" not in cls.env["retail.backend"]._fields:
            raise unittest.SkipTest("retail_connect_stripe is not installed")
        from sandboxes.stripe import StripeSandbox  # noqa: PLC0415

        cls.stripe_sandbox = StripeSandbox(secret_key=STRIPE_KEY)
        cls.stripe_server = cls.stripe_sandbox.serve()
        cls.addClassCleanup(cls.stripe_server.stop)
        cls.stripe_journal = cls.env["account.journal"].create(
            {"name": "Stripe", "code": "STRP", "type": "bank"}
        )
        cls.stripe = cls.env["retail.backend"].create(
            {
                "name": "Acme Stripe",
                "platform": "stripe",
                "environment": "sandbox",
                "base_url": cls.stripe_server.url,
                "stripe_currency_id": cls.eur.id,
                "stripe_journal_id": cls.stripe_journal.id,
                "job_max_retries": 3,
            }
        )
        cls.stripe.api_key = STRIPE_KEY
        cls.stripe.action_activate()

    def setUp(self):
        super().setUp()
        self.stripe_sandbox.reset()
        self.env["ir.config_parameter"].sudo().set_param(
            "web.base.url", f"http://127.0.0.1:{self.http_port()}"
        )
        self.stripe.invalidate_recordset(["webhook_url"])
        self.stripe._stripe_register_webhook()
        self.backend._policy("payment").direction = "in"
        self.backend.shopify_invoice_paid_orders = True

    def stripe_admin(self, path, data):
        answer = requests.post(
            f"{self.stripe_server.url}/__sandbox__/{path}", json=data, timeout=10
        )
        answer.raise_for_status()
        return answer.json()

    def test_an_order_paid_through_stripe_is_booked_once_by_stripe(self):
        self.assertTrue(self.stripe._policy("payment")._allows_import())
        order = self.new_order(gateway="stripe")
        self.sandbox.emit("orders/create", order["id"])
        self.sandbox.emit("orders/paid", order["id"])
        run_jobs(self.env, rounds=4)
        sale = self.sale_orders()
        invoice = sale.invoice_ids
        self.assertEqual(invoice.state, "posted", "invoiced by the Shopify backend")
        self.assertEqual(invoice.payment_state, "not_paid", "its money is Stripe's")
        # the shop's Stripe account charged the order (its PaymentIntent names
        # the Shopify order) and tells the Stripe backend
        cents = round(float(order["totals"]["total"]) * 100)
        self.stripe_admin(
            "payments",
            {
                "amount": cents,
                "currency": "eur",
                "metadata": {"shopify_order": order["name"]},
            },
        )
        self.stripe_admin("webhooks/flush", {})
        run_jobs(self.env, rounds=4)
        # Shopify updates the order again: still nothing booked by Shopify
        self.sandbox.update_order(order["id"], note="paid", emit=True)
        run_jobs(self.env, rounds=4)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        payments = invoice._get_reconciled_payments()
        self.assertEqual(len(payments), 1, "booked once")
        self.assertEqual(payments.journal_id, self.stripe_journal)
        shopify_payments = self.Binding.search(
            [
                ("backend_id", "=", self.backend.id),
                ("res_model", "=", "account.payment"),
            ]
        )
        self.assertFalse(shopify_payments)
        skipped = self.Event.search(
            [("backend_id", "=", self.backend.id), ("topic", "=", "orders/payments")]
        ).filtered(lambda e: e.state == "skipped_policy")
        self.assertTrue(skipped)
        self.assertIn("booked by Acme Stripe", skipped[-1].error)
