"""Shadow mode on Stripe: a payment computed and compared, a refund computed
and its request recorded; no payment written in Odoo, no POST sent to Stripe."""

import json

from odoo.tests import tagged

from .common import StripeCase, run_jobs


@tagged("post_install", "-at_install")
class TestStripeShadow(StripeCase):
    def setUp(self):
        super().setUp()
        self.Shadow = self.env["retail.shadow.record"]

    def shadows(self, **domain):
        return self.Shadow.search(
            [("backend_id", "=", self.backend.id)]
            + [(key, "=", value) for key, value in domain.items()]
        )

    def posts(self):
        """Every write request Stripe received (its API writes are POSTs)."""
        return self.sandbox.requests(method="POST") + self.sandbox.requests(
            method="DELETE"
        )

    def paid(self, move):
        return move.payment_state in ("paid", "in_payment")

    def credit_note(self, invoice, amount):
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

    def test_a_payment_in_shadow_is_computed_not_registered(self):
        self.backend.action_shadow_start()
        invoice = self.order().invoice_ids
        self.sandbox.recorder.clear()
        before = self.env["account.payment"].search_count([])
        self.pay(12000, metadata={"odoo_order": invoice.invoice_origin})
        self.flush()
        run_jobs(self.env, rounds=2)
        self.assertEqual(self.env["account.payment"].search_count([]), before)
        self.assertFalse(self.payments())
        self.assertFalse(self.paid(invoice), "the invoice is still due")
        self.assertFalse(self.posts(), "nothing written on Stripe")
        self.assertTrue(self.sandbox.requests("/v1/payment_intents"), "read")
        shadow = self.shadows(kind="import", res_model="account.payment")
        self.assertTrue(shadow, self.events().mapped("error"))
        self.assertEqual((shadow[:1].change, shadow[:1].domain), ("create", "payment"))
        diff = {row["field"]: row["after"] for row in json.loads(shadow[:1].diff)}
        self.assertEqual(diff["amount"], 120.0)
        self.assertIn("shadow", set(self.events().mapped("state")))

    def test_a_refund_in_shadow_records_its_request_and_sends_nothing(self):
        refund_policy = self.backend._policy("refund")
        refund_policy.direction = "both"
        sale = self.order()
        invoice = sale.invoice_ids
        self.pay(12000, metadata={"odoo_order": sale.name})
        self.flush()
        run_jobs(self.env)
        self.assertTrue(self.paid(invoice), "paid live")
        refund_policy.action_shadow_start()
        self.sandbox.recorder.clear()
        credit = self.credit_note(invoice, 50.0)
        run_jobs(self.env)
        self.assertFalse(self.posts(), "no refund sent to Stripe")
        self.assertFalse(self.sandbox.ledger.all("refund"))
        self.assertFalse(self.paid(credit), "nothing paid back in Odoo")
        self.assertFalse(
            self.Binding.search(
                [("res_model", "=", "account.move"), ("res_id", "=", credit.id)]
            )
        )
        shadow = self.shadows(kind="export")
        self.assertEqual(len(shadow), 1)
        self.assertEqual(
            (shadow.operation, shadow.method, shadow.domain, shadow.res_id),
            ("refund.create", "POST", "refund", credit.id),
        )
        self.assertTrue(shadow.url.endswith("/v1/refunds"))
        self.assertTrue(shadow.idempotency_key.endswith(f":refund:{credit.id}"))
        body = json.loads(shadow.request_body)
        self.assertEqual(body["amount"], "5000")
        self.assertEqual(body["reason"], "requested_by_customer")
        self.assertTrue(body["payment_intent"].startswith("pi_"))
