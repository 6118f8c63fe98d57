"""Refunds from Stripe: one credit note and one refund payment per Stripe
refund, whatever the events do."""

from odoo.tests import tagged

from .common import StripeCase, run_jobs


@tagged("post_install", "-at_install")
class TestStripeRefunds(StripeCase):
    def refund_payments(self):
        bindings = self.Binding.search(
            [
                ("backend_id", "=", self.backend.id),
                ("res_model", "=", "account.payment"),
                ("external_id", "=like", "re_%"),
            ]
        )
        return self.env["account.payment"].browse(bindings.mapped("res_id"))

    def test_partial_then_full_refund_books_each_refund_once(self):
        sale = self.order()
        invoice = sale.invoice_ids
        paid = self.pay(12000, metadata={"odoo_order": sale.name})
        charge = paid["charge"]["id"]
        self.admin("refunds", {"charge": charge, "amount": 5000})
        self.admin("refunds", {"charge": charge})
        # the refunds' events first, duplicated: they wait for the payment
        self.flush(order="reverse", duplicate_every=1)
        run_jobs(self.env, rounds=4)
        refunds = self.refund_payments()
        self.assertEqual(sorted(refunds.mapped("amount")), [50.0, 70.0])
        self.assertEqual(set(refunds.mapped("payment_type")), {"outbound"})
        credits = self.env["account.move"].search(
            [("reversed_entry_id", "=", invoice.id), ("state", "=", "posted")]
        )
        self.assertEqual(sum(credits.mapped("amount_total")), 120.0)
        self.assertTrue(
            all(c.payment_state in ("paid", "in_payment") for c in credits),
            credits.mapped("payment_state"),
        )
        # polled again and replayed: nothing more
        self.backend._policy("refund")._poll_changes()
        self.events().sudo().action_replay()
        run_jobs(self.env, rounds=2)
        self.assertEqual(len(self.refund_payments()), 2)
        failed = self.events().filtered(lambda e: e.state in ("failed", "dead"))
        self.assertFalse(failed, failed.mapped("error"))

    def test_full_refund_reverses_the_invoice(self):
        sale = self.order()
        invoice = sale.invoice_ids
        paid = self.pay(12000, metadata={"odoo_order": sale.name})
        self.admin("refunds", {"charge": paid["charge"]["id"]})
        self.flush()
        run_jobs(self.env, rounds=2)
        credit = self.env["account.move"].search(
            [("reversed_entry_id", "=", invoice.id)]
        )
        self.assertEqual(len(credit), 1)
        self.assertEqual(credit.amount_total, 120.0)
        self.assertEqual(credit.invoice_line_ids.product_id, self.product)
