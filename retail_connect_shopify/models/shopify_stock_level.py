import hashlib
import json
import math

from odoo import api, fields, models

from odoo.addons.retail_connect_base.models.common import check_group

from ..lib import documents as gql
from ..lib.client import UserErrors

BATCH = 250  # quantities per inventorySetQuantities (the API's maximum)


class ShopifyStockLevel(models.Model):
    """What Shopify shows of a product at a location, and whether it is stale.

    Stock changes only mark rows dirty (one cheap SQL upsert) and enqueue ONE
    coalesced job per backend (queue_job identity key): a burst of moves makes
    one push of at most 250 quantities per call, compare-and-set on the
    quantity Shopify last had, with an idempotency key per batch.
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
    remote_known = fields.Boolean()
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
    def _mark_dirty(self, product, location):
        """Called on every quant change: mark, and enqueue one push per backend."""
        if not product or not location.warehouse_id:
            return
        for model in ("retail.backend", "retail.sync.policy", "retail.binding"):
            self.env[model].flush_model()
        self.env["shopify.location"].flush_model()
        self.env.cr.execute(
            """
            INSERT INTO shopify_stock_level
                   (backend_id, company_id, location_id, product_id, dirty,
                    remote_qty, remote_known)
            SELECT sl.backend_id, b.company_id, sl.id, %s, true, 0, false
              FROM shopify_location sl
              JOIN retail_backend b ON b.id = sl.backend_id
              JOIN retail_sync_policy p ON p.backend_id = b.id
                                       AND p.domain = 'inventory'
              JOIN retail_binding rb ON rb.backend_id = b.id
                                    AND rb.res_model = 'product.product'
                                    AND rb.res_id = %s
             WHERE sl.warehouse_id = %s AND sl.active
               AND b.state = 'active' AND b.platform = 'shopify'
               AND p.direction IN ('out', 'both')
            ON CONFLICT (backend_id, location_id, product_id)
            DO UPDATE SET dirty = true
            RETURNING backend_id
            """,
            (product.id, product.id, location.warehouse_id.id),
        )
        backend_ids = {row[0] for row in self.env.cr.fetchall()}
        # sudo: whoever moves stock (a storekeeper, a salesman cancelling an
        # order) may not read Retail Connect backends; the push is the suite's
        backends = self.env["retail.backend"].sudo().browse(sorted(backend_ids))
        for backend in backends:
            backend.with_delay(
                channel=backend._channel("realtime"),
                identity_key=f"shopify_stock_{backend.id}",
                description=f"{backend.name}: push stock",
                eta=5,  # coalesce the moves of one operation
            )._job_shopify_push_stock()

    # ------------------------------------------------------------ pushing
    def _available(self, policy):
        """Quantity to publish: free stock of the warehouse minus safety stock."""
        product = self.product_id.with_context(
            warehouse_id=self.location_id.warehouse_id.id
        )
        return max(0, math.floor(product.free_qty - (policy.safety_stock or 0)))

    @api.model
    def _push(self, backend):
        """Push every dirty level of ``backend``; return the number of calls."""
        policy = backend._policy("inventory")
        if not policy._allows_export():
            return 0
        self.flush_model()
        self.env.cr.execute(
            "SELECT id FROM shopify_stock_level WHERE backend_id = %s AND dirty "
            "ORDER BY id FOR UPDATE SKIP LOCKED",
            (backend.id,),
        )
        levels = self.browse([row[0] for row in self.env.cr.fetchall()])
        todo = []
        for level in levels:
            item = level._inventory_item()
            quantity = level._available(policy)
            if not item or (level.remote_known and quantity == level.remote_qty):
                level.dirty = False
                continue
            todo.append((level, item, quantity))
        calls = 0
        client = backend._shopify_client() if todo else None
        for start in range(0, len(todo), BATCH):
            calls += self._push_batch(backend, client, todo[start : start + BATCH])
        return calls

    def _inventory_item(self):
        binding = self.env["retail.binding"]._lookup_record(
            self.backend_id, self.product_id
        )
        return (binding.extra or {}).get("inventory_item_id") if binding else None

    @api.model
    def _push_batch(self, backend, client, batch, retried=False):
        quantities = [
            {
                "inventoryItemId": item,
                "locationId": level.location_id.shopify_id,
                "quantity": quantity,
                "changeFromQuantity": level.remote_qty if level.remote_known else None,
            }
            for level, item, quantity in batch
        ]
        key = hashlib.sha256(
            json.dumps([backend.id, quantities], sort_keys=True).encode()
        ).hexdigest()[:32]
        try:
            backend._call_in_job(
                client.mutate,
                gql.INVENTORY_SET,
                {
                    "input": {
                        "name": "available",
                        "reason": "correction",
                        "referenceDocumentUri": f"odoo://retail_connect/{backend.id}",
                        "quantities": quantities,
                    },
                    "key": key,
                },
                operation="InventorySet",
                payload="inventorySetQuantities",
                cost=10,
            )
        except UserErrors as err:
            stale = [
                int(e["field"][2])
                for e in err.errors
                if e.get("code") == "CHANGE_FROM_QUANTITY_STALE" and e.get("field")
            ]
            if not stale or retried:
                raise
            # someone changed Shopify meanwhile: read what it has now, set again
            for index in stale:
                level, item, _quantity = batch[index]
                level._read_remote(client, item)
            return 1 + self._push_batch(backend, client, batch, retried=True)
        now = fields.Datetime.now()
        for level, _item, quantity in batch:
            level.write(
                {
                    "remote_qty": quantity,
                    "remote_known": True,
                    "dirty": False,
                    "pushed_at": now,
                }
            )
        return 1

    def _read_remote(self, client, item):
        data = self.backend_id._call_in_job(
            client.graphql,
            gql.INVENTORY_LEVELS,
            {"id": item, "locationId": self.location_id.shopify_id},
            operation="InventoryLevels",
            cost=4,
        )
        level = (data.get("inventoryItem") or {}).get("inventoryLevel") or {}
        quantities = {q["name"]: q["quantity"] for q in level.get("quantities") or []}
        self.write({"remote_qty": quantities.get("available", 0), "remote_known": True})


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _job_shopify_push_stock(self):
        """Coalesced stock push of this backend (see shopify.stock.level)."""
        self.ensure_one()
        calls = self.env["shopify.stock.level"]._push(self)
        return f"{calls} inventorySetQuantities call(s)"

    def _job_shopify_reconcile_stock(self):
        """Find drift: read Shopify for every published level, push differences."""
        self.ensure_one()
        levels = self.env["shopify.stock.level"].search([("backend_id", "=", self.id)])
        client = self._shopify_client()
        for level in levels:
            item = level._inventory_item()
            if item:
                level._read_remote(client, item)
        levels.write({"dirty": True})
        calls = self.env["shopify.stock.level"]._push(self)
        return f"{len(levels)} levels read, {calls} push call(s)"

    def action_shopify_push_all_stock(self):
        """Publish every bound product at every mapped location (first sync)."""
        check_group(self.env)
        for backend in self:
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
                for product in products:
                    self.env["shopify.stock.level"]._mark_dirty(
                        product, location.warehouse_id.lot_stock_id
                    )
        return True
