"""Payments in: a succeeded Stripe payment is one registered payment on the
right invoice, whatever its events do on the way."""

from odoo.tests import tagged

from .common import StripeCase, run_jobs


@tagged("post_install", "-at_install")
class TestStripePayments(StripeCase):
    def paid(self, move):
        return move.payment_state in ("paid", "in_payment")

    def test_payment_registers_once_whatever_the_order_and_count_of_events(self):
        sale = self.order()
        invoice = sale.invoice_ids
        self.pay(12000, metadata={"odoo_order": sale.name})
        # late, twice, out of order: then the polling backstop sees them all
        self.flush(order="reverse", duplicate_every=1)
        run_jobs(self.env)
        policy = self.backend._policy("payment")
        policy._poll_changes()
        run_jobs(self.env)
        self.events().sudo().action_replay()
        run_jobs(self.env)
        payments = self.payments()
        self.assertEqual(len(payments), 1)
        self.assertEqual(payments.amount, 120.0)
        self.assertEqual(payments.journal_id, self.journal)
        self.assertTrue(self.paid(invoice), invoice.payment_state)
        self.assertEqual(
            self.env["account.payment"].search_count([("memo", "like", "Stripe pi_")]),
            1,
            "nothing registered twice",
        )
        handled = self.events().filtered(lambda e: e.topic != "payment_intent.created")
        self.assertFalse(handled.filtered(lambda e: e.state in ("failed", "dead")))

    def test_metadata_may_name_the_invoice(self):
        invoice = self.order().invoice_ids
        self.pay(12000, metadata={"odoo_order": invoice.name})
        self.flush()
        run_jobs(self.env)
        self.assertTrue(self.paid(invoice), invoice.payment_state)

    def test_metadata_may_name_the_channel_order(self):
        shopify = self.order()
        shopify.client_order_ref = "#1001"
        twice = self.order() | self.order()
        twice.client_order_ref = "#1002"
        self.pay(12000, metadata={"shopify_order": "#1001"})
        self.pay(12000, metadata={"odoo_order": "#1002"})
        self.flush()
        run_jobs(self.env)
        self.assertTrue(self.paid(shopify.invoice_ids))
        self.assertFalse(
            any(self.paid(m) for m in twice.invoice_ids),
            "a name two orders carry names neither",
        )
        self.assertEqual(len(self.payments()), 1)

    def exceptions_of(self, intent):
        return self.env["retail.sync.exception"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("subject_key", "=", f"payment:{intent}"),
            ]
        )

    def test_a_payment_waits_for_the_channel_order_it_names(self):
        """Checkout pays through Stripe before the shop's order webhook
        reaches Odoo: the payment is registered once the order is there."""
        paid = self.pay(12000, metadata={"shopify_order": "#1003"})
        self.flush()
        run_jobs(self.env)
        self.assertFalse(self.payments(), "no order to pay yet")
        intent = paid["payment_intent"]["id"]
        self.assertFalse(self.exceptions_of(intent), "waiting is no failure")
        sale = self.order()
        sale.client_order_ref = "#1003"  # the late webhook's order
        run_jobs(self.env)
        payment = self.payments()
        self.assertEqual(len(payment), 1)
        self.assertTrue(self.paid(sale.invoice_ids))
        self.assertFalse(self.exceptions_of(intent))

    def test_a_payment_naming_an_order_that_never_comes_asks_to_assign_it(self):
        paid = self.pay(12000, metadata={"shopify_order": "#1004"})
        self.flush()
        run_jobs(self.env, rounds=self.backend.job_max_retries + 1)
        exception = self.exceptions_of(paid["payment_intent"]["id"])
        self.assertEqual(len(exception), 1)
        self.assertEqual((exception.category, exception.domain), ("mapping", "payment"))
        self.assertFalse(self.payments())

    def test_an_order_not_invoiced_gets_an_outstanding_payment(self):
        sale = self.order(invoice=False)
        self.pay(12000, metadata={"odoo_order": sale.name})
        self.flush()
        run_jobs(self.env)
        payment = self.payments()
        self.assertEqual(len(payment), 1)
        self.assertEqual(payment.move_id.state, "posted")
        self.assertEqual(payment.partner_id, self.partner)
        self.assertFalse(payment.is_reconciled)
        # another order of the same customer and amount is not settled by it
        other = self.order()
        self.assertFalse(self.paid(other.invoice_ids))
        self.assertFalse(payment.is_reconciled)
        # the order's invoice, once posted, is
        invoice = sale._create_invoices()
        invoice.action_post()
        self.assertTrue(self.paid(invoice), invoice.payment_state)
        self.assertTrue(payment.is_reconciled)

    def test_without_metadata_amount_currency_and_customer_match(self):
        self.order(price=80.0)
        invoice = self.order().invoice_ids
        customer = self.admin("customers", {"email": "JANE@example.com"})
        self.pay(12000, customer=customer["id"])
        self.flush()
        run_jobs(self.env)
        self.assertTrue(self.paid(invoice), invoice.payment_state)
        self.assertEqual(len(self.payments()), 1)

    def test_unmatched_payment_opens_an_exception_whose_fix_assigns_it(self):
        invoice = self.order().invoice_ids
        paid = self.pay(11111)
        intent = paid["payment_intent"]["id"]
        self.flush()
        run_jobs(self.env)
        self.assertFalse(self.payments())
        exception = self.env["retail.sync.exception"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("subject_key", "=", f"payment:{intent}"),
            ]
        )
        self.assertEqual(len(exception), 1, "one exception for both events")
        self.assertEqual((exception.category, exception.domain), ("mapping", "payment"))
        self.assertIn(intent, exception.message)
        wizard = self.env["stripe.assign.payment"].create(
            {"exception_id": exception.id, "invoice_id": invoice.id}
        )
        self.assertEqual(wizard.payment_intent, intent)
        wizard.action_assign_and_retry()
        run_jobs(self.env)
        self.assertEqual(len(self.payments()), 1)
        self.assertEqual(self.payments().amount, 111.11)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(exception.state, "resolved")
