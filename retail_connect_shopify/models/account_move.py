from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        """An invoice (credit note) posted for an imported order is settled by
        the order's Shopify payments (refunds) booked before it existed
        (``shopify_payment.py``)."""
        posted = super()._post(soft=soft)
        self.env["retail.backend"]._shopify_settle_outstanding(posted)
        return posted
