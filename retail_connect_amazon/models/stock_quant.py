from odoo import models


class StockQuant(models.Model):
    _inherit = "stock.quant"

    def _update_available_quantity(self, product_id, location_id, *args, **kwargs):
        result = super()._update_available_quantity(
            product_id, location_id, *args, **kwargs
        )
        self.env["amazon.listing"]._mark_dirty(product_id, location_id)
        return result

    def _update_reserved_quantity(self, product_id, location_id, *args, **kwargs):
        result = super()._update_reserved_quantity(
            product_id, location_id, *args, **kwargs
        )
        self.env["amazon.listing"]._mark_dirty(product_id, location_id)
        return result
