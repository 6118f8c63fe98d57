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
        bindings = self.env["retail.binding"]
        booked = bindings._lookup(self, "account.payment", refund["id"])
        if booked and booked._record():
            return booked._record()
        intent = refund.get("payment_intent")
        binding = bindings._lookup(self, "account.payment", intent)
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
        # a refund Odoo asked for (stripe_refund_out.py) pays its credit note
        credit = self._stripe_refund_credit(refund)
        if credit or invoice:
            credit = credit or self._stripe_credit_note(invoice, amount, date, memo)
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

    def _stripe_refund_credit(self, refund):
        """The credit note Odoo refunded by ``refund``: bound to it, or named
        by its metadata (a refund job that reached Stripe, then failed before
        its transaction was kept: bound now)."""
        bindings = self.env["retail.binding"]
        binding = bindings._lookup(self, "account.move", refund["id"])
        if binding and binding._record():
            return binding._record()
        named = (refund.get("metadata") or {}).get("odoo_credit_note_id")
        if not (named or "").isdigit():
            return None
        credit = self.env["account.move"].browse(int(named)).exists()
        if (
            not credit
            or credit.move_type != "out_refund"
            or credit.state != "posted"
            or credit.company_id != self.company_id
            or bindings._lookup_record(self, credit)
        ):
            return None
        bindings._bind(
            self,
            credit,
            refund["id"],
            external_ref=refund["id"],
            remote_updated_at=self._stripe_datetime(refund["created"]),
            extra={"charge": refund["charge"], "status": refund["status"]},
        )
        return credit

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

    # ------------------------------------------------------ refund outcomes
    def _stripe_refund_updated(self, refund_id, charge_id=None, event=None):
        """``charge.refund.updated``: the refund is read again; succeeded (a
        pending refund that settled) is booked, failed or canceled is undone;
        anything else waits for its next update. It comes under the payment
        policy: a refund Odoo made (or booked) is always followed, one made in
        Stripe only when the refund policy imports."""
        self.ensure_one()
        if charge_id:
            self._lock_external("stripe.charge", charge_id)
        refund = self._stripe_client().get(
            f"/v1/refunds/{refund_id}", {}, operation="refund.retrieve"
        )
        status = refund.get("status")
        booked = self.env["retail.binding"]._lookup(self, "account.payment", refund_id)
        payment = booked._record() if booked else None
        ours = payment or self._stripe_refund_credit(refund)
        if not ours and not self._policy("refund")._allows_import():
            raise EventSkipped(
                "skipped_policy",
                f"{refund_id} was made in Stripe and the refund policy does not import",
            )
        if status == "succeeded":
            if payment:
                raise EventSkipped(
                    "skipped_duplicate", f"{refund_id} is booked as {payment.name}"
                )
            return self._stripe_book_refund(refund)
        if status in ("failed", "canceled"):
            return self._stripe_refund_failed(refund, payment)
        raise EventSkipped(
            "skipped_stale", f"{refund_id} is {status}: waiting for its outcome"
        )

    def _stripe_refund_failed(self, refund, payment):
        """A refund that failed (or was canceled): the money is back in the
        Stripe balance (its ``failure_balance_transaction``), the customer was
        not paid. Its refund payment is cancelled, so its credit note is open
        again, and an exception says what to do."""
        if payment and payment.state == "canceled":
            raise EventSkipped("skipped_duplicate", f"{refund['id']} is undone already")
        credit = self._stripe_refund_credit(refund)
        if payment:
            credit = (
                credit
                or payment.reconciled_invoice_ids.filtered(
                    lambda m: m.move_type == "out_refund"
                )[:1]
            )
            payment.action_draft()
            payment.action_cancel()
        elif not credit:
            raise EventSkipped(
                "skipped_policy",
                f"{refund['id']} is {refund['status']} and was never booked",
            )
        if credit:
            # a Retry refunds it anew (a new refund, a new Idempotency-Key)
            bindings = self.env["retail.binding"]
            bindings._lookup(self, "account.move", refund["id"]).unlink()
        amount = to_amount(refund["amount"], refund["currency"])
        policy = self._policy("refund")
        again = credit and policy.direction in ("out", "both")
        _ = self.env._
        todo = (
            _(
                "Pay the customer back another way (Register payment on "
                "%(credit)s), then resolve this; or, once their card works, "
                "press Retry to refund it through Stripe again.",
                credit=credit.name,
            )
            if again
            else _(
                "Pay the customer back another way (Register payment on the "
                "credit note, or a new refund in Stripe's Dashboard), then "
                "resolve this."
            )
        )
        message = _(
            "Stripe refund %(refund)s of %(amount)s %(currency)s %(status)s "
            "(%(reason)s): the money is back in the Stripe balance and the "
            "customer was not paid. %(undone)s\n%(todo)s",
            refund=refund["id"],
            amount=f"{amount:.2f}",
            currency=refund["currency"].upper(),
            status=refund["status"],
            reason=refund.get("failure_reason") or "no reason given",
            undone=_(
                "Its refund payment %(payment)s is cancelled and %(credit)s is "
                "open again.",
                payment=payment.name if payment else "-",
                credit=credit.name if credit else "-",
            ),
            todo=todo,
        )
        subject = f"credit_note:{credit.id}" if credit else f"refund:{refund['id']}"
        self.env["retail.sync.exception"]._open_or_bump(
            self,
            domain="refund",
            category="remote",
            message=message,
            subject_key=subject,
            record=credit or None,
            fix={"refund": refund["id"], "credit_note": credit.id if credit else None},
            retry_job=self._stripe_refund_call(credit) if again else None,
        )
        return credit or payment
