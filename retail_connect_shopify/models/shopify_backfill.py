import json
import logging
import tempfile
from collections import defaultdict

from odoo import fields, models

from odoo.addons.retail_connect_base.lib.errors import RemoteError, SyncError
from odoo.addons.retail_connect_base.lib.webhook import Delivery
from odoo.addons.retail_connect_base.models.common import check_group

from ..lib import documents as gql
from ..lib import mappers

_logger = logging.getLogger(__name__)

RUNNING = ("CREATED", "RUNNING")
CHECK_EVERY = 10  # seconds between status checks (each check is a new job)
MAX_CHECKS = 360  # an hour
SPOOL_IN_MEMORY = 8 * 1024 * 1024  # bytes of a bulk file held before using disk
CONNECTIONS = {"LineItem": "lineItems", "ShippingLine": "shippingLines"}


def assemble(chunks):
    """Root objects of a bulk JSONL file (``chunks``: its bytes, piece by
    piece), each nested node under its parent's connection, whatever the
    order of the lines.

    Only ``__parentId`` ties a nested node to its parent: from 2026-01
    (``groupObjects`` false by default) a line item may come before its order
    or anywhere after it, so no root is known complete before the end of the
    file. The file is spooled (in memory up to ``SPOOL_IN_MEMORY`` bytes, then
    in an anonymous temporary file) while an index notes where each root and
    each parent's children are; then the roots are read back one at a time
    with their children, in file order. Memory is the index (an offset per
    line and an id per parent, about a hundred bytes a line), never the
    objects; the price is the file on disk once and every line parsed twice.
    """
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
        roots, children = [], defaultdict(list)
        offset = 0
        for raw in spool:
            if raw.strip():
                parent = json.loads(raw).get("__parentId")
                (children[parent] if parent else roots).append(offset)
            offset += len(raw)
        for offset in roots:
            yield _read_node(spool, offset, children)
        if children:
            _logger.warning(
                "bulk file: %s lines name a parent that is not in the file",
                sum(map(len, children.values())),
            )


def _read_node(spool, offset, children):
    """The object at ``offset``, its indexed children (and theirs) nested."""
    spool.seek(offset)
    item = json.loads(spool.readline())
    item.pop("__parentId", None)
    for child_offset in children.pop(item.get("id"), ()):
        child = _read_node(spool, child_offset, children)
        kind = str(child.get("id", "")).split("/")[-2] if child.get("id") else ""
        key = CONNECTIONS.get(kind, "children")
        item.setdefault(key, {"nodes": []})["nodes"].append(child)
    return item


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    shopify_backfill_days = fields.Integer("Backfill days", default=60)
    shopify_bulk_id = fields.Char("Bulk operation", readonly=True)
    shopify_bulk_kind = fields.Char(readonly=True)
    shopify_bulk_status = fields.Char(readonly=True)
    shopify_backfill_done_at = fields.Datetime("Backfill done", readonly=True)
    shopify_backfill_result = fields.Char("Backfill result", readonly=True)

    def action_shopify_backfill(self):
        """First import: bind the catalog by SKU, then recent orders (bulk)."""
        check_group(self.env)
        # four eyes on a live production backend (retail_approval_gates.py)
        backends, notice = self._approved_bulk(
            "action_shopify_backfill", self.env._("Backfill (catalog and orders)")
        )
        for backend in backends:
            backend.with_delay(
                channel=backend._channel("bulk"),
                identity_key=f"shopify_backfill_{backend.id}",
                description=f"{backend.name}: backfill",
            )._job_shopify_bulk_start("variants")
        if notice:
            return notice
        if len(self) != 1:
            return True
        return self._notify(
            self.env._(
                "Backfill started: it runs in the background; a notification "
                "says when it is finished."
            ),
            "info",
        )

    def _job_shopify_bulk_start(self, kind):
        """Start one bulk query; its completion is checked by later jobs."""
        self.ensure_one()
        return self._run_outbound(
            "order" if kind == "orders" else "product",
            f"backfill:{kind}",
            self._shopify_bulk_start,
            kind,
        )

    def _shopify_bulk_start(self, kind):
        if kind == "orders":
            since = self._shopify_backfill_since()
            query = gql.bulk_orders_query(since.isoformat() + "Z")
        else:
            query = gql.BULK_VARIANTS_QUERY
        client = self._shopify_client()
        result = self._call_in_job(
            client.mutate,
            gql.BULK_RUN,
            {
                "query": query,
                # this job's start of this kind: a second backfill is a new one
                "key": self._idempotency_key("backfill", kind),
            },
            operation="BulkRun",
            payload="bulkOperationRunQuery",
        )
        operation = result["bulkOperation"]
        self.write(
            {
                "shopify_bulk_id": operation["id"],
                "shopify_bulk_kind": kind,
                "shopify_bulk_status": operation["status"],
            }
        )
        self._shopify_schedule_check(operation["id"], kind, 1, CHECK_EVERY)
        return f"bulk {kind} {operation['id']} started"

    def _shopify_schedule_check(self, operation_id, kind, attempt, eta):
        self.with_delay(
            channel=self._channel("bulk"),
            eta=eta,
            identity_key=f"shopify_bulk_check_{operation_id}_{attempt}",
            description=f"{self.name}: bulk {kind} status",
        )._job_shopify_bulk_check(operation_id, kind, attempt)

    def _job_shopify_bulk_check(self, operation_id, kind, attempt=1):
        """Check a bulk operation; ingest it once completed.

        Waiting is a new job scheduled later, never a sleep holding a worker.
        """
        self.ensure_one()
        return self._run_outbound(
            "order" if kind == "orders" else "product",
            f"backfill:{kind}",
            self._shopify_bulk_check,
            operation_id,
            kind,
            attempt,
        )

    def _shopify_bulk_check(self, operation_id, kind, attempt):
        if (
            self.shopify_bulk_id != operation_id
            or self.shopify_bulk_status == "INGESTED"
        ):
            return "already handled"
        client = self._shopify_client()
        node = (
            self._call_in_job(
                client.graphql,
                gql.BULK_STATUS,
                {"id": operation_id},
                operation="BulkStatus",
                cost=2,
            ).get("node")
            or {}
        )
        status = node.get("status")
        self.shopify_bulk_status = status
        if status in RUNNING:
            if attempt >= MAX_CHECKS:
                raise RemoteError(f"bulk operation {operation_id} never finished")
            self._shopify_schedule_check(operation_id, kind, attempt + 1, CHECK_EVERY)
            return f"{status}: checking again in {CHECK_EVERY}s"
        if status != "COMPLETED":
            raise SyncError(
                f"Shopify bulk {kind} operation {operation_id} ended {status} "
                f"({node.get('errorCode')})",
                category="remote",
            )
        summary = self._shopify_bulk_ingest(client, node.get("url"), kind)
        self.shopify_bulk_status = "INGESTED"
        if kind == "orders":
            self._shopify_backfill_finished(summary)
        if kind == "variants":
            self.with_delay(
                channel=self._channel("bulk"),
                description=f"{self.name}: backfill orders",
            )._job_shopify_bulk_start("orders")
        return summary

    def _shopify_backfill_finished(self, summary):
        """Say that the backfill is over where it stays until read: on the
        backend's chatter, and as a notification the user closes."""
        self.write(
            {
                "shopify_backfill_done_at": fields.Datetime.now(),
                "shopify_backfill_result": summary,
            }
        )
        message = self.env._(
            "Backfill finished: %(summary)s. The orders are imported in the "
            "background; their exceptions, if any, are in Exceptions.",
            summary=summary,
        )
        self._message_log(body=message)
        self._notify_sticky(self.name, message, "success")

    def _shopify_bulk_ingest(self, client, url, kind):
        if not url:  # nothing matched
            return "no objects"
        # a signed URL on Shopify's storage host: it carries its own
        # authorization, and the access token never leaves the shop's API host
        response = self._call_in_job(
            client.request,
            "GET",
            url,
            operation=f"bulk.{kind}.download",
            stream=True,
            anonymous=True,
        )
        chunks = response.iter_content(chunk_size=64 * 1024)
        if kind == "variants":
            return self._shopify_bind_variants(assemble(chunks))
        count = new = 0
        events = self.env["retail.event"]
        for order in assemble(chunks):
            count += 1
            numeric = mappers.numeric_id(order["id"])
            _event, created = events._ingest(
                self,
                Delivery(
                    topic="orders/backfill",
                    dedup_key=f"backfill:{order['id']}:{order['updatedAt']}",
                    payload=json.dumps(order).encode(),
                    subject_key=f"order:{numeric}",
                    remote_updated_at=mappers.parse_time(order["updatedAt"]),
                    meta={"traffic": "bulk"},
                ),
                source="poll",
            )
            new += created
        return f"{count} orders read, {new} new events"

    def _shopify_bind_variants(self, variants):
        """Bind Shopify variants to the Odoo products with the same SKU."""
        bindings = self.env["retail.binding"]
        products = self.env["product.product"]
        bound = unknown = 0
        for variant in variants:
            sku = (variant.get("sku") or "").strip()
            if not sku or bindings._lookup(self, "product.product", variant["id"]):
                continue
            product = products.search(
                [
                    ("default_code", "=", sku),
                    ("company_id", "in", (False, self.company_id.id)),
                ],
                limit=1,
            )
            if not product or bindings._lookup_record(self, product):
                unknown += not product
                continue
            bindings._bind(
                self,
                product,
                variant["id"],
                external_ref=sku,
                extra={
                    "inventory_item_id": (variant.get("inventoryItem") or {}).get("id")
                },
            )
            bound += 1
        return f"{bound} variants bound by SKU, {unknown} SKUs unknown in Odoo"
