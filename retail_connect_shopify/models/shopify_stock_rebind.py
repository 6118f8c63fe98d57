from odoo import api, fields, models

from ..lib import documents as gql

SKU_BATCH = 25  # SKUs looked up per query (aliased productVariants searches)


class ShopifyStockLevel(models.Model):
    """Re-binding by SKU: a bound variant Shopify no longer knows.

    A merchant deleted a variant and created it again with the same SKU (or
    the shop itself was re-created, as a restarted demo sandbox is): Odoo's
    binding points at an inventory item Shopify answers with ``null``
    (``nodes``) or ``INVALID_INVENTORY_ITEM`` (``inventorySetQuantities``).
    The stock push looks such SKUs up on Shopify and follows the one variant
    that has the SKU; it cannot choose between several, nor invent one.
    """

    _inherit = "shopify.stock.level"

    def _gone(self, client, repair=True):
        """Shopify no longer knows these levels' inventory items: the variant
        was deleted (by a merchant who re-created it, or with a re-created
        shop). Look their SKUs up on Shopify (one query per 25 SKUs): a SKU
        exactly one variant has re-binds the product to that variant, and its
        levels are read again and pushed in this run; the others are set
        aside with a mapping exception. Return the re-bound levels."""
        if not self:
            return self
        if not repair:
            for level in self:
                level._set_aside("gone")
            return self.browse()
        backend = self.backend_id.ensure_one()
        items = self._items()
        gone_items = {items[level.id] for level in self}
        skus = {
            product: product.default_code
            for product in self.product_id
            if product.default_code and not set('"\\') & set(product.default_code)
        }
        found = self._variants_by_sku(backend, client, sorted(set(skus.values())))
        rebound = self.browse()
        for product in self.product_id:
            levels = self.filtered(lambda level, p=product: level.product_id == p)
            # Shopify's search index may still list the deleted variant
            nodes = [
                n
                for n in found.get(skus.get(product), [])
                if n["inventoryItem"]["id"] not in gone_items
            ]
            if len(nodes) == 1 and self._rebind(backend, product, nodes[0]):
                rebound |= levels
                continue
            for level in levels:
                level._set_aside("gone", nodes if len(nodes) > 1 else ())
        others = self.search(
            [
                ("backend_id", "=", backend.id),
                ("product_id", "in", rebound.product_id.ids),
            ]
        )
        if others - self:  # levels at other locations: pushed by the next job
            self._enqueue_push(backend)
        return rebound

    @api.model
    def _variants_by_sku(self, backend, client, skus):
        """``{sku: [variant nodes with exactly this SKU]}``."""
        found = {}
        for start in range(0, len(skus), SKU_BATCH):
            chunk = skus[start : start + SKU_BATCH]
            data = backend._call_in_job(
                client.graphql,
                gql.variants_by_sku(len(chunk)),
                {f"q{i}": f'sku:"{sku}"' for i, sku in enumerate(chunk)},
                operation="VariantsBySku",
                cost=22 * len(chunk),  # first: 10 with an object: 22 points
            )
            for i, sku in enumerate(chunk):
                nodes = (data.get(f"s{i}") or {}).get("nodes") or []
                # the search is not an exact match: keep the SKU's own variants
                found[sku] = [n for n in nodes if n.get("sku") == sku]
        return found

    @api.model
    def _rebind(self, backend, product, node):
        """Bind ``product`` to the variant ``node`` found by its SKU, say so
        on the backend, resolve its stock exceptions and read its levels again.
        False when another product is bound to that variant."""
        bindings = self.env["retail.binding"]
        other = bindings._lookup(backend, "product.product", node["id"])
        if other and other.res_id != product.id:
            return False
        binding = bindings._lookup_record(backend, product)
        old, old_item = (
            binding.external_id,
            (binding.extra or {}).get("inventory_item_id"),
        )
        item = node["inventoryItem"]["id"]
        binding.sudo().write(
            {
                "external_id": node["id"],
                "extra": dict(binding.extra or {}, inventory_item_id=item),
                "last_sync_at": fields.Datetime.now(),
            }
        )
        sku = product.default_code
        note = self.env._(
            "%(sku)s: Shopify no longer had its variant %(old)s (inventory item "
            "%(old_item)s); re-bound by SKU to the variant %(new)s (inventory "
            "item %(item)s), which gets its stock now.",
            sku=sku,
            old=old,
            old_item=old_item,
            new=node["id"],
            item=item,
        )
        backend.sudo().message_post(body=note)
        self.env["retail.sync.exception"].sudo().search(
            [
                ("backend_id", "=", backend.id),
                ("domain", "=", "inventory"),
                ("subject_key", "=like", f"stock:{product.id}:%"),
                ("state", "in", ("new", "in_progress")),
            ]
        )._resolve(note)
        levels = self.search(
            [("backend_id", "=", backend.id), ("product_id", "=", product.id)]
        )
        levels.write({"remote_known": False, "remote_qty": 0, "dirty": True})
        return True
