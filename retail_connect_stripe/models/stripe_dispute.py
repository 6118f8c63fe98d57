"""Disputes (chargebacks): one ``stripe.dispute`` per Stripe dispute, on the
order and the payment it disputes.

The five ``charge.dispute.*`` events (created, updated, funds_withdrawn,
funds_reinstated, closed) are hints: the dispute is read again
(``GET /v1/disputes/:id``) under a lock on its id and its record updated, so
duplicates and events out of order end in its current state. A dispute on a
payment Odoo has not registered waits for it (its events may be late), then
opens an exception.

A new dispute gives the backend's dispute owner an activity due on the
evidence deadline (``evidence_details.due_by``, "Date by which evidence must
be submitted", https://docs.stripe.com/api/disputes/object); a closed
dispute marks it done.

Money: each balance transaction of the dispute (``balance_transactions``,
"List of zero, one, or two balance transactions that show funds withdrawn
and reinstated to your Stripe account as a result of this dispute", the
contract) is one journal entry, bound to the transaction id so it is booked
once:

- the withdrawal (``reporting_category=dispute``): the disputed amount back
  on the customer's receivable, the dispute fee on the fee account, the
  net out of the payment's outstanding account (where Stripe's money waits
  for its payout);
- the reinstatement of a won dispute (``dispute_reversal``): the mirror, the
  fee back only when Stripe gives it back.

A payout that carries these transactions matches their outstanding lines
(``stripe_payout.py``), fees included, so nothing is booked twice.
"""

from odoo import Command, api, fields, models

from odoo.addons.retail_connect_base.lib.errors import (
    EventSkipped,
    TransientError,
    ValidationSyncError,
)
from odoo.addons.retail_connect_base.models.common import create_or_retry

from ..lib.client import to_amount

STATUSES = [
    ("warning_needs_response", "Inquiry: needs response"),
    ("warning_under_review", "Inquiry: under review"),
    ("warning_closed", "Inquiry: closed"),
    ("needs_response", "Needs response"),
    ("under_review", "Under review"),
    ("won", "Won"),
    ("lost", "Lost"),
]
CLOSED = ("warning_closed", "won", "lost")


class StripeDispute(models.Model):
    _name = "stripe.dispute"
    _description = "Stripe dispute"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "create_date desc, id desc"

    name = fields.Char("Dispute", required=True, readonly=True, index=True)
    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    status = fields.Selection(STATUSES, readonly=True, tracking=True)
    reason = fields.Char(readonly=True)
    amount = fields.Monetary("Disputed amount", readonly=True)
    fee = fields.Monetary("Dispute fees", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    evidence_due_by = fields.Datetime("Evidence due by", readonly=True)
    payment_intent = fields.Char(readonly=True)
    charge = fields.Char(readonly=True)
    payment_id = fields.Many2one("account.payment", readonly=True)
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    sale_order_id = fields.Many2one("sale.order", "Order", readonly=True, index=True)
    invoice_id = fields.Many2one("account.move", "Invoice", readonly=True)
    move_ids = fields.Many2many(
        "account.move", string="Journal entries", readonly=True, copy=False
    )

    _sql_constraints = [
        (
            "name_uniq",
            "UNIQUE(backend_id, name)",
            "A Stripe dispute is recorded once per backend.",
        )
    ]

    def _owner(self):
        backend = self.backend_id
        return (
            backend.stripe_dispute_user_id or backend._policy("payment").owner_user_id
        )

    def _stripe_apply(self, remote):
        """Take Stripe's current state; True when something changed."""
        self.ensure_one()
        code = remote["currency"]
        due = (remote.get("evidence_details") or {}).get("due_by")
        values = {
            "status": remote["status"],
            "reason": remote.get("reason"),
            "amount": to_amount(remote["amount"], code),
            "evidence_due_by": self.backend_id._stripe_datetime(due) if due else False,
        }
        changed = {
            name: value
            for name, value in values.items()
            if self[name] != value and not (not self[name] and not value)
        }
        if not changed:
            return False
        self.write(changed)
        exception = self._stripe_exception()
        if "evidence_due_by" in changed and self.evidence_due_by:
            exception.activity_ids.write({"date_deadline": self.evidence_due_by.date()})
        if "status" in changed and self.status in CLOSED:
            self._stripe_closed(exception)
        return True


class SaleOrder(models.Model):
    _inherit = "sale.order"

    stripe_dispute_ids = fields.One2many("stripe.dispute", "sale_order_id")
    stripe_dispute_count = fields.Integer(compute="_compute_stripe_dispute_count")

    @api.depends("stripe_dispute_ids")
    def _compute_stripe_dispute_count(self):
        for order in self:
            order.stripe_dispute_count = len(order.stripe_dispute_ids)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    stripe_dispute_user_id = fields.Many2one(
        "res.users",
        "Dispute owner",
        help="Gets an activity, due on the evidence deadline, for each new "
        "Stripe dispute (else the payment policy's exception owner).",
    )

    # -------------------------------------------------------------- events
    def _stripe_dispute_event(self, dispute_id, event=None):
        """Record the dispute's current state and book its money (idempotent)."""
        self.ensure_one()
        self._lock_external("stripe.dispute", dispute_id)
        remote = self._stripe_client().get(
            f"/v1/disputes/{dispute_id}", {}, operation="dispute.retrieve"
        )
        Dispute = self.env["stripe.dispute"].sudo()
        dispute = Dispute.search(
            [("backend_id", "=", self.id), ("name", "=", dispute_id)], limit=1
        )
        created = not dispute
        if created:
            values = self._stripe_dispute_values(remote)
            dispute = create_or_retry(Dispute, values)
        changed = dispute._stripe_apply(remote)
        booked = self._stripe_book_dispute(dispute, remote)
        if created:
            dispute._stripe_opened()
        elif not (changed or booked):
            raise EventSkipped(
                "skipped_duplicate", f"{dispute_id} is recorded as it is on Stripe"
            )
        return dispute

    def _stripe_dispute_values(self, remote):
        intent = remote.get("payment_intent")
        binding = self.env["retail.binding"]._lookup(self, "account.payment", intent)
        payment = binding._record() if binding else None
        if not payment:
            raise TransientError(
                self.env._(
                    "Stripe dispute %(dispute)s is on the payment %(intent)s, which "
                    "Odoo has not registered. Register it (its exception's Assign "
                    "payment), then press Retry.",
                    dispute=remote["id"],
                    intent=intent or remote.get("charge"),
                ),
                seconds=30,
            )
        sale_id = (binding.extra or {}).get("sale_order")
        invoice = payment.reconciled_invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice"
        )[:1]
        sale = self.env["sale.order"].browse(sale_id).exists() if sale_id else None
        sale = sale or invoice.invoice_line_ids.sale_line_ids.order_id[:1]
        return {
            "name": remote["id"],
            "backend_id": self.id,
            "payment_intent": intent,
            "charge": remote.get("charge"),
            "payment_id": payment.id,
            "partner_id": payment.partner_id.commercial_partner_id.id,
            "sale_order_id": sale.id if sale else False,
            "invoice_id": invoice.id or False,
            "currency_id": self._stripe_currency(
                remote["currency"], f"dispute:{remote['id']}"
            ).id,
        }

    # ------------------------------------------------------------ booking
    def _stripe_book_dispute(self, dispute, remote):
        """One posted entry per balance transaction of the dispute not booked."""
        bindings = self.env["retail.binding"]
        entries = self.env["account.move"]
        for txn in remote.get("balance_transactions") or []:
            if not isinstance(txn, dict) or bindings._lookup(
                self, "account.move", txn["id"]
            ):
                continue
            entry = self._stripe_dispute_entry(dispute, txn)
            bindings._bind(
                self,
                entry,
                txn["id"],
                external_ref=dispute.name,
                remote_updated_at=self._stripe_datetime(txn["created"]),
                extra={"dispute": dispute.name, "category": txn["reporting_category"]},
            )
            entries |= entry
        if entries:
            fees = sum(
                txn["fee"]
                for txn in remote.get("balance_transactions") or []
                if isinstance(txn, dict)
            )
            dispute.write(
                {
                    "move_ids": [(4, move.id) for move in entries],
                    "fee": to_amount(fees, remote["currency"]),
                }
            )
        return entries

    def _stripe_dispute_entry(self, dispute, txn):
        fee_account = self.stripe_fee_account_id
        clearing = dispute.payment_id.outstanding_account_id
        journal = self.env["account.journal"].search(
            [("type", "=", "general"), ("company_id", "=", self.company_id.id)],
            limit=1,
        )
        if not (fee_account and clearing and journal):
            raise ValidationSyncError(
                self.env._(
                    "%(backend)s cannot book dispute %(dispute)s: it needs a fee "
                    "account (Stripe tab), an outstanding receipts account on the "
                    "Stripe journal's incoming payment method and a miscellaneous "
                    "journal. Set them, then press Retry.",
                    backend=self.name,
                    dispute=dispute.name,
                )
            )
        code = txn["currency"]
        currency = self._stripe_currency(code, f"dispute:{dispute.name}")
        company = self.company_id
        date = self._stripe_datetime(txn["created"]).date()

        def line(name, account, amount, partner=None):
            return (
                0,
                0,
                {
                    "name": name,
                    "account_id": account.id,
                    "partner_id": partner.id if partner else False,
                    "currency_id": currency.id,
                    "amount_currency": amount,
                    "balance": currency._convert(
                        amount, company.currency_id, company, date
                    ),
                },
            )

        label = f"Stripe {txn['reporting_category']} {dispute.name}"
        partner = dispute.partner_id
        lines = [
            # withdrawn (amount < 0): the customer owes it again
            line(
                label,
                partner.property_account_receivable_id,
                -to_amount(txn["amount"], code),
                partner,
            ),
            line(label, clearing, to_amount(txn["net"], code), partner),
        ]
        if txn["fee"]:
            lines.append(
                line(
                    f"Stripe fee {txn['id']}", fee_account, to_amount(txn["fee"], code)
                )
            )
        entry = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": journal.id,
                "date": date,
                "ref": f"{label} ({txn['id']})",
                "company_id": company.id,
                "line_ids": lines,
            }
        )
        entry.action_post()
        return entry

    # ------------------------------------------------------------- payouts
    def _stripe_payout_dispute_line(self, txn, currency, label):
        """The payout's statement line of a dispute's balance transaction: its
        net against the dispute entry's outstanding line (amount and fee are
        booked there); a dispute not booked yet waits for it."""
        binding = self.env["retail.binding"]._lookup(self, "account.move", txn["id"])
        entry = binding._record() if binding else None
        if not entry:
            raise TransientError(
                f"Payout: the dispute transaction {txn['id']} is not booked in Odoo "
                "yet",
                seconds=60,
            )
        match = entry.line_ids.filtered(
            lambda aml: (
                aml.account_id.reconcile
                and aml.account_id.account_type != "asset_receivable"
                and not aml.reconciled
            )
        )[:1]
        net = to_amount(txn["net"], txn["currency"])
        date = self._stripe_datetime(txn["created"]).date()
        company = self.company_id
        balance = currency._convert(net, company.currency_id, company, date)
        account = match.account_id or self.stripe_journal_id.suspense_account_id
        partner = entry.line_ids.partner_id[:1]
        values = {
            "journal_id": self.stripe_journal_id.id,
            "date": date,
            "amount": net,
            "payment_ref": label,
            "ref": txn["id"],
            "partner_id": partner.id,
            "line_ids": [
                Command.create(
                    {
                        "name": label,
                        "account_id": self.stripe_journal_id.default_account_id.id,
                        "partner_id": partner.id,
                        "currency_id": currency.id,
                        "amount_currency": net,
                        "balance": balance,
                    }
                ),
                Command.create(
                    {
                        "name": label,
                        "account_id": account.id,
                        "partner_id": partner.id,
                        "currency_id": currency.id,
                        "amount_currency": -net,
                        "balance": -balance,
                    }
                ),
            ],
        }
        problem = None if match else f"{txn['id']} ({label}): {entry.name} is settled"
        return {"txn": txn, "values": values, "match": match, "problem": problem}
