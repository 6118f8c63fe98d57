"""Refunds from Stripe: each Stripe refund becomes one refund payment on a
credit note.

``charge.refunded`` only says *which* charge changed; its refunds are read
again from Stripe (``GET /v1/refunds?charge=``) under a lock on the charge,
and each succeeded refund is bound to its Odoo refund payment: duplicates,
events out of order or a stale event (one that predates a second refund)
all end in one credit note and one refund payment per Stripe refund. A refund
whose payment Odoo has not registered yet waits (retried) for it.

The credit note reverses the paid invoice: the whole invoice for a full
refund, else one line of the refunded amount on the invoice's income
account. A payment Odoo holds as outstanding (no invoice) is paid back
without a credit note.
"""

from odoo import models

from odoo.addons.retail_connect_base.lib.errors import (
    EventSkipped,
    TransientError,
)

from ..lib.client import to_amount


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _stripe_import_refunds(self, charge_id, event=None):
        """Book every succeeded refund of a charge not booked yet."""
        self.ensure_one()
        self._lock_external("stripe.charge", charge_id)
        bindings = self.env["retail.binding"]
        refunds = [
            refund
            for refund in self._stripe_client().list_all(
                "/v1/refunds", {"charge": charge_id}, operation="refunds.list"
            )
            if refund.get("status") == "succeeded"
            and not bindings._lookup(self, "account.payment", refund["id"])
        ]
        if not refunds:
            raise EventSkipped(
                "skipped_duplicate", f"every refund of {charge_id} is booked"
            )
        booked = self.env["account.payment"]
        for refund in sorted(refunds, key=lambda r: (r["created"], r["id"])):
            booked |= self._stripe_book_refund(refund)
        return booked[-1:]

    def _stripe_book_refund(self, refund):
        intent = refund.get("payment_intent")
        binding = self.env["retail.binding"]._lookup(self, "account.payment", intent)
        payment = binding._record() if binding else None
        if not payment:
            # its payment's events are late: wait for them
            raise TransientError(
                f"Refund {refund['id']}: the payment {intent} is not registered in "
                "Odoo yet",
                seconds=30,
            )
        currency = self._stripe_currency(
            refund["currency"], f"charge:{refund['charge']}"
        )
        amount = to_amount(refund["amount"], refund["currency"])
        date = self._stripe_datetime(refund["created"]).date()
        memo = f"Stripe {refund['id']}"
        invoice = payment.reconciled_invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice"
        )[:1]
        if invoice:
            credit = self._stripe_credit_note(invoice, amount, date, memo)
            wizard = (
                self.env["account.payment.register"]
                .with_context(active_model="account.move", active_ids=credit.ids)
                .create(
                    {
                        "journal_id": payment.journal_id.id,
                        "amount": amount,
                        "currency_id": currency.id,
                        "payment_date": date,
                        "communication": memo,
                    }
                )
            )
            refund_payment = wizard._create_payments()
        else:
            refund_payment = self.env["account.payment"].create(
                {
                    "payment_type": "outbound",
                    "partner_type": "customer",
                    "partner_id": payment.partner_id.id,
                    "amount": amount,
                    "currency_id": currency.id,
                    "journal_id": payment.journal_id.id,
                    "date": date,
                    "memo": memo,
                    "company_id": self.company_id.id,
                }
            )
            refund_payment.action_post()
        self.env["retail.binding"]._bind(
            self,
            refund_payment,
            refund["id"],
            external_ref=refund["id"],
            remote_updated_at=self._stripe_datetime(refund["created"]),
            extra={"charge": refund["charge"], "payment_intent": intent},
        )
        return refund_payment

    def _stripe_credit_note(self, invoice, amount, date, memo):
        """A posted credit note of ``amount`` against ``invoice``."""
        full = not invoice.currency_id.compare_amounts(amount, invoice.amount_total)
        values = {"ref": memo, "invoice_date": date, "date": date}
        if full:
            credit = invoice._reverse_moves([values])
        else:
            line = invoice.invoice_line_ids.filtered("account_id")[:1]
            credit = self.env["account.move"].create(
                dict(
                    values,
                    move_type="out_refund",
                    partner_id=invoice.partner_id.id,
                    currency_id=invoice.currency_id.id,
                    company_id=invoice.company_id.id,
                    journal_id=invoice.journal_id.id,
                    reversed_entry_id=invoice.id,
                    invoice_origin=invoice.invoice_origin,
                    invoice_line_ids=[
                        (
                            0,
                            0,
                            {
                                "name": memo,
                                "account_id": line.account_id.id,
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [(5,)],
                            },
                        )
                    ],
                )
            )
        credit.action_post()
        return credit
