"""Odoo's Sales Analysis, by channel: orders per channel per day."""

from odoo import fields, models


class SaleReport(models.Model):
    _inherit = "sale.report"

    retail_backend_id = fields.Many2one("retail.backend", "Channel", readonly=True)

    def _select_additional_fields(self):
        res = super()._select_additional_fields()
        res["retail_backend_id"] = "s.retail_backend_id"
        return res

    def _group_by_sale(self):
        return f"{super()._group_by_sale()},\n            s.retail_backend_id"
