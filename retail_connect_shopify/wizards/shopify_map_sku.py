from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.retail_connect_base.models.common import USER, check_group


class ShopifyMapSku(models.TransientModel):
    """Fix for an "unknown SKU" exception: bind the SKU to a product, retry."""

    _name = "shopify.map.sku"
    _description = "Map a Shopify SKU to a product"

    exception_id = fields.Many2one("retail.sync.exception", required=True)
    sku = fields.Char("SKU", compute="_compute_line")
    title = fields.Char(compute="_compute_line", help="Title of the order line.")
    price = fields.Float(compute="_compute_line", help="Unit price on the order.")
    product_id = fields.Many2one(
        "product.product",
        required=True,
        help="A product created from here starts with the line's SKU, title and price.",
    )

    @api.depends("exception_id")
    def _compute_line(self):
        for wizard in self:
            fix = wizard.exception_id.sudo().fix_data or {}
            wizard.sku = fix.get("sku")
            wizard.title = fix.get("title")
            wizard.price = fix.get("price") or 0.0

    def action_map_and_retry(self):
        check_group(self.env, USER)
        self.ensure_one()
        exception = self.exception_id
        fix = exception.fix_data or {}
        if not fix.get("sku") and not fix.get("variant_id"):
            raise UserError(self.env._("This exception is not about a SKU."))
        backend = exception.backend_id
        bindings = self.env["retail.binding"].sudo()
        if fix.get("variant_id"):
            existing = bindings._lookup_record(backend, self.product_id)
            if existing and existing.external_id != fix["variant_id"]:
                raise UserError(
                    self.env._(
                        "%(product)s is already bound to another Shopify variant.",
                        product=self.product_id.display_name,
                    )
                )
            bindings._bind(
                backend, self.product_id, fix["variant_id"], external_ref=fix["sku"]
            )
        elif not self.product_id.default_code:
            self.product_id.default_code = fix["sku"]
        else:
            raise UserError(
                self.env._(
                    "%(product)s already has the reference %(code)s: pick a "
                    "product without one, or change the SKU on Shopify.",
                    product=self.product_id.display_name,
                    code=self.product_id.default_code,
                )
            )
        # a note, not a message: it needs no sender address, so the fix
        # completes whatever the user's mail settings
        exception._message_log(
            body=self.env._(
                "SKU %(sku)s mapped to %(product)s.",
                sku=fix.get("sku"),
                product=self.product_id.display_name,
            )
        )
        exception.action_retry()
        return {"type": "ir.actions.act_window_close"}
