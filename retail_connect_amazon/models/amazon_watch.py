"""SKUs at oversell risk on Amazon, in the live overview and the metrics
(``retail.backend._watch_platform_figures``, the base's hook).

A merchant-fulfilled SKU is at risk when the quantity Amazon last accepted
for a marketplace is above Odoo's free quantity of the marketplace's
warehouse minus its safety stock (``amazon_listing.py``; the count is the
base's ``retail.backend._watch_oversell_risk``): a push is late or
refused, and Amazon may sell units Odoo does not have. FBA listings are
Amazon's own stock and never at risk here.
"""

from odoo import models


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _watch_platform_figures(self):
        result = super()._watch_platform_figures()
        mine = self.filtered(lambda b: b.platform == "amazon")
        if not mine:
            return result
        marketplaces = self.env["amazon.marketplace"].search(
            [("backend_id", "in", mine.ids)]
        )
        warehouse_of = {m.id: m._warehouse().id for m in marketplaces}
        self.env["amazon.listing"].flush_model()
        self.env.cr.execute(
            """
            SELECT l.backend_id, l.marketplace_id, l.product_id, l.sent_qty
              FROM amazon_listing l
             WHERE l.marketplace_id = ANY(%s) AND l.active
               AND l.fulfillment = 'MFN' AND l.sent_at IS NOT NULL
               AND l.sent_qty > 0
            """,
            [marketplaces.ids],
        )
        safety = {m.id: m.safety_stock for m in marketplaces}
        offers = [
            (
                backend_id,
                product_id,
                warehouse_of[marketplace_id],
                qty,
                safety[marketplace_id],
            )
            for backend_id, marketplace_id, product_id, qty in self.env.cr.fetchall()
            if warehouse_of.get(marketplace_id)
        ]
        figures = mine._watch_oversell_risk(offers)
        for backend_id, figure in figures.items():
            result.setdefault(backend_id, []).append(figure)
        return result
