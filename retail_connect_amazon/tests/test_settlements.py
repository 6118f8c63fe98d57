"""Settlements: each settlement report is one journal entry, reconciled with
the orders' invoices and the bank line of its deposit, to the cent."""

import requests

from odoo.tests import tagged

from .common import DE, AmazonCase, run_jobs

SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"


@tagged("post_install", "-at_install")
class TestSettlements(AmazonCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank = cls.env["account.journal"].create(
            {"name": "Amazon payouts bank", "code": "AMZB", "type": "bank"}
        )
        cls.backend.amazon_deposit_journal_id = cls.bank
        cls.Settlement = cls.env["amazon.settlement"]

    # ------------------------------------------------------------ helpers
    def admin(self, path, payload):
        answer = requests.post(
            f"{self.server.url}/__sandbox__/{path}", json=payload, timeout=10
        )
        self.assertEqual(answer.status_code, 200, answer.text)
        return answer.json()

    def shipped(self, order):
        """Amazon has the order shipped (settled in the next report)."""
        with self.sandbox.lock:
            self.sandbox.book.ship_by_amazon(self.sandbox.book.orders[order.order_id])

    def close(self, **kwargs):
        """Amazon ends the settlement period now."""
        return self.admin("settlements", dict(kwargs, marketplace_id=DE))["settlement"]

    def poll_settlements(self):
        policy = self.backend._policy("settlement")
        policy.with_delay(channel=self.backend._channel("bulk"))._job_poll()
        return run_jobs(self.env, rounds=4)

    def settlements(self):
        return self.Settlement.search([("backend_id", "=", self.backend.id)])

    def exceptions(self):
        return self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id), ("state", "in", ("new",))]
        )

    def bank_line(self, settlement, amount):
        """The bank's statement line of a deposit (as a bank import makes)."""
        return self.env["account.bank.statement.line"].create(
            {
                "journal_id": self.bank.id,
                "date": settlement.deposit_date.date(),
                "payment_ref": f"AMAZON PAYMENTS EUROPE {settlement.name}",
                "amount": amount,
            }
        )

    def sold_and_settled(self):
        """Two orders (one merchant-fulfilled with a promotion, one FBA)
        settled; then a refund and a third order in the next settlement."""
        mfn = self.place(
            items=[
                {
                    "sku": "SKU-1",
                    "quantity": 2,
                    "price": "19.99",
                    "tax": "3.80",
                    "shipping": "4.50",
                },
                {"sku": "SKU-2", "quantity": 1, "price": "5.00", "promotion": "0.50"},
            ]
        )
        fba = self.place(
            fulfilled_by="AMAZON",
            ship_after=60,
            items=[{"sku": "SKU-2", "quantity": 3, "price": "5.00", "tax": "0.95"}],
        )
        self.poll()
        self.advance(120)
        self.shipped(mfn)
        self.poll()
        first = self.close()
        item = mfn.items[0].order_item_id
        self.admin(
            f"orders/{mfn.order_id}/refund",
            {"items": [{"orderItemId": item, "quantity": 1}]},
        )
        third = self.place(items=[{"sku": "SKU-1", "quantity": 1, "price": "19.99"}])
        self.poll()
        self.shipped(third)
        second = self.close()
        return (mfn, fba, third), (first, second)

    # -------------------------------------------------------------- tests
    def test_settlements_book_and_reconcile_to_the_cent(self):
        orders, remote = self.sold_and_settled()
        self.assertTrue(all(self.sale_of(o.order_id) for o in orders))
        self.poll_settlements()
        settlements = self.settlements()
        self.assertEqual(
            sorted(settlements.mapped("name")),
            sorted(r["settlement_id"] for r in remote),
        )
        kinds = set(settlements.line_ids.mapped("kind"))
        for kind in ("principal", "shipping", "tax", "promotion", "fee"):
            self.assertIn(kind, kinds)
        self.assertIn("fba_fee", kinds)
        self.assertIn("refund", kinds)
        self.assertIn("reserve", kinds)
        for settlement, summary in zip(
            settlements.sorted("name"),
            sorted(remote, key=lambda r: r["settlement_id"]),
            strict=True,
        ):
            move = settlement.move_id
            self.assertEqual(move.state, "posted", settlement.name)
            self.assertEqual(settlement.state, "booked")
            self.assertAlmostEqual(settlement.total_amount, float(summary["total"]), 2)
            self.assertEqual(settlement.difference, 0.0)
            deposit = move.line_ids.filtered(
                lambda aml: aml.account_id == self.backend._amazon_deposit_account()
            )
            self.assertAlmostEqual(
                deposit.amount_currency, float(summary["total"]), places=2
            )
            # every amount of the report is on the entry: it balances
            self.assertAlmostEqual(sum(move.line_ids.mapped("balance")), 0.0, 2)
        # every order's invoice is paid by the settlements
        for order in orders:
            sale = self.sale_of(order.order_id)
            invoice = sale.invoice_ids.filtered(lambda m: m.state == "posted")
            self.assertEqual(len(invoice), 1, order.order_id)
            self.assertIn(invoice.payment_state, ("paid", "in_payment"), order.order_id)
        # the fees, the FBA fees, the refund and the reserve on their accounts
        backend = self.backend
        lines = settlements.line_ids
        for kind, account in (
            ("fee", backend.amazon_fee_account_id),
            ("fba_fee", backend.amazon_fba_fee_account_id),
            ("refund", backend.amazon_refund_account_id),
            ("reserve", backend.amazon_reserve_account_id),
            ("promotion", backend.amazon_promotion_account_id),
        ):
            booked = settlements.move_id.line_ids.filtered(
                lambda aml, acc=account: aml.account_id == acc
            )
            expected = sum(
                lines.filtered(lambda li, k=kind: li.kind == k).mapped("amount")
            )
            self.assertAlmostEqual(
                -sum(booked.mapped("amount_currency")), expected, 2, kind
            )
        # the reserve withheld in the first is released in the second
        reserve = backend.amazon_reserve_account_id
        first, second = settlements.sorted("name")
        for settlement, sign in ((first, 1), (second, -1)):
            held = settlement.move_id.line_ids.filtered(
                lambda aml: aml.account_id == reserve
            )
            self.assertGreater(sign * sum(held.mapped("amount_currency")), 0)
        self.assertFalse(self.exceptions(), self.exceptions().mapped("message"))
        # the bank lines of the deposits come: each one matched, reconciled
        for settlement in settlements:
            self.bank_line(settlement, settlement.total_amount)
        self.poll_settlements()
        self.assertEqual(set(settlements.mapped("state")), {"deposited"})
        self.assertTrue(all(settlements.bank_line_id.mapped("is_reconciled")))

    def test_a_settlement_reported_twice_is_booked_once(self):
        order = self.place()
        self.poll()
        self.shipped(order)
        self.poll()
        summary = self.close(duplicate=True)
        self.assertEqual(len(summary["report_ids"]), 2)
        self.poll_settlements()
        # the second report comes an hour later; the overlap lists both
        self.advance(3700)
        self.poll_settlements()
        settlement = self.settlements()
        self.assertEqual(len(settlement), 1)
        self.assertTrue(settlement.move_id)
        # the booking again (a retry, a second click): still one entry
        self.backend._job_amazon_book_settlement(settlement)
        settlement.action_book()
        run_jobs(self.env)
        moves = self.env["account.move"].search(
            [("ref", "ilike", settlement.name), ("move_type", "=", "entry")]
        )
        self.assertEqual(moves, settlement.move_id)
        events = self.Event.search(
            [("backend_id", "=", self.backend.id), ("domain", "=", "settlement")]
        )
        self.assertEqual(len(events), 2)
        self.assertEqual(sorted(events.mapped("state")), ["done", "skipped_duplicate"])
        # each report read once: the second one only to learn its settlement
        self.assertEqual(len(self.sandbox.requests("/reports/2021-06-30/documents")), 2)

    def test_a_deposit_that_differs_opens_an_exception_with_the_amount(self):
        order = self.place()
        self.poll()
        self.shipped(order)
        self.poll()
        self.close()
        self.poll_settlements()
        settlement = self.settlements()
        self.assertEqual(settlement.state, "booked")
        # the bank received 0.37 less than Amazon says it paid
        line = self.bank_line(settlement, settlement.total_amount - 0.37)
        self.poll_settlements()
        self.assertEqual(settlement.state, "mismatch")
        self.assertAlmostEqual(settlement.deposit_difference, -0.37, 2)
        self.assertFalse(line.is_reconciled)
        exception = self.exceptions().filtered(
            lambda e: e.subject_key == f"deposit:{settlement.name}"
        )
        self.assertEqual(len(exception), 1)
        self.assertIn("-0.37 EUR differ", exception.message)
        self.assertIn(settlement.name, exception.message)

    def test_throttled_report_download_is_retried_not_failed(self):
        order = self.place()
        self.poll()
        self.shipped(order)
        self.poll()
        self.close()
        # Amazon answers the document call 429 QuotaExceeded once
        self.sandbox.inject_fault("throttle", times=1, operation="getReportDocument")
        self.poll_settlements()
        run_jobs(self.env, rounds=3)
        settlement = self.settlements()
        self.assertEqual(len(settlement), 1)
        self.assertTrue(settlement.move_id)
        self.assertEqual(len(self.sandbox.requests("/reports/2021-06-30/documents")), 2)
        failed = self.env["queue.job"].search([("state", "=", "failed")])
        self.assertFalse(failed, failed.mapped("exc_info"))
        self.assertFalse(self.exceptions(), self.exceptions().mapped("message"))

    def test_an_order_odoo_lacks_stops_the_booking_until_imported(self):
        order = self.place()
        with self.sandbox.lock:
            self.sandbox.book.tick()
        self.shipped(order)
        self.close()
        self.poll_settlements()
        settlement = self.settlements()
        self.assertEqual(len(settlement), 1)
        self.assertFalse(settlement.move_id)
        self.assertEqual(settlement.state, "imported")
        exception = self.exceptions().filtered(
            lambda e: e.subject_key == f"settlement:{settlement.name}"
        )
        self.assertEqual(len(exception), 1)
        self.assertIn(order.order_id, exception.message)
        # the order comes in; Retry books the settlement whole
        self.poll()
        self.assertTrue(self.sale_of(order.order_id))
        exception.action_retry()
        run_jobs(self.env, rounds=2)
        self.assertEqual(settlement.state, "booked")
        self.assertEqual(exception.state, "resolved")
        invoice = self.sale_of(order.order_id).invoice_ids
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_a_report_that_does_not_add_up_says_by_how_much(self):
        settlement = self.Settlement.create(
            {
                "name": "99990000017",
                "backend_id": self.backend.id,
                "currency_id": self.eur.id,
                "end_date": "2026-11-30 08:00:00",
                "deposit_date": "2026-12-03 08:00:00",
                "total_amount": -40.05,
                "line_ids": [
                    (
                        0,
                        0,
                        {
                            "kind": "fee",
                            "transaction_type": "other-transaction",
                            "description": "Subscription Fee",
                            "amount": -39.00,
                        },
                    ),
                    (
                        0,
                        0,
                        {
                            "kind": "fba_fee",
                            "transaction_type": "other-transaction",
                            "description": "FBA storage fee",
                            "amount": -1.00,
                        },
                    ),
                ],
            }
        )
        self.assertAlmostEqual(settlement.difference, -0.05, 2)
        settlement.action_book()
        run_jobs(self.env)
        move = settlement.move_id
        self.assertEqual(move.state, "posted")
        self.assertAlmostEqual(sum(move.line_ids.mapped("balance")), 0.0, 2)
        exception = self.exceptions().filtered(
            lambda e: e.subject_key == f"settlement-total:{settlement.name}"
        )
        self.assertEqual(len(exception), 1)
        self.assertIn("-0.05 EUR differ", exception.message)
