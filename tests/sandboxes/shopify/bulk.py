"""Bulk operations: queries, the run, its clock and its result file."""

from __future__ import annotations

import json
import math
import random
import uuid
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    OperationType,
    execute,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
    parse,
)

from .schema import (
    BULK_ACTIVE,
    BULK_CONCURRENT,
    BULK_MAX_CONNECTIONS,
    BULK_MAX_DEPTH,
    BULK_URL_SECONDS,
    SCHEMA,
    _Coster,
    _Ctx,
    _is_connection,
    _user_error,
    gid_number,
    gql_time,
)


class ShopifyBulkMixin:
    """Bulk operations: queries, the run, its clock and its result file."""

    def rest_bulk_operation(self, operation_id: str) -> dict:
        operation = self.bulk_operations[operation_id]
        return {
            "admin_graphql_api_id": operation_id,
            "completed_at": self._rest_time(operation["completedAt"]),
            "created_at": self._rest_time(operation["createdAt"]),
            "error_code": (operation["errorCode"] or "").lower() or None,
            "status": operation["status"].lower(),
            "type": operation["type"].lower(),
        }

    def _v_bulk(self, operation: dict | None) -> dict | None:
        if operation is None:
            return None
        status = operation["status"]
        done = status in ("COMPLETED", "EXPIRED")
        counted = done or status == "FAILED"  # a failed one: its partial data
        data = operation["data"]
        partial = operation.get("partialName")
        return {
            "__typename": "BulkOperation",
            "id": operation["id"],
            "type": operation["type"],
            "status": status,
            "query": operation["query"],
            "createdAt": gql_time(operation["createdAt"]),
            "completedAt": gql_time(operation["completedAt"]),
            "errorCode": operation["errorCode"],
            "objectCount": str(operation["objectCount"] if counted else 0),
            "rootObjectCount": str(operation["rootObjectCount"] if counted else 0),
            "fileSize": str(len(data)) if done and data else None,
            "url": self._bulk_url(operation, operation.get("objectName"))
            if done and data
            else None,
            # "The URL that points to the partial or incomplete response data
            # ... returned by a failed operation. ... Returns null when there's
            # no data available." (BulkOperation.partialDataUrl)
            "partialDataUrl": self._bulk_url(operation, partial) if partial else None,
        }

    def _bulk_url(self, operation: dict, name: str) -> str:
        # a signed Cloud Storage URL valid seven days from completion or
        # failure (BulkOperation.url: "url and partialDataUrl values expire
        # after seven days"), on the storage host, not the shop's
        expires = operation["completedAt"] // 1000 + BULK_URL_SECONDS
        return self.storage.signed_url(name, expires)

    def gql_currentBulkOperation(self, info, type="QUERY"):
        # the app's most recent operation of the type; "Existing workflows can
        # continue using currentBulkOperation, but it is being deprecated"
        # (https://shopify.dev/release-notes/2026-01)
        return self._v_bulk(self._current_bulk(type))

    def gql_bulkOperation(self, info, id):
        # one operation by id, null if the app has none such (2026-01:
        # https://shopify.dev/changelog/new-queries-for-bulk-operations)
        return self._v_bulk(self.bulk_operations.get(id))

    def gql_bulkOperations(self, info, **args):
        # search fields created_at, id, operation_type (query|mutation) and
        # status; "Defaults to sorting by created_at, with newest operations
        # first" (https://shopify.dev/docs/api/admin-graphql/latest/queries/
        # bulkOperations): newest first unless ``reverse`` (also for
        # COMPLETED_AT, the sandbox's reading)
        def spec(operation):
            return {
                None: [],
                "created_at": ("time", operation["createdAt"]),
                "id": ("id", gid_number(operation["id"])),
                "operation_type": ("text", operation["type"].lower()),
                "status": ("text", operation["status"].lower()),
            }

        known = {"created_at", "id", "operation_type", "status"}
        records = self._filter(
            info, self.bulk_operations.values(), args.get("query"), spec, known
        )
        keyfn = self._sort_key(
            args.get("sortKey"),
            {"CREATED_AT": "createdAt", "COMPLETED_AT": "completedAt"},
        )
        newest_first = {**args, "reverse": not args.get("reverse")}
        return self._page(info, records, newest_first, self._v_bulk, keyfn)

    def _current_bulk(self, type_: str) -> dict | None:
        found = [op for op in self.bulk_operations.values() if op["type"] == type_]
        return found[-1] if found else None

    # ---------------------------------------------------- bulk operations
    def gql_bulkOperationRunQuery(self, info, query, groupObjects=False):
        # groupObjects "now defaults to false" from 2026-01
        # (https://shopify.dev/changelog/bulk-operations-group-objects-default-changed-to-false)
        args = {"query": query, "groupObjects": groupObjects}
        return self._idempotent(
            info, args, lambda: self._bulk_run(info, query, groupObjects)
        )

    def _bulk_run(self, info, query: str, group_objects: bool) -> dict:
        def invalid(message, code="INVALID", field_path=("query",)):
            error = _user_error(message, list(field_path) if field_path else None, code)
            return {"bulkOperation": None, "userErrors": [error]}

        running = [
            op
            for op in self.bulk_operations.values()
            if op["type"] == "QUERY" and op["status"] in BULK_ACTIVE
        ]
        if len(running) >= BULK_CONCURRENT:
            # "Each app can run up to five bulk operations per shop
            # simultaneously" (https://shopify.dev/changelog/faster-bulk-operations).
            # The docs do not say what a sixth gets: the sandbox answers
            # LIMIT_REACHED ("Bulk operations limit reached. Please try again
            # later.", BulkOperationUserErrorCode), and counts CANCELING ones
            return invalid(
                "Bulk operations limit reached. Please try again later.",
                "LIMIT_REACHED",
                None,
            )
        try:
            document = parse(query)
        except GraphQLError as exc:
            return invalid(f"Invalid bulk query: {exc.message}")
        errors = self._validate(document)
        if errors:
            return invalid(f"Invalid bulk query: {errors[0]['message']}")
        operation = get_operation_ast(document)
        if operation is None or operation.operation != OperationType.QUERY:
            return invalid("Bulk queries must be a single query operation.")
        if operation.variable_definitions:
            return invalid("Bulk queries cannot use variables.")
        fragments = {
            d.name.value: d
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        coster = _Coster(SCHEMA, fragments, {})
        roots = coster.collect(operation.selection_set, SCHEMA.query_type)
        field_def = (
            SCHEMA.query_type.fields.get(roots[0][1].name.value) if roots else None
        )
        if (
            len(roots) != 1
            or field_def is None
            or not _is_connection(get_named_type(field_def.type))
        ):
            return invalid(
                "Bulk queries must contain exactly one top-level connection field."
            )
        # the operation restrictions of the bulk queries guide (the messages
        # are the sandbox's)
        depths = self._connection_depths(
            coster, operation.selection_set, SCHEMA.query_type, 0
        )
        if len(depths) > BULK_MAX_CONNECTIONS:
            return invalid(
                f"Bulk queries cannot contain more than {BULK_MAX_CONNECTIONS} "
                f"connections ({len(depths)} given)."
            )
        if max(depths) > BULK_MAX_DEPTH:
            return invalid(
                "Bulk queries cannot contain connections nested more than "
                f"{BULK_MAX_DEPTH} levels deep."
            )
        inner = _Ctx(variables={}, version=info.context.version, bulk=True)
        result = execute(SCHEMA, document, root_value=self._root(), context_value=inner)
        if result.errors:
            return invalid(f"Invalid bulk query: {result.errors[0].message}")
        key, node = roots[0]
        lines: list[dict] = []
        connection = get_named_type(field_def.type)
        try:
            for selection, node_type, items in coster.parts(
                node, connection, (result.data or {}).get(key)
            )[:1]:
                for item in items:
                    self._flatten(coster, item, selection, node_type, None, lines)
        except ValueError as exc:
            return invalid(str(exc))
        operation_id = self._next("BulkOperation")
        if not group_objects:
            # Ungrouped (the default), the docs promise only that each nested
            # node names its parent with __parentId: "The JSONL output file
            # ... by default places child objects directly below their
            # corresponding parent objects. Ensuring such grouping is costly"
            # (changelog "Optional groupObjects argument in bulk operations
            # mutations", 2025-07); so a child may come anywhere, before its
            # parent too. A shuffle seeded by the operation id: reproducible.
            random.Random(operation_id).shuffle(lines)
        ms = self._now_ms()
        operation_record = {
            "id": operation_id,
            "type": "QUERY",
            "status": "CREATED",
            "query": query,
            "createdAt": ms,
            "completedAt": None,
            "finishAt": ms + math.ceil(self.bulk_seconds * 1000),
            "errorCode": None,
            "objectCount": len(lines),
            "rootObjectCount": sum(1 for line in lines if "__parentId" not in line),
            "data": "".join(json.dumps(line) + "\n" for line in lines).encode(),
        }
        self.bulk_operations[operation_record["id"]] = operation_record
        return {"bulkOperation": self._v_bulk(operation_record), "userErrors": []}

    def _connection_depths(self, coster, selection_set, parent, depth) -> list:
        """The nesting depth (1 = top level) of each connection selected under
        ``parent``, itself under ``depth`` connections."""
        depths = []
        for _key, child in coster.collect(selection_set, parent):
            field_def = getattr(parent, "fields", {}).get(child.name.value)
            named = get_named_type(field_def.type) if field_def else None
            if named is None or is_leaf_type(named):
                continue
            if _is_connection(named):
                depths.append(depth + 1)
                for selection, node_type, _ in coster.parts(child, named):
                    depths += self._connection_depths(
                        coster, selection, node_type, depth + 1
                    )
            else:
                depths += self._connection_depths(
                    coster, child.selection_set, named, depth
                )
        return depths

    def _flatten(self, coster, item, selection_set, node_type, parent_id, lines):
        """Shopify's JSONL: nested connection nodes on their own lines."""
        if item is None:
            return
        line = dict(item)
        nested = []
        for key, child in coster.collect(selection_set, node_type):
            field_def = node_type.fields.get(child.name.value)
            named = get_named_type(field_def.type) if field_def else None
            if named is not None and _is_connection(named) and key in line:
                nested.append((child, named, line.pop(key)))
        if parent_id is not None:
            line["__parentId"] = parent_id
        lines.append(line)
        for child, connection, value in nested:
            if "id" not in item:
                raise ValueError(
                    "The parent 'node' field for a nested connection must select "
                    f"the 'id' field. Connection fields without 'id': "
                    f"{child.name.value}."
                )
            for selection, sub_type, items in coster.parts(child, connection, value)[
                :1
            ]:
                for sub in items:
                    self._flatten(coster, sub, selection, sub_type, item["id"], lines)

    def gql_bulkOperationCancel(self, info, id):
        operation = self.bulk_operations.get(id)
        if operation is None:
            error = _user_error("Bulk operation does not exist", ["id"])
            return {"bulkOperation": None, "userErrors": [error]}
        if operation["status"] not in ("CREATED", "RUNNING"):
            status = operation["status"].lower()
            error = _user_error(
                f"A bulk operation cannot be canceled when it is {status}", ["id"]
            )
            return {"bulkOperation": self._v_bulk(operation), "userErrors": [error]}
        # "Starts the cancelation process of a running bulk operation. There
        # may be a short delay from when a cancelation starts until the
        # operation is actually canceled." (bulkOperationCancel): CANCELING
        # now, CANCELED bulk_cancel_seconds later (see _tick_bulk)
        cancel_at = self._now_ms() + math.ceil(self.bulk_cancel_seconds * 1000)
        operation.update(status="CANCELING", cancelAt=cancel_at)
        return {"bulkOperation": self._v_bulk(operation), "userErrors": []}

    def _tick_bulk(self, ctx: _Ctx | None = None) -> list[tuple[str, Any]]:
        """Move running bulk operations on with the clock."""
        events = []
        now = self._now_ms()
        for operation in self.bulk_operations.values():
            status = operation["status"]
            if status == "CANCELING":
                if now >= operation["cancelAt"]:
                    events += self._complete_bulk(operation, "CANCELED")
            elif status in ("CREATED", "RUNNING"):
                if now >= operation["finishAt"]:
                    events += self._complete_bulk(operation)
                else:
                    operation["status"] = "RUNNING"
            elif status == "COMPLETED" and (
                now // 1000 > operation["completedAt"] // 1000 + BULK_URL_SECONDS
            ):
                # "EXPIRED: The bulk operation URL has expired"
                # (BulkOperationStatus); the URL lives seven days
                operation["status"] = "EXPIRED"
        if ctx is not None:
            ctx.events += events
        return events

    def _complete_bulk(
        self, operation, status="COMPLETED", error_code=None, partial_objects=None
    ) -> list:
        operation.update(
            status=status, errorCode=error_code, completedAt=self._now_ms()
        )
        if status == "COMPLETED" and operation["data"]:
            name = f"bulk-operation-outputs/{uuid.uuid4().hex}-final"
            self.storage.put(name, operation["data"], "application/jsonl")
            operation["objectName"] = name
        elif status == "FAILED":
            # INTERNAL_SERVER_ERROR and TIMEOUT: "The operation resulted in
            # partial or incomplete data" (BulkOperationErrorCode), served at
            # partialDataUrl; by default the first half of the lines
            lines = operation["data"].splitlines(keepends=True)
            if partial_objects is None:
                partial = error_code in ("INTERNAL_SERVER_ERROR", "TIMEOUT")
                partial_objects = len(lines) // 2 if partial else 0
            kept = lines[:partial_objects]
            operation["objectCount"] = len(kept)
            operation["rootObjectCount"] = sum(
                1 for line in kept if "__parentId" not in json.loads(line)
            )
            if kept:
                name = f"bulk-operation-outputs/{uuid.uuid4().hex}-partial"
                self.storage.put(name, b"".join(kept), "application/jsonl")
                operation["partialName"] = name
        # bulk_operations/finish: "when a Bulk Operation has completed, failed,
        # or been cancelled" (https://shopify.dev/changelog/new-webhook-topic-
        # notifies-when-a-bulk-operation-has-finished)
        subscribed = any(
            sub["topic"] == "BULK_OPERATIONS_FINISH"
            for sub in self.subscriptions.values()
        )
        if subscribed or self.auto_webhooks:
            return [("bulk_operations/finish", operation["id"])]
        return []

    def finish_bulk(
        self,
        operation_id: str | None = None,
        *,
        status: str = "COMPLETED",
        error_code: str | None = None,
        partial_objects: int | None = None,
    ) -> dict:
        """Finish a running bulk operation now (``status="FAILED"`` with an
        ``error_code`` fails it, keeping the first ``partial_objects`` lines as
        partial data: by default half of them for ``TIMEOUT`` and
        ``INTERNAL_SERVER_ERROR``, none for ``ACCESS_DENIED``); return the
        operation record."""
        with self.lock:
            if operation_id is None:
                running = [
                    op
                    for op in self.bulk_operations.values()
                    if op["status"] in ("CREATED", "RUNNING")
                ]
                if not running:
                    raise KeyError("no running bulk operation")
                operation = running[-1]
            else:
                operation = self._get(
                    self.bulk_operations, operation_id, "bulk operation"
                )
            events = self._complete_bulk(operation, status, error_code, partial_objects)
            snapshot = {k: v for k, v in operation.items() if k != "data"}
        self._emit_pending(events)
        return snapshot

    def bulk_file(self, operation_id: str) -> bytes:
        with self.lock:
            return self._get(self.bulk_operations, operation_id, "bulk operation")[
                "data"
            ]
