from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        """A customer invoice posted for an order Stripe already paid is
        settled by that outstanding payment (see ``stripe_payment.py``)."""
        posted = super()._post(soft=soft)
        self.env["retail.backend"]._stripe_settle_outstanding(posted)
        return posted
