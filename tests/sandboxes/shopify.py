"""Shopify: a stateful sandbox of the Admin GraphQL API (pinned ``2026-10``).

``ShopifySandbox(shop="acme.myshopify.com", access_token="shpat_test",
client_id="cid", client_secret="csecret")`` serves one shop. GraphQL is
*executed* with graphql-core against ``shopify_schema.graphql`` (the subset of
the Admin schema the connector uses; see the header of that file), so an answer
holds exactly the selected fields, validation errors look like Shopify's and
variables are type-checked. Dispatch never depends on ``operationName``.

Python API (state is kept under ``self.lock``; money as 2-decimal strings in,
``Decimal`` in records; GIDs ``gid://shopify/<Type>/<n>``; every write bumps
``updatedAt`` on the sandbox clock): ``add_location``, ``add_customer``,
``update_customer``, ``add_product``, ``variant_by_sku``, ``add_order``,
``update_order``, ``edit_order``, ``cancel_order``, ``refund_order``, ``fulfill``,
``set_inventory``, ``inventory``, ``order`` (a snapshot); ``emit``, ``payload``,
``flush_webhooks``; ``finish_bulk``, ``bulk_file``; returns
(``shopify_returns.py``): ``request_return``, ``create_return``,
``approve_return``, ``decline_return``, ``cancel_return``, ``close_return``,
``reopen_return``, ``dispose_return``, ``refund_return``, ``return_``;
``graphql(query,
variables)`` runs a request as the route does, without HTTP or token.

Authentication
    ``POST /admin/oauth/access_token`` (form or JSON ``grant_type=
    client_credentials&client_id&client_secret``) answers ``{"access_token":
    "shpat_<32 hex>", "scope", "expires_in": 86399}``; the token expires on the
    sandbox clock. Wrong client: 400 ``{"error": "invalid_client",
    "error_description"}``; another grant: 400 ``unsupported_grant_type``. The
    ``access_token`` given at construction never expires. ``POST
    /admin/api/<version>/graphql.json`` needs ``X-Shopify-Access-Token``
    (missing, unknown or expired: 401 ``{"errors": "[API] Invalid API key or
    access token (unrecognized login or wrong password)"}``).

Versions
    ``supported_versions`` (default 2026-01 .. 2026-10), the release candidate
    2027-01 and ``unstable`` are served as asked; anything else falls forward
    to the oldest supported one. ``X-Shopify-API-Version`` tells which version
    served. Every version gets the 2026-10 behaviour. A query selecting
    deprecated fields gets ``X-Shopify-API-Deprecated-Reason: Customer.email,
    Customer.phone`` (the fields, as Shopify answers from 2025-04).

Body and errors
    ``{"query", "variables", "operationName"}``; no query: 400 ``{"errors":
    {"query": "Required parameter missing or invalid"}}``. Syntax and
    validation errors are HTTP 200 ``{"errors": [{"message", "locations",
    "extensions": {"code"}}]}`` with graphql-ruby's codes (``undefinedField``
    with ``typeName``/``fieldName``, ``argumentNotAccepted``,
    ``missingRequiredArguments``, ``variableMismatch``...); a bad variable is
    ``Variable $x of type T was provided invalid value`` with ``extensions
    {"value", "problems"}``. Unknown search fields add a warning in
    ``extensions.search`` as Shopify does. Cursors are base64 JSON of the sort
    key and id: an order updated while paging by ``UPDATED_AT`` moves to the
    end and is seen again, none is skipped.

Cost and throttling (the bucket runs on the sandbox clock)
    Requested cost, from the document before execution: a scalar or enum field
    is 0; an object field is 1 + its selection; a list of objects costs as one
    object; a connection (type ``*Connection``) is ``2 + n * (1 + node
    selection)`` with ``n`` its ``first``/``last`` (one is required, at most
    250); an abstract type costs its dearest possible type; a mutation costs 10
    per root field, whatever it selects. The actual cost is the same walk over
    the answer, connections counting the nodes really returned; the difference
    is refunded to the bucket. Over 1000 requested: ``MAX_COST_EXCEEDED`` and
    nothing is charged. The bucket holds ``max_available`` (2000) and restores
    ``restore_rate`` (100) a second; when it cannot hold the requested cost:
    ``{"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED",
    "documentation": ...}}]}`` with HTTP ``throttle_status_code`` (200, or 429
    with ``Retry-After``). Every answer carries ``extensions.cost
    {requestedQueryCost, actualQueryCost, throttleStatus{maximumAvailable,
    currentlyAvailable, restoreRate}}``.

Inventory states
    Each level keeps ``available``, ``committed``, ``reserved``, ``damaged``,
    ``safety_stock``, ``quality_control`` and ``incoming``; ``on_hand`` is the
    sum of all but ``incoming`` (see ``UNAVAILABLE_STATES``). An order takes
    its units from ``available`` into ``committed`` at its line's location; a
    fulfilment takes them out of ``committed`` (and ``on_hand``); a cancel or
    a restocking refund of unfulfilled units gives them back to ``available``.
    A deleted variant (:meth:`ShopifySandbox.delete_variant`) takes its
    inventory item and levels with it: writes on that item answer
    ``INVALID_INVENTORY_ITEM``.

Inventory writes (2026-04 rules)
    ``inventorySetQuantities`` and ``inventoryAdjustQuantities`` need
    ``@idempotent(key:)``; without it the field is null with a top-level error
    ``extensions.code "BAD_REQUEST"`` and nothing changes. Every quantity must
    carry ``changeFromQuantity`` (``null`` opts out; omitted: a userError with
    a null code, the real code being undocumented); any mismatch gives
    ``CHANGE_FROM_QUANTITY_STALE`` at ``["input", "quantities"|"changes", "<i>",
    "changeFromQuantity"]`` and nothing at all is applied ("the mutation fails
    with a CHANGE_FROM_QUANTITY_STALE error": InventoryQuantityInput and the
    changelog "compare-and-swap redesign for inventorySetQuantities"). A
    quantity on an unknown (deleted) item: ``INVALID_INVENTORY_ITEM`` at
    ``[..., "<i>", "inventoryItemId"]``, and nothing is applied either.
    ``name`` is ``available`` or ``on_hand`` (``on_hand`` moves ``available``,
    the other states stay). Any input list over 250 items, in a mutation or a
    query (``nodes(ids:)``), is refused before execution with a top-level
    ``MAX_INPUT_SIZE_EXCEEDED`` error (Shopify's input array limit), free of
    charge.

Idempotency
    ``@idempotent(key:)`` is honoured only on the mutations that support it
    (``IDEMPOTENT_MUTATIONS``: https://shopify.dev/changelog/adding-idempotency-
    for-inventory-adjustments-and-refund-mutations lists refundCreate,
    inventoryAdjustQuantities, inventorySetQuantities, inventoryMoveQuantities,
    inventorySetOnHandQuantities and the inventoryShipment* mutations; the
    details of https://shopify.dev/docs/api/usage/implementing-idempotency
    "only apply to mutations that support the @idempotent directive"). On
    any other mutation the directive has no effect: the mutation runs again
    on every call (assumption: Shopify documents no error for it). On the
    supported ones the same key with the same mutation and arguments replays
    the first answer (no second effect, no webhook); with other arguments the
    payload has ``userErrors [{"code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
    "field": null}]``; a key whose first request failed (its payload had
    userErrors and changed nothing) answers ``IDEMPOTENCY_PREVIOUS_ATTEMPT_
    FAILED`` ("A previous request with this idempotency key failed. Retry
    with a new idempotency key.") and a key whose request is still running
    ``IDEMPOTENCY_CONCURRENT_REQUEST`` ("This request is currently in
    progress, please try again."), both from the 2026-10
    InventorySetQuantitiesUserErrorCode / InventoryAdjustQuantitiesUserErrorCode
    enums (``code`` is left out where the payload's error type has none).
    :meth:`ShopifySandbox.hold_idempotency_key` holds a key as if a request
    were running. Keys live 24 hours (assumption: Shopify does not document
    the retention window). As implementing-idempotency says, a key names one
    intended operation: the same values sent later under a new key are a new
    operation and apply again. Missing directive where it is required (the
    inventory mutations since 2026-04): a top-level ``BAD_REQUEST`` error
    (assumption: the changelog "making idempotency mandatory..." only says
    "will result in an error at runtime").

Bulk operations
    ``bulkOperationRunQuery`` validates and runs the inner query at once (all
    nodes, no ``first`` needed; at most five connections, nested at most two
    levels deep) and answers ``CREATED``; the operation is ``RUNNING`` when
    next seen and ``COMPLETED`` ``bulk_seconds`` after its creation (or at
    :meth:`ShopifySandbox.finish_bulk`, which can also fail it, with partial
    data at ``partialDataUrl``). Its ``url`` is a signed URL, valid seven days
    (then the status is ``EXPIRED``), on another host: ``self.storage``, a
    :class:`~sandboxes.signed_storage.SignedUrlStorage` (Google Cloud Storage,
    as Shopify serves these files), served on its own port with the sandbox;
    the file is also at ``GET /__sandbox__/bulk/<n>.jsonl``. One object per
    line, nested connection nodes on their own lines with ``__parentId``: with
    ``groupObjects: true`` right after their parent; by default (``false``
    from 2026-01) in a seeded shuffled order, a child possibly before its
    parent or far from it. Up to five query operations run at a time; a sixth:
    userError ``LIMIT_REACHED``. ``bulkOperation(id:)`` and ``bulkOperations``
    read them, ``currentBulkOperation`` (deprecated) the newest.
    ``bulkOperationCancel`` answers ``CANCELING``; ``bulk_cancel_seconds``
    later it is ``CANCELED``. Completion, failure and cancellation send
    ``bulk_operations/finish`` to its subscribers.

Webhooks
    The payload is the REST resource (orders/*, but orders/edited: its
    ``order_edit``, see ``edit_order``; refunds/create, returns/*,
    reverse_fulfillment_orders/dispose,
    customers/create|update, products/create|update, fulfillments/create|
    update, inventory_levels/update, bulk_operations/finish), POSTed with
    ``X-Shopify-Topic``, ``X-Shopify-Hmac-Sha256`` (:func:`sign` with
    ``webhook_secret``, by default the client secret), ``X-Shopify-Shop-Domain``,
    ``X-Shopify-API-Version``, ``X-Shopify-Webhook-Id`` (new per POST),
    ``X-Shopify-Event-Id`` (one per event: duplicates reuse it) and
    ``X-Shopify-Triggered-At``. Targets: the subscriptions to the topic
    (``webhookSubscriptionCreate``), else ``webhook_url``. With
    ``auto_webhooks`` API writes emit their natural topics.

Order edits
    ``orderEditBegin`` opens a CalculatedOrder (and its OrderEditSession);
    ``orderEditAddVariant`` and ``orderEditSetQuantity`` stage changes;
    ``orderEditCommit`` applies them all (or none, with userErrors) and sends
    ``orders/edited`` then ``orders/updated`` (``auto_webhooks``). Removed
    units leave ``currentQuantity``, not ``quantity``; fulfilled units can't
    be edited; stock and fulfillment orders follow. ``edit_order`` does the
    same from Python (see its comment for the documents).

Compliance webhooks
    ``customers/data_request``, ``customers/redact`` and ``shop/redact`` are
    not subscriptions: the app declares one compliance URL
    (``compliance_url``, the Dev Dashboard or ``shopify.app.toml``'s
    ``compliance_topics``) and ``webhookSubscriptionCreate`` knows no such
    topic. :meth:`ShopifySandbox.request_customer_data`,
    :meth:`~ShopifySandbox.redact_customer` and
    :meth:`~ShopifySandbox.redact_shop` post Shopify's documented bodies
    (``shop_id``, ``shop_domain``, ``customer {id, email, phone}``,
    ``orders_requested`` + ``data_request {id}``, ``orders_to_redact``; numeric
    ids) with the usual signed headers; without a compliance URL they refuse.

Faults
    Injected 500s answer ``{"errors": [{"message": "Internal error...",
    "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId"}}]}``, other
    statuses ``{"errors": "<reason phrase>"}``; a throttle fault answers the
    THROTTLED body (reporting an empty bucket). Faults match ``operation`` =
    the body's ``operationName`` (else ``graphql``; ``token`` for the grant).

Sandbox admin routes (no auth), besides the toolkit's: ``GET|POST config``;
``POST locations|products|customers|orders`` (seed; the last three take
``"emit": true``);
``GET|POST orders/<n>``, ``POST orders/<n>/cancel|refund|edit``; ``POST
returns``, ``GET returns/<n>/show``, ``POST returns/<n>/approve|decline|cancel|
close|reopen|dispose|refund``; ``GET|POST inventory``; ``POST emit {"topic",
"id"}``; ``POST compliance {"topic", "customer_id", "orders"}``; ``GET
webhooks``; ``POST webhooks/flush``; ``POST bulk/finish``; ``GET
bulk/<n>.jsonl``.

Simplifications: a presentment currency at a fixed rate per order (shop
amounts are the record, presentment = shop x rate); orders are not
limited to the last 60 days; search supports ``field:value`` with ``>= <= > <
=``, quoted values, ``AND``, ``-`` negation and a trailing ``*``, not ``OR``;
``productSet`` always runs synchronously and matches variants by id, then by
option values, then by SKU (unmatched variants are deleted); deliveries are
JSON even for XML subscriptions.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import functools
import hashlib
import hmac
import json
import logging
import math
import random
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from http import HTTPStatus
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_schema,
    coerce_input_value,
    execute,
    get_named_type,
    get_operation_ast,
    is_abstract_type,
    is_leaf_type,
    is_non_null_type,
    parse,
    specified_rules,
    type_from_ast,
    validate,
    value_from_ast,
    visit,
)
from graphql.pyutils import Undefined
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import shopify_discounts as disc
from .shopify_returns import ShopifyReturnsMixin
from .signed_storage import SignedUrlStorage
from .toolkit import (
    ApiError,
    BaseSandbox,
    Clock,
    LeakyBucket,
    WebhookSender,
    json_response,
    parse_iso_ms,
    register,
    utc_iso,
)

_logger = logging.getLogger(__name__)

API_VERSION = "2026-10"
BULK_URL_SECONDS = 7 * 86400
# "In API versions 2026-01 and higher, you can run up to five bulk query
# operations at a time per shop"; "Maximum of five total connections in the
# query"; "Maximum of two levels deep for nested connections"
# (https://shopify.dev/docs/api/usage/bulk-operations/queries)
BULK_CONCURRENT = 5
BULK_MAX_CONNECTIONS = 5
BULK_MAX_DEPTH = 2
BULK_ACTIVE = ("CREATED", "RUNNING", "CANCELING")
SUPPORTED_VERSIONS = ("2026-01", "2026-04", "2026-07", "2026-10")
RELEASE_CANDIDATE = "2027-01"
SCHEMA_PATH = Path(__file__).with_name("shopify_schema.graphql")
SCHEMA: GraphQLSchema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
TOKEN_TTL = 86399
# "Only the last 60 days' worth of orders from a store are accessible from the
# Order object by default": older ones need the read_all_orders scope
# (https://shopify.dev/docs/api/admin-graphql/latest/objects/Order,
# https://shopify.dev/docs/api/usage/access-scopes: "All relevant orders rather
# than the default window of orders created within the last 60 days").
ORDER_WINDOW_DAYS = 60
MAX_QUERY_COST = 1000
MUTATION_COST = 10
MAX_PAGE = 250
MAX_INPUT_ARRAY = 250
IDEMPOTENCY_TTL = 24 * 3600  # assumption: the retention window is undocumented
# https://shopify.dev/changelog/adding-idempotency-for-inventory-adjustments-and-refund-mutations
IDEMPOTENT_MUTATIONS = frozenset(
    {
        "refundCreate",
        "inventoryAdjustQuantities",
        "inventorySetQuantities",
        "inventoryMoveQuantities",
        "inventorySetOnHandQuantities",
        "inventoryShipmentCreate",
        "inventoryShipmentCreateInTransit",
        "inventoryShipmentReceive",
    }
)
# "The quantity can't be higher than 2,000,000,000." / "... lower than
# -2,000,000,000." (InventoryAdjustQuantitiesUserErrorCode and
# InventorySetQuantitiesUserErrorCode INVALID_QUANTITY_TOO_HIGH/_TOO_LOW)
MAX_QUANTITY = 2_000_000_000
# inventoryAdjustQuantities adjusts any quantity name of
# https://shopify.dev/docs/apps/build/orders-fulfillment/inventory-management-apps/quantities-states
# but committed, which orders set (assumption); inventorySetQuantities only
# "available" or "on_hand" (InventorySetQuantitiesInput.name).
RATE_LIMIT_DOC = "https://shopify.dev/api/usage/rate-limits"
INVALID_TOKEN = (
    "[API] Invalid API key or access token (unrecognized login or wrong password)"
)
DEFAULT_SCOPE = (
    "read_orders,write_orders,read_products,write_products,read_inventory,"
    "write_inventory,read_customers,read_locations,"
    "read_merchant_managed_fulfillment_orders,"
    "write_merchant_managed_fulfillment_orders"
)
WEBHOOK_MODES = ("sync", "async", "queue")
# Webhook delivery rules. Shopify gives the endpoint 1 s to accept the connection
# and 5 s to answer; anything but a 2xx (or no answer) is a failed delivery
# (https://shopify.dev/docs/apps/build/webhooks/troubleshooting). A failed
# delivery is "retried a total of 8 times over 4 hours using an exponential
# backoff schedule", "with the original payload", to "the subscription's address
# that was configured when the webhook was triggered"
# (https://shopify.dev/changelog/updates-to-webhook-retry-mechanism). After 8
# consecutive failures, a subscription created through the Admin API is deleted
# (troubleshooting page above). Shopify does not publish the exact intervals:
# these double from one minute and add up to four hours. The sender gives
# connect and answer 5 s each (one float: Odoo's test harness wraps requests and
# compares the timeout with a number).
WEBHOOK_TIMEOUT = 5.0
# Mandatory compliance webhooks
# (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance):
# customers/data_request ("requests to view stored customer data"; the app has
# 30 days to act), customers/redact ("requests to delete customer data": sent 10
# days after the request when the customer placed no order in the last six
# months, else six months after their last order) and shop/redact (48 hours
# after the shop uninstalled the app). They are configured in the app (Dev
# Dashboard or shopify.app.toml ``compliance_topics``), not through the Admin
# API: "You can make app-specific subscriptions to all non-compliance topics"
# (https://shopify.dev/docs/api/webhooks, "Creating subscriptions using GraphQL
# Admin API"), so WebhookSubscriptionTopic has no such value.
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")
SHOP_ID = 1
WEBHOOK_RETRY_DELAYS = (60, 120, 240, 480, 960, 1920, 3840, 6780)
# Shopify's documented reasons for inventory changes.
INVENTORY_REASONS = frozenset(
    "correction cycle_count_available damaged movement_created movement_updated "
    "movement_received movement_canceled other promotion quality_control "
    "received reservation_created reservation_deleted reservation_updated "
    "restock safety_stock shrinkage".split()
)
# Inventory states, as Shopify documents them
# (https://shopify.dev/docs/apps/build/orders-fulfillment/inventory-management-apps
# #inventory-states and .../inventory-management-apps/manage-quantities-states):
# ``on_hand`` is not stored but is the sum of ``available``, ``committed`` and the
# unavailable states (``reserved``, ``damaged``, ``safety_stock``,
# ``quality_control``); ``incoming`` is not on hand. An order moves units from
# ``available`` to ``committed``; its fulfilment takes them out of ``committed``
# (and so out of ``on_hand``).
UNAVAILABLE_STATES = ("reserved", "damaged", "safety_stock", "quality_control")
STORED_STATES = ("available", "committed", *UNAVAILABLE_STATES, "incoming")
QUANTITY_NAMES = ("available", "on_hand", "committed", "incoming", *UNAVAILABLE_STATES)
ADJUSTABLE_NAMES = ("available", "on_hand", "incoming", *UNAVAILABLE_STATES)
COUNTRIES = {
    "AT": "Austria",
    "AU": "Australia",
    "BE": "Belgium",
    "CA": "Canada",
    "CH": "Switzerland",
    "CZ": "Czech Republic",
    "DE": "Germany",
    "DK": "Denmark",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "GB": "United Kingdom",
    "IE": "Ireland",
    "IT": "Italy",
    "LU": "Luxembourg",
    "NL": "Netherlands",
    "NO": "Norway",
    "PL": "Poland",
    "PT": "Portugal",
    "SE": "Sweden",
    "US": "United States",
}
# graphql-core validation rule -> graphql-ruby (Shopify) error code.
RULE_CODES = {
    "FieldsOnCorrectTypeRule": "undefinedField",
    "KnownArgumentNamesRule": "argumentNotAccepted",
    "ProvidedRequiredArgumentsRule": "missingRequiredArguments",
    "VariablesInAllowedPositionRule": "variableMismatch",
    "ValuesOfCorrectTypeRule": "argumentLiteralsIncompatible",
    "KnownTypeNamesRule": "undefinedType",
    "ScalarLeafsRule": "selectionMismatch",
    "NoUndefinedVariablesRule": "variableNotDefined",
    "NoUnusedVariablesRule": "variableNotUsed",
    "KnownDirectivesRule": "undefinedDirective",
    "KnownFragmentNamesRule": "undefinedFragment",
    "NoUnusedFragmentsRule": "useAndDefineFragment",
    "UniqueArgumentNamesRule": "argumentUniqueness",
    "PossibleFragmentSpreadsRule": "fragmentSpreadTypeMismatch",
    "OverlappingFieldsCanBeMergedRule": "fieldConflict",
}
_UNDEFINED_FIELD_RE = re.compile(r"Cannot query field '(\w+)' on type '(\w+)'")
_GID_RE = re.compile(r"gid://shopify/(\w+)/(\d+)(?:\?.*)?")
_SEARCH_RE = re.compile(r"""(-?)(?:(\w+):)?(>=|<=|>|<|=)?("[^"]*"|'[^']*'|\S+)""")
_CENT = Decimal("0.01")


# ------------------------------------------------------------------ helpers
def sign(raw_body: bytes, secret: str) -> str:
    """``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(raw_body: bytes, signature: str, secret: str) -> bool:
    """Whether ``signature`` is :func:`sign`'s for this body and secret."""
    given = (signature or "").encode("utf-8", "replace")
    return hmac.compare_digest(sign(raw_body, secret).encode("ascii"), given)


def _current(line: dict) -> int:
    """LineItem.currentQuantity: "The number of units ordered, excluding
    refunded and removed units" (``quantity`` includes them; 2026-10 schema)."""
    return line["quantity"] - line["refunded"] - line.get("removed", 0)


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def gid_number(value: Any, kind: str | None = None) -> int | None:
    """The number of a ``gid://shopify/<kind>/<n>`` (None if not one)."""
    match = _GID_RE.fullmatch(value) if isinstance(value, str) else None
    if not match or (kind and match.group(1) != kind):
        return None
    return int(match.group(2))


def gid_kind(value: Any) -> str | None:
    match = _GID_RE.fullmatch(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def money(value: Any) -> Decimal:
    """A money amount as a Decimal with 2 places; ValueError if not one."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"invalid amount {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"invalid amount {value!r}")
    return amount.quantize(_CENT, ROUND_HALF_UP)


def fmt(amount: Decimal) -> str:
    return f"{amount.quantize(_CENT, ROUND_HALF_UP):.2f}"


def deprecated_fields(query: str) -> list[str]:
    """The deprecated fields (``Type.field``) a query selects, in order met."""
    try:
        document = parse(query)
    except GraphQLError:
        return []
    type_info = TypeInfo(SCHEMA)
    found: list[str] = []

    class Collect(Visitor):
        def enter_field(self, node, *_args):
            definition = type_info.get_field_def()
            parent = type_info.get_parent_type()
            if definition is not None and definition.deprecation_reason:
                name = f"{parent.name}.{node.name.value}"
                if name not in found:
                    found.append(name)

    visit(document, TypeInfoVisitor(type_info, Collect()))
    return found


def gql_time(ms: int | None) -> str | None:
    """GraphQL ``DateTime``: ``YYYY-MM-DDTHH:MM:SSZ``."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms // 1000, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_cursor(key: tuple) -> str:
    """An opaque cursor: base64 JSON of the sort key (``(..., id)``)."""
    last = {"last_id": key[-1], "last_value": list(key[:-1])}
    return base64.b64encode(json.dumps(last, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> tuple:
    try:
        data = json.loads(base64.b64decode(cursor, validate=True))
        key = (*data["last_value"], int(data["last_id"]))
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise _error("Invalid cursor for current pagination sort.") from None
    return key


def _error(message: str, code: str = "BAD_REQUEST", **extra: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extra})


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "product"


def _bag(amount: Decimal, currency: str, order: dict | None = None) -> dict:
    """A MoneyBag: ``shopMoney`` in the shop's currency, ``presentmentMoney``
    in the customer's (the order's presentment currency, shop amount x rate).
    https://shopify.dev/docs/api/admin-graphql/latest/objects/MoneyBag"""
    money_v2 = {"amount": fmt(amount), "currencyCode": currency}
    presentment = dict(money_v2)
    if order is not None and order["presentmentCurrency"] != currency:
        presentment = {
            "amount": fmt(money(amount * order["presentmentRate"])),
            "currencyCode": order["presentmentCurrency"],
        }
    return {"shopMoney": money_v2, "presentmentMoney": presentment}


def _user_error(message: str, field_path=None, code: str | None = None) -> dict:
    return {"message": message, "field": field_path, "code": code}


def _topic_enum(topic: str) -> str:
    return topic.replace("/", "_").upper()


def _topic_name(enum_value: str) -> str:
    head, _, tail = enum_value.rpartition("_")
    return f"{head}/{tail}".lower()


# ------------------------------------------------------------------- search
def parse_search(query: str | None) -> list[tuple[bool, str | None, str, str]]:
    """``(negated, field, operator, value)`` terms of a Shopify search string."""
    terms = []
    for negated, name, op, value in _SEARCH_RE.findall(query or ""):
        if not name and value in ("AND", "OR"):
            continue
        if value[:1] in "'\"" and value[-1:] == value[:1] and len(value) > 1:
            value = value[1:-1]
        terms.append((bool(negated), name.lower() or None, op or "=", value))
    return terms


def _compare(actual: Any, op: str, wanted: Any) -> bool:
    if actual is None:
        return False
    return {
        "=": actual == wanted,
        ">": actual > wanted,
        "<": actual < wanted,
        ">=": actual >= wanted,
        "<=": actual <= wanted,
    }[op]


def _term_matches(kind: str, actual: Any, op: str, value: str) -> bool:
    """Match one search term; ``kind``: ``time``, ``id`` or ``text``."""
    if kind == "time":
        text = value if "T" in value else f"{value}T00:00:00Z"
        return _compare(actual, op, parse_iso_ms(text))
    if kind == "id":
        number = gid_number(value)
        return _compare(actual, op, int(value) if number is None else number)
    values = actual if isinstance(actual, list | tuple | set) else [actual]
    wanted = value.lower()
    for item in values:
        text = "" if item is None else str(item).lower()
        if wanted.endswith("*") and text.startswith(wanted[:-1]):
            return True
        if text == wanted:
            return True
    return False


# --------------------------------------------------------------------- cost
_STATIC = object()


class _Coster:
    """Query cost per the module docstring, over the document or an answer."""

    def __init__(self, schema: GraphQLSchema, fragments: dict, variables: dict):
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.errors: list[GraphQLError] = []

    def collect(self, selection_set, parent) -> list[tuple[str, FieldNode]]:
        """Fields selected on ``parent`` (fragments expanded, @skip/@include)."""
        fields: list[tuple[str, FieldNode]] = []
        for selection in selection_set.selections if selection_set else ():
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                fields.append((key, selection))
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection.type_condition, parent):
                    fields += self.collect(selection.selection_set, parent)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment and self._applies(fragment.type_condition, parent):
                    fields += self.collect(fragment.selection_set, parent)
        return fields

    def _included(self, node) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name in ("skip", "include"):
                argument = next(iter(directive.arguments or ()), None)
                flag = argument is not None and value_from_ast(
                    argument.value, GraphQLNonNull(GraphQLBoolean), self.variables
                )
                if (name == "skip") == bool(flag):
                    return False
        return True

    def _applies(self, condition, parent) -> bool:
        if condition is None:
            return True
        wanted = self.schema.get_type(condition.name.value)
        if wanted is parent:
            return True
        return is_abstract_type(wanted) and self.schema.is_sub_type(wanted, parent)

    def arguments(self, field_def, node: FieldNode) -> dict:
        given = {
            argument.name.value: argument.value for argument in node.arguments or ()
        }
        values = {
            name: value_from_ast(given[name], argument.type, self.variables)
            for name, argument in field_def.args.items()
            if name in given
        }
        return {name: v for name, v in values.items() if v is not Undefined}

    def cost(self, selection_set, parent, data: Any = _STATIC) -> int:
        if is_abstract_type(parent):
            return max(
                (
                    self.cost(selection_set, concrete, data)
                    for concrete in self.schema.get_possible_types(parent)
                ),
                default=0,
            )
        total = 0
        for key, node in self.collect(selection_set, parent):
            field_def = parent.fields.get(node.name.value)
            if field_def is None:  # __typename and introspection: free
                continue
            named = get_named_type(field_def.type)
            if is_leaf_type(named):
                continue
            if data is _STATIC:
                value = _STATIC
            elif isinstance(data, dict) and key in data:
                value = data[key]
            else:
                continue
            total += self._field_cost(node, field_def, named, value)
        return total

    def _field_cost(self, node, field_def, named, value) -> int:
        if _is_connection(named):
            return self._connection_cost(node, field_def, named, value)
        if value is None:
            return 1
        if value is _STATIC:
            return 1 + self.cost(node.selection_set, named)
        if isinstance(value, list):
            costs = [self.cost(node.selection_set, named, item) for item in value]
            return 1 + max(costs, default=0)
        return 1 + self.cost(node.selection_set, named, value)

    def _connection_cost(self, node, field_def, named, value) -> int:
        if value is _STATIC:
            args = self.arguments(field_def, node)
            size = args.get("first")
            size = args.get("last") if size is None else size
            name = node.name.value
            if size is None:
                self.errors.append(
                    GraphQLError(
                        f"you must provide one of first or last ({name})",
                        node,
                        extensions={"code": "BAD_REQUEST"},
                    )
                )
                return 2
            if not 0 <= size <= MAX_PAGE:
                self.errors.append(
                    GraphQLError(
                        f"{name}: first and last must be between 0 and {MAX_PAGE}",
                        node,
                        extensions={"code": "BAD_REQUEST"},
                    )
                )
                return 2
            per_node = max(
                (
                    1 + self.cost(sel, node_type)
                    for sel, node_type, _ in self.parts(node, named)
                ),
                default=0,
            )
            return 2 + size * per_node
        if value is None:
            return 2
        sums = [
            sum(1 + self.cost(sel, node_type, item) for item in items)
            for sel, node_type, items in self.parts(node, named, value)
        ]
        return 2 + max(sums, default=0)

    def parts(self, node: FieldNode, connection, value=_STATIC):
        """``(node selection, node type, node answers)`` of a connection field."""
        node_type = get_named_type(connection.fields["nodes"].type)
        edge_type = get_named_type(connection.fields["edges"].type)
        parts = []
        for key, child in self.collect(node.selection_set, connection):
            name = child.name.value
            items = (value.get(key) or []) if isinstance(value, dict) else []
            if name == "nodes":
                parts.append((child.selection_set, node_type, items))
            elif name == "edges":
                for edge_key, edge_child in self.collect(
                    child.selection_set, edge_type
                ):
                    if edge_child.name.value == "node":
                        nodes = [edge.get(edge_key) for edge in items]
                        parts.append((edge_child.selection_set, node_type, nodes))
        return parts


def _is_connection(named) -> bool:
    return (
        isinstance(named, GraphQLObjectType)
        and named.name.endswith("Connection")
        and "nodes" in named.fields
    )


def _oversized_lists(value: Any, path: list) -> list[tuple[list, int]]:
    found = []
    if isinstance(value, list):
        if len(value) > MAX_INPUT_ARRAY:
            found.append((path, len(value)))
        for index, item in enumerate(value):
            found += _oversized_lists(item, [*path, index])
    elif isinstance(value, dict):
        for key, item in value.items():
            found += _oversized_lists(item, [*path, key])
    return found


@dataclass
class _Ctx:
    """Per-request execution context (``info.context`` in resolvers)."""

    variables: dict
    version: str
    bulk: bool = False
    events: list = field(default_factory=list)
    search: list = field(default_factory=list)


@dataclass
class _Stored:
    fingerprint: str
    payload: Any
    stored_at: float
    failed: bool = False


class _CostBucket(LeakyBucket):
    def refund(self, amount: float) -> None:
        """Give back ``amount`` points (the requested minus the actual cost)."""
        with self._lock:
            self._refill()
            self._tokens = min(float(self.capacity), self._tokens + amount)


class _ShopifyWebhookSender(WebhookSender):
    """Shopify's delivery rules on top of the toolkit's sender (see
    ``WEBHOOK_RETRY_DELAYS``): failed deliveries wait for their retry on the
    sandbox clock (:meth:`deliver_due`), and a subscription whose deliveries
    keep failing is deleted."""

    def __init__(self, sandbox: ShopifySandbox, *args: Any, **kwargs: Any):
        super().__init__(*args, timeout=WEBHOOK_TIMEOUT, **kwargs)
        self.sandbox = sandbox
        self.retries: list[dict] = []
        self._failures: dict[str, int] = {}  # subscription id -> consecutive

    def deliver(self, event: dict, duplicate: bool = False, delay: float = 0):
        answers = super().deliver(event, duplicate=duplicate, delay=delay)
        self._after_attempt(event, answers[0][0], attempt=0)
        return answers

    def deliver_due(self) -> list[tuple[int | None, str]]:
        """Post the retries that are due on the sandbox clock, oldest first."""
        now = self.sandbox.clock.now()
        with self._lock:
            due = sorted(
                (r for r in self.retries if r["due"] <= now), key=lambda r: r["due"]
            )
            self.retries = [r for r in self.retries if r["due"] > now]
        answers = []
        for retry in due:
            event = retry["event"]
            status, body = self._post(self.serialize(event), event, duplicate=False)
            answers.append((status, body))
            self._after_attempt(event, status, attempt=retry["attempt"])
        return answers

    def _after_attempt(self, event: dict, status: int | None, attempt: int) -> None:
        subscription = event.get("subscription_id")
        if status is not None and 200 <= status < 300:
            if subscription:
                with self._lock:
                    self._failures.pop(subscription, None)
            return
        with self._lock:
            if subscription:
                self._failures[subscription] = self._failures.get(subscription, 0) + 1
            failures = self._failures.get(subscription, 0)
            if attempt < len(WEBHOOK_RETRY_DELAYS):
                self.retries.append(
                    {
                        "due": self.sandbox.clock.now() + WEBHOOK_RETRY_DELAYS[attempt],
                        "attempt": attempt + 1,
                        "event": event,
                    }
                )
                return
        if subscription and failures > len(WEBHOOK_RETRY_DELAYS):
            self.sandbox.drop_failing_subscription(subscription)

    def clear(self) -> None:
        super().clear()
        with self._lock:
            self.retries.clear()
            self._failures.clear()


# ------------------------------------------------------------------ sandbox
@register("shopify")
class ShopifySandbox(ShopifyReturnsMixin, BaseSandbox):
    """The Shopify Admin API of one shop; see the module docstring."""

    name = "shopify"
    # seconds from bulkOperationCancel (CANCELING) to CANCELED
    bulk_cancel_seconds: float = 1.0
    url_map = Map(
        [
            Rule("/admin/oauth/access_token", endpoint="token", methods=["POST"]),
            Rule(
                "/admin/api/<version>/graphql.json",
                endpoint="graphql",
                methods=["POST"],
            ),
        ],
        strict_slashes=False,
    )
    admin_rules = (
        Rule("/__sandbox__/config", endpoint="config", methods=["GET", "POST"]),
        Rule("/__sandbox__/locations", endpoint="locations", methods=["GET", "POST"]),
        Rule("/__sandbox__/products", endpoint="products", methods=["GET", "POST"]),
        Rule("/__sandbox__/customers", endpoint="customers", methods=["GET", "POST"]),
        Rule("/__sandbox__/orders", endpoint="orders", methods=["GET", "POST"]),
        Rule(
            "/__sandbox__/orders/<int:number>",
            endpoint="order",
            methods=["GET", "POST"],
        ),
        Rule(
            "/__sandbox__/orders/<int:number>/cancel",
            endpoint="cancel",
            methods=["POST"],
        ),
        Rule(
            "/__sandbox__/orders/<int:number>/refund",
            endpoint="refund",
            methods=["POST"],
        ),
        Rule("/__sandbox__/returns", endpoint="returns", methods=["POST"]),
        Rule(
            "/__sandbox__/returns/<int:number>/<action>",
            endpoint="return",
            methods=["GET", "POST"],
        ),
        Rule(
            "/__sandbox__/orders/<int:number>/edit",
            endpoint="edit",
            methods=["POST"],
        ),
        Rule("/__sandbox__/inventory", endpoint="inventory", methods=["GET", "POST"]),
        Rule("/__sandbox__/emit", endpoint="emit", methods=["POST"]),
        Rule("/__sandbox__/compliance", endpoint="compliance", methods=["POST"]),
        Rule("/__sandbox__/webhooks", endpoint="webhooks", methods=["GET"]),
        Rule("/__sandbox__/webhooks/flush", endpoint="flush", methods=["POST"]),
        Rule("/__sandbox__/webhooks/retry", endpoint="retry", methods=["POST"]),
        Rule("/__sandbox__/bulk/finish", endpoint="bulk_finish", methods=["POST"]),
        Rule(
            "/__sandbox__/bulk/<int:number>.jsonl",
            endpoint="bulk_file",
            methods=["GET"],
        ),
    )

    def __init__(
        self,
        shop: str = "acme.myshopify.com",
        access_token: str | None = "shpat_test",
        client_id: str = "cid",
        client_secret: str = "csecret",
        webhook_secret: str | None = None,
        *,
        clock: Clock | None = None,
        api_version: str = API_VERSION,
        supported_versions: tuple[str, ...] = SUPPORTED_VERSIONS,
        shop_name: str = "Acme",
        currency: str = "EUR",
        timezone_name: str = "Europe/Berlin",
        plan: str = "Plus",
        scope: str = DEFAULT_SCOPE,
        max_available: int = 2000,
        restore_rate: float = 100.0,
        throttle_status_code: int = 200,
        bulk_seconds: float = 2.0,
        auto_webhooks: bool = False,
        webhook_url: str | None = None,
        webhook_mode: str = "sync",
        compliance_url: str | None = None,
    ):
        """``webhook_mode`` (with a target): ``sync`` posts at once (for API
        writes: before the answer), ``async`` from a thread, ``queue`` waits
        for :meth:`flush_webhooks`.
        """
        if webhook_mode not in WEBHOOK_MODES:
            raise ValueError(f"webhook_mode must be one of {WEBHOOK_MODES}")
        if throttle_status_code not in (200, 429):
            raise ValueError("throttle_status_code must be 200 or 429")
        if currency not in SCHEMA.get_type("CurrencyCode").values:
            raise ValueError(f"currency {currency!r} is not in the sandbox schema")
        self.shop = shop
        self.access_token = access_token
        self.client_id = client_id
        self.client_secret = client_secret
        # Shopify signs webhooks with the app's client secret.
        self.webhook_secret = webhook_secret or client_secret
        self.api_version = api_version
        self.supported_versions = tuple(sorted(supported_versions))
        self.shop_name = shop_name
        self.currency = currency
        self.timezone_name = timezone_name
        self.plan = plan
        self.scope = scope
        self.max_available = max_available
        self.restore_rate = restore_rate
        self.throttle_status_code = throttle_status_code
        self.bulk_seconds = bulk_seconds
        self.auto_webhooks = auto_webhooks
        self.webhook_mode = webhook_mode
        # the app's compliance webhook URL (see COMPLIANCE_TOPICS)
        self.compliance_url = compliance_url
        self.webhooks = _ShopifyWebhookSender(
            self,
            self._sign_delivery,
            webhook_url,
            serialize=lambda event: json.dumps(event["payload"]).encode(),
        )
        clock = clock or Clock()
        # bulk result files are served by another host (signed_storage.py)
        self.storage = SignedUrlStorage(clock=clock)
        super().__init__(clock=clock)

    def companions(self) -> list:
        return [self.storage]

    # --------------------------------------------------------------- state
    def reset_state(self) -> None:
        with self.lock:
            # Shopify ids are global and never reused
            # (https://shopify.dev/docs/api/usage/gids); order numbers only
            # grow (https://help.shopify.com/en/manual/orders/order-number-format).
            # A restarted sandbox with persist_ids starts above every id it
            # handed out before.
            base = self._id_base()
            self._last = base + 1000
            self._order_number = base + 1000
            self._edit_number = 0
            self.order_edits: dict[str, dict] = {}
            self.locations: dict[str, dict] = {}
            self.customers: dict[str, dict] = {}
            self.products: dict[str, dict] = {}
            self.variants: dict[str, dict] = {}
            self.items: dict[str, dict] = {}
            self.levels: dict[tuple[str, str], dict] = {}
            self.orders: dict[str, dict] = {}
            self.fulfillment_orders: dict[str, dict] = {}
            self.fulfillments: dict[str, dict] = {}
            self.subscriptions: dict[str, dict] = {}
            self.bulk_operations: dict[str, dict] = {}
            self.adjustment_groups: dict[str, dict] = {}
            self._line_items: dict[str, tuple[str, dict]] = {}
            self._fo_lines: dict[str, tuple[str, dict]] = {}
            self._reset_returns()
            self._tokens: dict[str, float] = {}
            self._idempotency: dict[str, _Stored] = {}
            self._idempotency_running: set[str] = set()
            self.bucket = _CostBucket(self.max_available, self.restore_rate, self.clock)
            self.webhooks.clear()
            self.storage.reset(clock=False)

    def set_rate_limit(self, max_available: int, restore_rate: float) -> None:
        """The shop's plan limits, reported in ``throttleStatus``: a bucket
        size and a restore rate per second ("Standard 100 points/second,
        Advanced Shopify 200, Shopify Plus 1000",
        https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits).
        The bucket starts full."""
        with self.lock:
            self.max_available = max_available
            self.restore_rate = float(restore_rate)
            self.bucket = _CostBucket(self.max_available, self.restore_rate, self.clock)

    def _next(self, kind: str) -> str:
        self._last += 1
        return gid(kind, self._last)

    def _now_ms(self) -> int:
        return math.floor(self.clock.now() * 1000)

    def _touch(self, *records: dict) -> int:
        ms = self._now_ms()
        for record in records:
            record["updatedAt"] = ms
        return ms

    @staticmethod
    def _get(table: dict, key: str, what: str) -> dict:
        if key not in table:
            raise KeyError(f"unknown {what} {key!r}")
        return table[key]

    # ------------------------------------------------------------ seeding
    def add_location(self, name: str, *, active: bool = True) -> dict:
        """Create a location; return ``{"id", "name", ...}``."""
        with self.lock:
            ms = self._now_ms()
            location = {
                "id": self._next("Location"),
                "name": name,
                "isActive": active,
                "createdAt": ms,
                "updatedAt": ms,
            }
            self.locations[location["id"]] = location
            return dict(location)

    def _address(self, data: dict | None) -> dict | None:
        """A MailingAddress record from GraphQL field names (REST-style
        ``first_name``, ``province_code``, ``country_code``/``countryCode``
        are accepted too)."""
        if not data:
            return None
        keys = (
            "firstName lastName company address1 address2 city province "
            "provinceCode zip countryCodeV2 phone"
        ).split()
        aliases = {
            "first_name": "firstName",
            "last_name": "lastName",
            "province_code": "provinceCode",
            "country_code": "countryCodeV2",
            "countryCode": "countryCodeV2",
        }
        data = {aliases.get(key, key): value for key, value in data.items()}
        unknown = set(data) - set(keys) - {"id", "name", "country"}
        if unknown:
            raise ValueError(f"unknown address fields {sorted(unknown)}")
        if data.get("countryCodeV2") and data["countryCodeV2"] not in COUNTRIES:
            raise ValueError(f"country code must be one of {sorted(COUNTRIES)}")
        address = {key: data.get(key) for key in keys}
        address["id"] = data.get("id") or self._next("MailingAddress")
        return address

    def add_customer(
        self,
        email: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        phone: str | None = None,
        *,
        tags: list[str] | tuple = (),
        note: str | None = None,
        address: dict | None = None,
        emit: bool = False,
    ) -> dict:
        """Create a customer (``address`` with GraphQL field names)."""
        with self.lock:
            ms = self._now_ms()
            customer = {
                "id": self._next("Customer"),
                "email": email,
                "firstName": first_name,
                "lastName": last_name,
                "phone": phone,
                "tags": list(tags),
                "note": note,
                "addresses": [a for a in [self._address(address)] if a],
                "createdAt": ms,
                "updatedAt": ms,
            }
            self.customers[customer["id"]] = customer
            snapshot = copy.deepcopy(customer)
        if emit:
            self.emit("customers/create", customer["id"])
        return snapshot

    def update_customer(self, customer_id: str, *, emit: bool = False, **fields):
        """Update ``email``, ``first_name``, ``last_name``, ``phone``, ``tags``,
        ``note`` or ``address``; bumps ``updatedAt``."""
        names = {"first_name": "firstName", "last_name": "lastName"}
        with self.lock:
            customer = self._get(self.customers, customer_id, "customer")
            for key, value in fields.items():
                if key == "address":
                    customer["addresses"] = [self._address(value)] if value else []
                elif key in ("email", "phone", "tags", "note", *names):
                    customer[names.get(key, key)] = value
                else:
                    raise ValueError(f"unknown customer field {key!r}")
            self._touch(customer)
            snapshot = copy.deepcopy(customer)
        if emit:
            self.emit("customers/update", customer_id)
        return snapshot

    def add_product(
        self,
        title: str,
        variants: list[dict] | None = None,
        *,
        vendor: str = "",
        product_type: str = "",
        tags: list[str] | tuple = (),
        status: str = "ACTIVE",
        handle: str | None = None,
        description_html: str = "",
        emit: bool = False,
    ) -> dict:
        """Create a product and its variants (with inventory items).

        A variant is ``{"sku", "price", "barcode", "compare_at_price",
        "options": {name: value}, "inventory": {location_gid: available},
        "tracked"}``; without ``inventory`` it is stocked (0) at every
        location. Return the product record with ``variants`` as records.
        """
        variants = variants or [{}]
        with self.lock:
            ms = self._now_ms()
            product = {
                "id": self._next("Product"),
                "title": title,
                "handle": self._unique_handle(handle or _slug(title)),
                "status": status,
                "vendor": vendor,
                "productType": product_type,
                "descriptionHtml": description_html,
                "tags": list(tags),
                "options": [],
                "variants": [],
                "createdAt": ms,
                "updatedAt": ms,
            }
            self.products[product["id"]] = product
            for spec in variants:
                options = spec.get("options") or {}
                if not options:
                    default = "Default Title" if len(variants) == 1 else None
                    options = {"Title": default or spec.get("sku") or "Variant"}
                variant = self._new_variant(
                    product,
                    options=list(options.items()),
                    sku=spec.get("sku"),
                    price=spec.get("price", "0.00"),
                    barcode=spec.get("barcode"),
                    compare_at_price=spec.get("compare_at_price"),
                    tracked=spec.get("tracked", True),
                )
                inventory = spec.get("inventory")
                if inventory is None:
                    inventory = dict.fromkeys(self.locations, 0)
                for location_id, quantity in inventory.items():
                    self._get(self.locations, location_id, "location")
                    self._level(variant["inventoryItemId"], location_id, create=True)[
                        "available"
                    ] = int(quantity)
            self._sync_options(product)
            result = self._product_snapshot(product)
        if emit:
            self.emit("products/create", product["id"])
        return result

    def _product_snapshot(self, product: dict) -> dict:
        result = copy.deepcopy(product)
        result["variants"] = [
            copy.deepcopy(self.variants[v]) for v in product["variants"]
        ]
        return result

    def _unique_handle(self, handle: str, product_id: str | None = None) -> str:
        taken = {p["handle"] for p in self.products.values() if p["id"] != product_id}
        candidate, index = handle, 0
        while candidate in taken:
            index += 1
            candidate = f"{handle}-{index}"
        return candidate

    def _new_variant(
        self,
        product: dict,
        *,
        options,
        sku,
        price,
        barcode=None,
        compare_at_price=None,
        tracked=True,
    ) -> dict:
        ms = self._now_ms()
        variant = {
            "id": self._next("ProductVariant"),
            "productId": product["id"],
            "options": [(str(name), str(value)) for name, value in options],
            "sku": sku,
            "barcode": barcode,
            "price": money(price),
            "compareAtPrice": None
            if compare_at_price is None
            else money(compare_at_price),
            "position": len(product["variants"]) + 1,
            "createdAt": ms,
            "updatedAt": ms,
        }
        item = {
            "id": self._next("InventoryItem"),
            "variantId": variant["id"],
            "tracked": tracked,
            "createdAt": ms,
            "updatedAt": ms,
        }
        variant["inventoryItemId"] = item["id"]
        self.items[item["id"]] = item
        self.variants[variant["id"]] = variant
        product["variants"].append(variant["id"])
        return variant

    def delete_variant(self, variant_id: str) -> None:
        """Delete a variant as a merchant does in the admin: its inventory item
        and levels go with it (later writes on the item: INVALID_INVENTORY_ITEM).
        """
        with self.lock:
            variant = self._get(self.variants, variant_id, "variant")
            self._delete_variant(variant_id)
            self._touch(self.products[variant["productId"]])

    def _delete_variant(self, variant_id: str) -> None:
        variant = self.variants.pop(variant_id)
        self.items.pop(variant["inventoryItemId"], None)
        for key in [k for k in self.levels if k[0] == variant["inventoryItemId"]]:
            del self.levels[key]
        product = self.products[variant["productId"]]
        product["variants"].remove(variant_id)

    def _sync_options(self, product: dict, declared: list | None = None) -> None:
        """Product options from the variants' values (in ``declared`` order)."""
        order: dict[str, list[str]] = {}
        for name, values in declared or ():
            order.setdefault(name, [])
            for value in values:
                if value not in order[name]:
                    order[name].append(value)
        for variant_id in product["variants"]:
            for name, value in self.variants[variant_id]["options"]:
                values = order.setdefault(name, [])
                if value not in values:
                    values.append(value)
        existing = {option["name"]: option for option in product["options"]}
        options = []
        for name, values in order.items():
            old = existing.get(name) or {"id": self._next("ProductOption")}
            known = old.get("valueIds", {})
            value_ids = {
                value: known.get(value) or self._next("ProductOptionValue")
                for value in values
            }
            options.append(
                {"id": old["id"], "name": name, "values": values, "valueIds": value_ids}
            )
        product["options"] = options

    def variant_by_sku(self, sku: str) -> dict:
        """The variant record with this SKU (KeyError if none)."""
        with self.lock:
            for variant in self.variants.values():
                if variant["sku"] == sku:
                    return copy.deepcopy(variant)
        raise KeyError(f"no variant with SKU {sku!r}")

    # ---------------------------------------------------------- inventory
    def _level(self, item_id: str, location_id: str, *, create=False) -> dict | None:
        key = (item_id, location_id)
        level = self.levels.get(key)
        if level is None and create:
            ms = self._now_ms()
            level = dict.fromkeys(STORED_STATES, 0)
            level.update(createdAt=ms, updatedAt=ms)
            self.levels[key] = level
        return level

    def set_inventory(
        self,
        item_id: str,
        location_id: str,
        available: int | None = None,
        *,
        emit: bool = False,
        **states: int,
    ) -> dict:
        """Set ``available`` and/or the unavailable and ``incoming`` states, as a
        merchant does in the admin (stocking the item there if needed).

        ``committed`` is not settable: only orders and fulfilments move it.
        """
        unknown = set(states) - set(UNAVAILABLE_STATES) - {"incoming"}
        if unknown:
            raise ValueError(f"not a settable inventory state: {sorted(unknown)}")
        with self.lock:
            self._get(self.items, item_id, "inventory item")
            self._get(self.locations, location_id, "location")
            level = self._level(item_id, location_id, create=True)
            if available is not None:
                level["available"] = int(available)
            for name, quantity in states.items():
                level[name] = int(quantity)
            self._touch(level)
            snapshot = self._quantities(level)
        if emit:
            self.emit("inventory_levels/update", (item_id, location_id))
        return snapshot

    def inventory(self, item_id: str, location_id: str, name: str = "available"):
        """A quantity (any of ``QUANTITY_NAMES``), or None where not stocked."""
        with self.lock:
            level = self._level(item_id, location_id)
            return None if level is None else self._quantities(level)[name]

    @staticmethod
    def _quantities(level: dict) -> dict:
        values = {name: level[name] for name in STORED_STATES}
        values["on_hand"] = (
            level["available"]
            + level["committed"]
            + sum(level[name] for name in UNAVAILABLE_STATES)
        )
        return values

    def _move(self, item_id, location_id, *, available=0, committed=0) -> None:
        level = self._level(item_id, location_id)
        if level is None:
            return
        level["available"] += available
        level["committed"] += committed
        self._touch(level)

    # ------------------------------------------------------------- orders
    def add_order(
        self,
        customer: str | dict | None = None,
        lines: list[dict] | tuple = (),
        *,
        financial_status: str = "PAID",
        paid: Any = None,
        presentment_currency: str | None = None,
        presentment_rate: Any = None,
        shipping: dict | None = None,
        taxes: list[dict] | None = None,
        discounts: Any = None,
        discount_applications: list[dict] | tuple = (),
        tip: Any = None,
        duties: dict | None = None,
        gift_card_payment: Any = None,
        email: str | None = None,
        phone: str | None = None,
        shipping_address: dict | None = None,
        billing_address: dict | None = None,
        location: str | None = None,
        tags: list[str] | tuple = (),
        note: str | None = None,
        gateway: str = "shopify_payments",
        declined: int = 0,
        test: bool = False,
        source_name: str = "web",
        taxes_included: bool = False,
        created_at: str | None = None,
        emit: bool = False,
    ) -> dict:
        """Create an order with one fulfillment order per location.

        ``customer``: a Customer GID or ``add_customer`` keyword arguments.
        ``lines``: ``[{"sku", "quantity", "price", "title", "discount",
        "location"}]`` (price defaults to the variant's; an unknown SKU makes a
        custom line). ``shipping``: ``{"title", "price", "code"}``. ``taxes``:
        ``[{"title", "rate"}]`` applied to every line and to shipping.
        A line's ``discount`` is an amount the merchant took off that line (a
        line-level manual discount, EXPLICIT); ``"gift_card": True`` sells a
        gift card (LineItem.isGiftCard "whether the line item represents the
        purchase of a gift card"), untaxed (LineItem.taxable false: a gift
        card is a means of payment, taxed on what it later buys) and out of
        order-wide discounts (shopify_discounts).
        ``tip``: an amount the customer added as a tip, a line item without
        product that can't be fulfilled (LineItem.nonFulfillableQuantity:
        "the item is not something that can be fulfilled, like a tip") and
        ``Order.totalTipReceivedSet``. ``duties``: ``{sku: amount}`` import
        duties charged at checkout (LineItem.duties, Duty.price;
        Order.currentTotalDutiesSet), part of the order's total.
        ``gift_card_payment``: that much of a paid order was paid with a gift
        card (a SALE transaction of the ``gift_card`` gateway): a payment, not
        a discount, so the order's total is unchanged.
        ``gateway``: the payment gateway of its transactions, as Shopify
        names it (OrderTransaction.gateway "the payment gateway used to
        process the transaction": ``shopify_payments``, ``paypal``,
        ``manual``...). ``declined``: that many attempts failed before the
        payment went through, each a SALE transaction of status FAILURE
        (OrderTransactionStatus FAILURE "The transaction failed.";
        https://shopify.dev/docs/api/admin-graphql/latest/enums/OrderTransactionStatus):
        the order keeps them, they move no money.
        ``test``: a test order (Order.test: "made using the Shopify Bogus
        Gateway or a payment provider with test mode enabled"); ``source_name``
        where it was placed (Order.sourceName: "such as web, mobile_app, or
        pos"; https://shopify.dev/docs/api/admin-graphql/latest/objects/Order).
        ``discounts`` an amount off the
        whole order (an order-level manual discount); ``discount_applications``
        any discounts, applied in their order after the lines' own (see
        ``shopify_discounts.application``: codes, automatic discounts, order,
        product or shipping targets, amounts or percentages; allocations on
        line items and shipping lines, taxes on what is left). A line goes to
        ``location``, else the first location with enough stock, and commits
        that stock. ``created_at`` (ISO) back-dates the order.

        ``financial_status`` is an ``OrderDisplayFinancialStatus``;
        ``PARTIALLY_PAID`` ("a payment was manually captured for the order with
        an amount less than the full order value", schema description of the
        enum) captures ``paid`` (default: half the total).

        ``presentment_currency`` / ``presentment_rate``: the customer pays in
        another currency than the shop's (Shopify Markets / multi-currency).
        Every MoneyBag of the order then carries ``shopMoney`` in the shop's
        currency and ``presentmentMoney`` = shop amount x rate in the
        customer's (https://shopify.dev/docs/api/admin-graphql/latest/objects/MoneyBag:
        "presentmentMoney contains the amount in the customer's selected
        currency, shopMoney the equivalent in the shop's base currency");
        ``Order.currencyCode`` stays the shop currency and
        ``presentmentCurrencyCode`` is the customer's (Order object, Admin
        GraphQL); REST orders give ``currency`` = shop currency; REST refunds
        give line subtotals and transactions in the currency the customer
        paid (``currency``: "the currency used for the payment", REST
        Transaction resource; "breaking changes to the Transaction and Refund
        resources",
        https://help.shopify.com/en/api/guides/multi-currency-migration-guide).
        """
        if not lines:
            raise ValueError("an order needs lines")
        statuses = SCHEMA.get_type("OrderDisplayFinancialStatus").values
        if financial_status not in statuses:
            raise ValueError(f"unknown financial status {financial_status!r}")
        if presentment_currency is not None:
            if presentment_currency not in SCHEMA.get_type("CurrencyCode").values:
                raise ValueError(f"currency {presentment_currency!r} is not known")
            if presentment_rate is None or Decimal(str(presentment_rate)) <= 0:
                raise ValueError("a presentment currency needs a positive rate")
        for where in [location, *(spec.get("location") for spec in lines)]:
            if where is not None and where not in self.locations:
                raise ValueError(f"unknown location {where!r}")
        if isinstance(customer, dict):
            customer = self.add_customer(**customer)["id"]
        with self.lock:
            buyer = (
                self._get(self.customers, customer, "customer") if customer else None
            )
            ms = parse_iso_ms(created_at) if created_at else self._now_ms()
            self._order_number += 1
            address = shipping_address
            if address is None and buyer and buyer["addresses"]:
                address = {k: v for k, v in buyer["addresses"][0].items() if k != "id"}
            order = {
                "id": self._next("Order"),
                "number": self._order_number,
                "name": f"#{self._order_number}",
                "customerId": buyer["id"] if buyer else None,
                "email": email or (buyer or {}).get("email"),
                "phone": phone or (buyer or {}).get("phone"),
                "currency": self.currency,
                "presentmentCurrency": presentment_currency or self.currency,
                "presentmentRate": Decimal(str(presentment_rate))
                if presentment_currency
                else Decimal(1),
                "createdAt": ms,
                "updatedAt": ms,
                "cancelledAt": None,
                "cancelReason": None,
                "closedAt": None,
                "financialStatus": financial_status,
                "taxesIncluded": taxes_included,
                "lineItems": [],
                "shippingLines": [],
                "shippingAddress": self._address(address),
                "billingAddress": self._address(billing_address or address),
                "refunds": [],
                "transactions": [],
                "fulfillmentOrders": [],
                "fulfillments": [],
                "tags": list(tags),
                "note": note,
                "gateway": gateway,
                "test": bool(test),
                "sourceName": source_name,
            }
            taxes = taxes or []
            for spec in lines:
                order["lineItems"].append(self._new_line(spec, taxes, taxes_included))
            if tip:
                order["lineItems"].append(
                    self._new_line(
                        {"title": "Tip", "price": tip, "tip": True},
                        taxes,
                        taxes_included,
                    )
                )
            for sku, amount in (duties or {}).items():
                line = next(x for x in order["lineItems"] if x["sku"] == sku)
                line["duties"].append(
                    {"id": self._next("Duty"), "price": money(amount), "taxLines": []}
                )
            if shipping:
                price = money(shipping.get("price", "0"))
                order["shippingLines"].append(
                    {
                        "id": self._next("ShippingLine"),
                        "title": shipping.get("title", "Shipping"),
                        "code": shipping.get("code", shipping.get("title", "Shipping")),
                        "source": "shopify",
                        "price": price,
                        "discount": money(0),
                        "allocations": [],
                        "taxLines": self._tax_lines(price, taxes, taxes_included),
                    }
                )
            specs = [
                {
                    "type": "manual",
                    "title": "Line discount",
                    "amount": spec["discount"],
                    "target": {"lines": [line["id"]]},
                }
                for spec, line in zip(
                    lines, order["lineItems"][: len(lines)], strict=True
                )
                if money(spec.get("discount", 0))
            ]
            if discounts:
                specs.append(
                    {"type": "manual", "title": "Order discount", "amount": discounts}
                )
            self._apply_discounts(
                order, [*specs, *discount_applications], taxes, taxes_included
            )
            self._open_fulfillment_orders(order, location, ms)
            total = self._totals(order)["total"]
            if gift_card_payment is not None:
                part = money(gift_card_payment)
                if financial_status != "PAID" or not 0 < part <= total:
                    raise ValueError("a gift card pays part of a paid order")
                self._transaction(order, "SALE", part, ms, gateway="gift_card")
                total -= part
            for _attempt in range(declined):
                self._transaction(order, "SALE", total, ms)["status"] = "FAILURE"
            if financial_status in ("PAID", "AUTHORIZED") and total:
                kind = "SALE" if financial_status == "PAID" else "AUTHORIZATION"
                self._transaction(order, kind, total, ms)
            elif financial_status == "PARTIALLY_PAID":
                part = money(paid) if paid is not None else money(total / 2)
                if not 0 < part < total:
                    raise ValueError("a partial payment is more than 0, less than due")
                self._transaction(order, "SALE", part, ms)
            self.orders[order["id"]] = order
            snapshot = self.order(order["id"])
        if emit:
            self.emit("orders/create", order["id"])
            if financial_status == "PAID":
                self.emit("orders/paid", order["id"])
        return snapshot

    def order(self, order_id: str) -> dict:
        """A deep copy of the order record, with its fulfillment orders."""
        with self.lock:
            order = copy.deepcopy(self._get(self.orders, order_id, "order"))
            order["fulfillmentOrders"] = [
                copy.deepcopy(self.fulfillment_orders[f])
                for f in order["fulfillmentOrders"]
            ]
            order["displayFinancialStatus"] = order["financialStatus"]
            order["displayFulfillmentStatus"] = self._fulfillment_status(order)
            order["totals"] = {k: fmt(v) for k, v in self._totals(order).items()}
            return order

    def _new_line(self, spec: dict, taxes: list, included: bool) -> dict:
        variant = None
        if spec.get("sku") is not None:
            variant = next(
                (v for v in self.variants.values() if v["sku"] == spec["sku"]), None
            )
        quantity = int(spec.get("quantity", 1))
        if quantity < 1:
            raise ValueError("line quantity must be positive")
        price = money(spec["price"]) if "price" in spec else None
        if price is None:
            price = variant["price"] if variant else money(0)
        product = self.products[variant["productId"]] if variant else None
        variant_title = None
        if variant and variant["options"] != [("Title", "Default Title")]:
            variant_title = " / ".join(value for _, value in variant["options"])
        line = {
            "id": self._next("LineItem"),
            "variantId": variant["id"] if variant else None,
            "productId": product["id"] if product else None,
            "sku": spec.get("sku"),
            "title": spec.get("title") or (product["title"] if product else "Item"),
            "variantTitle": variant_title,
            "quantity": quantity,
            "refunded": 0,
            "removed": 0,  # taken off by an order edit (edit_order)
            "price": price,
            "discount": money(0),  # all its allocations (line and order level)
            "allocations": [],
            "giftCard": bool(spec.get("gift_card")),
            "tip": bool(spec.get("tip")),
            "taxable": not (spec.get("gift_card") or spec.get("tip")),
            "duties": [],
            "taxLines": []
            if spec.get("gift_card") or spec.get("tip")
            else self._tax_lines(price * quantity, taxes, included),
            "locationId": spec.get("location"),
        }
        return line

    @staticmethod
    def _tax_lines(base: Decimal, taxes: list, included: bool) -> list[dict]:
        result = []
        for tax in taxes:
            rate = Decimal(str(tax["rate"]))
            amount = base - base / (1 + rate) if included else base * rate
            result.append(
                {"title": tax["title"], "rate": float(rate), "price": money(amount)}
            )
        return result

    def _apply_discounts(self, order, specs, taxes, included) -> None:
        """Discount applications of ``specs`` with their allocations; taxes
        of every line on what is left (shopify_discounts)."""
        order["discountApplications"] = []
        for index, spec in enumerate(specs):
            app, entitled = disc.application(spec, index, order)
            disc.allocate(app, entitled)
            order["discountApplications"].append(app)
        for line in [*order["lineItems"], *order["shippingLines"]]:
            line["discount"] = disc.total(line, order["discountApplications"])
            if line.get("taxable", True):
                line["taxLines"] = self._tax_lines(disc.net(line), taxes, included)
            else:
                line["taxLines"] = []

    def _open_fulfillment_orders(self, order, location, ms) -> None:
        by_location: dict[str, list[dict]] = {}
        for line in order["lineItems"]:
            if line.get("tip"):
                continue  # nothing to fulfil
            variant = self.variants.get(line["variantId"])
            item_id = variant["inventoryItemId"] if variant else None
            where = (
                line["locationId"]
                or location
                or self._pick_location(item_id, line["quantity"])
            )
            line["locationId"] = where
            by_location.setdefault(where, []).append(line)
            if item_id:
                quantity = line["quantity"]
                self._move(item_id, where, available=-quantity, committed=quantity)
        for location_id, location_lines in by_location.items():
            fulfillment_order = {
                "id": self._next("FulfillmentOrder"),
                "orderId": order["id"],
                "locationId": location_id,
                "status": "OPEN",
                "lines": [],
                "createdAt": ms,
                "updatedAt": ms,
            }
            for line in location_lines:
                fo_line = {
                    "id": self._next("FulfillmentOrderLineItem"),
                    "lineItemId": line["id"],
                    "total": line["quantity"],
                    "remaining": line["quantity"],
                }
                fulfillment_order["lines"].append(fo_line)
                self._fo_lines[fo_line["id"]] = (fulfillment_order["id"], fo_line)
            self.fulfillment_orders[fulfillment_order["id"]] = fulfillment_order
            order["fulfillmentOrders"].append(fulfillment_order["id"])
        for line in order["lineItems"]:
            self._line_items[line["id"]] = (order["id"], line)

    def _pick_location(self, item_id: str | None, quantity: int) -> str:
        stocked = [loc for loc in self.locations if (item_id, loc) in self.levels]
        for location_id in stocked:
            if self.levels[(item_id, location_id)]["available"] >= quantity:
                return location_id
        if stocked:
            return stocked[0]
        if not self.locations:
            return self.add_location("Shop location")["id"]
        return next(iter(self.locations))

    def _transaction(
        self, order, kind, amount, ms=None, parent=None, gateway=None
    ) -> dict:
        transaction = {
            "id": self._next("OrderTransaction"),
            "kind": kind,
            "status": "SUCCESS",
            "gateway": gateway or order["gateway"],
            "amount": amount,
            "createdAt": self._now_ms() if ms is None else ms,
            "parentId": parent,
        }
        order["transactions"].append(transaction)
        return transaction

    @staticmethod
    def _uncaptured_authorization(order: dict) -> dict | None:
        captured = {
            t["parentId"] for t in order["transactions"] if t["kind"] == "CAPTURE"
        }
        return next(
            (
                t
                for t in order["transactions"]
                if t["kind"] == "AUTHORIZATION"
                and t["status"] == "SUCCESS"
                and t["id"] not in captured
            ),
            None,
        )

    def _totals(self, order: dict) -> dict[str, Decimal]:
        zero = Decimal("0.00")
        subtotal = current_subtotal = line_tax = current_tax = discounts = zero
        gross = tips = duties = zero
        for line in order["lineItems"]:
            tips += line["price"] if line.get("tip") else zero
            duties += sum((d["price"] for d in line.get("duties") or ()), zero)
            quantity, current = line["quantity"], _current(line)
            net = line["price"] * quantity - line["discount"]
            tax = sum((t["price"] for t in line["taxLines"]), zero)
            gross += line["price"] * quantity
            discounts += line["discount"]
            subtotal += net
            line_tax += tax
            current_subtotal += money(net * current / quantity)
            current_tax += money(tax * current / quantity)
        shipping = sum((disc.net(s) for s in order["shippingLines"]), zero)
        discounts += sum((s["discount"] for s in order["shippingLines"]), zero)
        shipping_tax = sum(
            (t["price"] for s in order["shippingLines"] for t in s["taxLines"]), zero
        )
        included = order["taxesIncluded"]
        tax, current_tax = line_tax + shipping_tax, current_tax + shipping_tax
        kinds = {"SALE", "CAPTURE"}
        done = [t for t in order["transactions"] if t["status"] == "SUCCESS"]
        return {
            "line_items": gross,
            "subtotal": subtotal,
            "current_subtotal": current_subtotal,
            "shipping": shipping,
            "tax": tax,
            "current_tax": current_tax,
            "discounts": discounts,
            "tips": tips,
            "duties": duties,
            "total": subtotal + shipping + duties + (zero if included else tax),
            "current_total": current_subtotal
            + shipping
            + duties
            + (zero if included else current_tax),
            "paid": sum((t["amount"] for t in done if t["kind"] in kinds), zero),
            "refunded": sum((t["amount"] for t in done if t["kind"] == "REFUND"), zero),
        }

    def _fulfillment_status(self, order: dict) -> str:
        fulfilled = sum(
            quantity
            for fulfillment_id in order["fulfillments"]
            for _, quantity in self.fulfillments[fulfillment_id]["lines"]
        )
        remaining = sum(
            line["remaining"]
            for fo in order["fulfillmentOrders"]
            for line in (fo if isinstance(fo, dict) else self.fulfillment_orders[fo])[
                "lines"
            ]
        )
        if not fulfilled:
            return "UNFULFILLED"
        return "FULFILLED" if remaining == 0 else "PARTIALLY_FULFILLED"

    def update_order(self, order_id: str, *, emit: bool = False, **fields) -> dict:
        """Change ``email``, ``phone``, ``note``, ``tags``, ``shipping_address``,
        ``billing_address`` or ``financial_status``; bumps ``updatedAt``.

        ``PAID`` is orderMarkAsPaid: it "will either create a new sale
        transaction for the full outstanding amount or capture an existing
        authorized transaction, depending on the order's current payment
        state" (https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderMarkAsPaid):
        an authorization not captured yet gets its CAPTURE, whose
        parentTransaction is the authorization ("The associated parent
        transaction, for example the authorization of a capture",
        OrderTransaction.parentTransaction); else a SALE of what is due."""
        names = {
            "shipping_address": "shippingAddress",
            "billing_address": "billingAddress",
            "financial_status": "financialStatus",
        }
        became_paid = False
        with self.lock:
            order = self._get(self.orders, order_id, "order")
            for key, value in fields.items():
                if key in ("shipping_address", "billing_address"):
                    value = self._address(value)
                elif key == "financial_status" and value == "PAID":
                    totals = self._totals(order)
                    due = totals["total"] - totals["paid"]
                    authorization = self._uncaptured_authorization(order)
                    if due > 0 and authorization:
                        self._transaction(
                            order,
                            "CAPTURE",
                            due,
                            parent=authorization["id"],
                            gateway=authorization["gateway"],
                        )
                    elif due > 0:
                        self._transaction(order, "SALE", due)
                    became_paid = order["financialStatus"] != "PAID"
                elif key not in ("email", "phone", "note", "tags", "financial_status"):
                    raise ValueError(f"unknown order field {key!r}")
                order[names.get(key, key)] = value
            self._touch(order)
        if emit:
            self.emit("orders/updated", order_id)
            if became_paid:
                self.emit("orders/paid", order_id)
        return self.order(order_id)

    # ------------------------------------------------------------ order edits
    # Editing an order after it was placed ("Edit existing orders",
    # https://shopify.dev/docs/apps/build/orders-fulfillment/order-management-apps/edit-orders):
    # orderEditBegin opens a CalculatedOrder, orderEditAddVariant adds a
    # variant as a new line item (OrderStagedChangeAddVariant),
    # orderEditSetQuantity changes a line's quantity (an increment or a
    # decrement of that line, OrderStagedChangeIncrementItem /
    # OrderStagedChangeDecrementItem; 0 removes it; ``restock`` "Whether or not
    # to restock the line item when the updated quantity is less than the
    # original quantity"), orderEditCommit applies them all at once
    # (https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderEditBegin,
    # .../orderEditAddVariant, .../orderEditSetQuantity, .../orderEditCommit).
    # "You can only edit unfulfilled line items" (orderEditCommit). A removed
    # unit stays in LineItem.quantity ("including refunded and removed units")
    # and leaves currentQuantity ("excluding refunded and removed units";
    # removed line items have a zero currentQuantity, 2026-10 schema). An
    # increment grows the line's quantity (assumption: the schema documents
    # the staged change, not how the committed line records it). The commit
    # sends ``orders/edited`` (changelog "New order/edited webhook and order
    # editing API capabilities": "describes what's changed during an order
    # edit", body ``{"order_edit": {id, app_id, created_at, notify_customer,
    # order_id, staff_note, user_id, line_items: {additions: [{id, delta}],
    # removals: [{id, delta}]}, discounts, shipping_lines}}``) and, the order
    # having changed, ``orders/updated``. "If an edit changes the total order
    # value, then the customer might need to pay a balance or receive a
    # refund" (orderEditCommit): a paid order that now costs more is
    # PARTIALLY_PAID (assumption), one that costs less keeps its payment
    # until the merchant refunds it. The shipping address is not an order
    # edit: it changes with orderUpdate (``update_order``, orders/updated).
    def edit_order(
        self,
        order_id: str,
        *,
        add: list[dict] | tuple = (),
        quantities: dict[str, int] | None = None,
        restock: bool = True,
        staff_note: str | None = None,
        emit: bool = False,
    ) -> dict:
        """Edit and commit: ``add`` variants (``[{"sku", "quantity", "price",
        "location"}]``, new line items, taxed like the order's lines) and set
        ``quantities`` (``{line_item_gid: quantity}``, 0 removes the line).
        Returns the ``order_edit`` of the ``orders/edited`` body."""
        order_edit = self._edit_order(order_id, add, quantities, restock, staff_note)
        if emit:
            self.emit("orders/edited", order_id, payload={"order_edit": order_edit})
            self.emit("orders/updated", order_id)
        return order_edit

    def _edit_order(self, order_id, add, quantities, restock, staff_note) -> dict:
        """Apply an edit (see ``edit_order``; ``restock`` a bool, or one per
        line item id); ValueError, and nothing changed, when it can't be."""
        with self.lock:
            order = self._get(self.orders, order_id, "order")
            if order["cancelledAt"] is not None:
                raise ValueError(f"order {order_id} is cancelled: it can't be edited")
            by_id = {line["id"]: line for line in order["lineItems"]}
            self._check_edit(order, by_id, add, quantities or {})
            taxes = self._order_taxes(order)
            included = order["taxesIncluded"]
            additions, removals = [], []
            for line_id, wanted in (quantities or {}).items():
                line = by_id[line_id]
                wanted, current = int(wanted), _current(line)
                delta = wanted - current
                if delta > 0:
                    line["quantity"] += delta
                    self._commit_line(order, line, delta)
                    additions.append({"id": gid_number(line_id), "delta": delta})
                elif delta < 0:
                    line["removed"] = line.get("removed", 0) + -delta
                    back = (
                        restock.get(line_id, True)
                        if isinstance(restock, dict)
                        else restock
                    )
                    self._uncommit_line(order, line, -delta, back)
                    removals.append({"id": gid_number(line_id), "delta": -delta})
                if delta and line.get("taxable", True):
                    line["taxLines"] = self._tax_lines(disc.net(line), taxes, included)
            for spec in add:
                line = self._new_line(spec, taxes, included)
                order["lineItems"].append(line)
                self._line_items[line["id"]] = (order["id"], line)
                self._commit_line(order, line, line["quantity"])
                additions.append(
                    {"id": gid_number(line["id"]), "delta": line["quantity"]}
                )
            ms = self._touch(order)
            totals = self._totals(order)
            if (
                order["financialStatus"] == "PAID"
                and totals["paid"] - totals["refunded"] < totals["current_total"]
            ):
                order["financialStatus"] = "PARTIALLY_PAID"
            self._edit_number += 1
            order_edit = {
                "id": self._edit_number,
                "app_id": None,
                "created_at": self._rest_time(ms),
                "notify_customer": False,
                "order_id": gid_number(order_id),
                "staff_note": staff_note or "",
                "user_id": None,
                "line_items": {"additions": additions, "removals": removals},
                "discounts": {"additions": [], "removals": []},
                "shipping_lines": {"additions": [], "removals": []},
            }
        return order_edit

    def _check_edit(self, order, by_id, add, quantities) -> None:
        """Refuse an edit before anything changes (ValueError)."""
        for line_id, wanted in quantities.items():
            line = by_id.get(line_id)
            if line is None:
                raise ValueError(f"line item {line_id} is not in {order['id']}")
            fulfilled = _current(line) - self._unfulfilled(line_id)
            if int(wanted) < 0:
                raise ValueError("The quantity can't be negative.")
            if int(wanted) < fulfilled:
                raise ValueError(
                    f"{line_id}: only unfulfilled units can be edited "
                    f"({fulfilled} fulfilled)"
                )
        for spec in add:
            if not spec.get("sku") or not any(
                v["sku"] == spec["sku"] for v in self.variants.values()
            ):
                raise ValueError(f"no variant with SKU {spec.get('sku')!r}")
            if int(spec.get("quantity", 1)) < 1:
                raise ValueError("The quantity must be positive.")
            if spec.get("location") and spec["location"] not in self.locations:
                raise ValueError(f"unknown location {spec['location']!r}")
        changed = any(int(q) != _current(by_id[i]) for i, q in quantities.items())
        if not add and not changed:
            raise ValueError("an order edit needs a change")

    def _order_taxes(self, order: dict) -> list[dict]:
        """The order's tax rates (``[{"title", "rate"}]``), from its lines."""
        for line in order["lineItems"]:
            if line["taxLines"]:
                return [
                    {"title": t["title"], "rate": Decimal(str(t["rate"]))}
                    for t in line["taxLines"]
                ]
        return []

    def _commit_line(self, order: dict, line: dict, quantity: int) -> None:
        """``quantity`` more units of ``line`` to fulfil: its open fulfillment
        order at its location (or a new one) grows; the stock is committed."""
        item_id = self._item_of_line(line["id"])
        where = line["locationId"] or self._pick_location(item_id, quantity)
        line["locationId"] = where
        fulfillment_order = next(
            (
                self.fulfillment_orders[f]
                for f in order["fulfillmentOrders"]
                if self.fulfillment_orders[f]["locationId"] == where
                and self.fulfillment_orders[f]["status"] != "CLOSED"
            ),
            None,
        )
        ms = self._now_ms()
        if fulfillment_order is None:
            fulfillment_order = {
                "id": self._next("FulfillmentOrder"),
                "orderId": order["id"],
                "locationId": where,
                "status": "OPEN",
                "lines": [],
                "createdAt": ms,
                "updatedAt": ms,
            }
            self.fulfillment_orders[fulfillment_order["id"]] = fulfillment_order
            order["fulfillmentOrders"].append(fulfillment_order["id"])
        fo_line = next(
            (x for x in fulfillment_order["lines"] if x["lineItemId"] == line["id"]),
            None,
        )
        if fo_line is None:
            fo_line = {
                "id": self._next("FulfillmentOrderLineItem"),
                "lineItemId": line["id"],
                "total": 0,
                "remaining": 0,
            }
            fulfillment_order["lines"].append(fo_line)
            self._fo_lines[fo_line["id"]] = (fulfillment_order["id"], fo_line)
        fo_line["total"] += quantity
        fo_line["remaining"] += quantity
        fulfillment_order["updatedAt"] = ms
        if item_id:
            self._level(item_id, where, create=True)
            self._move(item_id, where, available=-quantity, committed=quantity)

    def _uncommit_line(self, order, line, quantity: int, restock: bool) -> None:
        """``quantity`` unfulfilled units of ``line`` removed: they leave its
        fulfillment orders and their committed stock (back to available when
        ``restock``)."""
        item_id = self._item_of_line(line["id"])
        left = quantity
        for fo_id in order["fulfillmentOrders"]:
            fulfillment_order = self.fulfillment_orders[fo_id]
            for fo_line in fulfillment_order["lines"]:
                if fo_line["lineItemId"] != line["id"] or not left:
                    continue
                taken = min(left, fo_line["remaining"])
                fo_line["remaining"] -= taken
                fo_line["total"] -= taken
                left -= taken
                if taken and item_id:
                    self._move(
                        item_id,
                        fulfillment_order["locationId"],
                        available=taken if restock else 0,
                        committed=-taken,
                    )
            if all(not fo_line["remaining"] for fo_line in fulfillment_order["lines"]):
                fulfillment_order["status"] = "CLOSED"

    def cancel_order(
        self,
        order_id: str,
        reason: str = "CUSTOMER",
        *,
        refund: bool = False,
        restock: bool = True,
        emit: bool = False,
    ) -> dict:
        """Cancel: close the fulfillment orders (releasing the committed stock
        when ``restock``), refund what was paid (``refund``) or void an
        authorization."""
        with self.lock:
            order = self._get(self.orders, order_id, "order")
            if order["cancelledAt"] is not None:
                raise ValueError(f"order {order_id} is already cancelled")
            ms = self._touch(order)
            order["cancelledAt"] = order["closedAt"] = ms
            order["cancelReason"] = reason
            for fo_id in order["fulfillmentOrders"]:
                fulfillment_order = self.fulfillment_orders[fo_id]
                for fo_line in fulfillment_order["lines"]:
                    left, fo_line["remaining"] = fo_line["remaining"], 0
                    item_id = self._item_of_line(fo_line["lineItemId"])
                    if left and item_id:
                        self._move(
                            item_id,
                            fulfillment_order["locationId"],
                            available=left if restock else 0,
                            committed=-left,
                        )
                fulfillment_order["status"] = "CLOSED"
                fulfillment_order["updatedAt"] = ms
            totals = self._totals(order)
            if refund and totals["paid"] > totals["refunded"]:
                self._refund(order, [], totals["paid"] - totals["refunded"], None)
            elif order["financialStatus"] == "AUTHORIZED":
                order["financialStatus"] = "VOIDED"
        if emit:
            self.emit("orders/cancelled", order_id)
        return self.order(order_id)

    def _item_of_line(self, line_item_id: str) -> str | None:
        _, line = self._line_items[line_item_id]
        variant = self.variants.get(line["variantId"])
        return variant["inventoryItemId"] if variant else None

    def refund_order(
        self,
        order_id: str,
        lines: list[dict] | tuple = (),
        *,
        amount: Any = None,
        note: str | None = None,
        emit: bool = False,
    ) -> dict:
        """Refund ``[{"line_item_id", "quantity", "restock_type"}]`` and
        ``amount`` (default: the lines' price and tax).

        As RefundLineItemRestockType and the REST Refund resource's
        ``restock_type`` (https://shopify.dev/docs/api/admin-rest/latest/
        resources/refund) document: ``CANCEL`` "Use this when restocking
        unfulfilled line items": the units leave the open fulfillment orders
        and their commitment goes back to ``available``; ``RETURN`` "Use this
        when restocking line items that were fulfilled": the units go back to
        ``available`` at the location, the fulfillment orders stay;
        ``NO_RESTOCK`` "Refund line item was not restocked" ("Refunding these
        items won't affect inventory. The number of fulfillable units for this
        line item will remain unchanged"): no quantity and no fulfillment order
        changes. Without a type (the admin's "restock" box ticked): ``CANCEL``
        while the line has that many unfulfilled units, else ``RETURN``.
        """
        with self.lock:
            order = self._get(self.orders, order_id, "order")
            refund = self._refund(order, list(lines), amount, note)
            snapshot = copy.deepcopy(refund)
        if emit:
            self.emit("refunds/create", refund["id"])
        return snapshot

    def _refund(self, order, lines, amount, note) -> dict:
        ms = self._touch(order)
        refund_lines = []
        for spec in lines:
            owner, line = self._line_items.get(spec["line_item_id"], (None, None))
            if owner != order["id"]:
                raise ValueError(f"line item {spec['line_item_id']} not in this order")
            quantity = int(spec["quantity"])
            if not 0 < quantity <= _current(line):
                raise ValueError(f"cannot refund {quantity} of {line['id']}")
            unfulfilled = self._unfulfilled(line["id"])
            restock_type = spec.get("restock_type") or (
                "CANCEL" if quantity <= unfulfilled else "RETURN"
            )
            if restock_type == "CANCEL" and quantity > unfulfilled:
                raise ValueError(f"only unfulfilled units of {line['id']} cancel")
            line["refunded"] += quantity
            location_id = spec.get("location_id") or line["locationId"]
            if not spec.get("moved"):  # a return's refund restocked already
                self._release(order, line, quantity, restock_type, location_id)
            share = Decimal(quantity) / Decimal(line["quantity"])
            net = line["price"] * line["quantity"] - line["discount"]
            tax = sum((t["price"] for t in line["taxLines"]), Decimal(0))
            refund_lines.append(
                {
                    "id": self._next("RefundLineItem"),
                    "lineItemId": line["id"],
                    "quantity": quantity,
                    "restockType": restock_type,
                    "locationId": location_id,
                    "subtotal": money(net * share),
                    "tax": money(tax * share),
                }
            )
        if amount is None:
            amount = sum((r["subtotal"] + r["tax"] for r in refund_lines), Decimal(0))
        amount = money(amount)
        transactions = []
        if amount > 0:
            # a refund's parent "must be a capture or sale transaction" that
            # succeeded, and goes back through its gateway (REST Transaction
            # resource, parent_id; OrderTransactionInput.parentId)
            # (the card before a gift card that paid part of the order)
            paid = [
                t
                for t in order["transactions"]
                if t["kind"] in ("SALE", "CAPTURE") and t["status"] == "SUCCESS"
            ]
            paid.sort(key=lambda t: t["gateway"] == "gift_card")
            sale = paid[0] if paid else None
            parent = sale["id"] if sale else None
            transactions.append(
                self._transaction(
                    order,
                    "REFUND",
                    amount,
                    ms,
                    parent,
                    gateway=sale["gateway"] if sale else None,
                )["id"]
            )
        refund = {
            "id": self._next("Refund"),
            "orderId": order["id"],
            "createdAt": ms,
            "updatedAt": ms,
            "note": note,
            "lines": refund_lines,
            "transactions": transactions,
            "amount": amount,
        }
        order["refunds"].append(refund)
        totals = self._totals(order)
        if totals["refunded"] > 0:
            full = totals["refunded"] >= totals["paid"] > 0
            order["financialStatus"] = "REFUNDED" if full else "PARTIALLY_REFUNDED"
        return refund

    def _release(self, order, line, quantity, restock_type, location_id) -> None:
        item_id = self._item_of_line(line["id"])
        if restock_type in ("RETURN", "LEGACY_RESTOCK"):
            if item_id:
                self._level(item_id, location_id, create=True)
                self._move(item_id, location_id, available=quantity)
            return
        if restock_type != "CANCEL":  # NO_RESTOCK: nothing moves
            return
        left = quantity
        for fo_id in order["fulfillmentOrders"]:
            fulfillment_order = self.fulfillment_orders[fo_id]
            for fo_line in fulfillment_order["lines"]:
                if fo_line["lineItemId"] != line["id"] or not left:
                    continue
                taken = min(left, fo_line["remaining"])
                fo_line["remaining"] -= taken
                left -= taken
                if taken and item_id:
                    where = fulfillment_order["locationId"]
                    self._move(item_id, where, available=taken, committed=-taken)
            if all(not fo_line["remaining"] for fo_line in fulfillment_order["lines"]):
                fulfillment_order["status"] = "CLOSED"

    def fulfill(
        self,
        order_id: str,
        tracking: dict | None = None,
        *,
        emit: bool = False,
    ) -> dict:
        """Fulfil everything left in the order's open fulfillment orders: one
        fulfillment per assigned location; return the last one."""
        with self.lock:
            order = self._get(self.orders, order_id, "order")
            by_location: dict[str, list] = {}
            for fo_id in order["fulfillmentOrders"]:
                fulfillment_order = self.fulfillment_orders[fo_id]
                if fulfillment_order["status"] in ("OPEN", "IN_PROGRESS"):
                    by_location.setdefault(fulfillment_order["locationId"], []).append(
                        (fulfillment_order, None)
                    )
            made = []
            for requests_ in by_location.values() or [[]]:
                fulfillment, errors = self._fulfill(requests_, tracking or {})
                if errors:
                    raise ValueError(errors[0]["message"])
                made.append(fulfillment)
        if emit:
            for fulfillment in made:
                self.emit("fulfillments/create", fulfillment["id"])
        return copy.deepcopy(made[-1])

    def _fulfill(self, requests_, tracking) -> tuple[dict | None, list[dict]]:
        """Fulfil ``[(fulfillment order, [(fo line, quantity)] | None)]``."""
        errors = []
        plan = []
        orders = {fo["orderId"] for fo, _ in requests_}
        if len(orders) != 1:
            errors.append(
                _user_error("All fulfillment orders must belong to the same order.")
            )
            return None, errors
        # fulfillmentCreate: "Creates a fulfillment for one or many fulfillment
        # orders. The fulfillment orders are associated with the same order and
        # are assigned to the same location."
        # (https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentCreate);
        # the message and the field of the refusal are assumptions
        if len({fo["locationId"] for fo, _ in requests_}) > 1:
            errors.append(
                _user_error(
                    "All fulfillment orders must be assigned to the same location.",
                    ["fulfillment", "lineItemsByFulfillmentOrder"],
                )
            )
            return None, errors
        for index, (fulfillment_order, wanted) in enumerate(requests_):
            path = ["fulfillment", "lineItemsByFulfillmentOrder", str(index)]
            if fulfillment_order["status"] not in ("OPEN", "IN_PROGRESS"):
                status = fulfillment_order["status"].lower()
                errors.append(
                    _user_error(
                        f"Fulfillment order {fulfillment_order['id']} has an "
                        f"unfulfillable status= {status}.",
                        path,
                    )
                )
                continue
            if wanted is None:
                wanted = [
                    (fo_line, fo_line["remaining"])
                    for fo_line in fulfillment_order["lines"]
                ]
            for fo_line, quantity in wanted:
                if fo_line is None or not 0 < quantity <= fo_line["remaining"]:
                    errors.append(
                        _user_error(
                            "Invalid fulfillment order line item quantity requested.",
                            path,
                        )
                    )
                elif quantity:
                    plan.append((fulfillment_order, fo_line, quantity))
        if not errors and not plan:
            errors.append(_user_error("No line items to fulfill."))
        if errors:
            return None, errors
        order = self.orders[orders.pop()]
        ms = self._touch(order)
        fulfillment = {
            "id": self._next("Fulfillment"),
            "orderId": order["id"],
            "name": f"{order['name']}-F{len(order['fulfillments']) + 1}",
            "status": "SUCCESS",
            "locationId": plan[0][0]["locationId"],
            "tracking": [self._tracking(tracking)] if any(tracking.values()) else [],
            "lines": [],
            "createdAt": ms,
            "updatedAt": ms,
        }
        for fulfillment_order, fo_line, quantity in plan:
            fo_line["remaining"] -= quantity
            fulfillment["lines"].append((fo_line["id"], quantity))
            self._record_fulfillment_line(fulfillment, fo_line, quantity)
            item_id = self._item_of_line(fo_line["lineItemId"])
            if item_id:
                self._move(
                    item_id, fulfillment_order["locationId"], committed=-quantity
                )
            done = all(not line["remaining"] for line in fulfillment_order["lines"])
            fulfillment_order["status"] = "CLOSED" if done else "IN_PROGRESS"
            fulfillment_order["updatedAt"] = ms
        self.fulfillments[fulfillment["id"]] = fulfillment
        order["fulfillments"].append(fulfillment["id"])
        return fulfillment, []

    @staticmethod
    def _tracking(data: dict | None) -> dict:
        data = data or {}
        return {key: data.get(key) for key in ("company", "number", "url")}

    # ---------------------------------------------------- REST payloads
    def _rest_time(self, ms: int | None) -> str | None:
        """REST timestamps: shop-local with an offset, e.g. ``...T11:30:00+01:00``."""
        if ms is None:
            return None
        try:
            zone: Any = ZoneInfo(self.timezone_name)
        except (KeyError, ValueError, OSError):
            zone = timezone.utc
        return datetime.fromtimestamp(ms // 1000, zone).isoformat(timespec="seconds")

    @staticmethod
    def _rest_address(address: dict | None, **extra: Any) -> dict | None:
        if not address:
            return None
        names = [address.get("firstName"), address.get("lastName")]
        code = address.get("countryCodeV2")
        return {
            "first_name": address.get("firstName"),
            "last_name": address.get("lastName"),
            "name": " ".join(n for n in names if n) or None,
            "company": address.get("company"),
            "address1": address.get("address1"),
            "address2": address.get("address2"),
            "city": address.get("city"),
            "province": address.get("province"),
            "province_code": address.get("provinceCode"),
            "zip": address.get("zip"),
            "country": COUNTRIES.get(code, code),
            "country_code": code,
            "phone": address.get("phone"),
            **extra,
        }

    @staticmethod
    def _rest_tax_lines(tax_lines: list[dict]) -> list[dict]:
        return [
            {"title": t["title"], "rate": t["rate"], "price": fmt(t["price"])}
            for t in tax_lines
        ]

    def rest_customer(self, customer_id: str) -> dict:
        customer = self.customers[customer_id]
        addresses = [
            self._rest_address(
                address,
                id=gid_number(address["id"]),
                customer_id=gid_number(customer_id),
                country_name=COUNTRIES.get(address.get("countryCodeV2")),
                default=index == 0,
            )
            for index, address in enumerate(customer["addresses"])
        ]
        return {
            "id": gid_number(customer_id),
            "admin_graphql_api_id": customer_id,
            "email": customer["email"],
            "first_name": customer["firstName"],
            "last_name": customer["lastName"],
            "phone": customer["phone"],
            "created_at": self._rest_time(customer["createdAt"]),
            "updated_at": self._rest_time(customer["updatedAt"]),
            "state": "disabled",
            "note": customer["note"],
            "tags": ", ".join(customer["tags"]),
            "verified_email": True,
            "tax_exempt": False,
            "addresses": addresses,
            "default_address": addresses[0] if addresses else None,
        }

    def _rest_line(self, line: dict) -> dict:
        variant = self.variants.get(line["variantId"])
        remaining = self._unfulfilled(line["id"])
        fulfilled = _current(line) - remaining
        status = "fulfilled" if fulfilled > 0 and remaining == 0 else None
        if fulfilled > 0 and remaining:
            status = "partial"
        title = line["title"]
        return {
            "id": gid_number(line["id"]),
            "admin_graphql_api_id": line["id"],
            "variant_id": gid_number(line["variantId"]),
            "product_id": gid_number(line["productId"]),
            "sku": line["sku"],
            "title": title,
            "name": f"{title} - {line['variantTitle']}"
            if line["variantTitle"]
            else title,
            "variant_title": line["variantTitle"],
            "vendor": self.products[line["productId"]]["vendor"] if variant else None,
            "quantity": line["quantity"],
            "current_quantity": _current(line),
            "price": fmt(line["price"]),
            # REST Order resource (line_items): total_discount is the line's
            # own discount, like GraphQL's totalDiscountSet
            "total_discount": fmt(
                disc.total(
                    line,
                    self.orders[self._line_items[line["id"]][0]].get(
                        "discountApplications"
                    )
                    or [],
                    "LINE",
                )
            ),
            "fulfillable_quantity": remaining,
            "fulfillment_status": status,
            "fulfillment_service": "manual",
            "requires_shipping": True,
            "taxable": bool(line["taxLines"]),
            "gift_card": line.get("giftCard", False),
            "grams": 0,
            "properties": [],
            "product_exists": variant is not None,
            "variant_inventory_management": "shopify" if variant else None,
            "tax_lines": self._rest_tax_lines(line["taxLines"]),
        }

    def _unfulfilled(self, line_item_id: str) -> int:
        order_id, _ = self._line_items[line_item_id]
        return sum(
            fo_line["remaining"]
            for fo_id in self.orders[order_id]["fulfillmentOrders"]
            for fo_line in self.fulfillment_orders[fo_id]["lines"]
            if fo_line["lineItemId"] == line_item_id
        )

    def _rest_transaction(self, order: dict, transaction: dict) -> dict:
        return {
            "id": gid_number(transaction["id"]),
            "admin_graphql_api_id": transaction["id"],
            "order_id": gid_number(order["id"]),
            "kind": transaction["kind"].lower(),
            "status": transaction["status"].lower(),
            "gateway": transaction["gateway"],
            # in the currency the customer paid: multi-currency changed the
            # Transaction and Refund resources ("breaking changes to the
            # Transaction and Refund resources",
            # https://help.shopify.com/en/api/guides/multi-currency-migration-guide)
            "amount": fmt(money(transaction["amount"] * order["presentmentRate"])),
            "currency": order["presentmentCurrency"],
            "created_at": self._rest_time(transaction["createdAt"]),
            "parent_id": gid_number(transaction["parentId"]),
            "authorization": None,
            "message": None,
            "test": False,
        }

    def rest_refund(self, refund_id: str) -> dict:
        order, refund = self._find_refund(refund_id)
        lines = []
        for refund_line in refund["lines"]:
            _, line = self._line_items[refund_line["lineItemId"]]
            lines.append(
                {
                    "id": gid_number(refund_line["id"]),
                    "quantity": refund_line["quantity"],
                    "line_item_id": gid_number(line["id"]),
                    "location_id": gid_number(refund_line["locationId"]),
                    "restock_type": refund_line["restockType"].lower(),
                    # presentment amounts (Refund resource, multi-currency
                    # migration guide); shop amounts: GraphQL subtotalSet
                    "subtotal": _bag(refund_line["subtotal"], self.currency, order)[
                        "presentmentMoney"
                    ]["amount"],
                    "total_tax": _bag(refund_line["tax"], self.currency, order)[
                        "presentmentMoney"
                    ]["amount"],
                    "line_item": self._rest_line(line),
                }
            )
        transactions = {t["id"]: t for t in order["transactions"]}
        return {
            "id": gid_number(refund["id"]),
            "admin_graphql_api_id": refund["id"],
            "order_id": gid_number(order["id"]),
            "created_at": self._rest_time(refund["createdAt"]),
            "note": refund["note"],
            "restock": any(r["restockType"] != "NO_RESTOCK" for r in refund["lines"]),
            "refund_line_items": lines,
            "transactions": [
                self._rest_transaction(order, transactions[t])
                for t in refund["transactions"]
            ],
            "order_adjustments": [],
        }

    def _find_refund(self, refund_id: str) -> tuple[dict, dict]:
        for order in self.orders.values():
            for refund in order["refunds"]:
                if refund["id"] == refund_id:
                    return order, refund
        raise KeyError(f"unknown refund {refund_id!r}")

    def rest_fulfillment(self, fulfillment_id: str) -> dict:
        fulfillment = self.fulfillments[fulfillment_id]
        tracking = fulfillment["tracking"]
        lines = []
        for fo_line_id, quantity in fulfillment["lines"]:
            _, fo_line = self._fo_lines[fo_line_id]
            _, line = self._line_items[fo_line["lineItemId"]]
            lines.append({**self._rest_line(line), "quantity": quantity})
        return {
            "id": gid_number(fulfillment_id),
            "admin_graphql_api_id": fulfillment_id,
            "order_id": gid_number(fulfillment["orderId"]),
            "name": fulfillment["name"],
            "status": fulfillment["status"].lower(),
            "service": "manual",
            "location_id": gid_number(fulfillment["locationId"]),
            "created_at": self._rest_time(fulfillment["createdAt"]),
            "updated_at": self._rest_time(fulfillment["updatedAt"]),
            "tracking_company": tracking[0]["company"] if tracking else None,
            "tracking_number": tracking[0]["number"] if tracking else None,
            "tracking_numbers": [t["number"] for t in tracking if t["number"]],
            "tracking_url": tracking[0]["url"] if tracking else None,
            "tracking_urls": [t["url"] for t in tracking if t["url"]],
            "line_items": lines,
        }

    def rest_order(self, order_id: str) -> dict:
        order = self.orders[order_id]
        totals = self._totals(order)
        status = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(
            self._fulfillment_status(order)
        )
        customer = None
        if order["customerId"]:
            customer = self.rest_customer(order["customerId"])
            customer.pop("addresses")
        return {
            "id": gid_number(order_id),
            "admin_graphql_api_id": order_id,
            "name": order["name"],
            "number": order["number"] - 1000,
            "order_number": order["number"],
            "email": order["email"],
            "phone": order["phone"],
            "created_at": self._rest_time(order["createdAt"]),
            "updated_at": self._rest_time(order["updatedAt"]),
            "cancelled_at": self._rest_time(order["cancelledAt"]),
            "cancel_reason": (order["cancelReason"] or "").lower() or None,
            "closed_at": self._rest_time(order["closedAt"]),
            "currency": order["currency"],
            "financial_status": order["financialStatus"].lower(),
            "fulfillment_status": status,
            "confirmed": True,
            "test": order.get("test", False),
            "taxes_included": order["taxesIncluded"],
            "total_line_items_price": fmt(totals["line_items"]),
            "subtotal_price": fmt(totals["subtotal"]),
            "total_discounts": fmt(totals["discounts"]),
            "total_tax": fmt(totals["tax"]),
            "total_price": fmt(totals["total"]),
            "current_total_price": fmt(totals["current_total"]),
            "total_weight": 0,
            "gateway": order["gateway"],
            "payment_gateway_names": [order["gateway"]]
            if order["transactions"]
            else [],
            "source_name": order.get("sourceName", "web"),
            "tags": ", ".join(order["tags"]),
            "note": order["note"],
            "note_attributes": [],
            "discount_codes": [
                {
                    "code": app["code"],
                    "amount": fmt(
                        sum(
                            (
                                a["amount"]
                                for line in [
                                    *order["lineItems"],
                                    *order["shippingLines"],
                                ]
                                for a in line.get("allocations") or ()
                                if a["index"] == app["index"]
                            ),
                            Decimal(0),
                        )
                    ),
                    "type": "percentage"
                    if "percentage" in app["value"]
                    else "fixed_amount",
                }
                for app in order.get("discountApplications") or []
                if app["type"] == "code"
            ],
            "tax_lines": self._rest_tax_lines(self._order_tax_lines(order)),
            "line_items": [self._rest_line(line) for line in order["lineItems"]],
            "shipping_lines": [
                {
                    "title": s["title"],
                    "code": s["code"],
                    "source": s["source"],
                    "price": fmt(s["price"]),
                    "tax_lines": self._rest_tax_lines(s["taxLines"]),
                }
                for s in order["shippingLines"]
            ],
            "shipping_address": self._rest_address(order["shippingAddress"]),
            "billing_address": self._rest_address(order["billingAddress"]),
            "customer": customer,
            "fulfillments": [self.rest_fulfillment(f) for f in order["fulfillments"]],
            "refunds": [self.rest_refund(r["id"]) for r in order["refunds"]],
        }

    @staticmethod
    def _order_tax_lines(order: dict) -> list[dict]:
        grouped: dict[tuple, Decimal] = {}
        lines = [*order["lineItems"], *order["shippingLines"]]
        for tax in (t for line in lines for t in line["taxLines"]):
            key = (tax["title"], tax["rate"])
            grouped[key] = grouped.get(key, Decimal(0)) + tax["price"]
        return [
            {"title": title, "rate": rate, "price": price}
            for (title, rate), price in grouped.items()
        ]

    def rest_product(self, product_id: str) -> dict:
        product = self.products[product_id]
        number = gid_number(product_id)
        options = [name for name, _ in self._option_names(product)]
        variants = []
        for variant_id in product["variants"]:
            variant = self.variants[variant_id]
            values = dict(variant["options"])
            slots = [values.get(name) for name in options] + [None] * 3
            item_id = variant["inventoryItemId"]
            variants.append(
                {
                    "id": gid_number(variant_id),
                    "admin_graphql_api_id": variant_id,
                    "product_id": number,
                    "title": self._variant_title(variant),
                    "sku": variant["sku"],
                    "barcode": variant["barcode"],
                    "price": fmt(variant["price"]),
                    "compare_at_price": fmt(variant["compareAtPrice"])
                    if variant["compareAtPrice"] is not None
                    else None,
                    "position": variant["position"],
                    "option1": slots[0],
                    "option2": slots[1],
                    "option3": slots[2],
                    "inventory_item_id": gid_number(item_id),
                    "inventory_quantity": self._total_available(item_id),
                    "created_at": self._rest_time(variant["createdAt"]),
                    "updated_at": self._rest_time(variant["updatedAt"]),
                }
            )
        return {
            "id": number,
            "admin_graphql_api_id": product_id,
            "title": product["title"],
            "handle": product["handle"],
            "body_html": product["descriptionHtml"],
            "vendor": product["vendor"],
            "product_type": product["productType"],
            "status": product["status"].lower(),
            "tags": ", ".join(product["tags"]),
            "created_at": self._rest_time(product["createdAt"]),
            "updated_at": self._rest_time(product["updatedAt"]),
            "variants": variants,
            "options": [
                {
                    "id": gid_number(option["id"]),
                    "product_id": number,
                    "name": option["name"],
                    "position": index,
                    "values": option["values"],
                }
                for index, option in enumerate(product["options"], 1)
            ],
        }

    @staticmethod
    def _option_names(product: dict) -> list[tuple[str, list]]:
        return [(option["name"], option["values"]) for option in product["options"]]

    @staticmethod
    def _variant_title(variant: dict) -> str:
        return " / ".join(value for _, value in variant["options"]) or "Default Title"

    def _total_available(self, item_id: str) -> int:
        return sum(
            level["available"]
            for (item, _), level in self.levels.items()
            if item == item_id
        )

    def rest_inventory_level(self, item_id: str, location_id: str) -> dict:
        level = self.levels[(item_id, location_id)]
        return {
            "inventory_item_id": gid_number(item_id),
            "location_id": gid_number(location_id),
            "available": level["available"],
            "updated_at": self._rest_time(level["updatedAt"]),
            "admin_graphql_api_id": self._level_gid(item_id, location_id),
        }

    @staticmethod
    def _level_gid(item_id: str, location_id: str) -> str:
        return (
            f"gid://shopify/InventoryLevel/{gid_number(location_id)}"
            f"?inventory_item_id={gid_number(item_id)}"
        )

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

    # ----------------------------------------------------------- webhooks
    def payload(self, topic: str, ref: Any) -> dict:
        """The REST body Shopify sends for ``topic`` about ``ref`` (a GID; for
        ``inventory_levels/update`` an ``(item_gid, location_gid)`` pair)."""
        resource = topic.partition("/")[0]
        with self.lock:
            if resource == "orders":
                return self.rest_order(ref)
            if resource == "refunds":
                return self.rest_refund(ref)
            if resource == "customers":
                return self.rest_customer(ref)
            if resource == "products":
                return self.rest_product(ref)
            if resource == "fulfillments":
                return self.rest_fulfillment(ref)
            if resource == "inventory_levels":
                return self.rest_inventory_level(*ref)
            if resource == "bulk_operations":
                return self.rest_bulk_operation(ref)
            if resource == "returns":
                return self.rest_return(ref)
            if resource == "reverse_fulfillment_orders":
                return self.rest_reverse_fulfillment_order(ref)
        raise ValueError(f"no payload for topic {topic!r}")

    def targets(self, topic: str) -> list[tuple[str, dict | None]]:
        """``(url, subscription)`` to deliver ``topic`` to."""
        if topic in COMPLIANCE_TOPICS:
            if not self.compliance_url:
                raise ValueError(
                    f"{topic} goes to the app's compliance URL: set compliance_url"
                )
            return [(self.compliance_url, None)]
        wanted = _topic_enum(topic)
        with self.lock:
            found = [
                (sub["uri"], sub)
                for sub in self.subscriptions.values()
                if sub["topic"] == wanted
            ]
        if not found and self.webhook_url:
            found = [(self.webhook_url, None)]
        return found

    def _sign_delivery(self, raw_body: bytes, event: dict) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": event["topic"],
            "X-Shopify-Hmac-Sha256": sign(raw_body, self.webhook_secret),
            "X-Shopify-Shop-Domain": self.shop,
            "X-Shopify-API-Version": event["api_version"],
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": event["id"],
            "X-Shopify-Triggered-At": event["triggered_at"],
        }

    def emit(
        self,
        topic: str,
        ref: Any = None,
        *,
        payload: dict | None = None,
        deliver: bool | None = None,
    ) -> list[dict]:
        """Build ``topic``'s payload (or send ``payload``) to every target.

        Without a target the event is queued (delivered by a later flush to
        ``webhook_url``). ``deliver``: None follows ``webhook_mode``, True posts
        now, False queues. Return the events (one per target, sharing their
        ``X-Shopify-Event-Id``); delivery answers are in ``webhooks.history``.
        """
        body = self.payload(topic, ref) if payload is None else payload
        event_id = str(uuid.uuid4())
        base = {
            "id": event_id,
            "topic": topic,
            "triggered_at": utc_iso(self.clock.now()),
            "api_version": self.api_version,
        }
        events = []
        for url, subscription in self.targets(topic) or [(None, None)]:
            shaped = body
            if subscription and subscription["includeFields"]:
                keep = set(subscription["includeFields"])
                shaped = {k: v for k, v in body.items() if k in keep}
            events.append(
                {
                    **base,
                    "url": url,
                    "subscription_id": subscription["id"] if subscription else None,
                    "payload": shaped,
                }
            )
        mode = "sync" if deliver else "queue"
        if deliver is None:
            mode = self.webhook_mode if events[0]["url"] else "queue"
        for event in events:
            self.webhooks.send(event, mode)
        return events

    def _emit_pending(self, events: list[tuple]) -> None:
        """Emit the webhooks of an API write (outside the state lock):
        ``(topic, ref)`` or ``(topic, ref, payload)``."""
        for topic, ref, *payload in events:
            if self.targets(topic):
                self.emit(topic, ref, payload=payload[0] if payload else None)

    # -------------------------------------------------- compliance webhooks
    def _compliance_customer(self, customer_id: str) -> dict:
        """``customer {id, email, phone}`` of a compliance body (numeric id)."""
        with self.lock:
            customer = self._get(self.customers, customer_id, "customer")
            return {
                "id": gid_number(customer["id"]),
                "email": customer["email"],
                "phone": customer["phone"],
            }

    def _customer_orders(self, customer_id: str, orders) -> list[int]:
        """Numeric ids of ``orders`` (GIDs), by default all the customer's."""
        with self.lock:
            if orders is None:
                orders = [
                    o["id"]
                    for o in self.orders.values()
                    if o["customerId"] == customer_id
                ]
            return [gid_number(order, "Order") for order in orders]

    def request_customer_data(
        self, customer_id: str, orders: list[str] | None = None
    ) -> dict:
        """A customer asked the merchant for their data: send
        ``customers/data_request`` (its body as documented on
        https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance
        #customers-data_request); return the event."""
        with self.lock:
            self._last += 1
            request_id = self._last
        body = {
            "shop_id": SHOP_ID,
            "shop_domain": self.shop,
            "orders_requested": self._customer_orders(customer_id, orders),
            "customer": self._compliance_customer(customer_id),
            "data_request": {"id": request_id},
        }
        return self.emit("customers/data_request", payload=body)[0]

    def redact_customer(self, customer_id: str, orders: list[str] | None = None):
        """The merchant asked to erase a customer: send ``customers/redact``
        (body as on the privacy-law-compliance page, #customers-redact;
        ``orders_to_redact`` by default all the customer's orders); return the
        event."""
        body = {
            "shop_id": SHOP_ID,
            "shop_domain": self.shop,
            "customer": self._compliance_customer(customer_id),
            "orders_to_redact": self._customer_orders(customer_id, orders),
        }
        return self.emit("customers/redact", payload=body)[0]

    def redact_shop(self) -> dict:
        """48 hours after the shop uninstalled the app: send ``shop/redact``
        (``{"shop_id", "shop_domain"}``, privacy-law-compliance page,
        #shop-redact); return the event."""
        body = {"shop_id": SHOP_ID, "shop_domain": self.shop}
        return self.emit("shop/redact", payload=body)[0]

    # --------------------------------------------------------------- hooks
    def served_version(self, version: str) -> str:
        """The version that serves a request for ``version`` (falls forward)."""
        known = {*self.supported_versions, RELEASE_CANDIDATE, "unstable"}
        return version if version in known else self.supported_versions[0]

    def operation_for(self, request: Request, endpoint: str | None) -> str | None:
        request.environ["shopify.endpoint"] = endpoint
        match = re.match(r"/admin/api/([^/]+)/", request.path)
        if match:
            request.environ["shopify.version"] = self.served_version(match[1])
        if endpoint == "graphql":
            try:
                body = json.loads(request.get_data(cache=True) or b"{}")
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("operationName"), str):
                return body["operationName"]
        return endpoint

    def before_request(self, request: Request, operation: str | None):
        if request.environ.get("shopify.endpoint") != "graphql":
            return None
        token = request.headers.get("X-Shopify-Access-Token", "")
        if not self.token_valid(token):
            return self.error_response(401, "unauthorized", INVALID_TOKEN)
        return None

    def token_valid(self, token: str) -> bool:
        if not token:
            return False
        fixed = self.access_token
        if fixed and hmac.compare_digest(token.encode(), fixed.encode()):
            return True
        with self.lock:
            expires = self._tokens.get(token)
        return expires is not None and self.clock.now() < expires

    def finalize(self, request: Request, response: Response) -> Response:
        version = request.environ.get("shopify.version")
        if version:
            response.headers["X-Shopify-API-Version"] = version
        return super().finalize(request, response)

    def error_response(self, status: int, code: str, message: str, **extra):
        if status in (404, 405):
            message = HTTPStatus(status).phrase
        return json_response({"errors": message}, status)

    def fault_response(self, fault) -> Response:
        status = fault.status or 500
        if fault.body is not None:
            return super().fault_response(fault)
        if status == 500:
            request_id = str(uuid.uuid4())
            message = (
                "Internal error. Looks like something went wrong on our end.\n"
                f"Request ID: {request_id}"
            )
            body: Any = {
                "errors": [
                    {
                        "message": message,
                        "extensions": {
                            "code": "INTERNAL_SERVER_ERROR",
                            "requestId": request_id,
                        },
                    }
                ]
            }
            headers = {"X-Request-Id": request_id}
        else:
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Error"
            body, headers = {"errors": phrase}, {}
        response = json_response(body, status, {**headers, **fault.headers})
        return response

    def throttle_response(self, request: Request, retry_after: float) -> Response:
        # An injected throttle burst reports an empty bucket.
        return self._throttled(retry_after, None, available=0)

    def _throttle_status(self, available: float | None = None) -> dict:
        if available is None:
            available = self.bucket.available
        return {
            "maximumAvailable": float(self.max_available),
            "currentlyAvailable": math.floor(available),
            "restoreRate": float(self.restore_rate),
        }

    def _cost(self, requested, actual, available: float | None = None) -> dict:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": self._throttle_status(available),
            }
        }

    def _throttled(self, retry_after, requested, available=None) -> Response:
        error = {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": RATE_LIMIT_DOC},
        }
        body = {
            "errors": [error],
            "extensions": self._cost(requested, None, available),
        }
        headers = {}
        if self.throttle_status_code == 429:
            headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return json_response(body, self.throttle_status_code, headers)

    # --------------------------------------------------------- API routes
    def on_token(self, request: Request) -> Response:
        if request.mimetype == "application/json":
            try:
                data = json.loads(request.get_data(cache=True) or b"{}")
            except ValueError:
                data = {}
            data = data if isinstance(data, dict) else {}
        else:
            data = request.form.to_dict()
        if data.get("grant_type") != "client_credentials":
            return json_response(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant_type must be client_credentials",
                },
                400,
            )
        given_id = str(data.get("client_id", "")).encode()
        given_secret = str(data.get("client_secret", "")).encode()
        if not (
            hmac.compare_digest(given_id, self.client_id.encode())
            and hmac.compare_digest(given_secret, self.client_secret.encode())
        ):
            return json_response(
                {
                    "error": "invalid_client",
                    "error_description": "Client credentials are invalid",
                },
                400,
            )
        token = f"shpat_{secrets.token_hex(16)}"
        with self.lock:
            self._tokens[token] = self.clock.now() + TOKEN_TTL
        return json_response(
            {"access_token": token, "scope": self.scope, "expires_in": TOKEN_TTL}
        )

    def on_graphql(self, request: Request, version: str) -> Response:
        served = self.served_version(version)
        request.environ["shopify.version"] = served
        try:
            body = json.loads(request.get_data(cache=True) or b"{}")
        except ValueError:
            body = None
        variables = body.get("variables") if isinstance(body, dict) else None
        if isinstance(variables, str):
            try:
                variables = json.loads(variables or "{}")
            except ValueError:
                variables = []
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("query"), str)
            or not isinstance(variables, dict | None)
        ):
            return json_response(
                {"errors": {"query": "Required parameter missing or invalid"}}, 400
            )
        status, payload, retry_after = self.graphql(
            body["query"], variables, body.get("operationName"), version=served
        )
        if status == 429:
            return json_response(
                payload, 429, {"Retry-After": str(max(1, math.ceil(retry_after)))}
            )
        headers = {}
        used = deprecated_fields(body["query"])
        if used:
            # "As of 2025-04, the X-Shopify-API-Deprecated-Reason HTTP header
            # will return the list of detected deprecations instead of a generic
            # URL", e.g. "Shop.products, Shop.productVariants"
            # (https://shopify.dev/changelog/graphql-return-actual-deprecation-reasons)
            headers["X-Shopify-API-Deprecated-Reason"] = ", ".join(used)
        return json_response(payload, status, headers or None)

    # ------------------------------------------------------------ GraphQL
    def graphql(
        self,
        query: str,
        variables: dict | None = None,
        operation_name: str | None = None,
        *,
        version: str | None = None,
    ) -> tuple[int, dict, float]:
        """Run one GraphQL request as the HTTP route does (auth aside).

        Return ``(http status, body, retry after seconds)``.
        """
        variables = variables or {}
        try:
            document = parse(query)
        except GraphQLError as exc:
            return 200, {"errors": [exc.formatted]}, 0
        errors = self._validate(document)
        if errors:
            return 200, {"errors": errors}, 0
        operation = get_operation_ast(document, operation_name or None)
        if operation is None:
            message = (
                f'No operation named "{operation_name}"'
                if operation_name
                else "An operation name is required"
            )
            return 200, {"errors": [{"message": message}]}, 0
        coerced, errors = self._coerce_variables(operation, variables)
        if errors:
            return 200, {"errors": errors}, 0
        fragments = {
            d.name.value: d
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        coster = _Coster(SCHEMA, fragments, coerced)
        is_mutation = operation.operation == OperationType.MUTATION
        root_type = SCHEMA.mutation_type if is_mutation else SCHEMA.query_type
        if is_mutation:
            roots = coster.collect(operation.selection_set, root_type)
            requested = MUTATION_COST * len(roots)
            coster.errors += self._input_size_errors(coster, roots, root_type)
        else:
            requested = coster.cost(operation.selection_set, root_type)
            roots = coster.collect(operation.selection_set, root_type)
            coster.errors += self._input_size_errors(coster, roots, root_type)
        if coster.errors:
            return 200, {"errors": [e.formatted for e in coster.errors]}, 0
        max_cost = min(MAX_QUERY_COST, self.max_available)
        if requested > max_cost:
            message = (
                f"Query cost is {requested}, which exceeds the single query max cost "
                f"limit ({max_cost}).\n\nSee {RATE_LIMIT_DOC} for more "
                "information on how the cost of a query is calculated.\n\nTo query "
                "larger amounts of data with fewer limits, bulk operations should "
                "be used instead."
            )
            error = {
                "message": message,
                "extensions": {
                    "code": "MAX_COST_EXCEEDED",
                    "cost": requested,
                    "maxCost": max_cost,
                    "documentation": RATE_LIMIT_DOC,
                },
            }
            return (
                200,
                {"errors": [error], "extensions": self._cost(requested, None)},
                0,
            )
        ok, wait, _ = self.bucket.try_take(requested)
        if not ok:
            response = self._throttled(wait, requested)
            return response.status_code, json.loads(response.get_data()), wait
        ctx = _Ctx(variables=coerced, version=version or self.api_version)
        with self.lock:
            self._tick_bulk(ctx)
            result = execute(
                SCHEMA,
                document,
                root_value=self._root(),
                context_value=ctx,
                variable_values=variables,
                operation_name=operation_name or None,
            )
        if is_mutation:
            actual = requested
        else:
            actual = coster.cost(operation.selection_set, root_type, result.data or {})
        if requested > actual:
            self.bucket.refund(requested - actual)
        payload: dict = {}
        if result.errors:
            payload["errors"] = [self._format_error(e) for e in result.errors]
        payload["data"] = result.data
        payload["extensions"] = self._cost(requested, actual)
        if ctx.search:
            payload["extensions"]["search"] = ctx.search
        self._emit_pending(ctx.events)
        return 200, payload, 0

    @staticmethod
    def _format_error(error: GraphQLError) -> dict:
        original = error.original_error
        if original is not None and not isinstance(original, GraphQLError):
            _logger.error("shopify sandbox resolver failed", exc_info=original)
            formatted = error.formatted
            formatted["message"] = f"Internal error: {original}"
            formatted["extensions"] = {"code": "INTERNAL_SERVER_ERROR"}
            return formatted
        return error.formatted

    def _validate(self, document) -> list[dict]:
        if not validate(SCHEMA, document):
            return []
        errors = []
        for rule in specified_rules:
            for error in validate(SCHEMA, document, [rule]):
                formatted = error.formatted
                code = RULE_CODES.get(rule.__name__, "validationError")
                extensions: dict[str, Any] = {"code": code}
                match = _UNDEFINED_FIELD_RE.match(error.message)
                if code == "undefinedField" and match:
                    field_name, type_name = match.groups()
                    formatted["message"] = (
                        f"Field '{field_name}' doesn't exist on type '{type_name}'"
                    )
                    extensions.update(typeName=type_name, fieldName=field_name)
                formatted["extensions"] = extensions
                errors.append(formatted)
        return errors

    @staticmethod
    def _coerce_variables(operation, raw: dict) -> tuple[dict, list[dict]]:
        values, errors = {}, []
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            type_ = type_from_ast(SCHEMA, definition.type)
            if name not in raw:
                if definition.default_value is not None:
                    values[name] = value_from_ast(definition.default_value, type_)
                    continue
                if not is_non_null_type(type_):
                    continue
                problem = "Expected value to not be null"
            else:
                problem = None
                try:
                    coerced = coerce_input_value(raw[name], type_)
                except GraphQLError as exc:
                    problem, coerced = exc.message, Undefined
                if problem is None and coerced is Undefined:
                    problem = f"Could not coerce value to {type_}"
                if problem is None:
                    values[name] = coerced
                    continue
            location = definition.loc.source.get_location(definition.loc.start)
            errors.append(
                {
                    "message": (
                        f"Variable ${name} of type {type_} was provided invalid value"
                    ),
                    "locations": [{"line": location.line, "column": location.column}],
                    "extensions": {
                        "value": raw.get(name),
                        "problems": [{"path": [], "explanation": problem}],
                    },
                }
            )
        return values, errors

    @staticmethod
    def _input_size_errors(coster: _Coster, roots, root_type) -> list[GraphQLError]:
        errors = []
        for _key, node in roots:
            field_def = root_type.fields.get(node.name.value)
            if field_def is None:
                continue
            arguments = coster.arguments(field_def, node)
            for path, size in _oversized_lists(arguments, [node.name.value]):
                errors.append(
                    GraphQLError(
                        f"The input array size of {size} is greater than the maximum "
                        f"allowed of {MAX_INPUT_ARRAY}.",
                        node,
                        path=[str(p) for p in path],
                        extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
                    )
                )
        return errors

    # -------------------------------------------------------------- views
    # A view is a dict read by graphql-core's default resolver: a callable
    # value is called with ``(info, **arguments)``, so nested objects and
    # connections are built only when selected.
    def _page(self, info, records, args, view, keyfn=None) -> dict:
        """A Relay connection over ``records`` (cursor = sort key + id)."""
        keyfn = keyfn or self._sort_key(None, {})
        rows = sorted(records, key=keyfn)
        reverse = bool(args.get("reverse"))
        if reverse:
            rows.reverse()
        keys = [keyfn(row) for row in rows]
        start, end = 0, len(rows)

        def beyond(key, cursor) -> bool:
            try:
                return key < cursor if reverse else key > cursor
            except TypeError:  # a cursor of another sort key
                raise _error("Invalid cursor for current pagination sort.") from None

        if not info.context.bulk:
            if args.get("after"):
                cursor = decode_cursor(args["after"])
                start = next((i for i, k in enumerate(keys) if beyond(k, cursor)), end)
            if args.get("before"):
                cursor = decode_cursor(args["before"])
                end = next(
                    (i for i, k in enumerate(keys) if not beyond(cursor, k)), end
                )
                end = max(end, start)
            if args.get("first") is not None:
                end = min(end, start + args["first"])
            elif args.get("last") is not None:
                start = max(start, end - args["last"])
        edges = [
            {"cursor": encode_cursor(keys[i]), "node": view(rows[i])}
            for i in range(start, end)
        ]
        return {
            "edges": edges,
            "nodes": [edge["node"] for edge in edges],
            "pageInfo": {
                "hasNextPage": end < len(rows),
                "hasPreviousPage": start > 0,
                "startCursor": edges[0]["cursor"] if edges else None,
                "endCursor": edges[-1]["cursor"] if edges else None,
            },
        }

    @staticmethod
    def _sort_key(sort_key: str | None, fields: dict[str, str]):
        """Sort function for ``sortKey`` (a record field, else the id)."""
        name = fields.get(sort_key or "ID")

        def key(record) -> tuple:
            # (has a value, value, id): records without one sort first
            number = gid_number(record["id"])
            value = record.get(name) if name else number
            if isinstance(value, str):
                value = value.lower()
            return (0, 0, number) if value is None else (1, value, number)

        return key

    def _filter(self, info, records, query, spec, known) -> list:
        """Records matching the search ``query``; ``spec(record)`` maps search
        fields to ``(kind, value)``, ``None`` to the free-text values."""
        terms = parse_search(query)
        unknown = sorted(
            {name for _, name, _, _ in terms if name and name not in known}
        )
        if unknown:
            info.context.search.append(
                {
                    "path": [str(p) for p in info.path.as_list()],
                    "query": query,
                    "warnings": [
                        {
                            "field": name,
                            "message": "Invalid search field for this query.",
                        }
                        for name in unknown
                    ],
                }
            )
        terms = [t for t in terms if t[1] is None or t[1] in known]
        if not terms:
            return list(records)
        result = []
        for record in records:
            fields = spec(record)
            for negated, name, op, value in terms:
                if name is None:
                    wanted = value.lower().rstrip("*")
                    hit = any(
                        wanted in str(text).lower() for text in fields[None] if text
                    )
                else:
                    kind, actual = fields[name]
                    try:
                        hit = _term_matches(kind, actual, op, value)
                    except ValueError:
                        hit = False
                if hit == negated:
                    break
            else:
                result.append(record)
        return result

    def _bag(self, amount: Decimal, order: dict | None = None) -> dict:
        return _bag(amount, self.currency, order)

    def _order_of_line(self, line_id: str) -> dict | None:
        owner = self._line_items.get(line_id, (None, None))[0]
        return self.orders.get(owner)

    def _v_tax(self, tax: dict, order: dict | None = None) -> dict:
        rate = tax["rate"]
        return {
            "title": tax["title"],
            "rate": rate,
            "ratePercentage": None if rate is None else round(rate * 100, 4),
            "priceSet": self._bag(tax["price"], order),
        }

    def _v_location(self, location: dict | None) -> dict | None:
        if location is None:
            return None
        return {
            "__typename": "Location",
            "id": location["id"],
            "legacyResourceId": str(gid_number(location["id"])),
            "name": location["name"],
            "isActive": location["isActive"],
            "fulfillsOnlineOrders": True,
            "createdAt": gql_time(location["createdAt"]),
            "updatedAt": gql_time(location["updatedAt"]),
        }

    @staticmethod
    def _v_address(address: dict | None) -> dict | None:
        if not address:
            return None
        names = [address.get("firstName"), address.get("lastName")]
        return {
            "__typename": "MailingAddress",
            **address,
            "name": " ".join(n for n in names if n) or None,
            "country": COUNTRIES.get(address.get("countryCodeV2")),
        }

    def _v_customer(self, customer: dict | None) -> dict | None:
        if customer is None:
            return None
        email, phone = customer["email"], customer["phone"]
        names = [customer["firstName"], customer["lastName"]]
        addresses = [self._v_address(a) for a in customer["addresses"]]
        return {
            "__typename": "Customer",
            "id": customer["id"],
            "legacyResourceId": str(gid_number(customer["id"])),
            "createdAt": gql_time(customer["createdAt"]),
            "updatedAt": gql_time(customer["updatedAt"]),
            "displayName": " ".join(n for n in names if n) or email or phone or "",
            "firstName": customer["firstName"],
            "lastName": customer["lastName"],
            "email": email,
            "phone": phone,
            "defaultEmailAddress": {
                "emailAddress": email,
                "marketingState": "NOT_SUBSCRIBED",
            }
            if email
            else None,
            "defaultPhoneNumber": {"phoneNumber": phone} if phone else None,
            "defaultAddress": addresses[0] if addresses else None,
            "addresses": lambda info, first=None: addresses[:first],
            "note": customer["note"],
            "tags": list(customer["tags"]),
            "numberOfOrders": str(
                sum(
                    1 for o in self.orders.values() if o["customerId"] == customer["id"]
                )
            ),
        }

    def _v_order(self, order: dict | None) -> dict | None:
        if order is None:
            return None
        totals = self._totals(order)
        fulfillment_orders = [
            self.fulfillment_orders[f] for f in order["fulfillmentOrders"]
        ]
        transactions = {t["id"]: t for t in order["transactions"]}
        applications = order.get("discountApplications") or []
        return {
            "__typename": "Order",
            "id": order["id"],
            "legacyResourceId": str(gid_number(order["id"])),
            "name": order["name"],
            "createdAt": gql_time(order["createdAt"]),
            "updatedAt": gql_time(order["updatedAt"]),
            "cancelledAt": gql_time(order["cancelledAt"]),
            "cancelReason": order["cancelReason"],
            "closed": order["closedAt"] is not None,
            "displayFinancialStatus": order["financialStatus"],
            "displayFulfillmentStatus": self._fulfillment_status(order),
            "currencyCode": order["currency"],
            "presentmentCurrencyCode": order["presentmentCurrency"],
            "taxesIncluded": order["taxesIncluded"],
            "currentSubtotalPriceSet": self._bag(totals["current_subtotal"], order),
            "currentTotalPriceSet": self._bag(totals["current_total"], order),
            "subtotalPriceSet": self._bag(totals["subtotal"], order),
            "totalPriceSet": self._bag(totals["total"], order),
            "totalShippingPriceSet": self._bag(totals["shipping"], order),
            "totalTaxSet": self._bag(totals["tax"], order),
            "totalDiscountsSet": self._bag(totals["discounts"], order),
            "cartDiscountAmountSet": self._bag(
                sum(
                    (
                        disc.total(line, applications, "ORDER")
                        for line in order["lineItems"]
                    ),
                    Decimal(0),
                ),
                order,
            ),
            "discountCodes": disc.codes(applications),
            "discountApplications": lambda info, **a: self._page(
                info,
                applications,
                a,
                self._v_discount_application,
                keyfn=lambda app: (app["index"],),
            ),
            "totalRefundedSet": self._bag(totals["refunded"], order),
            "taxLines": [self._v_tax(t, order) for t in self._order_tax_lines(order)],
            "customer": lambda info: self._v_customer(
                self.customers.get(order["customerId"])
            ),
            "email": order["email"],
            "phone": order["phone"],
            "shippingAddress": self._v_address(order["shippingAddress"]),
            "billingAddress": self._v_address(order["billingAddress"]),
            "shippingLines": lambda info, **a: self._page(
                info,
                order["shippingLines"],
                a,
                functools.partial(self._v_shipping_line, order=order),
            ),
            "lineItems": lambda info, **a: self._page(
                info, order["lineItems"], a, self._v_line
            ),
            "refunds": lambda info, first=None: [
                self._v_refund(order, r) for r in order["refunds"][:first]
            ],
            "fulfillmentOrders": lambda info, **a: self._page(
                info, fulfillment_orders, a, self._v_fulfillment_order
            ),
            "fulfillments": lambda info, first=None: [
                self._v_fulfillment(self.fulfillments[f])
                for f in order["fulfillments"][:first]
            ],
            "returns": lambda info, **a: self._page(
                info, self._returns_of(order), a, self._v_return
            ),
            "transactions": lambda info, first=None: [
                self._v_transaction(t, transactions, order)
                for t in order["transactions"][:first]
            ],
            "paymentGatewayNames": list(
                dict.fromkeys(t["gateway"] for t in order["transactions"])
            ),
            "totalTipReceivedSet": self._bag(totals["tips"], order),
            "test": order.get("test", False),
            "sourceName": order.get("sourceName", "web"),
            "currentTotalDutiesSet": self._bag(totals["duties"], order)
            if totals["duties"]
            else None,
            "originalTotalDutiesSet": self._bag(totals["duties"], order)
            if totals["duties"]
            else None,
            "tags": list(order["tags"]),
            "note": order["note"],
        }

    def _v_shipping_line(self, line: dict, order: dict | None = None) -> dict:
        return {
            "id": line["id"],
            "title": line["title"],
            "code": line["code"],
            "source": line["source"],
            "originalPriceSet": self._bag(line["price"], order),
            # free shipping and other shipping discounts included (2024-07+)
            "discountedPriceSet": self._bag(disc.net(line), order),
            "discountAllocations": self._v_allocations(line, order),
            "taxLines": [self._v_tax(t, order) for t in line["taxLines"]],
        }

    def _v_allocations(self, line: dict, order: dict | None) -> list[dict]:
        applications = (order or {}).get("discountApplications") or []
        return [
            {
                "allocatedAmountSet": self._bag(a["amount"], order),
                "discountApplication": self._v_discount_application(
                    applications[a["index"]]
                ),
            }
            for a in line.get("allocations") or ()
        ]

    def _v_discount_application(self, app: dict) -> dict:
        value = app["value"]
        if "amount" in value:
            value = {
                "__typename": "MoneyV2",
                "amount": fmt(value["amount"]),
                "currencyCode": self.currency,
            }
        else:
            value = {"__typename": "PricingPercentageValue", **value}
        view = {
            "__typename": disc.TYPES[app["type"]],
            "index": app["index"],
            "allocationMethod": app["allocationMethod"],
            "targetSelection": app["targetSelection"],
            "targetType": app["targetType"],
            "value": value,
            "code": app["code"],
            "title": app["title"],
            "description": app["description"],
        }
        return view

    def _v_line(self, line: dict) -> dict:
        quantity, current = line["quantity"], _current(line)
        order = self._order_of_line(line["id"])
        # order-level discounts are only in discountAllocations
        line_level = disc.total(
            line, (order or {}).get("discountApplications") or [], "LINE"
        )
        unit_discount = line_level / quantity
        title = line["title"]
        return {
            "__typename": "LineItem",
            "id": line["id"],
            "sku": line["sku"],
            "title": title,
            "name": f"{title} - {line['variantTitle']}"
            if line["variantTitle"]
            else title,
            "variantTitle": line["variantTitle"],
            "quantity": quantity,
            "currentQuantity": current,
            "refundableQuantity": current,
            "unfulfilledQuantity": self._unfulfilled(line["id"]),
            "originalUnitPriceSet": self._bag(line["price"], order),
            "discountedUnitPriceSet": self._bag(
                money(line["price"] - unit_discount), order
            ),
            "totalDiscountSet": self._bag(line_level, order),
            "isGiftCard": line.get("giftCard", False),
            # "refunded, or not something that can be fulfilled, like a tip"
            "nonFulfillableQuantity": (current if line.get("tip") else 0)
            + line["refunded"]
            + line.get("removed", 0),
            "duties": [
                {
                    "id": duty["id"],
                    "price": self._bag(duty["price"], order),
                    "taxLines": [],
                }
                for duty in line.get("duties") or ()
            ],
            "discountAllocations": self._v_allocations(line, order),
            "taxLines": lambda info, first=None: [
                self._v_tax(t, order) for t in line["taxLines"][:first]
            ],
            "variant": lambda info: self._v_variant(
                self.variants.get(line["variantId"])
            ),
            "product": lambda info: self._v_product(
                self.products.get(line["productId"])
            ),
        }

    def _v_transaction(
        self, transaction: dict, by_id: dict, order: dict | None = None
    ) -> dict:
        return {
            "__typename": "OrderTransaction",
            "id": transaction["id"],
            "kind": transaction["kind"],
            "status": transaction["status"],
            "gateway": transaction["gateway"],
            "amountSet": self._bag(transaction["amount"], order),
            "createdAt": gql_time(transaction["createdAt"]),
            "processedAt": gql_time(transaction["createdAt"]),
            "parentTransaction": lambda info: (
                self._v_transaction(by_id[transaction["parentId"]], by_id, order)
                if transaction["parentId"] in by_id
                else None
            ),
        }

    def _v_refund(self, order: dict, refund: dict) -> dict:
        by_id = {t["id"]: t for t in order["transactions"]}
        transactions = [by_id[t] for t in refund["transactions"]]
        return {
            "__typename": "Refund",
            "id": refund["id"],
            "legacyResourceId": str(gid_number(refund["id"])),
            "createdAt": gql_time(refund["createdAt"]),
            "updatedAt": gql_time(refund["updatedAt"]),
            "note": refund["note"],
            "order": lambda info: self._v_order(order),
            "return": lambda info: self._v_return(
                self.returns.get(refund.get("returnId"))
            ),
            "totalRefundedSet": lambda info, **a: self._bag(refund["amount"], order),
            "refundLineItems": lambda info, **a: self._page(
                info, refund["lines"], a, self._v_refund_line
            ),
            "transactions": lambda info, **a: self._page(
                info,
                transactions,
                a,
                functools.partial(self._v_transaction, by_id=by_id, order=order),
            ),
        }

    def _v_refund_line(self, refund_line: dict) -> dict:
        _, line = self._line_items[refund_line["lineItemId"]]
        order = self._order_of_line(line["id"])
        return {
            "id": refund_line["id"],
            "quantity": refund_line["quantity"],
            "restockType": refund_line["restockType"],
            "restocked": refund_line["restockType"] != "NO_RESTOCK",
            "location": lambda info: self._v_location(
                self.locations.get(refund_line["locationId"])
            ),
            "lineItem": lambda info: self._v_line(line),
            "priceSet": self._bag(line["price"], order),
            "subtotalSet": self._bag(refund_line["subtotal"], order),
            "totalTaxSet": self._bag(refund_line["tax"], order),
        }

    def _v_fulfillment_order(self, fulfillment_order: dict | None) -> dict | None:
        if fulfillment_order is None:
            return None
        location = self.locations.get(fulfillment_order["locationId"])
        return {
            "__typename": "FulfillmentOrder",
            "id": fulfillment_order["id"],
            "status": fulfillment_order["status"],
            "createdAt": gql_time(fulfillment_order["createdAt"]),
            "updatedAt": gql_time(fulfillment_order["updatedAt"]),
            "order": lambda info: self._v_order(
                self.orders[fulfillment_order["orderId"]]
            ),
            "assignedLocation": {
                "location": self._v_location(location),
                "name": location["name"] if location else "",
            },
            "lineItems": lambda info, **a: self._page(
                info, fulfillment_order["lines"], a, self._v_fulfillment_order_line
            ),
        }

    def _v_fulfillment_order_line(self, fo_line: dict) -> dict:
        _, line = self._line_items[fo_line["lineItemId"]]
        return {
            "__typename": "FulfillmentOrderLineItem",
            "id": fo_line["id"],
            "sku": line["sku"],
            "inventoryItemId": self._item_of_line(line["id"]),
            "remainingQuantity": fo_line["remaining"],
            "totalQuantity": fo_line["total"],
            "lineItem": lambda info: self._v_line(line),
        }

    def _v_fulfillment(self, fulfillment: dict | None) -> dict | None:
        if fulfillment is None:
            return None
        return {
            "__typename": "Fulfillment",
            "id": fulfillment["id"],
            "legacyResourceId": str(gid_number(fulfillment["id"])),
            "name": fulfillment["name"],
            "status": fulfillment["status"],
            "createdAt": gql_time(fulfillment["createdAt"]),
            "updatedAt": gql_time(fulfillment["updatedAt"]),
            "location": lambda info: self._v_location(
                self.locations.get(fulfillment["locationId"])
            ),
            "order": lambda info: self._v_order(self.orders[fulfillment["orderId"]]),
            "trackingInfo": lambda info, first=None: [
                dict(t) for t in fulfillment["tracking"][:first]
            ],
            "fulfillmentLineItems": lambda info, **a: self._page(
                info, fulfillment.get("lineItems", []), a, self._v_fulfillment_line
            ),
        }

    def _v_product(self, product: dict | None) -> dict | None:
        if product is None:
            return None
        variants = [self.variants[v] for v in product["variants"]]
        sort_fields = {"ID": None, "POSITION": "position", "SKU": "sku"}
        return {
            "__typename": "Product",
            "id": product["id"],
            "legacyResourceId": str(gid_number(product["id"])),
            "title": product["title"],
            "handle": product["handle"],
            "status": product["status"],
            "vendor": product["vendor"],
            "productType": product["productType"],
            "descriptionHtml": product["descriptionHtml"],
            "tags": list(product["tags"]),
            "totalInventory": sum(
                self._total_available(v["inventoryItemId"]) for v in variants
            ),
            "createdAt": gql_time(product["createdAt"]),
            "updatedAt": gql_time(product["updatedAt"]),
            "options": lambda info, first=None: [
                self._v_option(option, index)
                for index, option in enumerate(product["options"][:first], 1)
            ],
            "variants": lambda info, **a: self._page(
                info,
                variants,
                a,
                self._v_variant,
                self._sort_key(a.get("sortKey"), sort_fields),
            ),
        }

    @staticmethod
    def _v_option(option: dict, position: int) -> dict:
        return {
            "__typename": "ProductOption",
            "id": option["id"],
            "name": option["name"],
            "position": position,
            "values": list(option["values"]),
            "optionValues": [
                {
                    "__typename": "ProductOptionValue",
                    "id": option["valueIds"][v],
                    "name": v,
                }
                for v in option["values"]
            ],
        }

    def _v_variant(self, variant: dict | None) -> dict | None:
        if variant is None:
            return None
        product = self.products[variant["productId"]]
        value_ids = {
            (option["name"], value): value_id
            for option in product["options"]
            for value, value_id in option["valueIds"].items()
        }
        title = self._variant_title(variant)
        compare = variant["compareAtPrice"]
        return {
            "__typename": "ProductVariant",
            "id": variant["id"],
            "legacyResourceId": str(gid_number(variant["id"])),
            "title": title,
            "displayName": f"{product['title']} - {title}",
            "sku": variant["sku"],
            "barcode": variant["barcode"],
            "price": fmt(variant["price"]),
            "compareAtPrice": None if compare is None else fmt(compare),
            "inventoryQuantity": self._total_available(variant["inventoryItemId"]),
            "selectedOptions": [
                {
                    "name": name,
                    "value": value,
                    "optionValue": {
                        "__typename": "ProductOptionValue",
                        "id": value_ids.get((name, value)),
                        "name": value,
                    },
                }
                for name, value in variant["options"]
            ],
            "createdAt": gql_time(variant["createdAt"]),
            "updatedAt": gql_time(variant["updatedAt"]),
            "product": lambda info: self._v_product(product),
            "inventoryItem": lambda info: self._v_item(
                self.items[variant["inventoryItemId"]]
            ),
        }

    def _v_item(self, item: dict | None) -> dict | None:
        if item is None:
            return None
        variant = self.variants[item["variantId"]]
        levels = [
            {"id": self._level_gid(item["id"], location_id), "location": location_id}
            for (item_id, location_id) in self.levels
            if item_id == item["id"]
        ]
        return {
            "__typename": "InventoryItem",
            "id": item["id"],
            "legacyResourceId": str(gid_number(item["id"])),
            "sku": variant["sku"],
            "tracked": item["tracked"],
            "createdAt": gql_time(item["createdAt"]),
            "updatedAt": gql_time(item["updatedAt"]),
            "variant": lambda info: self._v_variant(variant),
            "inventoryLevel": lambda info, locationId: self._v_level(
                item["id"], locationId
            ),
            "inventoryLevels": lambda info, **a: self._page(
                info,
                levels,
                a,
                lambda row: self._v_level(item["id"], row["location"]),
            ),
        }

    def _v_level(self, item_id: str, location_id: str) -> dict | None:
        level = self.levels.get((item_id, location_id))
        if level is None:
            return None
        level_id = self._level_gid(item_id, location_id)

        def quantities(info, names):
            values = self._quantities(level)
            result = []
            for name in names:
                if name not in QUANTITY_NAMES:
                    raise _error(f"Invalid quantity name: {name}")
                result.append(
                    {
                        "__typename": "InventoryQuantity",
                        "id": f"{level_id.replace('Level', 'Quantity')}&name={name}",
                        "name": name,
                        "quantity": values.get(name, 0),
                        "updatedAt": gql_time(level["updatedAt"]),
                    }
                )
            return result

        return {
            "__typename": "InventoryLevel",
            "id": level_id,
            "createdAt": gql_time(level["createdAt"]),
            "updatedAt": gql_time(level["updatedAt"]),
            "item": lambda info: self._v_item(self.items.get(item_id)),
            "location": lambda info: self._v_location(self.locations.get(location_id)),
            "quantities": quantities,
        }

    def _v_group(self, group: dict) -> dict:
        def changes(info, inventoryItemIds=None, locationIds=None, quantityNames=None):
            return [
                {
                    "name": change["name"],
                    "delta": change["delta"],
                    "quantityAfterChange": change["quantityAfterChange"],
                    "ledgerDocumentUri": change["ledgerDocumentUri"],
                    "item": self._v_item(self.items.get(change["itemId"])),
                    "location": self._v_location(
                        self.locations.get(change["locationId"])
                    ),
                }
                for change in group["changes"]
                if (inventoryItemIds is None or change["itemId"] in inventoryItemIds)
                and (locationIds is None or change["locationId"] in locationIds)
                and (quantityNames is None or change["name"] in quantityNames)
            ]

        return {
            "__typename": "InventoryAdjustmentGroup",
            "id": group["id"],
            "createdAt": gql_time(group["createdAt"]),
            "reason": group["reason"],
            "referenceDocumentUri": group["referenceDocumentUri"],
            "changes": changes,
        }

    def _v_subscription(self, subscription: dict | None) -> dict | None:
        if subscription is None:
            return None
        return {
            "__typename": "WebhookSubscription",
            "id": subscription["id"],
            "topic": subscription["topic"],
            "format": subscription["format"],
            "uri": subscription["uri"],
            "callbackUrl": subscription["uri"],
            "filter": subscription["filter"],
            "includeFields": list(subscription["includeFields"]),
            "apiVersion": {
                "handle": self.api_version,
                "displayName": self.api_version,
                "supported": True,
            },
            "createdAt": gql_time(subscription["createdAt"]),
            "updatedAt": gql_time(subscription["updatedAt"]),
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

    # ---------------------------------------------------------- resolvers
    def _root(self) -> dict:
        fields = [*SCHEMA.query_type.fields, *SCHEMA.mutation_type.fields]
        return {name: getattr(self, f"gql_{name}") for name in fields}

    def _auto(self, info, topic: str, ref: Any, payload: dict | None = None) -> None:
        if self.auto_webhooks:
            info.context.events.append((topic, ref, payload))

    def gql_nodes(self, info, ids):
        # QueryRoot.nodes: one entry per id, null where nothing has it
        return [self.gql_node(info, id) for id in ids]

    def gql_node(self, info, id):
        kind = gid_kind(id)
        if kind == "InventoryLevel":
            return self.gql_inventoryLevel(info, id)
        lookups = {
            "Order": (self.orders, self._v_order),
            "Customer": (self.customers, self._v_customer),
            "Product": (self.products, self._v_product),
            "ProductVariant": (self.variants, self._v_variant),
            "InventoryItem": (self.items, self._v_item),
            "Location": (self.locations, self._v_location),
            "FulfillmentOrder": (self.fulfillment_orders, self._v_fulfillment_order),
            "Fulfillment": (self.fulfillments, self._v_fulfillment),
            "WebhookSubscription": (self.subscriptions, self._v_subscription),
            "BulkOperation": (self.bulk_operations, self._v_bulk),
            "InventoryAdjustmentGroup": (self.adjustment_groups, self._v_group),
            "Return": (self.returns, self._v_return),
            "ReverseFulfillmentOrder": (
                self.reverse_fulfillment_orders,
                self._v_rfo,
            ),
        }
        if kind == "Order":
            return self.gql_order(info, id)
        if kind in lookups:
            table, view = lookups[kind]
            return view(table[id]) if id in table else None
        if kind == "LineItem" and id in self._line_items:
            return self._v_line(self._line_items[id][1])
        if kind == "Refund":
            try:
                return self._v_refund(*self._find_refund(id))
            except KeyError:
                return None
        return None

    def gql_currentAppInstallation(self, info):
        # the scopes the merchant granted
        # (https://shopify.dev/docs/api/admin-graphql/latest/objects/AppInstallation)
        return {
            "__typename": "AppInstallation",
            "id": gid("AppInstallation", 1),
            "accessScopes": [
                {"handle": handle, "description": handle.replace("_", " ")}
                for handle in self.scope.split(",")
                if handle
            ],
        }

    def gql_shop(self, info):
        return {
            "__typename": "Shop",
            "id": gid("Shop", SHOP_ID),
            "name": self.shop_name,
            "email": f"owner@{self.shop}",
            "myshopifyDomain": self.shop,
            "currencyCode": self.currency,
            "ianaTimezone": self.timezone_name,
            "plan": {
                "displayName": self.plan,
                "publicDisplayName": self.plan,
                "partnerDevelopment": False,
                "shopifyPlus": self.plan.startswith("Plus"),
            },
        }

    def gql_location(self, info, id=None):
        if id is None:
            return self._v_location(next(iter(self.locations.values()), None))
        return self._v_location(self.locations.get(id))

    def gql_locations(self, info, **args):
        records = [
            location
            for location in self.locations.values()
            if location["isActive"] or args.get("includeInactive")
        ]
        records = self._filter(
            info,
            records,
            args.get("query"),
            lambda r: {
                None: [r["name"]],
                "name": ("text", r["name"]),
                "id": ("id", gid_number(r["id"])),
            },
            {"name", "id"},
        )
        keyfn = self._sort_key(args.get("sortKey"), {"ID": None, "NAME": "name"})
        return self._page(info, records, args, self._v_location, keyfn)

    def _order_readable(self, order: dict | None) -> bool:
        """Inside the 60-day window, or the app holds read_all_orders."""
        if order is None:
            return False
        if "read_all_orders" in self.scope.split(","):
            return True
        window = self.clock.now() - ORDER_WINDOW_DAYS * 86400
        return order["createdAt"] >= math.floor(window * 1000)

    def gql_order(self, info, id):
        order = self.orders.get(id)
        return self._v_order(order) if self._order_readable(order) else None

    def _order_search(self, order: dict) -> dict:
        status = "cancelled" if order["cancelledAt"] else "open"
        fulfillment = {"FULFILLED": "shipped", "PARTIALLY_FULFILLED": "partial"}.get(
            self._fulfillment_status(order), "unshipped"
        )
        return {
            None: [order["name"], order["email"]],
            "updated_at": ("time", order["updatedAt"]),
            "created_at": ("time", order["createdAt"]),
            "id": ("id", gid_number(order["id"])),
            "name": ("text", [order["name"], order["name"].lstrip("#")]),
            "email": ("text", order["email"]),
            "financial_status": ("text", order["financialStatus"].lower()),
            "fulfillment_status": ("text", fulfillment),
            "status": ("text", status),
            "tag": ("text", order["tags"]),
            "sku": ("text", [line["sku"] for line in order["lineItems"]]),
            "customer_id": ("id", gid_number(order["customerId"])),
        }

    def gql_orders(self, info, **args):
        known = set(
            "updated_at created_at id name email financial_status "
            "fulfillment_status status tag sku customer_id".split()
        )
        readable = [o for o in self.orders.values() if self._order_readable(o)]
        records = self._filter(
            info, readable, args.get("query"), self._order_search, known
        )
        keyfn = self._sort_key(
            args.get("sortKey"),
            # PROCESSED_AT is the default (QueryRoot.orders in the official
            # schema); a sandbox order is processed when it is created
            {
                "ID": None,
                "CREATED_AT": "createdAt",
                "PROCESSED_AT": "createdAt",
                "UPDATED_AT": "updatedAt",
            },
        )
        return self._page(info, records, args, self._v_order, keyfn)

    def gql_customer(self, info, id):
        return self._v_customer(self.customers.get(id))

    def gql_customers(self, info, **args):
        def spec(c):
            def phone(value):
                return re.sub(r"[\s()-]", "", value or "")

            return {
                None: [c["email"], c["firstName"], c["lastName"], c["phone"]],
                "email": ("text", c["email"]),
                "phone": ("text", [c["phone"], phone(c["phone"])]),
                "first_name": ("text", c["firstName"]),
                "last_name": ("text", c["lastName"]),
                "updated_at": ("time", c["updatedAt"]),
                "created_at": ("time", c["createdAt"]),
                "id": ("id", gid_number(c["id"])),
                "tag": ("text", c["tags"]),
            }

        known = set(
            "email phone first_name last_name updated_at created_at id tag".split()
        )
        query = args.get("query")
        if query:  # phone numbers are searched without spaces or dashes
            query = re.sub(
                r"phone:(\S+)", lambda m: "phone:" + re.sub(r"[()-]", "", m[1]), query
            )
        records = self._filter(info, self.customers.values(), query, spec, known)
        keyfn = self._sort_key(
            args.get("sortKey"),
            {"ID": None, "CREATED_AT": "createdAt", "UPDATED_AT": "updatedAt"},
        )
        return self._page(info, records, args, self._v_customer, keyfn)

    def gql_product(self, info, id):
        return self._v_product(self.products.get(id))

    def gql_products(self, info, **args):
        def spec(p):
            variants = [self.variants[v] for v in p["variants"]]
            return {
                None: [p["title"], *(v["sku"] for v in variants)],
                "title": ("text", p["title"]),
                "handle": ("text", p["handle"]),
                "sku": ("text", [v["sku"] for v in variants]),
                "barcode": ("text", [v["barcode"] for v in variants]),
                "status": ("text", p["status"].lower()),
                "vendor": ("text", p["vendor"]),
                "product_type": ("text", p["productType"]),
                "tag": ("text", p["tags"]),
                "updated_at": ("time", p["updatedAt"]),
                "created_at": ("time", p["createdAt"]),
                "id": ("id", gid_number(p["id"])),
            }

        known = set(
            "title handle sku barcode status vendor product_type tag updated_at "
            "created_at id".split()
        )
        records = self._filter(
            info, self.products.values(), args.get("query"), spec, known
        )
        keyfn = self._sort_key(
            args.get("sortKey"),
            {
                "ID": None,
                "CREATED_AT": "createdAt",
                "UPDATED_AT": "updatedAt",
                "TITLE": "title",
            },
        )
        return self._page(info, records, args, self._v_product, keyfn)

    def gql_productVariant(self, info, id):
        return self._v_variant(self.variants.get(id))

    def gql_productVariants(self, info, **args):
        def spec(v):
            return {
                None: [v["sku"], self._variant_title(v)],
                "sku": ("text", v["sku"]),
                "barcode": ("text", v["barcode"]),
                "title": ("text", self._variant_title(v)),
                "product_id": ("id", gid_number(v["productId"])),
                "updated_at": ("time", v["updatedAt"]),
                "created_at": ("time", v["createdAt"]),
                "id": ("id", gid_number(v["id"])),
            }

        known = set("sku barcode title product_id updated_at created_at id".split())
        records = self._filter(
            info, self.variants.values(), args.get("query"), spec, known
        )
        keyfn = self._sort_key(
            args.get("sortKey"), {"ID": None, "POSITION": "position", "SKU": "sku"}
        )
        return self._page(info, records, args, self._v_variant, keyfn)

    def gql_inventoryItem(self, info, id):
        return self._v_item(self.items.get(id))

    def gql_inventoryLevel(self, info, id):
        match = re.fullmatch(
            r"gid://shopify/InventoryLevel/(\d+)\?inventory_item_id=(\d+)", id or ""
        )
        if not match:
            return None
        location, item = int(match[1]), int(match[2])
        return self._v_level(gid("InventoryItem", item), gid("Location", location))

    def gql_fulfillmentOrder(self, info, id):
        return self._v_fulfillment_order(self.fulfillment_orders.get(id))

    def gql_webhookSubscription(self, info, id):
        return self._v_subscription(self.subscriptions.get(id))

    def gql_webhookSubscriptions(self, info, **args):
        records = [
            sub
            for sub in self.subscriptions.values()
            if (not args.get("topics") or sub["topic"] in args["topics"])
            and (not args.get("format") or sub["format"] == args["format"])
            and (not args.get("uri") or sub["uri"] == args["uri"])
        ]
        keyfn = self._sort_key(
            args.get("sortKey"), {"ID": None, "CREATED_AT": "createdAt"}
        )
        return self._page(info, records, args, self._v_subscription, keyfn)

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

    # ---------------------------------------------------------- mutations
    def _idempotent(self, info, args: dict, apply, *, required: bool = False):
        """Run ``apply()`` once per ``@idempotent(key:)``; see the docstring."""
        key = None
        for directive in info.field_nodes[0].directives or ():
            if directive.name.value != "idempotent":
                continue
            for argument in directive.arguments or ():
                if argument.name.value == "key":
                    key = value_from_ast(
                        argument.value,
                        SCHEMA.get_directive("idempotent").args["key"].type,
                        info.context.variables,
                    )
        if info.field_name not in IDEMPOTENT_MUTATIONS:
            return apply()  # the directive has no effect here (see the docstring)
        if key is None or key is Undefined:
            if required:
                raise _error(
                    f"The @idempotent directive is required for {info.field_name} "
                    "since API version 2026-04."
                )
            return apply()
        now = self.clock.now()
        self._idempotency = {
            k: stored
            for k, stored in self._idempotency.items()
            if now - stored.stored_at < IDEMPOTENCY_TTL
        }
        fingerprint = _canonical([info.field_name, args])
        if key in self._idempotency_running:
            return self._idempotency_error(
                info,
                "IDEMPOTENCY_CONCURRENT_REQUEST",
                "This request is currently in progress, please try again.",
            )
        stored = self._idempotency.get(key)
        if stored is None:
            self._idempotency_running.add(key)
            try:
                payload = apply()
            finally:
                self._idempotency_running.discard(key)
            failed = bool((payload or {}).get("userErrors"))
            self._idempotency[key] = _Stored(fingerprint, payload, now, failed)
            return payload
        if stored.fingerprint != fingerprint:
            return self._idempotency_error(
                info,
                "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                "The same idempotency key cannot be used with different operation "
                "parameters.",
            )
        if stored.failed:
            return self._idempotency_error(
                info,
                "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
                "A previous request with this idempotency key failed. Retry with "
                "a new idempotency key.",
            )
        return stored.payload

    def _idempotency_error(self, info, code: str, message: str) -> dict:
        error_type = get_named_type(
            get_named_type(info.return_type).fields["userErrors"].type
        )
        code_field = error_type.fields.get("code")
        if code_field is None or code not in get_named_type(code_field.type).values:
            code = None
        return {"userErrors": [_user_error(message, None, code)]}

    @contextlib.contextmanager
    def hold_idempotency_key(self, key: str):
        """Hold ``key`` as if a request with it were still running."""
        with self.lock:
            self._idempotency_running.add(key)
        try:
            yield
        finally:
            with self.lock:
                self._idempotency_running.discard(key)

    def gql_inventorySetQuantities(self, info, input):
        return self._idempotent(
            info,
            {"input": input},
            lambda: self._change_quantities(info, input, adjust=False),
            required=True,
        )

    def gql_inventoryAdjustQuantities(self, info, input):
        return self._idempotent(
            info,
            {"input": input},
            lambda: self._change_quantities(info, input, adjust=True),
            required=True,
        )

    def _change_quantities(self, info, data: dict, *, adjust: bool) -> dict:
        """inventorySetQuantities / inventoryAdjustQuantities: all or nothing."""
        name, list_key = data["name"], "changes" if adjust else "quantities"
        errors = []
        if adjust and name not in ADJUSTABLE_NAMES:
            errors.append(
                _user_error(
                    "The specified quantity name is invalid.",
                    ["input", "name"],
                    "INVALID_QUANTITY_NAME",
                )
            )
        elif not adjust and name not in ("available", "on_hand"):
            errors.append(
                _user_error(
                    "The quantity name must be either 'available' or 'on_hand'.",
                    ["input", "name"],
                    "INVALID_NAME",
                )
            )
        if data["reason"] not in INVENTORY_REASONS:
            errors.append(
                _user_error(
                    "The specified reason is invalid.",
                    ["input", "reason"],
                    "INVALID_REASON",
                )
            )
        plan, seen = [], set()
        for index, row in enumerate(data[list_key]):
            path = ["input", list_key, str(index)]
            item_id, location_id = row["inventoryItemId"], row["locationId"]
            level = self._level(item_id, location_id)
            problem = None
            if item_id not in self.items:
                problem = (
                    "The specified inventory item could not be found.",
                    "inventoryItemId",
                    "INVALID_INVENTORY_ITEM",
                )
            elif location_id not in self.locations:
                problem = (
                    "The specified location could not be found.",
                    "locationId",
                    "INVALID_LOCATION",
                )
            elif level is None:
                problem = (
                    "The specified inventory item is not stocked at the location.",
                    "locationId",
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                )
            elif not adjust and (item_id, location_id) in seen:
                problem = (
                    "The combination of inventoryItemId and locationId must be unique.",
                    "locationId",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                )
            # InventoryAdjustQuantitiesUserErrorCode: INVALID_QUANTITY_DOCUMENT "A
            # ledger document URI is required except when adjusting available",
            # INVALID_AVAILABLE_DOCUMENT "... is not allowed when adjusting
            # available"
            elif adjust and name != "available" and not row.get("ledgerDocumentUri"):
                problem = (
                    "A ledger document URI is required except when adjusting "
                    "available.",
                    "ledgerDocumentUri",
                    "INVALID_QUANTITY_DOCUMENT",
                )
            elif adjust and name == "available" and row.get("ledgerDocumentUri"):
                problem = (
                    "A ledger document URI is not allowed when adjusting available.",
                    "ledgerDocumentUri",
                    "INVALID_AVAILABLE_DOCUMENT",
                )
            elif "changeFromQuantity" not in row:
                problem = (
                    "changeFromQuantity is required since 2026-04: pass the "
                    "quantity you expect, or null to skip the check.",
                    "changeFromQuantity",
                    None,
                )
            if problem:
                message, field_name, code = problem
                errors.append(_user_error(message, [*path, field_name], code))
                continue
            seen.add((item_id, location_id))
            current = self._quantities(level)[name]
            expected = row["changeFromQuantity"]
            if expected is not None and expected != current:
                errors.append(
                    _user_error(
                        "The changeFromQuantity value does not match the persisted "
                        "quantity.",
                        [*path, "changeFromQuantity"],
                        "CHANGE_FROM_QUANTITY_STALE",
                    )
                )
                continue
            target = current + row["delta"] if adjust else row["quantity"]
            quantity_field = "delta" if adjust else "quantity"
            if target > MAX_QUANTITY or target < -MAX_QUANTITY:
                code = (
                    "INVALID_QUANTITY_TOO_HIGH"
                    if target > 0
                    else "INVALID_QUANTITY_TOO_LOW"
                )
                errors.append(
                    _user_error(
                        f"The quantity can't be "
                        f"{'higher' if target > 0 else 'lower'} than "
                        f"{MAX_QUANTITY if target > 0 else -MAX_QUANTITY:,}.",
                        [*path, quantity_field],
                        code,
                    )
                )
                continue
            if not adjust and name == "on_hand" and target < 0:
                errors.append(
                    _user_error(
                        "The quantity can't be negative.",
                        [*path, quantity_field],
                        "INVALID_QUANTITY_NEGATIVE",
                    )
                )
                continue
            plan.append((item_id, location_id, level, target - current, row))
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        changes = []
        for item_id, location_id, level, delta, row in plan:
            if not delta:
                continue
            # on_hand moves available; another state moves itself (and on_hand
            # but for incoming, which on_hand does not count)
            state = "available" if name == "on_hand" else name
            level[state] += delta
            self._touch(level)
            after = self._quantities(level)
            names = [state] + (["on_hand"] if state != "incoming" else [])
            for quantity_name in names:
                changes.append(
                    {
                        "name": quantity_name,
                        "delta": delta,
                        "quantityAfterChange": after[quantity_name],
                        "ledgerDocumentUri": row.get("ledgerDocumentUri")
                        if quantity_name != "available"
                        else None,
                        "itemId": item_id,
                        "locationId": location_id,
                    }
                )
            self._auto(info, "inventory_levels/update", (item_id, location_id))
        group = {
            "id": self._next("InventoryAdjustmentGroup"),
            "createdAt": self._now_ms(),
            "reason": data["reason"],
            "referenceDocumentUri": data.get("referenceDocumentUri"),
            "changes": changes,
        }
        self.adjustment_groups[group["id"]] = group
        return {"inventoryAdjustmentGroup": self._v_group(group), "userErrors": []}

    def gql_fulfillmentCreate(self, info, fulfillment, message=None):
        return self._idempotent(
            info,
            {"fulfillment": fulfillment, "message": message},
            lambda: self._fulfillment_create(info, fulfillment),
        )

    def _fulfillment_create(self, info, data: dict) -> dict:
        requests_, errors = [], []
        for index, group in enumerate(data["lineItemsByFulfillmentOrder"]):
            fulfillment_order = self.fulfillment_orders.get(group["fulfillmentOrderId"])
            if fulfillment_order is None:
                path = [
                    "fulfillment",
                    "lineItemsByFulfillmentOrder",
                    str(index),
                    "fulfillmentOrderId",
                ]
                errors.append(_user_error("Fulfillment order does not exist.", path))
                continue
            wanted = None
            if group.get("fulfillmentOrderLineItems") is not None:
                wanted = []
                for line in group["fulfillmentOrderLineItems"]:
                    owner, fo_line = self._fo_lines.get(line["id"], (None, None))
                    if owner != fulfillment_order["id"]:
                        fo_line = None
                    wanted.append((fo_line, line["quantity"]))
            requests_.append((fulfillment_order, wanted))
        if not errors and not requests_:
            errors.append(_user_error("No fulfillment orders given."))
        fulfillment = None
        if not errors:
            fulfillment, errors = self._fulfill(
                requests_, data.get("trackingInfo") or {}
            )
        if errors:
            return {"fulfillment": None, "userErrors": errors}
        self._auto(info, "fulfillments/create", fulfillment["id"])
        self._auto(info, "orders/updated", fulfillment["orderId"])
        return {"fulfillment": self._v_fulfillment(fulfillment), "userErrors": []}

    def gql_fulfillmentTrackingInfoUpdate(
        self, info, fulfillmentId, trackingInfoInput, notifyCustomer=None
    ):
        """ "Updates tracking information for a fulfillment, including the carrier
        name, tracking numbers, and tracking URLs" (https://shopify.dev/docs/
        api/admin-graphql/latest/mutations/fulfillmentTrackingInfoUpdate): the
        new tracking replaces the old one; fulfillments/update follows."""

        def apply():
            fulfillment = self.fulfillments.get(fulfillmentId)
            if fulfillment is None:
                error = _user_error("Fulfillment does not exist.", ["fulfillmentId"])
                return {"fulfillment": None, "userErrors": [error]}
            fulfillment["tracking"] = [self._tracking(trackingInfoInput)]
            self._touch(fulfillment)
            self._auto(info, "fulfillments/update", fulfillment["id"])
            return {"fulfillment": self._v_fulfillment(fulfillment), "userErrors": []}

        args = {"fulfillmentId": fulfillmentId, "trackingInfoInput": trackingInfoInput}
        return self._idempotent(info, args, apply)

    def gql_productSet(self, info, input, identifier=None, synchronous=True):
        args = {"input": input, "identifier": identifier}
        return self._idempotent(
            info, args, lambda: self._product_set(info, input, identifier)
        )

    def _option_pairs(
        self, product, values: list[dict], path
    ) -> tuple[list, str | None]:
        option_names = {}
        for option in (product or {}).get("options", ()):
            option_names[option["id"]] = option["name"]
        pairs = []
        for value in values:
            name = value.get("optionName") or option_names.get(value.get("optionId"))
            if not name or value.get("name") is None:
                return [], f"Option value at {path} needs optionName and name."
            pairs.append((name, value["name"]))
        return pairs, None

    def _product_set(self, info, data: dict, identifier: dict | None) -> dict:
        def failure(message, path, code):
            return {"product": None, "userErrors": [_user_error(message, path, code)]}

        product = None
        if identifier:
            given = [k for k, v in identifier.items() if v is not None]
            if len(given) != 1:
                raise _error(
                    "ProductSetIdentifiers must include exactly one of the following "
                    "arguments: handle, id."
                )
            if given == ["id"]:
                product = self.products.get(identifier["id"])
                if product is None:
                    return failure(
                        "Product does not exist",
                        ["identifier", "id"],
                        "PRODUCT_DOES_NOT_EXIST",
                    )
            else:
                product = next(
                    (
                        p
                        for p in self.products.values()
                        if p["handle"] == identifier["handle"]
                    ),
                    None,
                )
        if product is None and not data.get("title"):
            return failure("Title can't be blank", ["input", "title"], "INVALID_INPUT")
        handle = data.get("handle")
        if product is None and identifier and identifier.get("handle"):
            handle = handle or identifier["handle"]  # an upsert by handle
        if handle and self._unique_handle(handle, product and product["id"]) != handle:
            return failure(
                f"Handle '{handle}' already in use.",
                ["input", "handle"],
                "HANDLE_NOT_UNIQUE",
            )
        existing = [self.variants[v] for v in product["variants"]] if product else []
        plan, claimed = [], set()
        for index, spec in enumerate(data.get("variants") or ()):
            path = ["input", "variants", str(index)]
            pairs, problem = self._option_pairs(product, spec["optionValues"], path)
            if problem:
                return failure(problem, [*path, "optionValues"], "INVALID_INPUT")
            sku = spec.get("sku") or (spec.get("inventoryItem") or {}).get("sku")
            target = None
            if spec.get("id"):
                target = next((v for v in existing if v["id"] == spec["id"]), None)
                if target is None:
                    return failure(
                        "Product variant does not exist",
                        [*path, "id"],
                        "PRODUCT_VARIANT_DOES_NOT_EXIST",
                    )
            else:
                free = [v for v in existing if v["id"] not in claimed]
                target = next((v for v in free if v["options"] == pairs), None) or next(
                    (v for v in free if sku and v["sku"] == sku), None
                )
            if target is not None:
                claimed.add(target["id"])
            try:
                for key in ("price", "compareAtPrice"):
                    if spec.get(key) is not None and money(spec[key]) < 0:
                        raise ValueError("negative price")
            except ValueError:
                return failure(
                    "Price must be a non-negative amount",
                    [*path, "price"],
                    "INVALID_INPUT",
                )
            for quantity in spec.get("inventoryQuantities") or ():
                if quantity["locationId"] not in self.locations:
                    return failure(
                        "Location does not exist",
                        [*path, "inventoryQuantities"],
                        "INVALID_INPUT",
                    )
            plan.append((target, spec, pairs, sku))
        created = product is None
        ms = self._now_ms()
        if created:
            product = {
                "id": self._next("Product"),
                "title": data["title"],
                "handle": self._unique_handle(handle or _slug(data["title"])),
                "status": "ACTIVE",
                "vendor": "",
                "productType": "",
                "descriptionHtml": "",
                "tags": [],
                "options": [],
                "variants": [],
                "createdAt": ms,
                "updatedAt": ms,
            }
            self.products[product["id"]] = product
            if data.get("variants") is None:
                plan = [(None, {}, [("Title", "Default Title")], None)]
        for key in ("title", "handle", "status", "vendor", "productType", "tags"):
            if data.get(key) is not None:
                product[key] = data[key]
        if data.get("descriptionHtml") is not None:
            product["descriptionHtml"] = data["descriptionHtml"]
        if data.get("variants") is not None or created:
            self._set_variants(product, plan)
        declared = [
            (option["name"], [v["name"] for v in option.get("values") or ()])
            for option in data.get("productOptions") or ()
            if option.get("name")
        ]
        self._sync_options(product, declared)
        self._touch(product)
        self._auto(
            info, "products/create" if created else "products/update", product["id"]
        )
        return {"product": self._v_product(product), "userErrors": []}

    def _set_variants(self, product: dict, plan: list) -> None:
        keep = []
        for target, spec, pairs, sku in plan:
            item_input = spec.get("inventoryItem") or {}
            if target is None:
                variant = self._new_variant(
                    product,
                    options=pairs,
                    sku=sku,
                    price=spec.get("price") or "0",
                    barcode=spec.get("barcode"),
                    compare_at_price=spec.get("compareAtPrice"),
                    tracked=item_input.get("tracked", True),
                )
                quantities = spec.get("inventoryQuantities")
                if quantities is None:
                    quantities = [
                        {"locationId": loc, "name": "available", "quantity": 0}
                        for loc in self.locations
                    ]
                for quantity in quantities:
                    level = self._level(
                        variant["inventoryItemId"], quantity["locationId"], create=True
                    )
                    # on_hand moves available only (the other states stay)
                    held = self._quantities(level)["on_hand"] - level["available"]
                    level["available"] = quantity["quantity"] - (
                        held if quantity["name"] == "on_hand" else 0
                    )
            else:
                variant = target
                variant["options"] = pairs
                if "sku" in spec or "sku" in item_input:
                    variant["sku"] = sku
                for key, record_key in (("barcode", "barcode"),):
                    if key in spec:
                        variant[record_key] = spec[key]
                if spec.get("price") is not None:
                    variant["price"] = money(spec["price"])
                if "compareAtPrice" in spec:
                    value = spec["compareAtPrice"]
                    variant["compareAtPrice"] = None if value is None else money(value)
                if "tracked" in item_input:
                    self.items[variant["inventoryItemId"]]["tracked"] = item_input[
                        "tracked"
                    ]
                self._touch(variant)
            keep.append(variant["id"])
        for variant_id in list(product["variants"]):
            if variant_id not in keep:
                self._delete_variant(variant_id)
        product["variants"] = keep
        for position, variant_id in enumerate(keep, 1):
            self.variants[variant_id]["position"] = position

    def gql_productVariantsBulkUpdate(
        self, info, productId, variants, allowPartialUpdates=False
    ):
        args = {
            "productId": productId,
            "variants": variants,
            "allowPartialUpdates": allowPartialUpdates,
        }
        return self._idempotent(
            info,
            args,
            lambda: self._variants_update(
                info, productId, variants, allowPartialUpdates
            ),
        )

    def _variants_update(self, info, product_id, variants, partial) -> dict:
        product = self.products.get(product_id)
        if product is None:
            error = _user_error(
                "Product does not exist", ["productId"], "PRODUCT_DOES_NOT_EXIST"
            )
            return {"product": None, "productVariants": None, "userErrors": [error]}
        errors, plan = [], []
        for index, spec in enumerate(variants):
            path = ["variants", str(index)]
            variant = self.variants.get(spec.get("id") or "")
            if not spec.get("id"):
                errors.append(
                    _user_error(
                        "Product variant is missing ID attribute",
                        path,
                        "PRODUCT_VARIANT_ID_MISSING",
                    )
                )
                continue
            if variant is None or variant["productId"] != product_id:
                errors.append(
                    _user_error(
                        "Product variant does not exist",
                        [*path, "id"],
                        "PRODUCT_VARIANT_DOES_NOT_EXIST",
                    )
                )
                continue
            try:
                prices = {
                    key: money(spec[key])
                    for key in ("price", "compareAtPrice")
                    if spec.get(key) is not None
                }
            except ValueError:
                errors.append(
                    _user_error("Price is invalid", [*path, "price"], "INVALID_INPUT")
                )
                continue
            if any(value < 0 for value in prices.values()):
                errors.append(
                    _user_error(
                        "Price can't be negative",
                        [*path, "price"],
                        "NEGATIVE_PRICE_VALUE",
                    )
                )
                continue
            pairs = None
            if spec.get("optionValues"):
                pairs, problem = self._option_pairs(product, spec["optionValues"], path)
                if problem:
                    errors.append(
                        _user_error(problem, [*path, "optionValues"], "INVALID_INPUT")
                    )
                    continue
            plan.append((variant, spec, prices, pairs))
        if errors and not partial:
            return {"product": None, "productVariants": None, "userErrors": errors}
        for variant, spec, prices, pairs in plan:
            variant.update(prices)
            if "compareAtPrice" in spec and spec["compareAtPrice"] is None:
                variant["compareAtPrice"] = None
            if "barcode" in spec:
                variant["barcode"] = spec["barcode"]
            item_input = spec.get("inventoryItem") or {}
            if "sku" in item_input:
                variant["sku"] = item_input["sku"]
            if "tracked" in item_input:
                self.items[variant["inventoryItemId"]]["tracked"] = item_input[
                    "tracked"
                ]
            if pairs:
                variant["options"] = pairs
            self._touch(variant)
        if plan:
            self._sync_options(product, [(o["name"], []) for o in product["options"]])
            self._touch(product)
            self._auto(info, "products/update", product["id"])
        return {
            "product": self._v_product(product),
            "productVariants": [self._v_variant(v) for v, _, _, _ in plan],
            "userErrors": errors,
        }

    def gql_webhookSubscriptionCreate(self, info, topic, webhookSubscription):
        def apply():
            data = webhookSubscription
            uri = data.get("uri") or data.get("callbackUrl")
            if not uri:
                error = _user_error(
                    "Address can't be blank", ["webhookSubscription", "callbackUrl"]
                )
                return {"webhookSubscription": None, "userErrors": [error]}
            for sub in self.subscriptions.values():
                if sub["topic"] == topic and sub["uri"] == uri:
                    error = _user_error(
                        "Address for this topic has already been taken",
                        ["webhookSubscription", "callbackUrl"],
                    )
                    return {"webhookSubscription": None, "userErrors": [error]}
            ms = self._now_ms()
            subscription = {
                "id": self._next("WebhookSubscription"),
                "topic": topic,
                "uri": uri,
                "format": data.get("format") or "JSON",
                "filter": data.get("filter"),
                "includeFields": list(data.get("includeFields") or ()),
                "createdAt": ms,
                "updatedAt": ms,
            }
            self.subscriptions[subscription["id"]] = subscription
            return {
                "webhookSubscription": self._v_subscription(subscription),
                "userErrors": [],
            }

        args = {"topic": topic, "webhookSubscription": webhookSubscription}
        return self._idempotent(info, args, apply)

    def gql_webhookSubscriptionDelete(self, info, id):
        if self.subscriptions.pop(id, None) is None:
            error = _user_error("Webhook subscription does not exist", ["id"])
            return {"deletedWebhookSubscriptionId": None, "userErrors": [error]}
        return {"deletedWebhookSubscriptionId": id, "userErrors": []}

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

    # ------------------------------------------------------------ order edits
    # The GraphQL order edit (see ``edit_order`` for the documents): a
    # session stages changes on a CalculatedOrder; orderEditSetQuantity takes
    # the id of a CalculatedLineItem (an existing line item's keeps its
    # number, assumption); orderEditCommit applies them all or none.
    def _v_calculated(self, session: dict) -> dict:
        order = self.orders[session["orderId"]]

        def line_view(line, quantity, added):
            fulfilled = 0 if added else _current(line) - self._unfulfilled(line["id"])
            return {
                "id": line["calcId"]
                if added
                else gid("CalculatedLineItem", gid_number(line["id"])),
                "sku": line.get("sku"),
                "title": line["title"],
                "quantity": quantity,
                "editableQuantity": quantity - fulfilled,
                "variant": lambda info: self._v_variant(
                    self.variants.get(line.get("variantId"))
                ),
            }

        existing = [
            line_view(
                line, session["quantities"].get(line["id"], _current(line)), False
            )
            for line in order["lineItems"]
            if _current(line) > 0
        ]
        added = [
            line_view(
                {
                    "calcId": spec["calcId"],
                    "sku": spec["sku"],
                    "title": self.products[
                        self.variants[spec["variantId"]]["productId"]
                    ]["title"],
                    "variantId": spec["variantId"],
                },
                spec["quantity"],
                True,
            )
            for spec in session["add"]
        ]
        return {
            "__typename": "CalculatedOrder",
            "id": session["id"],
            "originalOrder": lambda info: self._v_order(order),
            "lineItems": lambda info, **a: self._page(info, existing, a, lambda x: x),
            "addedLineItems": lambda info, **a: self._page(info, added, a, lambda x: x),
        }

    def _edit_payload(self, session, line=None, errors=None) -> dict:
        if errors:
            return {
                "calculatedOrder": None,
                "orderEditSession": None,
                "calculatedLineItem": None,
                "userErrors": errors,
            }
        calculated = self._v_calculated(session)
        return {
            "calculatedOrder": calculated,
            "orderEditSession": {"id": session["sessionId"]},
            "calculatedLineItem": line,
            "userErrors": [],
        }

    def _edit_session(self, id_) -> dict | None:
        session = self.order_edits.get(id_) or next(
            (s for s in self.order_edits.values() if s["sessionId"] == id_), None
        )
        return None if session is None or session["committed"] else session

    def gql_orderEditBegin(self, info, id):
        order = self.orders.get(id)
        if order is None or not self._order_readable(order):
            return self._edit_payload(
                None, errors=[_user_error("The order does not exist.", ["id"])]
            )
        if order["cancelledAt"] is not None:
            return self._edit_payload(
                None, errors=[_user_error("A cancelled order can't be edited.", ["id"])]
            )
        number = gid_number(self._next("CalculatedOrder"))
        session = {
            "id": gid("CalculatedOrder", number),
            "sessionId": gid("OrderEditSession", number),
            "orderId": id,
            "add": [],
            "quantities": {},
            "restock": {},
            "committed": False,
        }
        self.order_edits[session["id"]] = session
        return self._edit_payload(session)

    def gql_orderEditAddVariant(
        self, info, id, variantId, quantity, locationId=None, allowDuplicates=False
    ):
        session = self._edit_session(id)
        if session is None:
            return self._edit_payload(
                None, errors=[_user_error("The order edit does not exist.", ["id"])]
            )
        variant = self.variants.get(variantId)
        if variant is None:
            return self._edit_payload(
                None, errors=[_user_error("The variant does not exist.", ["variantId"])]
            )
        if quantity < 1:
            return self._edit_payload(
                None,
                errors=[_user_error("The quantity must be positive.", ["quantity"])],
            )
        if locationId is not None and locationId not in self.locations:
            return self._edit_payload(
                None,
                errors=[_user_error("The location does not exist.", ["locationId"])],
            )
        order = self.orders[session["orderId"]]
        on_order = any(
            line["variantId"] == variantId and _current(line)
            for line in order["lineItems"]
        ) or any(spec["variantId"] == variantId for spec in session["add"])
        if on_order and not allowDuplicates:
            # allowDuplicates: "Whether the mutation can create a line item
            # for a variant that's already on the calculated order"
            return self._edit_payload(
                None,
                errors=[
                    _user_error("The variant is already on the order.", ["variantId"])
                ],
            )
        spec = {
            "calcId": self._next("CalculatedLineItem"),
            "variantId": variantId,
            "sku": variant["sku"],
            "quantity": quantity,
            "location": locationId,
        }
        session["add"].append(spec)
        calculated = self._v_calculated(session)
        added = calculated["addedLineItems"](info, first=250)["nodes"][-1]
        return self._edit_payload(session, line=added)

    def gql_orderEditSetQuantity(self, info, id, lineItemId, quantity, restock=None):
        session = self._edit_session(id)
        if session is None:
            return self._edit_payload(
                None, errors=[_user_error("The order edit does not exist.", ["id"])]
            )
        if quantity < 0:
            return self._edit_payload(
                None,
                errors=[_user_error("The quantity can't be negative.", ["quantity"])],
            )
        added = next((s for s in session["add"] if s["calcId"] == lineItemId), None)
        if added is not None:
            if quantity == 0:
                session["add"].remove(added)
            else:
                added["quantity"] = quantity
        else:
            line_id = gid("LineItem", gid_number(lineItemId) or 0)
            owner, line = self._line_items.get(line_id, (None, None))
            if (
                owner != session["orderId"]
                or gid_kind(lineItemId) != "CalculatedLineItem"
            ):
                return self._edit_payload(
                    None,
                    errors=[
                        _user_error("The line item does not exist.", ["lineItemId"])
                    ],
                )
            fulfilled = _current(line) - self._unfulfilled(line_id)
            if quantity < fulfilled:
                # "You can only edit unfulfilled line items" (orderEditCommit)
                return self._edit_payload(
                    None,
                    errors=[
                        _user_error(
                            "Only unfulfilled quantities can be edited.", ["quantity"]
                        )
                    ],
                )
            session["quantities"][line_id] = quantity
            session["restock"][line_id] = True if restock is None else bool(restock)
        nodes = [
            *self._v_calculated(session)["lineItems"](info, first=250)["nodes"],
            *self._v_calculated(session)["addedLineItems"](info, first=250)["nodes"],
        ]
        line_view = next((n for n in nodes if n["id"] == lineItemId), None)
        return self._edit_payload(session, line=line_view)

    def gql_orderEditCommit(self, info, id, notifyCustomer=None, staffNote=None):
        session = self._edit_session(id)
        if session is None:
            return {
                "order": None,
                "successMessages": None,
                "userErrors": [_user_error("The order edit does not exist.", ["id"])],
            }
        add = [
            {"sku": s["sku"], "quantity": s["quantity"], "location": s["location"]}
            for s in session["add"]
        ]
        try:
            order_edit = self._edit_order(
                session["orderId"],
                add,
                session["quantities"],
                session["restock"],
                staffNote,
            )
        except ValueError as error:
            return {
                "order": None,
                "successMessages": None,
                "userErrors": [_user_error(str(error), ["id"])],
            }
        session["committed"] = True
        order_edit["notify_customer"] = bool(notifyCustomer)
        # the commit's webhooks (edit_order); API writes emit with auto_webhooks
        self._auto(
            info, "orders/edited", session["orderId"], {"order_edit": order_edit}
        )
        self._auto(info, "orders/updated", session["orderId"])
        return {
            "order": self._v_order(self.orders[session["orderId"]]),
            "successMessages": ["Order updated"],
            "userErrors": [],
        }

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

    # ---------------------------------------------------------- admin routes
    def admin_config(self, request: Request, data: dict) -> dict:
        if request.method == "POST":
            if "webhook_mode" in data:
                if data["webhook_mode"] not in WEBHOOK_MODES:
                    raise ValueError(f"webhook_mode must be one of {WEBHOOK_MODES}")
                self.webhook_mode = data["webhook_mode"]
            if "throttle_status_code" in data:
                if data["throttle_status_code"] not in (200, 429):
                    raise ValueError("throttle_status_code must be 200 or 429")
                self.throttle_status_code = data["throttle_status_code"]
            if "webhook_url" in data:
                self.webhook_url = data["webhook_url"]
            if "compliance_url" in data:
                self.compliance_url = data["compliance_url"]
            if "auto_webhooks" in data:
                self.auto_webhooks = bool(data["auto_webhooks"])
            if "bulk_seconds" in data:
                self.bulk_seconds = float(data["bulk_seconds"])
        return {
            "shop": self.shop,
            "api_version": self.api_version,
            "webhook_url": self.webhook_url,
            "compliance_url": self.compliance_url,
            "auto_webhooks": self.auto_webhooks,
            "webhook_mode": self.webhook_mode,
            "throttle_status_code": self.throttle_status_code,
            "bulk_seconds": self.bulk_seconds,
            "throttle_status": self._throttle_status(),
        }

    @staticmethod
    def _jsonable(value: Any) -> Any:
        return json.loads(json.dumps(value, default=str))

    def admin_locations(self, request: Request, data: dict) -> Any:
        if request.method == "POST":
            return json_response(self.add_location(**data), 201)
        with self.lock:
            return self._jsonable(list(self.locations.values()))

    def admin_products(self, request: Request, data: dict) -> Any:
        if request.method == "POST":
            return json_response(self._jsonable(self.add_product(**data)), 201)
        with self.lock:
            return self._jsonable(
                [self._product_snapshot(p) for p in self.products.values()]
            )

    def admin_customers(self, request: Request, data: dict) -> Any:
        if request.method == "POST":
            return json_response(self._jsonable(self.add_customer(**data)), 201)
        with self.lock:
            return self._jsonable(list(self.customers.values()))

    def admin_orders(self, request: Request, data: dict) -> Any:
        if request.method == "POST":
            return json_response(self._jsonable(self.add_order(**data)), 201)
        with self.lock:
            ids = list(self.orders)
        return self._jsonable([self.order(order_id) for order_id in ids])

    def admin_order(self, request: Request, data: dict, number: int) -> Any:
        order_id = gid("Order", number)
        if request.method == "POST":
            return self._jsonable(self.update_order(order_id, **data))
        return self._jsonable(self.order(order_id))

    def admin_cancel(self, request: Request, data: dict, number: int) -> Any:
        return self._jsonable(self.cancel_order(gid("Order", number), **data))

    def admin_edit(self, request: Request, data: dict, number: int) -> Any:
        """``{"add", "quantities", "restock", "staff_note", "emit"}``: edit
        and commit (``edit_order``); answers the ``order_edit``."""
        return self._jsonable(self.edit_order(gid("Order", number), **data))

    def admin_refund(self, request: Request, data: dict, number: int) -> Any:
        return json_response(
            self._jsonable(self.refund_order(gid("Order", number), **data)), 201
        )

    def admin_inventory(self, request: Request, data: dict) -> Any:
        if request.method == "POST":
            settable = (*UNAVAILABLE_STATES, "incoming")
            states = {k: data[k] for k in settable if k in data}
            return self.set_inventory(
                data["inventory_item_id"],
                data["location_id"],
                data.get("available"),
                emit=bool(data.get("emit")),
                **states,
            )
        with self.lock:
            return [
                {
                    "inventory_item_id": item,
                    "location_id": loc,
                    **self._quantities(level),
                }
                for (item, loc), level in self.levels.items()
            ]

    def admin_emit(self, request: Request, data: dict) -> list:
        ref = data.get("id")
        if data["topic"] == "inventory_levels/update" and isinstance(ref, list):
            ref = tuple(ref)
        events = self.emit(
            data["topic"], ref, payload=data.get("payload"), deliver=data.get("deliver")
        )
        return [
            {"event_id": e["id"], "topic": e["topic"], "url": e["url"]} for e in events
        ]

    def admin_compliance(self, request: Request, data: dict) -> dict:
        """``{"topic", "customer_id", "orders"}``: send a compliance webhook."""
        topic = data.get("topic")
        if topic == "shop/redact":
            event = self.redact_shop()
        elif topic == "customers/redact":
            event = self.redact_customer(data["customer_id"], data.get("orders"))
        elif topic == "customers/data_request":
            event = self.request_customer_data(data["customer_id"], data.get("orders"))
        else:
            raise ValueError(f"topic must be one of {COMPLIANCE_TOPICS}")
        return {"event_id": event["id"], "topic": topic, "url": event["url"]}

    def admin_webhooks(self, request: Request, data: dict) -> dict:
        return {
            "pending": [
                {"event_id": e["id"], "topic": e["topic"], "url": e["url"]}
                for e in self.webhooks.pending
            ],
            "history": [
                {
                    "event_id": delivery.event.get("id"),
                    "topic": delivery.event.get("topic"),
                    "url": delivery.event.get("url"),
                    "status": delivery.status,
                    "body": delivery.body,
                    "duplicate": delivery.duplicate,
                }
                for delivery in self.webhooks.history
            ],
            "subscriptions": self._jsonable(list(self.subscriptions.values())),
            "retries": [
                {
                    "event_id": r["event"]["id"],
                    "topic": r["event"]["topic"],
                    "attempt": r["attempt"],
                    "due": utc_iso(r["due"]),
                }
                for r in self.webhooks.retries
            ],
        }

    def admin_retry(self, request: Request, data: dict) -> list:
        """Deliver the failed webhooks whose retry is due (move the clock first)."""
        return [
            {"status": status, "body": body}
            for status, body in self.webhooks.deliver_due()
        ]

    def drop_failing_subscription(self, subscription_id: str) -> None:
        """Delete a subscription whose deliveries failed 8 times in a row
        (see ``WEBHOOK_RETRY_DELAYS``); its pending retries go with it."""
        with self.lock:
            self.subscriptions.pop(subscription_id, None)
        with self.webhooks._lock:
            self.webhooks.retries = [
                r
                for r in self.webhooks.retries
                if r["event"].get("subscription_id") != subscription_id
            ]

    def admin_flush(self, request: Request, data: dict) -> list:
        answers = self.flush_webhooks(
            order=data.get("order", "fifo"),
            duplicate_every=data.get("duplicate_every"),
            seed=data.get("seed"),
        )
        return [{"status": status, "body": body} for status, body in answers]

    def admin_bulk_finish(self, request: Request, data: dict) -> dict:
        return self._jsonable(
            self.finish_bulk(
                data.get("id"),
                status=data.get("status", "COMPLETED"),
                error_code=data.get("error_code"),
                partial_objects=data.get("partial_objects"),
            )
        )

    def admin_bulk_file(self, request: Request, data: dict, number: int) -> Response:
        with self.lock:
            operation = self.bulk_operations.get(gid("BulkOperation", number))
            if operation is None or operation["status"] != "COMPLETED":
                raise ApiError(404, "not_found", "Not Found")
            body = operation["data"]
        return Response(body, content_type="application/jsonl")
