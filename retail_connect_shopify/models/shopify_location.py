from odoo import fields, models

from ..lib import documents as gql


class ShopifyLocation(models.Model):
    """A Shopify location and the Odoo warehouse whose stock it publishes."""

    _name = "shopify.location"
    _description = "Shopify Location"
    _order = "backend_id, name"

    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    name = fields.Char(required=True)
    shopify_id = fields.Char("Shopify ID", required=True)
    active = fields.Boolean(default=True)
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        help="Its available stock (minus the safety stock) is pushed to this "
        "location; empty: nothing is pushed.",
    )

    _sql_constraints = [
        ("shopify_uniq", "UNIQUE(backend_id, shopify_id)", "A location is listed once.")
    ]

    def _fetch(self, backend):
        """Create or update the locations of ``backend`` from Shopify."""
        existing = {loc.shopify_id: loc for loc in backend.shopify_location_ids}
        for node in backend._shopify_client().paginate(
            gql.LOCATIONS,
            {"first": 50},
            operation="Locations",
            path=("locations",),
            cost=5,
        ):
            values = {"name": node["name"], "active": node.get("isActive", True)}
            if node["id"] in existing:
                existing[node["id"]].write(values)
            else:
                self.create(dict(values, backend_id=backend.id, shopify_id=node["id"]))
        return True
