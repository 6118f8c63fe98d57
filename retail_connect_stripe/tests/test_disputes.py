"""Disputes: one dispute record on the order, an activity due on the evidence
deadline, the withdrawal and the fee booked once, reversed when won."""

from datetime import datetime, timezone
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.exception import RetryableJobError

from .common import StripeCase, run_jobs


@tagged("post_install", "-at_install")
class TestStripeDisputes(StripeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fee_account = cls.env["account.account"].create(
            {"name": "Stripe fees", "code": "6279902", "account_type": "expense"}
        )
        cls.owner = cls.env["res.users"].create(
            {
                "name": "Dispute desk",
                "login": "dispute-desk@example.com",
                "groups_id": [
                    (4, cls.env.ref("retail_connect_base.group_user").id),
                    (4, cls.env.ref("account.group_account_invoice").id),
                ],
            }
        )
        cls.backend.write(
            {
                "stripe_fee_account_id": cls.fee_account.id,
                "stripe_dispute_user_id": cls.owner.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.addCleanup(self.admin, "config", {"available_after": 2 * 86400})

    # ------------------------------------------------------------ helpers
    def paid_order(self):
        sale = self.order()
        paid = self.pay(12000, metadata={"odoo_order": sale.name})
        self.flush()
        run_jobs(self.env)
        return sale, paid["charge"]["id"]

    def disputes(self):
        return self.env["stripe.dispute"].search([("backend_id", "=", self.backend.id)])

    def dispute_exception(self, dispute, states=("new", "in_progress", "resolved")):
        return self.env["retail.sync.exception"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("subject_key", "=", f"dispute-open:{dispute.name}"),
                ("state", "in", states),
            ]
        )

    def fees_booked(self):
        return sum(
            self.env["account.move.line"]
            .search([("account_id", "=", self.fee_account.id)])
            .mapped("balance")
        )

    def receivable(self, dispute):
        return sum(
            dispute.move_ids.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable"
            ).mapped("balance")
        )

    def settle(self, **flush):
        self.flush(**flush)
        run_jobs(self.env, rounds=3)

    # -------------------------------------------------------------- tests
    def test_a_dispute_created_by_a_concurrent_worker_is_a_retry(self):
        """Two events of one dispute on two workers: the second one's snapshot,
        taken before the first committed, does not show the dispute even under
        the lock (see test_create_race for two real transactions)."""
        _sale, charge = self.paid_order()
        self.admin("disputes", {"charge": charge, "reason": "fraudulent"})
        self.settle()
        dispute = self.disputes()
        self.assertEqual(len(dispute), 1)
        Dispute = type(self.env["stripe.dispute"])
        stale = patch.object(Dispute, "search", lambda model, *a, **k: model.browse())
        with stale, mute_logger("odoo.sql_db"):
            with self.assertRaises(RetryableJobError):
                self.backend._stripe_dispute_event(dispute.name)
        # the retry sees it: one dispute, still booked once
        self.assertEqual(self.disputes(), dispute)
        self.assertEqual(len(dispute.move_ids), 1)

    def test_a_won_dispute_is_recorded_booked_and_reversed_once(self):
        sale, charge = self.paid_order()
        opened = self.admin("disputes", {"charge": charge, "reason": "fraudulent"})
        self.settle(order="reverse", duplicate_every=1)
        dispute = self.disputes()
        self.assertEqual(len(dispute), 1)
        self.assertEqual(dispute.name, opened["id"])
        self.assertEqual(dispute.sale_order_id, sale)
        self.assertEqual(sale.stripe_dispute_count, 1)
        self.assertEqual((dispute.status, dispute.amount), ("needs_response", 120.0))
        due = datetime.fromtimestamp(
            opened["evidence_details"]["due_by"], tz=timezone.utc
        )
        self.assertEqual(dispute.evidence_due_by, due.replace(tzinfo=None))
        # the dispute owner's exception, its activity due on the deadline
        exception = self.dispute_exception(dispute)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.owner_user_id, self.owner)
        self.assertEqual(
            (exception.res_model, exception.res_id), (dispute._name, dispute.id)
        )
        activity = exception.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.owner)
        self.assertEqual(activity.date_deadline, due.date())
        # the withdrawal: 120 owed by the customer again, the 15 fee
        self.assertEqual(len(dispute.move_ids), 1)
        self.assertAlmostEqual(self.receivable(dispute), 120.0)
        self.assertAlmostEqual(self.fees_booked(), 15.0)
        self.assertEqual(dispute.fee, 15.0)

        # evidence submitted (as the Dashboard does), then the bank decides
        self.backend._stripe_client().post(
            f"/v1/disputes/{opened['id']}",
            {"evidence": {"product_description": "A course"}},
            operation="test",
        )
        self.settle()
        self.assertEqual(dispute.status, "under_review")
        self.admin(f"disputes/{opened['id']}/close", {"outcome": "won"})
        self.settle(duplicate_every=1)
        self.assertEqual(dispute.status, "won")
        self.assertEqual(len(dispute.move_ids), 2)
        self.assertAlmostEqual(self.receivable(dispute), 0.0)
        self.assertAlmostEqual(self.fees_booked(), 15.0, msg="Stripe keeps the fee")
        self.assertEqual(exception.state, "resolved", "resolved once won")
        self.assertFalse(exception.activity_ids, "done once closed")
        # replayed: nothing more
        self.events().sudo().action_replay()
        run_jobs(self.env, rounds=2)
        self.assertEqual(len(self.disputes()), 1)
        self.assertEqual(len(dispute.move_ids), 2)
        failed = self.events().filtered(lambda e: e.state in ("failed", "dead"))
        self.assertFalse(failed, failed.mapped("error"))

    def test_a_lost_dispute_keeps_the_withdrawal(self):
        _sale, charge = self.paid_order()
        opened = self.admin("disputes", {"charge": charge})
        self.admin(f"disputes/{opened['id']}/close", {"outcome": "lost"})
        self.settle(order="reverse")
        dispute = self.disputes()
        self.assertEqual(dispute.status, "lost")
        self.assertEqual(len(dispute.move_ids), 1)
        self.assertAlmostEqual(self.receivable(dispute), 120.0)
        self.assertFalse(self.dispute_exception(dispute), "nothing held: no work left")

    def test_a_dispute_on_an_unknown_payment_opens_an_exception(self):
        paid = self.pay(11111)  # matches nothing: not registered
        self.flush()
        run_jobs(self.env)
        opened = self.admin("disputes", {"charge": paid["charge"]["id"]})
        self.settle()
        run_jobs(self.env, rounds=4)
        self.assertFalse(self.disputes())
        exception = self.env["retail.sync.exception"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("subject_key", "=", f"dispute:{opened['id']}"),
            ]
        )
        self.assertTrue(exception)
        self.assertIn(paid["payment_intent"]["id"], exception[0].message)

    def test_a_payout_with_a_dispute_reconciles_and_books_the_fee_once(self):
        self.admin("config", {"available_after": 0})
        _sale, charge = self.paid_order()
        self.admin("disputes", {"charge": charge})
        self.settle()
        self.pay(30000, metadata={"odoo_order": self.order(price=300.0).name})
        self.settle()
        payout = self.admin("payouts")
        self.admin(f"payouts/{payout['id']}/paid")
        self.settle()
        bindings = self.Binding.search(
            [
                ("backend_id", "=", self.backend.id),
                ("res_model", "=", "account.bank.statement"),
            ]
        )
        statement = self.env["account.bank.statement"].browse(bindings.res_id)
        self.assertEqual(len(statement), 1)
        settled = statement.line_ids.filtered(
            lambda line: not line.payment_ref.startswith("Stripe payout")
        )
        self.assertEqual(len(settled), 3, settled.mapped("payment_ref"))
        self.assertTrue(all(settled.mapped("is_reconciled")))
        txns = self.backend._stripe_client().get(
            "/v1/balance_transactions",
            {"payout": payout["id"], "limit": 100},
            operation="test",
        )["data"]
        self.assertAlmostEqual(
            self.fees_booked(), sum(t["fee"] for t in txns) / 100, places=2
        )
        self.assertTrue(self.disputes().move_ids.line_ids.filtered("reconciled"))
        exceptions = self.env["retail.sync.exception"].search(
            [
                ("backend_id", "=", self.backend.id),
                # the open dispute's own work item (answer it) is expected
                ("subject_key", "not like", "dispute-open:%"),
            ]
        )
        self.assertFalse(exceptions, exceptions.mapped("message"))
