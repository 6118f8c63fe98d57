from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib.catalog import MARKETPLACES


class AmazonMarketplace(models.Model):
    """One Amazon marketplace the seller sells in, and how Odoo books it:
    its currency and pricelist, sales team, shipping warehouse and the stock
    kept back from what is published there."""

    _name = "amazon.marketplace"
    _description = "Amazon Marketplace"
    _order = "backend_id, sequence, name"

    backend_id = fields.Many2one(
        "retail.backend",
        required=True,
        ondelete="cascade",
        index=True,
        domain=[("platform", "=", "amazon")],
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    code = fields.Char(
        "Marketplace ID",
        required=True,
        help="Amazon's id of the marketplace (A1PA6795UKMFR9 is Amazon.de).",
    )
    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        help="The currency Amazon sells in there; orders are booked in it.",
    )
    pricelist_id = fields.Many2one(
        "product.pricelist",
        help="Pricelist of the marketplace's orders: in its currency.",
    )
    team_id = fields.Many2one(
        "crm.team", "Sales team", help="Empty: the backend's sales team."
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        help="Ships the orders the seller fulfils (MFN) and publishes its stock "
        "there; empty: the company's first warehouse.",
    )
    safety_stock = fields.Float(
        help="Units kept back from the quantity published on this marketplace."
    )
    partner_id = fields.Many2one(
        "res.partner",
        "Customer",
        help="With one customer per marketplace: the customer of its orders "
        "(created at the first order).",
    )

    _sql_constraints = [
        (
            "code_uniq",
            "UNIQUE(backend_id, code)",
            "A marketplace is listed once per backend.",
        )
    ]

    @api.onchange("code")
    def _onchange_code(self):
        known = MARKETPLACES.get((self.code or "").strip())
        if not known:
            return
        _region, _country, currency, name = known
        if not self.name:
            self.name = name
        if not self.currency_id:
            self.currency_id = self.env["res.currency"].search(
                [("name", "=", currency)], limit=1
            )

    @api.constrains("pricelist_id", "currency_id")
    def _check_pricelist_currency(self):
        for marketplace in self:
            pricelist = marketplace.pricelist_id
            if pricelist and pricelist.currency_id != marketplace.currency_id:
                raise ValidationError(
                    self.env._(
                        "The pricelist %(pricelist)s is in %(its)s, the marketplace "
                        "%(name)s sells in %(currency)s: pick a pricelist in "
                        "%(currency)s.",
                        pricelist=pricelist.name,
                        its=pricelist.currency_id.name,
                        name=marketplace.name,
                        currency=marketplace.currency_id.name,
                    )
                )

    @api.constrains("code", "backend_id")
    def _check_region(self):
        for marketplace in self:
            known = MARKETPLACES.get(marketplace.code)
            region = marketplace.backend_id.amazon_region
            if known and region and known[0] != region:
                raise ValidationError(
                    self.env._(
                        "%(name)s belongs to the %(its)s region, the backend "
                        "connects the %(region)s one: add it to a backend of its "
                        "region.",
                        name=marketplace.name,
                        its=known[0].upper(),
                        region=region.upper(),
                    )
                )

    def _warehouse(self):
        self.ensure_one()
        return self.warehouse_id or self.env["stock.warehouse"].search(
            [("company_id", "=", self.backend_id.company_id.id)], limit=1
        )
