"""What an Amazon backend's promotion carries (retail_promotion.py).

Settings (customers, feed threshold, settlement invoicing), the FBA
warehouse and the settlement and deposit journals and account by natural key,
and the marketplaces by Amazon's marketplace id (``A1PA6795UKMFR9``), created
on the target when missing, with their currency, pricelist, sales team,
warehouse and safety stock. Made on first use, hence not carried: the service
products of shipping, tax and other charges, the default fee accounts, a
marketplace's customer.
"""

from odoo import models

from odoo.addons.retail_connect_base.models.retail_promotion import Mapping

SETTINGS = (
    "amazon_customer_strategy",
    "amazon_feed_threshold",
    "amazon_settlement_invoice",
)
RECORDS = (
    "amazon_fba_warehouse_id",
    "amazon_settlement_journal_id",
    "amazon_deposit_journal_id",
    "amazon_deposit_account_id",
)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _promotion_backend_fields(self):
        fields = super()._promotion_backend_fields()
        return fields + SETTINGS if self.platform == "amazon" else fields

    def _promotion_record_fields(self):
        fields = super()._promotion_record_fields()
        return fields + RECORDS if self.platform == "amazon" else fields

    def _promotion_mappings(self):
        mappings = super()._promotion_mappings()
        if self.platform != "amazon":
            return mappings
        return (
            *mappings,
            Mapping(
                "amazon_marketplaces",
                "amazon.marketplace",
                "code",
                self.env._("Amazon marketplace"),
                values=("name", "sequence", "active", "safety_stock"),
                records=("currency_id", "pricelist_id", "team_id", "warehouse_id"),
                create=True,
            ),
        )
