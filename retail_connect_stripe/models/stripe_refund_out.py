"""Refunds from Odoo: a credit note of an invoice Stripe paid is refunded on
the card (``POST /v1/refunds``), when the backend's refund policy exports
(direction *Export* or *Both ways*; the default, *Import*, leaves refunds to
Stripe's Dashboard).

Posting such a credit note queues one job (``_job_stripe_refund``). Under a
lock on the charge (the lock ``charge.refunded`` takes, so its webhook waits
for this job and then finds the refund bound), the job:

1. adopts a refund Stripe already made for this credit note
   (``metadata[odoo_credit_note_id]``: a run that reached Stripe and then
   failed), so a new job (an exception's Retry) never refunds twice;
2. refuses more than what remains refundable on the charge
   (``amount_captured - amount_refunded``, read again), with an exception
   saying both amounts;
3. ``POST /v1/refunds`` with the PaymentIntent, the credit note's amount due
   in the smallest currency unit and an ``Idempotency-Key`` naming this job's
   refund of this credit note (the job's retries send it again and Stripe
   replays its first answer, https://docs.stripe.com/api/idempotent_requests);
4. binds the credit note to the refund and, once the refund has succeeded,
   pays the credit note back with one refund payment in the clearing journal
   bound to the refund id (``stripe_refund.py``): the ``charge.refunded`` /
   ``charge.refund.updated`` webhooks that follow book nothing more. A
   pending refund is paid back when ``charge.refund.updated`` says it
   succeeded; a failed one reopens the credit note (``stripe_refund.py``).
"""

import json

from odoo import models

from odoo.addons.queue_job.fields import JobEncoder
from odoo.addons.retail_connect_base.lib.errors import ValidationSyncError

from ..lib.client import to_amount, to_minor

LIVE_REFUND = ("pending", "succeeded", "requires_action")


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    # --------------------------------------------------------------- queue
    def _stripe_queue_refunds(self, moves):
        """Queue the Stripe refund of each posted credit note whose invoice
        a Stripe payment of a backend exporting refunds paid."""
        credits = moves.filtered(
            lambda m: m.move_type == "out_refund" and m.reversed_entry_id
        )
        if not credits:
            return
        backends = self.sudo().search(
            [("platform", "=", "stripe"), ("state", "=", "active")]
        )
        for backend in backends:
            if not backend._policy("refund")._allows_export():
                continue
            for credit in credits.filtered(
                lambda m, b=backend: m.company_id == b.company_id
            ):
                if backend._stripe_invoice_payments(credit.reversed_entry_id):
                    backend._stripe_delay_refund(credit)

    def _stripe_delay_refund(self, credit):
        self.with_delay(
            channel=self._channel("realtime"),
            identity_key=f"stripe_refund_{self.id}_{credit.id}",
            description=f"{self.name}: refund {credit.name} through Stripe",
        )._job_stripe_refund(credit.id)

    def _stripe_refund_call(self, credit):
        """The job call of ``credit``'s refund, for an exception's Retry."""
        return {
            "model_name": self._name,
            "method_name": "_job_stripe_refund",
            "records": json.dumps(self, cls=JobEncoder),
            "args": json.dumps([credit.id]),
            "kwargs": "{}",
            "channel": self._channel("realtime"),
            "name": f"{self.name}: refund {credit.name} through Stripe",
        }

    def _job_stripe_refund(self, credit_id):
        self.ensure_one()
        credit = self.env["account.move"].browse(credit_id)
        return self._run_outbound(
            "refund",
            f"credit_note:{credit_id}",
            self._stripe_push_refund,
            credit,
            record=credit.exists() or None,
        )

    # ------------------------------------------------------------ pushing
    def _stripe_invoice_payments(self, invoice):
        """``[(payment, binding)]`` of the Stripe payments (PaymentIntents)
        of this backend reconciled with ``invoice``."""
        invoice = invoice.sudo()
        payments = invoice._get_reconciled_payments() | invoice.matched_payment_ids
        bindings = (
            self.env["retail.binding"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("res_model", "=", "account.payment"),
                    ("res_id", "in", payments.ids),
                    ("external_id", "=like", "pi\\_%"),
                ],
                order="id",
            )
        )
        return [(payments.browse(b.res_id), b) for b in bindings]

    def _stripe_push_refund(self, credit):
        """Refund ``credit`` on the card that paid its invoice (idempotent)."""
        self.ensure_one()
        bindings = self.env["retail.binding"]
        credit = credit.exists()
        if not credit or credit.state != "posted":
            return "nothing to refund: the credit note is gone or not posted"
        bound = bindings._lookup_record(self, credit)
        if bound:
            return f"already refunded as {bound.external_id}"
        if credit.currency_id.is_zero(credit.amount_residual):
            return f"{credit.name} is paid back already"
        paid = self._stripe_invoice_payments(credit.reversed_entry_id)
        if not paid:
            raise ValidationSyncError(
                self.env._(
                    "%(credit)s: no Stripe payment of %(backend)s paid the invoice "
                    "%(invoice)s; pay the customer back another way.",
                    credit=credit.name,
                    backend=self.name,
                    invoice=credit.reversed_entry_id.name,
                )
            )
        client = self._stripe_client()
        # the newest payment first: the one most likely to have money left
        candidates = []
        for _payment, binding in reversed(paid):
            charge_id = (binding.extra or {}).get("charge")
            if not charge_id:
                intent = client.get(
                    f"/v1/payment_intents/{binding.external_id}",
                    {},
                    operation="payment_intent.retrieve",
                )
                charge_id = intent.get("latest_charge")
            if charge_id:
                candidates.append((binding.external_id, charge_id))
        left_total = 0
        for intent_id, charge_id in candidates:
            self._lock_external("stripe.charge", charge_id)
            adopted = self._stripe_refund_made_for(client, charge_id, credit)
            if adopted:
                return self._stripe_bind_pushed(credit, adopted)
            charge = client.get(
                f"/v1/charges/{charge_id}", {}, operation="charge.retrieve"
            )
            if charge["currency"].upper() != credit.currency_id.name:
                continue
            amount = to_minor(credit.amount_residual, charge["currency"])
            left = charge["amount_captured"] - charge["amount_refunded"]
            left_total += max(left, 0)
            if amount > left:
                continue
            refund = client.post(
                "/v1/refunds",
                {
                    "payment_intent": intent_id,
                    "amount": amount,
                    "reason": "requested_by_customer",
                    "metadata": {
                        "odoo_credit_note": credit.name,
                        "odoo_credit_note_id": credit.id,
                    },
                },
                operation="refund.create",
                idempotency_key=self._idempotency_key("refund", credit.id),
            )
            return self._stripe_bind_pushed(credit, refund)
        currency = credit.currency_id
        raise ValidationSyncError(
            self.env._(
                "%(credit)s asks Stripe to refund %(amount)s %(currency)s, more "
                "than what remains refundable on its payment (%(left)s "
                "%(currency)s). Reduce the credit note, or pay the rest back "
                "another way (Register payment on the credit note).",
                credit=credit.name,
                amount=f"{credit.amount_residual:.2f}",
                left=f"{to_amount(left_total, currency.name):.2f}",
                currency=currency.name,
            ),
            fix={"credit_note": credit.id},
        )

    def _stripe_refund_made_for(self, client, charge_id, credit):
        """The refund of ``charge_id`` made for ``credit`` and not failed."""
        for refund in client.list_all(
            "/v1/refunds", {"charge": charge_id}, operation="refunds.list"
        ):
            named = (refund.get("metadata") or {}).get("odoo_credit_note_id")
            if named == str(credit.id) and refund.get("status") in LIVE_REFUND:
                return refund
        return None

    def _stripe_bind_pushed(self, credit, refund):
        """Bind ``credit`` to its Stripe refund; pay it back once succeeded."""
        self.env["retail.binding"]._bind(
            self,
            credit,
            refund["id"],
            external_ref=refund["id"],
            remote_updated_at=self._stripe_datetime(refund["created"]),
            extra={"charge": refund["charge"], "status": refund["status"]},
        )
        credit._message_log(
            body=self.env._(
                "Refunded through Stripe: %(refund)s (%(status)s).",
                refund=refund["id"],
                status=refund["status"],
            )
        )
        if refund["status"] == "succeeded":
            self._stripe_book_refund(refund)
        return f"{credit.name} refunded as {refund['id']} ({refund['status']})"
