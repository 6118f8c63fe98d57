"""Shopify sandbox: constants, the GraphQL schema, helpers and query cost."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
from dataclasses import (
    dataclass,
    field,
)
from datetime import (
    datetime,
    timezone,
)
from decimal import (
    ROUND_HALF_UP,
    Decimal,
    InvalidOperation,
)
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_schema,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    parse,
    value_from_ast,
    visit,
)
from graphql.pyutils import Undefined

from ..toolkit import (
    LeakyBucket,
    parse_iso_ms,
)

_logger = logging.getLogger(__package__)

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
SCHEMA_PATH = Path(__file__).parent.parent / "shopify_schema.graphql"
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


# ------------------------------------------------------------------ sandbox
