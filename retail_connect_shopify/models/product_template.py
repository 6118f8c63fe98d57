from odoo import api, fields, models

# Fields whose change makes a published template worth exporting again.
TEMPLATE_FIELDS = {
    "name",
    "list_price",
    "default_code",
    "barcode",
    "description_sale",
    "active",
    "is_storable",
    "attribute_line_ids",
    "shopify_backend_ids",
}
VARIANT_FIELDS = {
    "default_code",
    "barcode",
    "active",
    "product_template_attribute_value_ids",
}


class ProductTemplate(models.Model):
    _inherit = "product.template"

    shopify_backend_ids = fields.Many2many(
        "retail.backend",
        "shopify_backend_product_template_rel",
        "product_tmpl_id",
        "backend_id",
        string="Publish on Shopify",
        domain=[("platform", "=", "shopify")],
        copy=False,
        help="Shopify shops this product is published on. Odoo exports it, its "
        "options and variants there (when the product policy exports).",
    )

    @api.model_create_multi
    def create(self, vals_list):
        templates = super().create(vals_list)
        # sudo: whoever creates products may not read Retail Connect backends
        templates.sudo().filtered("shopify_backend_ids")._shopify_mark_dirty()
        return templates

    def write(self, vals):
        result = super().write(vals)
        if TEMPLATE_FIELDS.intersection(vals):
            self._shopify_mark_dirty()
        return result

    def unlink(self):
        gone = self.env["shopify.product.export"]._bound_products(self)
        result = super().unlink()
        if gone:
            self.env["shopify.product.export"]._enqueue_archive(gone)
        return result

    def _shopify_mark_dirty(self):
        """Mark these templates for export to the Shopify backends concerned."""
        self.env["shopify.product.export"]._mark(self)


class ProductProduct(models.Model):
    _inherit = "product.product"

    @api.model_create_multi
    def create(self, vals_list):
        products = super().create(vals_list)
        products.product_tmpl_id._shopify_mark_dirty()
        return products

    def write(self, vals):
        result = super().write(vals)
        if VARIANT_FIELDS.intersection(vals):
            self.product_tmpl_id._shopify_mark_dirty()
        return result

    def unlink(self):
        templates = self.product_tmpl_id
        self.env["retail.binding"].sudo().search(
            [
                ("backend_id.platform", "=", "shopify"),
                ("res_model", "=", "product.product"),
                ("res_id", "in", self.ids),
            ]
        ).unlink()
        result = super().unlink()
        templates.exists()._shopify_mark_dirty()
        return result


class ProductTemplateAttributeLine(models.Model):
    _inherit = "product.template.attribute.line"

    def write(self, vals):
        result = super().write(vals)
        if {"value_ids", "attribute_id"}.intersection(vals):
            self.product_tmpl_id._shopify_mark_dirty()
        return result


class ProductTemplateAttributeValue(models.Model):
    _inherit = "product.template.attribute.value"

    def write(self, vals):
        result = super().write(vals)
        if "price_extra" in vals:
            self.product_tmpl_id._shopify_mark_dirty()
        return result


class ProductAttribute(models.Model):
    _inherit = "product.attribute"

    def write(self, vals):
        result = super().write(vals)
        if "name" in vals:
            self.attribute_line_ids.product_tmpl_id._shopify_mark_dirty()
        return result


class ProductAttributeValue(models.Model):
    _inherit = "product.attribute.value"

    def write(self, vals):
        result = super().write(vals)
        if "name" in vals:
            self.pav_attribute_line_ids.product_tmpl_id._shopify_mark_dirty()
        return result
