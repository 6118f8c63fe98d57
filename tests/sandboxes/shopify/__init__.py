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

from . import schema
from .schema import (
    ADJUSTABLE_NAMES,
    API_VERSION,
    BULK_ACTIVE,
    BULK_CONCURRENT,
    BULK_MAX_CONNECTIONS,
    BULK_MAX_DEPTH,
    BULK_URL_SECONDS,
    COMPLIANCE_TOPICS,
    COUNTRIES,
    DEFAULT_SCOPE,
    IDEMPOTENCY_TTL,
    IDEMPOTENT_MUTATIONS,
    INVALID_TOKEN,
    INVENTORY_REASONS,
    MAX_INPUT_ARRAY,
    MAX_PAGE,
    MAX_QUANTITY,
    MAX_QUERY_COST,
    MUTATION_COST,
    ORDER_WINDOW_DAYS,
    QUANTITY_NAMES,
    RATE_LIMIT_DOC,
    RELEASE_CANDIDATE,
    RULE_CODES,
    SCHEMA,
    SCHEMA_PATH,
    SHOP_ID,
    STORED_STATES,
    SUPPORTED_VERSIONS,
    TOKEN_TTL,
    UNAVAILABLE_STATES,
    WEBHOOK_MODES,
    WEBHOOK_RETRY_DELAYS,
    WEBHOOK_TIMEOUT,
    _CENT,
    _CostBucket,
    _Coster,
    _Ctx,
    _GID_RE,
    _SEARCH_RE,
    _STATIC,
    _Stored,
    _UNDEFINED_FIELD_RE,
    _bag,
    _canonical,
    _compare,
    _current,
    _error,
    _is_connection,
    _logger,
    _oversized_lists,
    _slug,
    _term_matches,
    _topic_enum,
    _topic_name,
    _user_error,
    decode_cursor,
    deprecated_fields,
    encode_cursor,
    fmt,
    gid,
    gid_kind,
    gid_number,
    gql_time,
    money,
    parse_search,
    sign,
    verify,
)
from .catalog import ShopifyCatalogMixin
from .inventory import ShopifyInventoryMixin
from .orders import ShopifyOrdersMixin
from .order_edits import ShopifyOrderEditsMixin
from .fulfilment import ShopifyFulfilmentMixin
from .bulk import ShopifyBulkMixin
from .webhooks import ShopifyWebhooksMixin
from .admin import ShopifyAdminMixin
from .webhooks import _ShopifyWebhookSender
from .sandbox import ShopifySandbox
