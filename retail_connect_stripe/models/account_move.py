from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        """A customer invoice posted for an order Stripe already paid is
        settled by that outstanding payment (see ``stripe_payment.py``); a
        credit note of an invoice Stripe paid is refunded on the card when the
        refund policy exports (``stripe_refund_out.py``)."""
        posted = super()._post(soft=soft)
        self.env["retail.backend"]._stripe_settle_outstanding(posted)
        self.env["retail.backend"]._stripe_queue_refunds(posted)
        return posted
