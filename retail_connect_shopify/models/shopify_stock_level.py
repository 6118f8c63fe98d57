import math
from collections import defaultdict

from odoo import api, fields, models

from odoo.addons.retail_connect_base.lib.errors import TransientError
from odoo.addons.retail_connect_base.models.common import check_group

from ..lib import documents as gql
from ..lib.client import UserErrors

BATCH = 250  # quantities per inventorySetQuantities, ids per read (the API's maximum)
ATTEMPTS = 3  # compare-and-set tries of a batch in one job; then a new job later
STALE = "CHANGE_FROM_QUANTITY_STALE"
MISMATCH = "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
# the first try under this key failed (a retried job resends it): read again,
# the next attempt writes under a new key
PREVIOUS_FAILED = "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"
CONCURRENT = "IDEMPOTENCY_CONCURRENT_REQUEST"  # still running: retry later
# Shopify refuses the item itself: set the SKU aside, push the others.
# Coalescing window of a push: the moves of one operation (a confirmation, a
# receipt) make one push, and a change waits at most this long before its push
# starts - the oversell window's floor (target p95 <= 5 s: bench/README.md,
# "Oversell window"). The window, not one push per move, keeps the calls few.
COALESCE_SECONDS = 1
PUSH_PRIORITY = 5  # ahead of the order jobs waiting for a worker (default 10)
SET_ASIDE = {
    "INVALID_INVENTORY_ITEM": "gone",
    "ITEM_NOT_STOCKED_AT_LOCATION": "not stocked",
}


class ShopifyStockLevel(models.Model):
    """What Shopify shows of a product at a location, and whether it is stale.

    Stock changes only mark rows dirty (one cheap SQL upsert) and enqueue ONE
    coalesced job per backend (queue_job identity key): a burst of moves makes
    one push of at most 250 quantities per call, compare-and-set on the
    quantity Shopify last had, with an idempotency key per intended write.

    What is published never re-offers units Shopify already sold. Shopify moves
    the units of an order from ``available`` to ``committed`` as soon as it
    takes it, before Odoo imports it; Odoo's free quantity subtracts an order
    once it is imported and its delivery reserved. So Shopify gets

        available = Odoo free - safety stock - (committed - held)

    where ``committed`` is what Shopify reports for the level and ``held`` what
    Odoo reserved for this shop's imported orders at the warehouse: the rest
    of Shopify's commitment belongs to orders Odoo does not hold yet (webhook
    not processed, import failed, order not confirmed). ``committed`` is read
    with ``available`` (a batched read of the levels Odoo does not know) and
    kept: Shopify's orders change ``available``, so a later compare-and-set
    finds them stale, re-reads and recomputes with them - it never sets back
    units Shopify took. A fulfilment lowers ``committed`` without touching
    ``available``: the fulfilment flow makes the level read again. (Inventory
    states: https://shopify.dev/docs/apps/build/orders-fulfillment/
    inventory-management-apps/manage-quantities-states; compare-and-set:
    InventoryQuantityInput.changeFromQuantity, 2026-04.)
    """

    _name = "shopify.stock.level"
    _description = "Shopify Stock Level"
    _log_access = False

    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    location_id = fields.Many2one("shopify.location", required=True, ondelete="cascade")
    product_id = fields.Many2one("product.product", required=True, ondelete="cascade")
    remote_qty = fields.Integer(help="Available quantity Shopify last had.")
    remote_committed = fields.Integer(
        help="Units Shopify had committed to its orders (read with the available "
        "quantity)."
    )
    remote_known = fields.Boolean(
        help="Shopify's quantities above are current as far as Odoo knows; "
        "otherwise they are read before the next push."
    )
    dirty = fields.Boolean(index=True)
    pushed_at = fields.Datetime()

    _sql_constraints = [
        (
            "level_uniq",
            "UNIQUE(backend_id, location_id, product_id)",
            "One level per product and location.",
        )
    ]

    # ------------------------------------------------------------ marking
    @api.model
    def _mark_dirty(self, products, location):
        """The stock of ``products`` at ``location`` changed (a quant, or a
        batch of moves: ``stock_marks.py``): mark their levels, and enqueue
        one push per backend."""
        if not products or not location.warehouse_id:
            return
        for model in ("retail.backend", "retail.sync.policy", "retail.binding"):
            self.env[model].flush_model()
        self.env["shopify.location"].flush_model()
        self.env.cr.execute(
            """
            INSERT INTO shopify_stock_level
                   (backend_id, company_id, location_id, product_id, dirty,
                    remote_qty, remote_committed, remote_known)
            SELECT sl.backend_id, b.company_id, sl.id, rb.res_id, true, 0, 0, false
              FROM shopify_location sl
              JOIN retail_backend b ON b.id = sl.backend_id
              JOIN retail_sync_policy p ON p.backend_id = b.id
                                       AND p.domain = 'inventory'
              JOIN retail_binding rb ON rb.backend_id = b.id
                                    AND rb.res_model = 'product.product'
                                    AND rb.res_id = ANY(%s)
             WHERE sl.warehouse_id = %s AND sl.active
               AND b.state = 'active' AND b.platform = 'shopify'
               AND p.direction IN ('out', 'both')
            ON CONFLICT (backend_id, location_id, product_id)
            DO UPDATE SET dirty = true
            RETURNING backend_id
            """,
            (list(products.ids), location.warehouse_id.id),
        )
        backend_ids = {row[0] for row in self.env.cr.fetchall()}
        # sudo: whoever moves stock (a storekeeper, a salesman cancelling an
        # order) may not read Retail Connect backends; the push is the suite's
        backends = self.env["retail.backend"].sudo().browse(sorted(backend_ids))
        for backend in backends:
            self._enqueue_push(backend)

    @api.model
    def _enqueue_push(self, backend):
        backend.with_delay(
            channel=backend._channel("stock"),
            priority=PUSH_PRIORITY,
            identity_key=f"shopify_stock_{backend.id}",
            description=f"{backend.name}: push stock",
            eta=COALESCE_SECONDS,
        )._job_shopify_push_stock()

    @api.model
    def _reread(self, backend, products):
        """Shopify changed these products' levels in a way a compare-and-set on
        ``available`` does not see (a fulfilment lowers ``committed``): read
        them again and push."""
        levels = self.search(
            [("backend_id", "=", backend.id), ("product_id", "in", products.ids)]
        )
        if levels:
            levels.write({"remote_known": False, "dirty": True})
            self._enqueue_push(backend)

    # ------------------------------------------------------------ pushing
    def _available(self, policy):
        """Odoo's side: free stock of the warehouse minus safety stock."""
        product = self.product_id.with_context(
            warehouse_id=self.location_id.warehouse_id.id
        )
        free = product._retail_sellable_qty()  # deferred reservations held
        return max(0, math.floor(free - (policy.safety_stock or 0)))

    def _target(self, policy, held):
        """What Shopify should show: Odoo's side minus the units Shopify
        committed to orders Odoo does not hold (see the class docstring)."""
        unheld = max(0, self.remote_committed - held.get(self.id, 0))
        return max(0, self._available(policy) - unheld)

    def _held(self, backend):
        """Units reserved in Odoo for this shop's imported orders, per level:
        open delivery moves of bound sale orders, from the level's warehouse."""
        held = {}
        by_warehouse = defaultdict(self.browse)
        for level in self:
            by_warehouse[level.location_id.warehouse_id] |= level
        self.env["stock.move.line"].flush_model()
        for warehouse, levels in by_warehouse.items():
            self.env.cr.execute(
                """
                SELECT ml.product_id, SUM(ml.quantity_product_uom)
                  FROM stock_move_line ml
                  JOIN stock_move m ON m.id = ml.move_id
                  JOIN sale_order_line sol ON sol.id = m.sale_line_id
                  JOIN retail_binding rb ON rb.backend_id = %s
                                        AND rb.res_model = 'sale.order'
                                        AND rb.res_id = sol.order_id
                  JOIN stock_location loc ON loc.id = ml.location_id
                 WHERE m.state NOT IN ('done', 'cancel')
                   AND ml.product_id = ANY(%s)
                   AND loc.parent_path LIKE %s
                 GROUP BY ml.product_id
                """,
                (
                    backend.id,
                    levels.product_id.ids,
                    warehouse.view_location_id.parent_path + "%",
                ),
            )
            quantities = dict(self.env.cr.fetchall())
            for level in levels:
                held[level.id] = math.floor(quantities.get(level.product_id.id, 0))
        return held

    @api.model
    def _push(self, backend):
        """Push every dirty level of ``backend``; return the number of
        inventorySetQuantities calls."""
        policy = backend._policy("inventory")
        if not policy._allows_export():
            return 0
        self.flush_model()
        self.env.cr.execute(
            "SELECT id FROM shopify_stock_level WHERE backend_id = %s AND dirty "
            "ORDER BY location_id, id FOR UPDATE SKIP LOCKED",
            (backend.id,),
        )
        levels = self.browse([row[0] for row in self.env.cr.fetchall()])
        items = levels._items()
        bound = levels.filtered(lambda level: items[level.id])
        (levels - bound).write({"dirty": False})
        calls = 0
        client = backend._shopify_client() if bound else None
        for index, start in enumerate(range(0, len(bound), BATCH)):
            batch = bound[start : start + BATCH]
            calls += self._push_batch(backend, client, policy, batch, index)
        if self.search_count([("id", "in", bound.ids), ("dirty", "=", True)]):
            self._enqueue_push(backend)  # Shopify kept changing: try again later
        return calls

    def _inventory_item(self):
        return self._items()[self.id]

    def _items(self):
        """The Shopify inventory item of each level (its product's binding)."""
        bindings = self.env["retail.binding"].search(
            [
                ("backend_id", "in", self.backend_id.ids),
                ("res_model", "=", "product.product"),
                ("res_id", "in", self.product_id.ids),
            ]
        )
        by_product = {
            (b.backend_id.id, b.res_id): (b.extra or {}).get("inventory_item_id")
            for b in bindings
        }
        return {
            level.id: by_product.get((level.backend_id.id, level.product_id.id))
            for level in self
        }

    @api.model
    def _push_batch(self, backend, client, policy, batch, index):
        """Compare-and-set one batch; a stale level is read again and its
        quantity recomputed with what Shopify took meanwhile (never re-set)."""
        calls = 0
        for attempt in range(ATTEMPTS):
            batch = batch.filtered(lambda level: level.dirty)
            batch.filtered(lambda level: not level.remote_known)._read_remote(client)
            batch = batch.filtered(lambda level: level.dirty)  # not set aside
            held = batch._held(backend)
            todo = []
            for level in batch:
                quantity = level._target(policy, held)
                if quantity == level.remote_qty:
                    level.dirty = False
                else:
                    todo.append((level, quantity))
            if not todo:
                return calls
            items = batch._items()
            quantities = [
                {
                    "inventoryItemId": items[level.id],
                    "locationId": level.location_id.shopify_id,
                    "quantity": quantity,
                    "changeFromQuantity": level.remote_qty,
                }
                for level, quantity in todo
            ]
            calls += 1
            try:
                backend._call_in_job(
                    client.mutate,
                    gql.INVENTORY_SET,
                    {
                        "input": {
                            "name": "available",
                            "reason": "correction",
                            "referenceDocumentUri": (
                                f"odoo://retail_connect/{backend.id}"
                            ),
                            "quantities": quantities,
                        },
                        # one intended write: stable across this job's retries,
                        # new for the next push (never a hash of the values)
                        "key": backend._idempotency_key("stock", index, attempt),
                    },
                    operation="InventorySet",
                    payload="inventorySetQuantities",
                    cost=10,
                )
            except UserErrors as err:
                self._refused(backend, client, todo, err)
                continue
            now = fields.Datetime.now()
            for level, quantity in todo:
                level.write({"remote_qty": quantity, "dirty": False, "pushed_at": now})
            return calls
        return calls

    @api.model
    def _refused(self, backend, client, todo, err):
        """Sort out a refused batch (Shopify applied none of it): stale levels
        are read again, items Shopify no longer has are re-bound by SKU (see
        ``_gone``), items it refuses are set aside; anything else fails the
        job."""
        unknown = []
        gone = self.browse()
        for error in err.errors:
            code, field = error.get("code"), error.get("field") or []
            if code in (MISMATCH, PREVIOUS_FAILED):  # this key is spent: re-read
                unknown += [level for level, _quantity in todo]
                continue
            if code == CONCURRENT:
                raise TransientError(
                    "Shopify is still applying this stock write: retry later",
                    seconds=5,
                )
            if len(field) < 3 or not str(field[2]).isdigit():
                raise err
            level = todo[int(field[2])][0]
            if code == STALE:
                unknown.append(level)
            elif SET_ASIDE.get(code) == "gone":
                gone |= level
            elif code in SET_ASIDE:
                level._set_aside(SET_ASIDE[code])
            else:
                raise err
        for level in unknown:
            level.remote_known = False
        gone._gone(client)  # the re-bound ones are read and pushed next attempt

    def _set_aside(self, why, candidates=()):
        """Shopify refuses this level's item: stop pushing it, say so once.
        ``candidates``: the variants Shopify has with the product's SKU when
        more than one (a re-bind by SKU could not choose)."""
        self.ensure_one()
        product, backend = self.product_id, self.backend_id
        item = self._inventory_item()
        sku = product.default_code or product.display_name
        if why == "gone":
            # the variant was deleted on Shopify: unbind its inventory item
            binding = self.env["retail.binding"]._lookup_record(backend, product)
            extra = dict(binding.extra or {})
            extra.pop("inventory_item_id", None)
            binding.sudo().extra = extra
        if why == "gone" and candidates:
            names = ", ".join(node["id"] for node in candidates)
            message = (
                f"{sku}: Shopify no longer knows its inventory item {item} (its "
                f"variant was deleted on Shopify) and {len(candidates)} variants "
                f"have the SKU {sku} on Shopify ({names}): Odoo cannot tell "
                "which one to push its stock to, so it is not pushed any more. "
                "Give each Shopify variant its own SKU (or delete the "
                "duplicate), then export the product again (Publish on "
                "Shopify) or import the catalog; its stock is pushed again as "
                "soon as it is bound."
            )
        elif why == "gone":
            message = (
                f"{sku}: Shopify no longer knows its inventory item {item} (its "
                "variant was deleted on Shopify): its stock is not pushed any "
                "more. To sell it on Shopify again, export it again (Publish on "
                "Shopify) or import the catalog so that the SKU is bound to its "
                "new variant; its stock is pushed again as soon as it is. "
                "Otherwise remove it from Publish on Shopify."
            )
        else:
            location = self.location_id.name
            message = (
                f"{sku}: its inventory item {item} is not stocked at the "
                f"Shopify location {location}: its stock there is not pushed. "
                f"Stock it at {location} on Shopify (Inventory > the product > "
                "locations), or unmap the location's warehouse; the next stock "
                "change pushes it again."
            )
        self.write({"dirty": False, "remote_known": False})
        self.env["retail.sync.exception"]._open_or_bump(
            backend,
            domain="inventory",
            category="mapping",
            message=message,
            subject_key=f"stock:{product.id}:{self.location_id.shopify_id}",
            record=product,
            fix={
                "sku": product.default_code,
                "inventory_item_id": item,
                **({"variants": [n["id"] for n in candidates]} if candidates else {}),
            },
        )

    def _read_remote(self, client, repair=True):
        """Read ``available`` and ``committed`` of these levels (one call per
        location and 250 items); an item Shopify no longer has is re-bound by
        its SKU (see ``_gone``) or set aside."""
        by_location = defaultdict(self.browse)
        for level in self:
            by_location[level.location_id] |= level
        gone = self.browse()
        for location, levels in by_location.items():
            for start in range(0, len(levels), BATCH):
                chunk = levels[start : start + BATCH]
                by_level = chunk._items()
                items = [by_level[level.id] for level in chunk]
                data = chunk.backend_id._call_in_job(
                    client.graphql,
                    gql.INVENTORY_LEVELS,
                    {"ids": items, "locationId": location.shopify_id},
                    operation="InventoryLevels",
                    cost=3 + len(items),
                )
                for level, node in zip(chunk, data.get("nodes") or [], strict=True):
                    if not node:
                        gone |= level
                        continue
                    if not node.get("inventoryLevel"):
                        level._set_aside("not stocked")
                        continue
                    quantities = {
                        q["name"]: q["quantity"]
                        for q in node["inventoryLevel"]["quantities"]
                    }
                    level.write(
                        {
                            "remote_qty": quantities.get("available", 0),
                            "remote_committed": quantities.get("committed", 0),
                            "remote_known": True,
                        }
                    )
        if gone:
            # re-bound: read the new items (once)
            gone._gone(client, repair)._read_remote(client, repair=False)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _job_shopify_push_stock(self):
        """Coalesced stock push of this backend (see shopify.stock.level)."""
        self.ensure_one()
        return self._run_outbound("inventory", "stock:push", self._shopify_push_stock)

    def _shopify_push_stock(self):
        calls = self.env["shopify.stock.level"]._push(self)
        return f"{calls} inventorySetQuantities call(s)"

    def _job_shopify_reconcile_stock(self):
        """Find drift: read Shopify for every published level, push differences."""
        self.ensure_one()
        return self._run_outbound(
            "inventory", "stock:reconcile", self._shopify_reconcile_stock
        )

    def _shopify_reconcile_stock(self):
        levels = self.env["shopify.stock.level"].search([("backend_id", "=", self.id)])
        # read again (available and committed), then push the differences
        levels.write({"remote_known": False, "dirty": True})
        calls = self.env["shopify.stock.level"]._push(self)
        return f"{len(levels)} levels read, {calls} push call(s)"

    def action_shopify_push_all_stock(self):
        """Publish every bound product at every mapped location (first sync)."""
        check_group(self.env)
        # four eyes on a live production backend (retail_approval_gates.py)
        backends, notice = self._approved_bulk(
            "action_shopify_push_all_stock", self.env._("Push all stock")
        )
        for backend in backends:
            products = self.env["product.product"].browse(
                self.env["retail.binding"]
                .search(
                    [
                        ("backend_id", "=", backend.id),
                        ("res_model", "=", "product.product"),
                    ]
                )
                .mapped("res_id")
            )
            for location in backend.shopify_location_ids.filtered("warehouse_id"):
                self.env["shopify.stock.level"]._mark_dirty(
                    products, location.warehouse_id.lot_stock_id
                )
        return notice or True
