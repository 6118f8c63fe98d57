"""What a 3PL backend's promotion carries (retail_promotion.py): the
transport, the adjustment limits and the warehouses the 3PL runs, by natural
key (xmlid, else code). The discrepancy location is made on the first
adjustment: not carried. The SFTP host, user and folders belong to an
environment: not carried."""

from odoo import models

from .retail_backend import PLATFORM

SETTINGS = ("threepl_transport", "threepl_adjust_max_qty", "threepl_adjust_max_value")
RECORDS = ("threepl_warehouse_ids",)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _promotion_backend_fields(self):
        fields = super()._promotion_backend_fields()
        return fields + SETTINGS if self.platform == PLATFORM else fields

    def _promotion_record_fields(self):
        fields = super()._promotion_record_fields()
        return fields + RECORDS if self.platform == PLATFORM else fields
