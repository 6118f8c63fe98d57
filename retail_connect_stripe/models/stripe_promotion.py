"""What a Stripe backend's promotion carries (retail_promotion.py): the
dispute hold setting, the account's currency, the clearing and bank journals
and the fee account, by natural key (currency by name, journal by code,
account by code)."""

from odoo import models

SETTINGS = ("stripe_dispute_hold",)
RECORDS = (
    "stripe_currency_id",
    "stripe_journal_id",
    "stripe_bank_journal_id",
    "stripe_fee_account_id",
)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _promotion_backend_fields(self):
        fields = super()._promotion_backend_fields()
        return fields + SETTINGS if self.platform == "stripe" else fields

    def _promotion_record_fields(self):
        fields = super()._promotion_record_fields()
        return fields + RECORDS if self.platform == "stripe" else fields
