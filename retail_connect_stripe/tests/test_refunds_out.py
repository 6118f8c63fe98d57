"""Refunds from Odoo: a credit note of an invoice Stripe paid is refunded on
the card once, whatever its job and the webhooks that follow do."""

from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.retail_connect_base.lib.errors import TransientError

from .common import StripeCase, run_jobs


@tagged("post_install", "-at_install")
class TestStripeRefundsOut(StripeCase):
    def setUp(self):
        super().setUp()
        self.backend._policy("refund").direction = "both"
        self.addCleanup(self.admin, "config", {"refund_status": "succeeded"})

    # ------------------------------------------------------------ helpers
    def paid_order(self, cents=12000):
        sale = self.order(price=cents / 100)
        self.pay(cents, metadata={"odoo_order": sale.name})
        self.flush()
        run_jobs(self.env)
        invoice = sale.invoice_ids
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        return invoice

    def credit_note(self, invoice, amount):
        """A posted credit note of ``amount`` against ``invoice``."""
        credit = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": invoice.partner_id.id,
                "reversed_entry_id": invoice.id,
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.product.id,
                            "price_unit": amount,
                            "tax_ids": [(5,)],
                        },
                    )
                ],
            }
        )
        credit.action_post()
        return credit

    def stripe_refunds(self):
        return self.sandbox.ledger.all("refund")

    def refund_posts(self):
        return self.sandbox.requests("/v1/refunds", "POST")

    def refund_payments(self):
        bindings = self.Binding.search(
            [
                ("backend_id", "=", self.backend.id),
                ("res_model", "=", "account.payment"),
                ("external_id", "=like", "re_%"),
            ]
        )
        return self.env["account.payment"].browse(bindings.mapped("res_id"))

    def paid(self, move):
        return move.payment_state in ("paid", "in_payment")

    def exceptions(self, credit):
        return self.env["retail.sync.exception"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("subject_key", "=", f"credit_note:{credit.id}"),
            ]
        )

    # -------------------------------------------------------------- tests
    def test_each_credit_note_is_refunded_once_and_its_webhooks_book_nothing(self):
        invoice = self.paid_order()
        first = self.credit_note(invoice, 50.0)
        second = self.credit_note(invoice, 70.0)
        run_jobs(self.env)
        refunds = self.stripe_refunds()
        self.assertEqual(sorted(r["amount"] for r in refunds), [5000, 7000])
        self.assertEqual(
            {r["metadata"]["odoo_credit_note_id"] for r in refunds},
            {str(first.id), str(second.id)},
        )
        keys = [p.headers.get("Idempotency-Key") for p in self.refund_posts()]
        self.assertEqual(len(set(keys)), 2, "one key per intended refund")
        self.assertTrue(self.paid(first) and self.paid(second))
        self.assertEqual(sorted(self.refund_payments().mapped("amount")), [50.0, 70.0])
        # the refunds' webhooks come back, late, twice, out of order
        self.flush(order="reverse", duplicate_every=1)
        run_jobs(self.env, rounds=3)
        self.assertEqual(len(self.refund_payments()), 2)
        credits = self.env["account.move"].search(
            [("reversed_entry_id", "=", invoice.id)]
        )
        self.assertEqual(credits, first | second, "no credit note made by webhooks")
        self.assertEqual(len(self.stripe_refunds()), 2)
        failed = self.events().filtered(lambda e: e.state in ("failed", "dead"))
        self.assertFalse(failed, failed.mapped("error"))

    def test_a_job_retried_after_stripe_answered_refunds_once(self):
        invoice = self.paid_order()
        book = type(self.backend)._stripe_book_refund
        calls = []

        def crash_once(backend, refund):
            calls.append(refund["id"])
            if len(calls) == 1:
                raise TransientError("the worker died after Stripe answered")
            return book(backend, refund)

        with patch.object(type(self.backend), "_stripe_book_refund", crash_once):
            credit = self.credit_note(invoice, 120.0)
            run_jobs(self.env, rounds=3)
        self.assertEqual(len(calls), 2, "the job ran twice")
        self.assertEqual(len(self.stripe_refunds()), 1)
        keys = {p.headers.get("Idempotency-Key") for p in self.refund_posts()}
        self.assertEqual(len(keys), 1)
        self.assertTrue(self.paid(credit))
        self.assertEqual(len(self.refund_payments()), 1)

    def test_more_than_what_remains_refundable_is_refused_clearly(self):
        invoice = self.paid_order()
        charge = self.sandbox.ledger.all("charge")[0]["id"]
        self.admin("refunds", {"charge": charge, "amount": 10000})  # in Stripe
        credit = self.credit_note(invoice, 50.0)
        run_jobs(self.env)
        self.assertEqual(len(self.stripe_refunds()), 1, "nothing more refunded")
        self.assertFalse(self.refund_posts())
        exception = self.exceptions(credit)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.domain, "refund")
        self.assertIn("50.00", exception.message)
        self.assertIn("20.00", exception.message)
        self.assertFalse(self.paid(credit))

    def test_a_pending_refund_is_paid_back_when_it_succeeds(self):
        self.admin("config", {"refund_status": "pending"})
        invoice = self.paid_order()
        credit = self.credit_note(invoice, 120.0)
        run_jobs(self.env)
        (refund,) = self.stripe_refunds()
        self.assertEqual(refund["status"], "pending")
        # charge.refunded comes while it is pending: nothing to pay back yet
        self.flush()
        run_jobs(self.env, rounds=2)
        self.assertFalse(self.paid(credit))
        self.admin(f"refunds/{refund['id']}/status", {"status": "succeeded"})
        self.flush(order="reverse", duplicate_every=1)
        run_jobs(self.env, rounds=3)
        self.assertTrue(self.paid(credit), credit.payment_state)
        self.assertEqual(len(self.refund_payments()), 1)
        self.assertEqual(len(self.stripe_refunds()), 1)

    def test_a_failed_refund_reopens_the_credit_note_and_retry_refunds_again(self):
        invoice = self.paid_order()
        credit = self.credit_note(invoice, 120.0)
        run_jobs(self.env)
        (refund,) = self.stripe_refunds()
        self.assertTrue(self.paid(credit))
        self.admin(
            f"refunds/{refund['id']}/status",
            {"status": "failed", "failure_reason": "expired_or_canceled_card"},
        )
        self.flush(duplicate_every=1)
        run_jobs(self.env, rounds=3)
        self.assertEqual(self.refund_payments().state, "canceled")
        self.assertFalse(self.paid(credit), "the customer is still owed")
        exception = self.exceptions(credit)
        self.assertEqual(len(exception), 1)
        self.assertIn("expired_or_canceled_card", exception.message)
        self.assertIn("Retry", exception.message)
        # the card works again: Retry makes a new refund, paid back once
        exception.action_retry()
        run_jobs(self.env, rounds=2)
        self.assertEqual(
            sorted(r["status"] for r in self.stripe_refunds()), ["failed", "succeeded"]
        )
        self.assertTrue(self.paid(credit), credit.payment_state)
        self.assertEqual(exception.state, "resolved")
        keys = [p.headers.get("Idempotency-Key") for p in self.refund_posts()]
        self.assertEqual(len(set(keys)), 2, "the new refund has a new key")

    def test_refunds_owned_by_stripe_are_never_sent_from_odoo(self):
        self.backend._policy("refund").direction = "in"
        invoice = self.paid_order()
        self.credit_note(invoice, 50.0)
        run_jobs(self.env)
        self.assertFalse(self.stripe_refunds())
        # both ways: a Stripe refund's own credit note is not sent back
        self.backend._policy("refund").direction = "both"
        charge = self.sandbox.ledger.all("charge")[0]["id"]
        self.admin("refunds", {"charge": charge, "amount": 3000})
        self.flush()
        run_jobs(self.env, rounds=3)
        self.assertEqual(len(self.stripe_refunds()), 1)
        self.assertFalse(self.refund_posts())
        self.assertEqual(self.refund_payments().mapped("amount"), [30.0])

    def test_export_only_follows_its_own_refunds_and_no_other(self):
        self.backend._policy("refund").direction = "out"
        self.admin("config", {"refund_status": "pending"})
        invoice = self.paid_order()
        credit = self.credit_note(invoice, 100.0)
        run_jobs(self.env)
        (ours,) = self.stripe_refunds()
        # a refund made in Stripe's Dashboard, also pending
        charge = self.sandbox.ledger.all("charge")[0]["id"]
        theirs = self.admin("refunds", {"charge": charge, "amount": 2000})
        self.flush()
        run_jobs(self.env, rounds=2)
        for refund in (ours, theirs):
            self.admin(f"refunds/{refund['id']}/status", {"status": "succeeded"})
        self.flush(duplicate_every=1)
        run_jobs(self.env, rounds=3)
        self.assertTrue(self.paid(credit), credit.payment_state)
        self.assertEqual(self.refund_payments().mapped("amount"), [100.0])
        self.assertEqual(
            self.env["account.move"].search_count(
                [("reversed_entry_id", "=", invoice.id)]
            ),
            1,
            "the Dashboard's refund is not booked: Stripe's refunds are not imported",
        )
