"""Routes of the Stripe sandbox: the API (``on_*``) and the admin routes
(``admin_*``), each a function of the sandbox.

Lists (https://docs.stripe.com/api/pagination): ``limit`` 1..100 (default
10), ``starting_after`` / ``ending_before`` (an object id; mutually
exclusive), newest first, answered as ``{"object": "list", "url", "has_more",
"data"}``. Expansion (https://docs.stripe.com/expand): ``expand[]=a.b``,
``data.`` paths on lists, at most four levels deep; a field that cannot be
expanded: 400.
"""

from __future__ import annotations

from werkzeug.routing import Rule

from .forms import FormError, as_bool, as_int
from .ledger import EXPANDABLE, fail
from .webhooks import new_secret

MAX_EXPAND_DEPTH = 4
EVENT_RETENTION = 30 * 86400
MAX_LIMIT = 100
COMMON = {"expand"}
LIST = {"limit", "starting_after", "ending_before", "expand", "created"}
EVENT_TYPES = (
    "charge.dispute.closed",
    "charge.dispute.created",
    "charge.dispute.funds_reinstated",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.updated",
    "charge.failed",
    "charge.refund.updated",
    "charge.refunded",
    "charge.succeeded",
    "customer.created",
    "payment_intent.created",
    "payment_intent.payment_failed",
    "payment_intent.succeeded",
    "payout.created",
    "payout.failed",
    "payout.paid",
    "payout.reconciliation_completed",
    "payout.updated",
    "refund.created",
    "refund.updated",
)


# the dispute_evidence fields of the contract (shared/contracts/stripe)
EVIDENCE_FIELDS = frozenset(
    """access_activity_log billing_address cancellation_policy
    cancellation_policy_disclosure cancellation_rebuttal customer_communication
    customer_email_address customer_name customer_purchase_ip customer_signature
    duplicate_charge_documentation duplicate_charge_explanation
    duplicate_charge_id product_description receipt refund_policy
    refund_policy_disclosure refund_refusal_explanation service_date
    service_documentation shipping_address shipping_carrier shipping_date
    shipping_documentation shipping_tracking_number uncategorized_file
    uncategorized_text""".split()
)


def _r(path, endpoint, *methods):
    return Rule(path, endpoint=endpoint, methods=list(methods))


RULES = [
    _r("/v1/payment_intents", "payment_intents", "GET", "POST"),
    _r("/v1/payment_intents/<ident>", "payment_intent", "GET", "POST"),
    _r("/v1/charges", "charges", "GET"),
    _r("/v1/charges/<ident>", "charge", "GET"),
    _r("/v1/refunds", "refunds", "GET", "POST"),
    _r("/v1/refunds/<ident>", "refund", "GET", "POST"),
    _r("/v1/disputes", "disputes", "GET"),
    _r("/v1/disputes/<ident>", "dispute", "GET", "POST"),
    _r("/v1/disputes/<ident>/close", "dispute_close", "POST"),
    _r("/v1/balance", "balance", "GET"),
    _r("/v1/balance_transactions", "balance_transactions", "GET"),
    _r("/v1/balance_transactions/<ident>", "balance_transaction", "GET"),
    _r("/v1/payouts", "payouts", "GET", "POST"),
    _r("/v1/payouts/<ident>", "payout", "GET"),
    _r("/v1/customers", "customers", "GET", "POST"),
    _r("/v1/customers/<ident>", "customer", "GET", "POST"),
    _r("/v1/events", "events", "GET"),
    _r("/v1/events/<ident>", "event", "GET"),
    _r("/v1/webhook_endpoints", "webhook_endpoints", "GET", "POST"),
    _r("/v1/webhook_endpoints/<ident>", "webhook_endpoint", "GET", "POST", "DELETE"),
]
ADMIN_RULES = (
    _r("/__sandbox__/config", "config", "GET", "POST"),
    _r("/__sandbox__/keys", "keys", "POST"),
    _r("/__sandbox__/customers", "customers", "POST"),
    _r("/__sandbox__/payments", "payments", "POST"),
    _r("/__sandbox__/refunds", "refunds", "POST"),
    _r("/__sandbox__/refunds/<ident>/status", "refund_status", "POST"),
    _r("/__sandbox__/disputes", "disputes", "POST"),
    _r("/__sandbox__/disputes/<ident>/close", "dispute_close", "POST"),
    _r("/__sandbox__/payouts", "payouts", "POST"),
    _r("/__sandbox__/payouts/<ident>/paid", "payout_paid", "POST"),
    _r("/__sandbox__/payouts/<ident>/reconcile", "payout_reconcile", "POST"),
    _r("/__sandbox__/webhook_endpoints/<ident>/roll", "roll", "POST"),
    _r("/__sandbox__/webhooks", "webhooks", "GET"),
    _r("/__sandbox__/webhooks/flush", "flush", "POST"),
)


# ------------------------------------------------------------------ helpers
def check(params: dict, allowed: set) -> None:
    for name in params:
        if name not in allowed:
            raise FormError(f"Received unknown parameter: {name}", name)


def metadata(params: dict) -> dict:
    value = params.get("metadata") or {}
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise FormError("Invalid hash", "metadata")
    return value


def _expand_one(sb, value, parts: list[str], depth: int, path: str):
    if not parts:
        return value
    if depth > MAX_EXPAND_DEPTH:
        fail(
            400,
            f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a "
            f"property. Property: {path}",
            param="expand",
        )
    if isinstance(value, dict) and value.get("object") == "list" and parts[0] == "data":
        value["data"] = [
            _expand_one(sb, item, parts[1:], depth, path) for item in value["data"]
        ]
        return value
    head, rest = parts[0], parts[1:]
    if not isinstance(value, dict) or head not in EXPANDABLE.get(
        value.get("object"), ()
    ):
        fail(400, f"This property cannot be expanded ({path}).", param="expand")
    if head not in value:
        # an optional field the object does not have (e.g. a refund's
        # failure_balance_transaction before it fails) stays absent
        return value
    target = value[head]
    if isinstance(target, str):
        stored = sb.ledger.objects.get(target)
        target = sb.ledger.render(stored) if stored else target
    if target is not None and not isinstance(target, str):
        target = _expand_one(sb, target, rest, depth + 1, path)
    value[head] = target
    return value


def expand(sb, params: dict, value: dict) -> dict:
    paths = params.get("expand") or []
    if isinstance(paths, str):
        paths = [paths]
    for path in paths:
        _expand_one(sb, value, path.split("."), 1, path)
    return value


def _created_filter(params: dict):
    created = params.get("created")
    if created is None:
        return lambda obj: True
    if isinstance(created, str):
        exact = as_int(params, "created")
        return lambda obj: obj["created"] == exact
    bounds = {}
    for op in created:
        if op not in ("gt", "gte", "lt", "lte"):
            raise FormError(
                f"Received unknown parameter: created[{op}]", f"created[{op}]"
            )
        bounds[op] = as_int(created, op)
    tests = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    return lambda obj: all(tests[op](obj["created"], b) for op, b in bounds.items())


def page(sb, request, params: dict, items: list[dict]) -> dict:
    limit = as_int(params, "limit")
    limit = 10 if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise FormError("Invalid integer: limit must be between 1 and 100", "limit")
    after, before = params.get("starting_after"), params.get("ending_before")
    if after and before:
        raise FormError(
            "Received both starting_after and ending_before parameters. Please pass "
            "in only one.",
            "starting_after",
        )
    keep = _created_filter(params)
    items = [obj for obj in items if keep(obj)]
    ids = [obj["id"] for obj in items]
    if after or before:
        cursor = after or before
        if cursor not in sb.ledger.objects:
            fail(
                404,
                f"No such object: '{cursor}'",
                code="resource_missing",
                param="starting_after" if after else "ending_before",
            )
        if cursor not in ids:
            items, has_more = [], False
    if after and after in ids:
        rest = items[ids.index(after) + 1 :]
        items, has_more = rest[:limit], len(rest) > limit
    elif before and before in ids:
        rest = items[: ids.index(before)]
        items, has_more = rest[-limit:], len(rest) > limit
    elif not (after or before):
        items, has_more = items[:limit], len(items) > limit
    result = {
        "object": "list",
        "data": [sb.ledger.render(obj) for obj in items],
        "has_more": has_more,
        "url": request.path,
    }
    return expand(sb, params, result)


def one(sb, params, obj) -> dict:
    return expand(sb, params, sb.ledger.render(obj))


# -------------------------------------------------------------- API routes
def on_payment_intents(sb, request, params):
    if request.method == "GET":
        check(params, LIST | {"customer"})
        items = sb.ledger.all("payment_intent")
        if params.get("customer"):
            items = [i for i in items if i["customer"] == params["customer"]]
        return page(sb, request, params, items)
    check(
        params,
        COMMON
        | {
            "amount",
            "currency",
            "customer",
            "metadata",
            "description",
            "confirm",
            "payment_method",
            "payment_method_types",
            "receipt_email",
        },
    )
    amount = as_int(params, "amount", required=True)
    if not params.get("currency"):
        raise FormError("Missing required param: currency.", "currency")
    if not as_bool(params, "confirm") or not params.get("payment_method"):
        # the sandbox only takes payments confirmed at creation
        raise FormError(
            "The sandbox only creates PaymentIntents with "
            "confirm=true and a payment_method.",
            "confirm",
        )
    intent = sb.ledger.create_payment(
        amount=amount,
        currency=params["currency"],
        customer=params.get("customer"),
        metadata=metadata(params),
        description=params.get("description"),
        payment_method=params["payment_method"],
        receipt_email=params.get("receipt_email"),
    )
    return one(sb, params, intent)


def on_payment_intent(sb, request, params, ident):
    intent = sb.ledger.get("payment_intent", ident, "intent")
    if request.method == "POST":
        check(params, COMMON | {"metadata", "description"})
        _update(intent, params, ("description",))
    else:
        check(params, COMMON)
    return one(sb, params, intent)


def _update(obj, params, fields):
    for name in fields:
        if name in params:
            obj[name] = params[name] or None
    if "metadata" in params:
        # "to unset a key, set it to an empty value"
        for key, value in metadata(params).items():
            if value == "":
                obj["metadata"].pop(key, None)
            else:
                obj["metadata"][key] = value


def on_charges(sb, request, params):
    check(params, LIST | {"customer", "payment_intent"})
    items = sb.ledger.all("charge")
    for name in ("customer", "payment_intent"):
        if params.get(name):
            items = [i for i in items if i[name] == params[name]]
    return page(sb, request, params, items)


def on_charge(sb, request, params, ident):
    check(params, COMMON)
    return one(sb, params, sb.ledger.get("charge", ident, "charge"))


def on_refunds(sb, request, params):
    if request.method == "GET":
        check(params, LIST | {"charge", "payment_intent"})
        items = sb.ledger.all("refund")
        for name in ("charge", "payment_intent"):
            if params.get(name):
                items = [i for i in items if i[name] == params[name]]
        return page(sb, request, params, items)
    check(params, COMMON | {"charge", "payment_intent", "amount", "reason", "metadata"})
    reason = params.get("reason")
    if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
        raise FormError(f"Invalid reason: {reason}", "reason")
    refund = sb.ledger.create_refund(
        charge=params.get("charge"),
        payment_intent=params.get("payment_intent"),
        amount=as_int(params, "amount"),
        reason=reason,
        metadata=metadata(params),
    )
    return one(sb, params, refund)


def on_refund(sb, request, params, ident):
    refund = sb.ledger.get("refund", ident, "refund")
    if request.method == "POST":
        check(params, COMMON | {"metadata"})
        _update(refund, params, ())
    else:
        check(params, COMMON)
    return one(sb, params, refund)


def on_disputes(sb, request, params):
    check(params, LIST | {"charge", "payment_intent"})
    items = sb.ledger.all("dispute")
    for name in ("charge", "payment_intent"):
        if params.get(name):
            items = [i for i in items if i[name] == params[name]]
    return page(sb, request, params, items)


def on_dispute(sb, request, params, ident):
    if request.method == "GET":
        check(params, COMMON)
        return one(sb, params, sb.ledger.get("dispute", ident, "dispute"))
    # https://docs.stripe.com/api/disputes/update: evidence, metadata, submit
    check(params, COMMON | {"evidence", "metadata", "submit"})
    evidence = params.get("evidence") or {}
    if not isinstance(evidence, dict):
        raise FormError("Invalid hash", "evidence")
    for name in evidence:
        if name not in EVIDENCE_FIELDS:
            raise FormError(f"Received unknown parameter: evidence[{name}]", name)
    dispute = sb.ledger.update_dispute(
        ident, evidence=evidence, submit=as_bool(params, "submit", True)
    )
    _update(dispute, params, ())
    return one(sb, params, dispute)


def on_dispute_close(sb, request, params, ident):
    """Accepting a dispute closes it as lost
    (https://docs.stripe.com/api/disputes/close)."""
    check(params, COMMON)
    return one(sb, params, sb.ledger.close_dispute(ident, "lost"))


def on_balance(sb, request, params):
    check(params, COMMON)
    return sb.ledger.balance()


def on_balance_transactions(sb, request, params):
    """``payout``: "For automatic Stripe payouts only, only returns
    transactions that were paid out on the specified payout ID"
    (https://docs.stripe.com/api/balance_transactions/list)."""
    check(params, LIST | {"payout", "type", "source", "currency"})
    items = sb.ledger.all("balance_transaction")
    if params.get("payout"):
        payout = sb.ledger.get("payout", params["payout"], "payout")
        if not payout["automatic"]:
            fail(
                400,
                "Balance transaction history can only be filtered on "
                "automatic transfers, not manual.",
                param="payout",
            )
        if payout["reconciliation_status"] != "completed":
            # reconciliation_status: "If `completed`, the Balance
            # Transactions API may be used to list all Balance Transactions
            # that were paid out in this payout" (the contract's payout);
            # https://docs.stripe.com/payouts/reconciliation: wait for
            # ``payout.reconciliation_completed``. Before that the list is
            # not complete: the sandbox answers it empty, so reconciling on
            # ``payout.paid`` alone visibly finds nothing.
            items = []
        items = [i for i in items if i["_payout"] == payout["id"]]
    for name in ("type", "source", "currency"):
        if params.get(name):
            items = [i for i in items if i[name] == params[name]]
    return page(sb, request, params, items)


def on_balance_transaction(sb, request, params, ident):
    check(params, COMMON)
    return one(sb, params, sb.ledger.get("balance_transaction", ident))


def on_payouts(sb, request, params):
    if request.method == "GET":
        check(params, LIST | {"status"})
        items = sb.ledger.all("payout")
        if params.get("status"):
            items = [i for i in items if i["status"] == params["status"]]
        return page(sb, request, params, items)
    check(params, COMMON | {"amount", "currency", "description", "metadata"})
    if not params.get("currency"):
        raise FormError("Missing required param: currency.", "currency")
    payout = sb.ledger.create_manual_payout(
        as_int(params, "amount", required=True),
        params["currency"],
        params.get("description"),
        metadata(params),
    )
    return one(sb, params, payout)


def on_payout(sb, request, params, ident):
    check(params, COMMON)
    return one(sb, params, sb.ledger.get("payout", ident, "payout"))


def on_customers(sb, request, params):
    if request.method == "GET":
        check(params, LIST | {"email"})
        items = sb.ledger.all("customer")
        if params.get("email"):
            items = [i for i in items if i["email"] == params["email"]]
        return page(sb, request, params, items)
    check(params, COMMON | {"email", "name", "metadata", "description", "phone"})
    customer = sb.ledger.create_customer(
        params.get("email"),
        params.get("name"),
        metadata(params),
        params.get("description"),
        params.get("phone"),
    )
    return one(sb, params, customer)


def on_customer(sb, request, params, ident):
    customer = sb.ledger.get("customer", ident, "customer")
    if request.method == "POST":
        check(params, COMMON | {"email", "name", "metadata", "description", "phone"})
        _update(customer, params, ("email", "name", "description", "phone"))
    else:
        check(params, COMMON)
    return one(sb, params, customer)


def on_events(sb, request, params):
    """https://docs.stripe.com/api/events/list: "List events, going back up to
    30 days"; ``type`` (``*`` wildcards), ``types[]`` (at most 20),
    ``created[gt|gte|lt|lte]``, ``delivery_success``."""
    check(params, LIST | {"type", "types", "delivery_success"})
    oldest = sb.ledger.now - EVENT_RETENTION
    items = [e for e in sb.ledger.all("event") if e["created"] >= oldest]
    if params.get("type") and params.get("types"):
        raise FormError("You cannot pass both type and types.", "types")
    wanted = params.get("types") or ([params["type"]] if params.get("type") else [])
    if isinstance(wanted, dict):
        wanted = list(wanted.values())
    if len(wanted) > 20:
        raise FormError("types can have at most 20 entries.", "types")
    if wanted:

        def matches(kind):
            return any(
                kind == w or (w.endswith("*") and kind.startswith(w[:-1]))
                for w in wanted
            )

        items = [e for e in items if matches(e["type"])]
    if "delivery_success" in params:
        success = as_bool(params, "delivery_success")
        failed = {item["event_id"] for item in sb.hub.failed}
        items = [
            e
            for e in items
            if (e["pending_webhooks"] == 0 and e["id"] not in failed) == success
        ]
    return page(sb, request, params, items)


def on_event(sb, request, params, ident):
    check(params, COMMON)
    return one(sb, params, sb.ledger.get("event", ident))


def _endpoint_params(sb, params, creating):
    events = params.get("enabled_events")
    if isinstance(events, dict):
        events = list(events.values())
    if creating and not events:
        raise FormError("Missing required param: enabled_events.", "enabled_events")
    for index, kind in enumerate(events or []):
        if kind != "*" and kind not in EVENT_TYPES:
            raise FormError(f"Invalid event type: {kind}", f"enabled_events[{index}]")
    url = params.get("url")
    if (creating or url is not None) and not str(url or "").startswith(
        ("http://", "https://")
    ):
        raise FormError("Invalid URL: must be an http or https URL", "url")
    version = params.get("api_version")
    if version is not None and version not in sb.known_versions:
        raise FormError(f"Invalid api_version: {version}", "api_version")
    return events


def on_webhook_endpoints(sb, request, params):
    if request.method == "GET":
        check(params, LIST)
        return page(sb, request, params, sb.ledger.all("webhook_endpoint"))
    check(
        params,
        COMMON
        | {
            "url",
            "enabled_events",
            "api_version",
            "description",
            "metadata",
            "connect",
        },
    )
    events = _endpoint_params(sb, params, creating=True)
    endpoint = sb.ledger.add(
        {
            "id": sb.ledger.new_id("webhook_endpoint"),
            "object": "webhook_endpoint",
            "api_version": params.get("api_version"),
            "application": None,
            "created": sb.ledger.now,
            "description": params.get("description"),
            "enabled_events": events,
            "livemode": False,
            "metadata": metadata(params),
            "status": "enabled",
            "url": params["url"],
        }
    )
    sb.hub.endpoints[endpoint["id"]] = endpoint
    secret = new_secret()
    sb.hub.secrets[endpoint["id"]] = [(secret, None)]
    # "secret: The endpoint's secret ... Only returned at creation."
    return {**one(sb, params, endpoint), "secret": secret}


def on_webhook_endpoint(sb, request, params, ident):
    endpoint = sb.ledger.get("webhook_endpoint", ident)
    if request.method == "DELETE":
        check(params, set())
        sb.hub.endpoints.pop(ident, None)
        sb.ledger.objects.pop(ident)
        sb.ledger.order.remove(ident)
        return {"id": ident, "object": "webhook_endpoint", "deleted": True}
    if request.method == "POST":
        check(
            params,
            COMMON | {"url", "enabled_events", "description", "metadata", "disabled"},
        )
        events = _endpoint_params(sb, params, creating=False)
        if events:
            endpoint["enabled_events"] = events
        if params.get("url"):
            endpoint["url"] = params["url"]
        if "disabled" in params:
            endpoint["status"] = (
                "disabled" if as_bool(params, "disabled") else "enabled"
            )
        _update(endpoint, params, ("description",))
    else:
        check(params, COMMON)
    return one(sb, params, endpoint)
