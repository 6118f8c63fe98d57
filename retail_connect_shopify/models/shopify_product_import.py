from collections import Counter

from odoo import SUPERUSER_ID, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, html2plaintext

from odoo.addons.retail_connect_base.lib.errors import (
    AuthError,
    MappingError,
    SyncError,
)
from odoo.addons.retail_connect_base.models.common import check_group

from ..lib import documents as gql
from .retail_backend import IMPORT_CONTEXT

PAGE = 10  # products per page: 10 x 25 variants stay under 1000 cost points
DEFAULT_TITLE = [("Title", ["Default Title"])]


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    # ------------------------------------------------------------ actions
    def action_shopify_import_catalog(self):
        check_group(self.env)
        for backend in self:
            backend.with_user(SUPERUSER_ID).with_delay(
                channel=backend._channel("bulk"),
                identity_key=f"shopify_catalog_in_{backend.id}",
                description=f"{backend.name}: import products",
            )._job_shopify_import_products()
        return self._notify(
            self.env._("Catalog import queued (bulk channel)."), "success"
        )

    def _poll(self, policy, since, until):
        if self.platform == "shopify" and policy.domain == "product":
            if policy._owns():
                self._shopify_import_products(since=since)
            return []
        return super()._poll(policy, since, until)

    # --------------------------------------------------------------- jobs
    def _job_shopify_import_products(self):
        """Import the Shopify catalog when the product policy makes Shopify
        the owner (system of record ``platform``, direction in or both).

        Pages ``products`` (10 a page, 25 variants each, so a query stays
        under Shopify's 1000-point limit; a product with more variants is
        read again 100 at a time). Each product creates or updates one
        template bound to its GID, matched first by binding, then by the SKUs
        of its variants (so an Odoo product with the same SKU is updated,
        never duplicated). Options become variant-creating attributes and
        values; Odoo builds every combination and archives those Shopify does
        not sell. The template price is the lowest variant price, the other
        prices become per-value extras; prices that are not additive that way
        open a sync exception. Everything runs with ``retail_connect_origin``
        so nothing imported is exported back to this shop.

        Limits: images, metafields, collections, vendor, type, tags, weights,
        taxes and quantities are not imported (stock has its own policy);
        archived Shopify products are only applied to templates Odoo already
        has; products deleted on Shopify are not detected; the regular poll
        (policy interval) imports products updated since its watermark.
        """
        self.ensure_one()
        return self._run_outbound(
            "product", "catalog:import", self._shopify_import_catalog
        )

    def _shopify_import_catalog(self):
        policy = self._policy("product")
        if not (policy._owns() and policy._allows_import()):
            return "the product policy does not import"
        counts = self._shopify_import_products()
        return ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or (
            "no products"
        )

    def _shopify_import_products(self, since=None):
        self.ensure_one()
        me = self.with_context(retail_connect_origin=self.id, **IMPORT_CONTEXT)
        client = me._shopify_client()
        variables = {"first": PAGE}
        if since:
            variables["q"] = f"updated_at:>='{since.isoformat()}Z'"
        counts = Counter()
        exceptions = me.env["retail.sync.exception"]
        for node in client.paginate(
            gql.PRODUCTS_IMPORT,
            variables,
            operation="ProductsImport",
            path=("products",),
            cost=800,
        ):
            variants = node["variants"]
            nodes = variants["nodes"]
            if (variants.get("pageInfo") or {}).get("hasNextPage"):
                nodes = list(
                    client.paginate(
                        gql.PRODUCT_VARIANTS,
                        {"id": node["id"], "first": 100},
                        operation="ProductVariants",
                        path=("product", "variants"),
                        cost=310,
                    )
                )
            subject = f"product:{node['id']}"
            try:
                with me.env.cr.savepoint():
                    outcome = me._shopify_import_product(node, nodes)
            except AuthError:
                raise
            except (SyncError, UserError) as err:
                exceptions._open_or_bump(
                    me,
                    domain="product",
                    category=getattr(err, "category", "validation"),
                    message=f"Shopify product {node['title']} ({node['handle']}): "
                    f"{getattr(err, 'message', None) or err}",
                    subject_key=subject,
                )
                outcome = "failed"
            else:
                me._shopify_resolve(subject)
            counts[outcome] += 1
        return counts

    # ------------------------------------------------------------ import
    def _shopify_import_product(self, node, variant_nodes):
        """Create or update the template of one Shopify product (idempotent)."""
        bindings = self.env["retail.binding"]
        gid = node["id"]
        self._lock_external("product.template", gid)
        binding = bindings._lookup(self, "product.template", gid)
        tmpl = binding._record() if binding else None
        digest = bindings._digest(
            {
                "product": {
                    k: v for k, v in node.items() if k not in ("updatedAt", "variants")
                },
                "variants": variant_nodes,
            }
        )
        if tmpl and binding.payload_digest == digest:
            return "unchanged"
        tmpl = tmpl or self._shopify_match_template(node, variant_nodes)
        if not tmpl and node["status"] == "ARCHIVED":
            return "skipped"
        options = [(o["name"], list(o["values"])) for o in node.get("options") or []]
        if options == DEFAULT_TITLE:
            options = []
        names = [name for name, _values in options]
        selected = {
            v["id"]: {o["name"]: o["value"] for o in v["selectedOptions"]}
            for v in variant_nodes
        }
        attributes = {
            name: self._shopify_attribute(name, values) for name, values in options
        }
        currency = (tmpl or self.env["product.template"]).currency_id or (
            self.company_id.currency_id
        )
        prices = {v["id"]: float(v["price"] or 0) for v in variant_nodes}
        base = min(prices.values(), default=0.0)
        extras, rest = {}, {key: price - base for key, price in prices.items()}
        for name, values in options:
            for value in values:
                having = [k for k, sel in selected.items() if sel.get(name) == value]
                extras[(name, value)] = min((rest[k] for k in having), default=0.0)
            for key, sel in selected.items():
                rest[key] -= extras.get((name, sel.get(name)), 0.0)
        values = {
            "name": node["title"],
            "list_price": currency.round(base),
            "description_sale": html2plaintext(node.get("descriptionHtml") or "")
            or False,
            "active": node["status"] != "ARCHIVED",
        }
        if tmpl:
            changed = {
                k: v
                for k, v in values.items()
                if (
                    float_compare(tmpl[k], v, precision_rounding=currency.rounding)
                    if k == "list_price"
                    else tmpl[k] != v
                )
            }
            if self not in tmpl.shopify_backend_ids:
                changed["shopify_backend_ids"] = [(4, self.id)]
            if changed:
                tmpl.write(changed)
            self._shopify_import_lines(tmpl, attributes)
        else:
            tmpl = self.env["product.template"].create(
                dict(
                    values,
                    type="consu",
                    is_storable=any(
                        (v.get("inventoryItem") or {}).get("tracked")
                        for v in variant_nodes
                    ),
                    company_id=False,
                    shopify_backend_ids=[(4, self.id)],
                    attribute_line_ids=[
                        (
                            0,
                            0,
                            {
                                "attribute_id": attribute.id,
                                "value_ids": [(6, 0, pavs.ids)],
                            },
                        )
                        for attribute, pavs in attributes.values()
                    ],
                )
            )
        for ptav in tmpl.attribute_line_ids.product_template_value_ids:
            extra = currency.round(
                extras.get((ptav.attribute_id.name, ptav.name), ptav.price_extra)
            )
            if ptav.attribute_id.name in names and float_compare(
                ptav.price_extra, extra, precision_rounding=currency.rounding
            ):
                ptav.price_extra = extra
        self._shopify_import_variants(
            tmpl, names, variant_nodes, selected, values["active"]
        )
        self._shopify_rebind(
            tmpl, gid, external_ref=node["handle"], payload_digest=digest
        )
        wrong = [
            key for key, left in rest.items() if abs(left) >= currency.rounding / 2
        ]
        if wrong:
            self.env["retail.sync.exception"]._open_or_bump(
                self,
                domain="product",
                category="mapping",
                message=f"{tmpl.display_name}: Shopify's variant prices are not a "
                "base price plus one extra per option value; check the prices of "
                f"{len(wrong)} variant(s) in Odoo.",
                subject_key=f"product:{gid}:prices",
                record=tmpl,
            )
        else:
            self._shopify_resolve(f"product:{gid}:prices", tmpl)
        return "imported"

    def _shopify_match_template(self, node, variant_nodes):
        """The Odoo template of a product not bound yet: by variant binding,
        then by SKU."""
        bindings = self.env["retail.binding"]
        for variant in variant_nodes:
            binding = bindings._lookup(self, "product.product", variant["id"])
            if binding and binding._record():
                return binding._record().product_tmpl_id
        skus = [v["sku"] for v in variant_nodes if v.get("sku")]
        if not skus:
            return None
        products = (
            self.env["product.product"]
            .with_context(active_test=False)
            .search(
                [
                    ("default_code", "in", skus),
                    ("company_id", "in", (False, self.company_id.id)),
                ]
            )
        )
        templates = products.product_tmpl_id
        if len(templates) > 1:
            raise MappingError(
                f"the SKUs of {node['title']} belong to {len(templates)} Odoo "
                f"products ({', '.join(templates.mapped('display_name'))}): "
                "merge them or change the SKUs.",
                subject_key=f"product:{node['id']}",
            )
        return templates or None

    def _shopify_attribute(self, name, values):
        """(attribute, values) for a Shopify option, created when missing."""
        attribute = self.env["product.attribute"].search(
            [("name", "=", name), ("create_variant", "!=", "no_variant")], limit=1
        )
        if not attribute:
            attribute = self.env["product.attribute"].create(
                {"name": name, "create_variant": "always"}
            )
        pavs = self.env["product.attribute.value"]
        for value in values:
            pav = attribute.value_ids.filtered(lambda v, value=value: v.name == value)
            pavs |= pav[:1] or pavs.create(
                {"attribute_id": attribute.id, "name": value}
            )
        return attribute, pavs

    def _shopify_import_lines(self, tmpl, attributes):
        commands = []
        for attribute, pavs in attributes.values():
            line = tmpl.attribute_line_ids.filtered(
                lambda li, a=attribute: li.attribute_id == a
            )[:1]
            if not line:
                commands.append(
                    (
                        0,
                        0,
                        {"attribute_id": attribute.id, "value_ids": [(6, 0, pavs.ids)]},
                    )
                )
            elif pavs - line.value_ids:
                line.write(
                    {"value_ids": [(4, pav.id) for pav in pavs - line.value_ids]}
                )
        if commands:
            tmpl.write({"attribute_line_ids": commands})

    def _shopify_import_variants(self, tmpl, names, variant_nodes, selected, active):
        """Give each Shopify variant its Odoo variant (by option values);
        archive the combinations Shopify does not sell."""
        by_key = {}
        for variant in tmpl.with_context(active_test=False).product_variant_ids:
            combination = {
                ptav.attribute_id.name: ptav.name
                for ptav in variant.product_template_attribute_value_ids
            }
            key = tuple(combination.get(name) for name in names)
            if key not in by_key or (variant.active and not by_key[key].active):
                by_key[key] = variant
        kept = self.env["product.product"]
        for node in variant_nodes:
            key = tuple(selected[node["id"]].get(name) for name in names)
            variant = by_key.get(key)
            if not variant:
                raise MappingError(
                    f"Odoo has no variant {' / '.join(map(str, key))} of "
                    f"{tmpl.display_name}.",
                    subject_key=f"product:{node['id']}",
                )
            values = {
                "default_code": node.get("sku") or False,
                "barcode": node.get("barcode") or False,
            }
            if active:
                values["active"] = True
            changed = {k: v for k, v in values.items() if variant[k] != v}
            if changed:
                variant.write(changed)
            self._shopify_rebind(
                variant,
                node["id"],
                external_ref=node.get("sku") or False,
                extra={
                    "inventory_item_id": (node.get("inventoryItem") or {}).get("id")
                },
            )
            kept |= variant
        if active:
            (tmpl.product_variant_ids - kept).write({"active": False})
