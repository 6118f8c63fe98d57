"""SKUs at oversell risk on Amazon, in the live overview and the metrics
(``retail.backend._watch_platform_figures``, the base's hook).

A merchant-fulfilled SKU is at risk when the quantity Amazon last accepted
for a marketplace is above Odoo's free quantity of the marketplace's
warehouse minus its safety stock (``amazon_listing.py``): a push is late or
refused, and Amazon may sell units Odoo does not have. FBA listings are
Amazon's own stock and never at risk here.
"""

import math

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
        rows = [
            (backend_id, marketplace_id, product_id, qty)
            for backend_id, marketplace_id, product_id, qty in self.env.cr.fetchall()
            if warehouse_of.get(marketplace_id)
        ]
        free = self._free_quantities({(r[2], warehouse_of[r[1]]) for r in rows})
        safety = {m.id: m.safety_stock for m in marketplaces}
        at_risk = {backend.id: set() for backend in mine}
        for backend_id, marketplace_id, product_id, offered in rows:
            available = free[(product_id, warehouse_of[marketplace_id])]
            if offered > max(0, math.floor(available - safety[marketplace_id])):
                at_risk[backend_id].add(product_id)
        for backend in mine:
            result.setdefault(backend.id, []).append(
                {
                    "metric": "oversell_risk_skus",
                    "label": self.env._("SKUs at oversell risk"),
                    "value": len(at_risk[backend.id]),
                    "help": "SKUs a channel offers above Odoo's free quantity "
                    "minus its safety stock.",
                    "total": "sum",
                }
            )
        return result
