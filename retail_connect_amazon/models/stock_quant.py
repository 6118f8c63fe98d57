from odoo import api, models


class StockQuant(models.Model):
    _inherit = "stock.quant"

    @api.model
    def _retail_mark_stock(self, products, location):
        result = super()._retail_mark_stock(products, location)
        self.env["amazon.listing"]._mark_dirty(products, location)
        return result
