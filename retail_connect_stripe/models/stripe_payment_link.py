"""Odoo's own Stripe provider (``payment_stripe``) and the connector: one
payment per PaymentIntent, whichever records it first.

``payment_stripe`` keeps the PaymentIntent id as its transaction's
``provider_reference`` and, once the transaction is done, its post-processing
creates an ``account.payment`` (``payment.transaction._create_payment``).

- The transaction's payment exists when the connector reads the
  PaymentIntent: the connector binds that payment to the PaymentIntent and
  registers nothing (its payouts then reconcile against it).
- The connector registered the PaymentIntent first: Odoo's post-processing
  links the transaction to the connector's payment instead of creating one.

Both sides take the connector's lock on the PaymentIntent. Without
``payment_stripe`` installed no transaction has a Stripe provider, and this
does nothing.
"""

from odoo import models


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _stripe_transaction_payment(self, intent_id):
        """The payment Odoo's ``payment_stripe`` created for ``intent_id``
        (its transaction done and post-processed), or None."""
        self.ensure_one()
        transaction = (
            self.env["payment.transaction"]
            .sudo()
            .search(
                [
                    ("provider_reference", "=", intent_id),
                    ("provider_code", "=", "stripe"),
                    ("operation", "not in", ("validation", "refund")),
                    ("company_id", "=", self.company_id.id),
                    ("payment_id", "!=", False),
                ],
                limit=1,
            )
        )
        return transaction.payment_id or None

    def _stripe_bound_payment(self, intent_id):
        """The payment the connector registered for ``intent_id``, or None
        (under the lock its import takes)."""
        self.ensure_one()
        self._lock_external("account.payment", intent_id)
        binding = (
            self.env["retail.binding"]
            .sudo()
            ._lookup(self, "account.payment", intent_id)
        )
        return binding._record() if binding else None


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _create_payment(self, **extra_create_values):
        """A PaymentIntent the connector registered already: link its payment
        to the transaction, create none."""
        self.ensure_one()
        if (
            self.provider_code == "stripe"
            and self.provider_reference
            and self.operation not in ("validation", "refund")
        ):
            backends = (
                self.env["retail.backend"]
                .sudo()
                .search(
                    [
                        ("platform", "=", "stripe"),
                        ("company_id", "=", self.company_id.id),
                    ]
                )
            )
            for backend in backends:
                payment = backend._stripe_bound_payment(self.provider_reference)
                if payment:
                    payment.sudo().payment_transaction_id = self
                    self.payment_id = payment
                    return payment
        return super()._create_payment(**extra_create_values)
