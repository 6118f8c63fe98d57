"""SKUs at oversell risk on Shopify, in the live overview and the metrics
(``retail.backend._watch_platform_figures``, the base's hook).

A SKU is at risk when Shopify offers more of it, at a location, than Odoo's
free quantity of the location's warehouse minus the inventory policy's
safety stock (``shopify_stock_level.py``; the count is the base's
``retail.backend._watch_oversell_risk``): a push is late or failed, and
Shopify may sell units Odoo does not have.
"""

from odoo import models


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _watch_platform_figures(self):
        result = super()._watch_platform_figures()
        mine = self.filtered(lambda b: b.platform == "shopify")
        if not mine:
            return result
        for model in ("shopify.stock.level", "shopify.location", "retail.sync.policy"):
            self.env[model].flush_model()
        # what Shopify offers, as Odoo last read or set it
        self.env.cr.execute(
            """
            SELECT l.backend_id, l.product_id, sl.warehouse_id, l.remote_qty,
                   COALESCE(p.safety_stock, 0)
              FROM shopify_stock_level l
              JOIN shopify_location sl ON sl.id = l.location_id
              LEFT JOIN retail_sync_policy p ON p.backend_id = l.backend_id
                                            AND p.domain = 'inventory'
             WHERE l.backend_id IN %s AND l.remote_known AND l.remote_qty > 0
               AND sl.warehouse_id IS NOT NULL
            """,
            [tuple(mine.ids)],
        )
        figures = mine._watch_oversell_risk(self.env.cr.fetchall())
        for backend_id, figure in figures.items():
            result.setdefault(backend_id, []).append(figure)
        return result
