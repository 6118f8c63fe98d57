"""Stock published on Shopify against what Odoo can sell, per SKU and location.

The question a retailer asks on a busy day: does Shopify offer more than Odoo
has? Odoo's side is what the stock push would publish now (free quantity
minus safety stock minus what Shopify committed to orders Odoo does not hold,
see ``shopify.stock.level``); Shopify's side is the available quantity Odoo
last read or wrote.
"""

from collections import defaultdict

from odoo import _, fields, models
from odoo.exceptions import UserError


class ShopifyStockLevel(models.Model):
    _inherit = "shopify.stock.level"

    odoo_target = fields.Integer(
        "Odoo can sell",
        compute="_compute_published",
        help="What the next push publishes: free quantity at the location's "
        "warehouse, minus the policy's safety stock, minus the units Shopify "
        "committed to orders Odoo has not imported yet.",
    )
    published_gap = fields.Integer(
        "Over-offered by",
        compute="_compute_published",
        help="Shopify's available quantity minus what Odoo can sell (positive: "
        "Shopify offers units that do not exist until the next push).",
    )
    over_offered = fields.Boolean(
        compute="_compute_published", search="_search_over_offered"
    )

    def _compute_published(self):
        targets = self._published_targets()
        for level in self:
            target = targets.get(level.id, 0)
            level.odoo_target = target
            level.published_gap = level.remote_qty - target
            level.over_offered = level.remote_qty > target

    def _published_targets(self):
        """level id -> what Odoo would publish, computed per backend and
        warehouse in batches (stock figures need no Inventory rights here:
        the user reads a report of the channel, not the quants)."""
        targets = {}
        levels_sudo = self.sudo()
        by_backend = defaultdict(levels_sudo.browse)
        for level in levels_sudo:
            by_backend[level.backend_id] |= level
        for backend, levels in by_backend.items():
            policy = backend._policy("inventory")
            for warehouse in levels.location_id.warehouse_id:
                # one batched free-quantity computation per warehouse, which
                # the per-level ``_available`` then reads from the cache
                levels.product_id.with_context(warehouse_id=warehouse.id).mapped(
                    "free_qty"
                )
            held = levels._held(backend)
            for level in levels:
                targets[level.id] = level._target(policy, held)
        return targets

    def _search_over_offered(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Filter on whether Shopify over-offers, nothing else."))
        wanted = (operator == "=") == value
        levels = self.search([])
        targets = levels._published_targets()
        return [
            (
                "id",
                "in",
                [
                    level.id
                    for level in levels
                    if (level.remote_qty > targets.get(level.id, 0)) == wanted
                ],
            )
        ]
