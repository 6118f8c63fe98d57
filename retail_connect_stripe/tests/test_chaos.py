"""Chaos over Stripe's webhooks: duplicates, out of order, late, and the
re-reads answered 5xx or 429; every payment, refund and dispute is booked
once, to the cent."""

from odoo.tests import tagged

from .common import StripeCase, run_jobs


@tagged("post_install", "-at_install")
class TestStripeChaos(StripeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend.stripe_fee_account_id = cls.env["account.account"].create(
            {"name": "Stripe fees", "code": "6279903", "account_type": "expense"}
        )

    def setUp(self):
        super().setUp()
        self.backend._policy("refund").direction = "both"

    def bound(self, model, prefix):
        bindings = self.Binding.search(
            [
                ("backend_id", "=", self.backend.id),
                ("res_model", "=", model),
                ("external_id", "=like", f"{prefix}%"),
            ]
        )
        return self.env[model].browse(bindings.mapped("res_id"))

    def test_every_amount_is_booked_once_whatever_the_webhooks_do(self):
        sales = [self.order(price=price) for price in (120.0, 80.0, 45.5)]
        charges = [
            self.pay(round(s.amount_total * 100), metadata={"odoo_order": s.name})[
                "charge"
            ]["id"]
            for s in sales
        ]
        # Stripe-side: a partial refund and a dispute
        self.admin("refunds", {"charge": charges[1], "amount": 2500})
        self.admin("disputes", {"charge": charges[2]})
        # the re-reads fail first: 500s, then 429s
        self.sandbox.inject_fault("status", status=500, path="/v1/payment_intents/")
        self.sandbox.inject_fault("status", status=503, path="/v1/refunds", times=2)
        self.sandbox.inject_fault("throttle", path="/v1/disputes/", seconds=1)
        self.sandbox.inject_fault("throttle", path="/v1/payment_intents/", skip=1)
        # late, twice, shuffled
        self.flush(order="shuffle", duplicate_every=1, seed=7)
        run_jobs(self.env, rounds=8)
        # Odoo-side: a credit note of the first order refunded on the card
        invoice = sales[0].invoice_ids
        credit = invoice._reverse_moves([{"ref": "returned"}])
        credit.action_post()
        self.sandbox.inject_fault("status", status=500, path="/v1/refunds", times=1)
        run_jobs(self.env, rounds=4)
        # its webhooks, and everything again, in reverse, then the backstop
        self.flush(order="reverse", duplicate_every=1)
        run_jobs(self.env, rounds=4)
        for domain in ("payment", "refund"):
            self.backend._policy(domain)._poll_changes()
        self.events().sudo().action_replay()
        run_jobs(self.env, rounds=6)

        ledger = self.sandbox.ledger
        payments = self.bound("account.payment", "pi_")
        self.assertEqual(len(payments), 3)
        self.assertEqual(
            sorted(payments.mapped("amount")), sorted(s.amount_total for s in sales)
        )
        refunds = ledger.all("refund")
        self.assertEqual(sorted(r["amount"] for r in refunds), [2500, 12000])
        booked = self.bound("account.payment", "re_")
        self.assertEqual(sorted(booked.mapped("amount")), [25.0, 120.0])
        self.assertTrue(credit.payment_state in ("paid", "in_payment"))
        credits = self.env["account.move"].search(
            [("move_type", "=", "out_refund"), ("state", "=", "posted")]
        )
        self.assertEqual(sorted(credits.mapped("amount_total")), [25.0, 120.0])
        dispute = self.env["stripe.dispute"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertEqual(len(dispute), 1)
        self.assertEqual(len(dispute.move_ids), 1)
        self.assertEqual(
            self.env["account.payment"].search_count([("memo", "like", "Stripe pi_")]),
            3,
        )
        self.assertFalse(self.sandbox.faults.pending(), "every fault was hit")
        dead = self.events().filtered(lambda e: e.state in ("failed", "dead"))
        self.assertFalse(dead, dead.mapped("error"))
