"""Odoo's own Stripe provider (payment_stripe, installed in the test database
by the test platform) and the connector book one payment per PaymentIntent,
whichever sees it first."""

from odoo.tests import tagged

from .common import StripeCase, run_jobs


@tagged("post_install", "-at_install")
class TestStripePaymentLink(StripeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider = cls.env.ref("payment.payment_provider_stripe")
        cls.provider.write(
            {
                "state": "test",
                "stripe_secret_key": "sk_test_odoo_provider",
                "stripe_publishable_key": "pk_test_odoo_provider",
                "journal_id": cls.journal.id,
                "company_id": cls.env.company.id,
            }
        )
        cls.card = cls.env.ref("payment.payment_method_card")
        cls.card.active = True

    # ------------------------------------------------------------ helpers
    def odoo_checkout(self, sale, intent_id):
        """What payment_stripe does for a customer paying the invoice online:
        a transaction, Stripe's PaymentIntent processed by payment_stripe's
        own code, then the post-processing (its cron) creating the payment."""
        invoice = sale.invoice_ids
        tx = self.env["payment.transaction"].create(
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.card.id,
                "amount": invoice.amount_total,
                "currency_id": invoice.currency_id.id,
                "partner_id": sale.partner_id.id,
                "reference": f"{invoice.name}-web",
                "operation": "online_direct",
                "sale_order_ids": [(6, 0, sale.ids)],
                "invoice_ids": [(6, 0, invoice.ids)],
            }
        )
        intent = self.backend._stripe_client().get(
            f"/v1/payment_intents/{intent_id}", {}, operation="test"
        )
        self.env["payment.transaction"]._handle_notification_data(
            "stripe", {"reference": tx.reference, "payment_intent": intent}
        )
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.provider_reference, intent_id)
        tx._post_process()
        return tx

    def customer_payments(self):
        return self.env["account.payment"].search(
            [("partner_id", "=", self.partner.id), ("state", "!=", "canceled")]
        )

    # -------------------------------------------------------------- tests
    def test_odoo_booked_it_first_the_connector_links_it(self):
        sale = self.order()
        paid = self.pay(12000, metadata={"odoo_order": sale.name})
        tx = self.odoo_checkout(sale, paid["payment_intent"]["id"])
        booked = tx.payment_id
        self.assertTrue(booked)
        self.assertEqual(self.customer_payments(), booked)

        self.flush(duplicate_every=1, order="reverse")
        run_jobs(self.env, rounds=2)
        self.assertEqual(self.customer_payments(), booked, "booked once")
        self.assertEqual(self.payments(), booked, "the connector knows it")
        self.assertIn(sale.invoice_ids.payment_state, ("paid", "in_payment"))
        failed = self.events().filtered(lambda e: e.state in ("failed", "dead"))
        self.assertFalse(failed, failed.mapped("error"))

    def test_the_connector_booked_it_first_odoo_links_it(self):
        sale = self.order()
        paid = self.pay(12000, metadata={"odoo_order": sale.name})
        self.flush()
        run_jobs(self.env)
        registered = self.payments()
        self.assertEqual(len(registered), 1)

        tx = self.odoo_checkout(sale, paid["payment_intent"]["id"])
        self.assertEqual(tx.payment_id, registered)
        self.assertEqual(registered.payment_transaction_id, tx)
        self.assertEqual(self.customer_payments(), registered, "booked once")
        self.assertIn(sale.invoice_ids.payment_state, ("paid", "in_payment"))
