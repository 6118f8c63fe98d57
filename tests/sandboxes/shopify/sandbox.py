"""The Shopify sandbox: state, API routes, GraphQL execution, cost, idempotency."""

from __future__ import annotations

import contextlib
import copy
import functools
import hmac
import json
import math
import re
import secrets
import uuid
from http import HTTPStatus
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    OperationType,
    coerce_input_value,
    execute,
    get_named_type,
    get_operation_ast,
    is_non_null_type,
    parse,
    specified_rules,
    type_from_ast,
    validate,
    value_from_ast,
)
from graphql.pyutils import Undefined
from werkzeug.routing import (
    Map,
    Rule,
)
from werkzeug.wrappers import (
    Request,
    Response,
)

from ..shopify_returns import ShopifyReturnsMixin
from ..signed_storage import SignedUrlStorage
from ..toolkit import (
    BaseSandbox,
    Clock,
    json_response,
    register,
)
from .admin import ShopifyAdminMixin
from .bulk import ShopifyBulkMixin
from .catalog import ShopifyCatalogMixin
from .fulfilment import ShopifyFulfilmentMixin
from .inventory import ShopifyInventoryMixin
from .order_edits import ShopifyOrderEditsMixin
from .orders import ShopifyOrdersMixin
from .schema import (
    _UNDEFINED_FIELD_RE,
    API_VERSION,
    DEFAULT_SCOPE,
    IDEMPOTENCY_TTL,
    IDEMPOTENT_MUTATIONS,
    INVALID_TOKEN,
    MAX_INPUT_ARRAY,
    MAX_QUERY_COST,
    MUTATION_COST,
    RATE_LIMIT_DOC,
    RELEASE_CANDIDATE,
    RULE_CODES,
    SCHEMA,
    SHOP_ID,
    SUPPORTED_VERSIONS,
    TOKEN_TTL,
    WEBHOOK_MODES,
    _canonical,
    _CostBucket,
    _Coster,
    _Ctx,
    _error,
    _logger,
    _oversized_lists,
    _Stored,
    _term_matches,
    _user_error,
    decode_cursor,
    deprecated_fields,
    encode_cursor,
    gid,
    gid_kind,
    gid_number,
    parse_search,
)
from .webhooks import (
    ShopifyWebhooksMixin,
    _ShopifyWebhookSender,
)


@register("shopify")
class ShopifySandbox(
    ShopifyCatalogMixin,
    ShopifyInventoryMixin,
    ShopifyOrdersMixin,
    ShopifyOrderEditsMixin,
    ShopifyFulfilmentMixin,
    ShopifyBulkMixin,
    ShopifyWebhooksMixin,
    ShopifyAdminMixin,
    ShopifyReturnsMixin,
    BaseSandbox,
):
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
        document, errors = self._checked(query)
        if errors:
            return 200, {"errors": copy.deepcopy(errors)}, 0
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

    @classmethod
    @functools.lru_cache(maxsize=256)
    def _checked(cls, query: str):
        """The parsed document and its validation errors, once per query text
        (both depend on the text and the schema only; graphql-core's ASTs are
        immutable). A client sends the same few documents again and again:
        parsing and validating each took ~7 ms of the bench machine's CPU per
        request, which a real shop spends on its own servers."""
        try:
            document = parse(query)
        except GraphQLError as exc:
            return None, [exc.formatted]
        return document, cls._validate(document)

    @staticmethod
    def _validate(document) -> list[dict]:
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
