"""Payouts: one reconciled bank statement per automatic payout, to the cent."""

from odoo.tests import tagged

from .common import StripeCase, run_jobs


@tagged("post_install", "-at_install")
class TestStripePayouts(StripeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fee_account = cls.env["account.account"].create(
            {"name": "Stripe fees", "code": "6279901", "account_type": "expense"}
        )
        cls.backend.stripe_fee_account_id = cls.fee_account
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.env["res.currency.rate"].create(
            {"currency_id": cls.eur.id, "rate": 0.9, "name": "2020-01-01"}
        )

    def setUp(self):
        super().setUp()
        # funds available at once: the payout takes them without moving the
        # clock (events stay within the signature tolerance)
        self.admin("config", {"available_after": 0})

    # ------------------------------------------------------------ helpers
    def statements(self):
        bindings = self.Binding.search(
            [
                ("backend_id", "=", self.backend.id),
                ("res_model", "=", "account.bank.statement"),
            ]
        )
        return self.env["account.bank.statement"].browse(bindings.mapped("res_id"))

    def euro_invoice(self, amount):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner.id,
                "currency_id": self.eur.id,
                "invoice_line_ids": [
                    (0, 0, {"name": "Course (EU)", "price_unit": amount, "tax_ids": []})
                ],
            }
        )
        invoice.action_post()
        return invoice

    def paid_payout(self):
        """Stripe pays out the available balance; its events are delivered."""
        payout = self.admin("payouts")
        self.admin(f"payouts/{payout['id']}/paid")
        return payout

    # -------------------------------------------------------------- tests
    def test_payout_of_charges_refund_and_fees_reconciles_to_the_cent(self):
        first, second = self.order(), self.order(price=80.0)
        euro = self.euro_invoice(50.0)
        paid = self.pay(12000, metadata={"odoo_order": first.name})
        self.pay(8000, metadata={"odoo_order": second.name})
        self.admin(
            "payments",
            {
                "amount": 5000,
                "currency": "eur",
                "exchange_rate": "1.0843",
                "metadata": {"odoo_invoice": euro.name},
            },
        )
        self.admin("refunds", {"charge": paid["charge"]["id"], "amount": 3000})
        self.flush()
        run_jobs(self.env, rounds=3)
        payments = self.payments()
        self.assertEqual(len(payments), 4)  # three charges and the refund

        payout = self.paid_payout()
        self.flush()
        run_jobs(self.env, rounds=3)

        statement = self.statements()
        self.assertEqual(len(statement), 1)
        self.assertEqual(statement.journal_id, self.journal)
        self.assertIn(payout["id"], statement.name)
        lines = statement.line_ids
        own = lines.filtered(lambda line: line.payment_ref.startswith("Stripe payout"))
        self.assertEqual(len(own), 1, lines.mapped("payment_ref"))
        self.assertAlmostEqual(own.amount, -payout["amount"] / 100, places=2)
        settled = lines - own
        self.assertEqual(len(settled), 4, settled.mapped("payment_ref"))
        self.assertAlmostEqual(
            sum(settled.mapped("amount")), payout["amount"] / 100, places=2
        )
        # every charge's payment and the refund are reconciled with their line
        for payment in payments:
            self.assertTrue(payment.is_reconciled, payment.name)
        self.assertTrue(all(settled.mapped("is_reconciled")))
        # the fees, on the fee account: the three charges' processing fees
        txns = self.backend._stripe_client().get(
            "/v1/balance_transactions",
            {"payout": payout["id"], "limit": 100},
            operation="test",
        )["data"]
        fees = sum(t["fee"] for t in txns) / 100
        self.assertGreater(fees, 0)
        booked = sum(
            self.env["account.move.line"]
            .search([("account_id", "=", self.fee_account.id)])
            .mapped("balance")
        )
        self.assertAlmostEqual(booked, fees, places=2)
        exceptions = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertFalse(exceptions, exceptions.mapped("message"))

    def test_payout_events_twice_make_one_statement(self):
        sale = self.order()
        self.pay(12000, metadata={"odoo_order": sale.name})
        self.flush()
        run_jobs(self.env, rounds=2)
        self.paid_payout()
        # payout.paid and reconciliation_completed, each delivered twice
        self.flush(duplicate_every=1)
        run_jobs(self.env, rounds=3)
        self.events().sudo().action_replay()
        run_jobs(self.env, rounds=3)
        self.assertEqual(len(self.statements()), 1)
        self.assertEqual(len(self.statements().line_ids), 2)  # charge and payout
        failed = self.events().filtered(lambda e: e.state in ("failed", "dead"))
        self.assertFalse(failed, failed.mapped("error"))

    def test_last_payout_reconciled_shows_in_the_overview_and_metrics(self):
        def figure():
            figures = self.backend._watch_platform_figures()[self.backend.id]
            (last,) = [
                f for f in figures if f["metric"].startswith("stripe_last_payout")
            ]
            return last

        self.assertEqual(figure()["value"], 0, "no payout yet")
        sale = self.order()
        self.pay(12000, metadata={"odoo_order": sale.name})
        self.flush()
        run_jobs(self.env, rounds=2)
        payout = self.paid_payout()
        self.flush()
        run_jobs(self.env, rounds=3)
        last = figure()
        self.assertIn(payout["id"], last["display"])
        self.assertGreater(last["value"], 0)
        self.assertIn(
            f"retail_connect_stripe_last_payout_reconciled_timestamp_seconds"
            f'{{backend="{self.backend.id}",platform="stripe"}} {last["value"]}',
            self.env["retail.backend"]._prometheus_metrics(),
        )

    def test_manual_payout_is_not_reconcilable(self):
        sale = self.order()
        self.pay(12000, metadata={"odoo_order": sale.name})
        self.flush()
        run_jobs(self.env, rounds=2)
        payout = self.backend._stripe_client().post(
            "/v1/payouts", {"amount": 5000, "currency": "usd"}, operation="test"
        )
        self.assertEqual(payout["reconciliation_status"], "not_applicable")
        self.admin(f"payouts/{payout['id']}/paid")
        self.flush()
        run_jobs(self.env, rounds=2)
        self.assertFalse(self.statements())
        event = self.events().filtered(lambda e: e.topic == "payout.paid")
        self.assertEqual(event.state, "skipped_policy")
        self.assertIn("not reconcilable", event.error)
        self.assertIn(payout["id"], event.error)
