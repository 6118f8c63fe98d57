"""What a Shopify backend's promotion carries (retail_promotion.py).

- settings (order confirmation, POS orders, backfill, catalogue...) and the
  sales teams, pricelist and POS warehouse, by natural key;
- locations → warehouses: a location by its Shopify gid, its warehouse by
  xmlid or code. A location the target backend has not listed yet is a line of
  what to do first (fetch the locations). From another shop (a development
  store to the live one), a location is the target shop's of the same name;
- payment gateways → journals: a gateway by its name (``paypal``), created on
  the target when missing; its journal by code, its payment method by journal,
  type and name, "booked by" another backend by platform and name;
- product variants: a variant's binding (its gid, with its SKU for people) to
  the product of the same reference or barcode. Between two shops variant ids
  mean nothing: the target binds its own by SKU (backfill), and none is
  carried.

The service products made on first use (shipping, tips, custom items...)
are not carried: the target makes its own.
"""

from odoo import models

from odoo.addons.retail_connect_base.models import natural_key
from odoo.addons.retail_connect_base.models.retail_promotion import Mapping

SETTINGS = (
    "shopify_confirm_on",
    "shopify_backfill_days",
    "shopify_import_test_orders",
    "shopify_pos_orders",
    "shopify_read_all_orders",
    "shopify_invoice_paid_orders",
    "shopify_catalog_export",
    "shopify_catalog_import",
)
RECORDS = (
    "shopify_team_id",
    "shopify_pricelist_id",
    "shopify_pos_team_id",
    "shopify_pos_warehouse_id",
)
LOCATIONS = "shopify_locations"
VARIANTS = "shopify_variants"


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _promotion_backend_fields(self):
        fields = super()._promotion_backend_fields()
        return fields + SETTINGS if self.platform == "shopify" else fields

    def _promotion_record_fields(self):
        fields = super()._promotion_record_fields()
        return fields + RECORDS if self.platform == "shopify" else fields

    def _promotion_mappings(self):
        mappings = super()._promotion_mappings()
        if self.platform != "shopify":
            return mappings
        _ = self.env._
        return (
            *mappings,
            Mapping(
                LOCATIONS,
                "shopify.location",
                "shopify_id",
                _("Shopify location"),
                records=("warehouse_id",),
                missing=_(
                    "this backend does not list it: fetch the locations from "
                    "Shopify first (Fetch locations), then import the file again."
                ),
            ),
            Mapping(
                "shopify_gateways",
                "shopify.payment.gateway",
                "name",
                _("Shopify payment gateway"),
                records=("journal_id", "payment_method_line_id", "booked_by_id"),
                create=True,
            ),
        )

    def _promotion_export(self):
        config = super()._promotion_export()
        if self.platform != "shopify":
            return config
        config["shopify_shop"] = self.shopify_shop_domain
        config[VARIANTS] = variants = []
        bindings = self.env["retail.binding"].search(
            [("backend_id", "=", self.id), ("res_model", "=", "product.product")],
            order="external_ref, id",
        )
        for binding in bindings:
            product = binding._record()
            # a variant bound by its options, without reference nor barcode:
            # the target's catalogue export binds it again
            if not product or not (
                product.default_code
                or product.barcode
                or product.get_external_id().get(product.id)
            ):
                continue
            variants.append(
                {
                    "variant": binding.external_id,
                    "sku": binding.external_ref,
                    "extra": binding.extra,
                    "product": natural_key.describe(product),
                }
            )
        return config

    def _promotion_plan(self, config):
        if self.platform != "shopify":
            return super()._promotion_plan(config)
        same_shop = config.get("shopify_shop") == self.shopify_shop_domain
        if not same_shop:
            config = self._shopify_promotion_from_other_shop(config)
        plan = super()._promotion_plan(config)
        if same_shop:
            self._shopify_promotion_plan_variants(plan, config.get(VARIANTS) or ())
        return plan

    def _shopify_promotion_from_other_shop(self, config):
        """A location of another shop is this shop's of the same name."""
        here = {
            location.name: location.shopify_id
            for location in self.env["shopify.location"]
            .with_context(active_test=False)
            .search([("backend_id", "=", self.id)])
        }
        mappings = dict(config.get("mappings") or {})
        mappings[LOCATIONS] = [
            dict(row, shopify_id=here.get(row.get("name"), row.get("shopify_id")))
            for row in mappings.get(LOCATIONS) or ()
        ]
        return dict(config, mappings=mappings)

    def _shopify_promotion_plan_variants(self, plan, variants):
        bindings = self.env["retail.binding"].sudo()
        for entry in variants:
            what = self.env._(
                "Shopify variant %(sku)s", sku=entry.get("sku") or entry.get("variant")
            )
            product = plan.resolve("product.product", entry.get("product"), what)
            if product is None:
                continue
            binding = bindings._lookup(self, "product.product", entry["variant"])
            if binding and binding.res_id == product.id:
                continue
            other = bindings._lookup_record(self, product)
            if other:
                plan.missing.append(
                    (
                        what,
                        self.env._(
                            "%(product)s is bound here to another variant "
                            "(%(sku)s): unbind it first.",
                            product=product.display_name,
                            sku=other.external_ref or other.external_id,
                        ),
                    )
                )
                continue
            plan.changes.append(
                (what, binding.record_name or "—", product.display_name)
            )
            values = {"res_id": product.id, "external_ref": entry.get("sku")}
            if not binding:
                values |= {
                    "backend_id": self.id,
                    "res_model": "product.product",
                    "external_id": entry["variant"],
                    "extra": entry.get("extra"),
                }
            plan.writes.append((binding, values))
