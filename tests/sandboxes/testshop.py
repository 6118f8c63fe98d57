"""TestShop: a small but honest fake e-commerce platform for the framework tests.

Protocol (the test backend type of ``retail_connect_base`` is written against
it; ``TestShopSandbox(token="tok", webhook_secret="whsec")`` serves it).

Errors
    Every error is ``{"error": {"code": str, "message": str[, "param": str]}}``
    with a JSON content type.

Authentication
    Every API route (anything outside ``/__sandbox__/``) requires
    ``Authorization: Bearer <token>``; missing or wrong: 401 ``unauthorized``.

Rate limit
    A token bucket (capacity 10, refilled 5 a second, on the sandbox clock);
    every authenticated API request takes one token. Empty: 429 ``throttled``
    with ``Retry-After: <whole seconds, at least 1>``. Every API answer has
    ``X-RateLimit-Limit: <capacity>``, ``X-RateLimit-Remaining: <whole tokens
    left>`` and ``X-Request-Id: <uuid4>``. Unauthenticated requests take no
    token.

Customers
    ``{"id": "cus_<n>", "email": str, "name": str|null, "phone": str|null,
    "updated_at": "YYYY-MM-DDTHH:MM:SS.mmmZ", "version": int}``; ``version``
    starts at 1 and every update adds 1 and sets ``updated_at`` to now.

    - ``GET /api/v1/customers?limit=N&cursor=C&updated_since=ISO``: 200
      ``{"data": [customer...], "next_cursor": str|null}`` ordered by
      (``updated_at``, id number). ``limit`` 1..100, default 50.
      ``updated_since`` (ISO 8601; ``Z``, an offset or naive UTC) keeps
      customers with ``updated_at >= updated_since`` (inclusive: ties are
      never lost). ``next_cursor`` is an opaque url-safe base64 of the last
      (``updated_at``, id) of the page, null on the last page; pass it back with
      the same filters. A customer updated while paging moves to the end and is
      seen again. Invalid ``limit``, ``cursor`` or ``updated_since``: 400
      ``invalid_request`` with ``param``.
    - ``GET /api/v1/customers/<id>``: 200 customer, or 404 ``not_found``.
    - ``POST /api/v1/customers`` ``{"email", "name", "phone"}``: 201 customer.
    - ``PUT /api/v1/customers/<id>`` with any of these fields (a partial
      update): 200 customer, or 404 ``not_found``.

    Bodies must be JSON objects (else 400 ``invalid_request``); an unknown
    field is 400 ``invalid_request`` with ``param``. ``email`` is required on
    POST and must be a string containing "@" (else 422 ``invalid``,
    ``param: "email"``); ``name`` and ``phone`` are strings or null (else 422
    ``invalid``).

Idempotency
    POST and PUT require ``Idempotency-Key`` (1 to 255 characters; missing:
    400 ``idempotency_key_required``). A key seen with the same method, path
    and JSON body (compared after parsing, so key order does not matter)
    replays the stored status and body exactly, with ``Idempotent-Replayed:
    true``, and writes nothing. The same key with anything else: 409
    ``idempotency_mismatch``. Only successful (2xx) answers are stored, so a
    rejected request may be retried with the same key. Keys are kept 24 hours
    on the sandbox clock.

Order of checks
    Injected faults (500/502/503 answer ``{"error": {"code": "internal",
    "message": "injected"}}``; a timeout fault delays then does the work),
    then authentication, rate limit, routing (404/405), idempotency, validation.

Webhooks
    An event is ``{"id": "evt_<uuid4 hex>", "topic": "customer/created" |
    "customer/updated", "occurred_at": ISO, "data": customer}``, POSTed as JSON
    to the webhook URL with the headers ``Content-Type: application/json``,
    ``X-TestShop-Topic``, ``X-TestShop-Event-Id`` (the dedup key: a redelivery
    reuses it), ``X-TestShop-Timestamp`` (integer epoch seconds on the sandbox
    clock at sending) and ``X-TestShop-Signature``: base64 of
    HMAC-SHA256(webhook_secret, f"{timestamp}." + raw body bytes), see
    :func:`sign`. With ``auto_webhooks=True``, API writes emit the matching
    event (replays do not). Any 2xx answer acknowledges a delivery.

Sandbox admin routes (no auth), besides the toolkit's
    ``GET|POST /__sandbox__/config`` (``webhook_url``, ``auto_webhooks``,
    ``webhook_mode``); ``GET|POST /__sandbox__/customers`` and ``PUT
    /__sandbox__/customers/<id>`` (seed, ``"emit": true`` to emit);
    ``POST /__sandbox__/emit`` ``{"topic", "customer_id"}``;
    ``GET /__sandbox__/webhooks`` (queue and history); ``POST
    /__sandbox__/webhooks/flush`` ``{"order", "duplicate_every", "seed"}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .toolkit import (
    ApiError,
    BaseSandbox,
    Clock,
    TokenBucket,
    WebhookSender,
    iso_from_ms,
    json_response,
    parse_iso_ms,
    register,
    utc_iso,
)

TOPICS = ("customer/created", "customer/updated")
FIELDS = ("email", "name", "phone")
IDEMPOTENCY_TTL = 24 * 3600
MAX_KEY_LENGTH = 255
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
WEBHOOK_MODES = ("sync", "async", "queue")
_ID_RE = re.compile(r"cus_([1-9][0-9]*)")


def sign(raw_body: bytes, timestamp: int, secret: str) -> str:
    """Signature header value: base64 HMAC-SHA256 of ``f"{timestamp}." + body``."""
    digest = hmac.new(
        secret.encode(), f"{int(timestamp)}.".encode() + raw_body, hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(raw_body: bytes, timestamp: int | str, signature: str, secret: str) -> bool:
    """Whether ``signature`` is :func:`sign`'s for this body and timestamp."""
    try:
        expected = sign(raw_body, int(timestamp), secret)
    except (TypeError, ValueError):
        return False
    # Bytes: compare_digest refuses non-ASCII str, and forged headers can be.
    given = (signature or "").encode("utf-8", "replace")
    return hmac.compare_digest(expected.encode("ascii"), given)


def encode_cursor(updated_at: str, customer_id: str) -> str:
    raw = json.dumps([updated_at, customer_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_cursor(cursor: str) -> tuple[int, int]:
    """Sort key ``(updated_at ms, id number)`` of a cursor; ValueError if forged."""
    try:
        updated_at, customer_id = json.loads(base64.urlsafe_b64decode(cursor))
        key = (parse_iso_ms(updated_at), _id_number(customer_id))
    except (TypeError, ValueError, binascii.Error):
        raise ValueError("invalid cursor") from None
    # Only the exact text we hand out is accepted: no lenient decoding.
    if encode_cursor(updated_at, customer_id) != cursor:
        raise ValueError("invalid cursor")
    return key


def _id_number(customer_id: Any) -> int:
    match = _ID_RE.fullmatch(customer_id) if isinstance(customer_id, str) else None
    if not match:
        raise ValueError(f"invalid customer id {customer_id!r}")
    return int(match.group(1))


def _canonical(raw: bytes) -> bytes:
    try:
        return json.dumps(json.loads(raw), sort_keys=True).encode()
    except ValueError:
        return raw


@dataclass(frozen=True)
class _StoredAnswer:
    fingerprint: tuple[str, str, bytes]
    status: int
    body: bytes
    stored_at: float


@register("testshop")
class TestShopSandbox(BaseSandbox):
    """The TestShop platform; see the module docstring for the protocol."""

    __test__ = False  # not a pytest test class, despite its name
    name = "testshop"
    url_map = Map(
        [
            Rule(
                "/api/v1/customers",
                endpoint="customers_list",
                methods=["GET"],
            ),
            Rule(
                "/api/v1/customers",
                endpoint="customers_create",
                methods=["POST"],
            ),
            Rule(
                "/api/v1/customers/<customer_id>",
                endpoint="customers_get",
                methods=["GET"],
            ),
            Rule(
                "/api/v1/customers/<customer_id>",
                endpoint="customers_update",
                methods=["PUT"],
            ),
        ],
        strict_slashes=False,
    )
    admin_rules = (
        Rule("/__sandbox__/config", endpoint="config", methods=["GET", "POST"]),
        Rule("/__sandbox__/customers", endpoint="customers", methods=["GET", "POST"]),
        Rule(
            "/__sandbox__/customers/<customer_id>",
            endpoint="customer",
            methods=["GET", "PUT"],
        ),
        Rule("/__sandbox__/emit", endpoint="emit", methods=["POST"]),
        Rule("/__sandbox__/webhooks", endpoint="webhooks", methods=["GET"]),
        Rule("/__sandbox__/webhooks/flush", endpoint="flush", methods=["POST"]),
    )

    def __init__(
        self,
        token: str = "tok",
        webhook_secret: str = "whsec",
        *,
        clock: Clock | None = None,
        capacity: int = 10,
        rate: float = 5.0,
        auto_webhooks: bool = False,
        webhook_url: str | None = None,
        webhook_mode: str = "sync",
    ):
        """``webhook_mode``: what :meth:`emit` does by default when a webhook
        URL is set: ``sync`` posts at once (for API writes: after the write,
        before the answer), ``async`` posts from a thread, ``queue`` waits for
        :meth:`flush_webhooks`. Without a URL, events are queued.
        """
        if webhook_mode not in WEBHOOK_MODES:
            raise ValueError(f"webhook_mode must be one of {WEBHOOK_MODES}")
        self.token = token
        self.webhook_secret = webhook_secret
        self.capacity = capacity
        self.rate = rate
        self.auto_webhooks = auto_webhooks
        self.webhook_mode = webhook_mode
        self.webhooks = WebhookSender(self._sign_delivery, webhook_url)
        super().__init__(clock=clock)

    # --------------------------------------------------------------- state
    def reset_state(self) -> None:
        with self.lock:
            self._customers: dict[str, dict] = {}
            self._updated_ms: dict[str, int] = {}
            self._last_number = self._id_base()  # never reused with persist_ids
            self._idempotency: dict[str, _StoredAnswer] = {}
            self.bucket = TokenBucket(self.capacity, self.rate, self.clock)
            self.webhooks.clear()

    @property
    def customers(self) -> dict[str, dict]:
        """Copies of the customers by id, in creation order."""
        with self.lock:
            return {cid: dict(customer) for cid, customer in self._customers.items()}

    def customer(self, customer_id: str) -> dict:
        with self.lock:
            return dict(self._customers[customer_id])

    def add_customer(
        self, email: str, name: str | None, phone: str | None = None, *, emit=False
    ) -> dict:
        """Create a customer (no auth, no throttling); ValueError if invalid."""
        try:
            customer = self._create({"email": email, "name": name, "phone": phone})
        except ApiError as exc:
            raise ValueError(exc.message) from None
        if emit:
            self.emit("customer/created", customer)
        return customer

    def update_customer(self, customer_id: str, *, emit=False, **fields) -> dict:
        """Update fields, bump ``updated_at`` and ``version``; KeyError if unknown."""
        try:
            customer = self._update(customer_id, fields)
        except ApiError as exc:
            if exc.status == 404:
                raise KeyError(customer_id) from None
            raise ValueError(exc.message) from None
        if emit:
            self.emit("customer/updated", customer)
        return customer

    def _now_ms(self) -> int:
        return math.floor(self.clock.now() * 1000)

    def _validate(self, data: Any, *, partial: bool) -> dict:
        if not isinstance(data, dict):
            raise ApiError(400, "invalid_request", "body must be a JSON object")
        for key in data:
            if key not in FIELDS:
                raise ApiError(
                    400, "invalid_request", f"unknown field {key!r}", param=key
                )
        if not partial or "email" in data:
            email = data.get("email")
            if not isinstance(email, str) or "@" not in email:
                raise ApiError(
                    422,
                    "invalid",
                    "email is required and must contain '@'",
                    param="email",
                )
        for key in ("name", "phone"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ApiError(
                    422, "invalid", f"{key} must be a string or null", param=key
                )
        return {key: data[key] for key in FIELDS if key in data}

    def _create(self, data: Any) -> dict:
        fields = self._validate(data, partial=False)
        with self.lock:
            self._last_number += 1
            ms = self._now_ms()
            customer = {
                "id": f"cus_{self._last_number}",
                "email": fields["email"],
                "name": fields.get("name"),
                "phone": fields.get("phone"),
                "updated_at": iso_from_ms(ms),
                "version": 1,
            }
            self._customers[customer["id"]] = customer
            self._updated_ms[customer["id"]] = ms
            return dict(customer)

    def _update(self, customer_id: str, data: Any) -> dict:
        with self.lock:
            customer = self._customers.get(customer_id)
            if customer is None:
                raise ApiError(404, "not_found", f"no customer {customer_id}")
            fields = self._validate(data, partial=True)
            ms = self._now_ms()
            customer.update(fields, updated_at=iso_from_ms(ms))
            customer["version"] += 1
            self._updated_ms[customer_id] = ms
            return dict(customer)

    # ------------------------------------------------------------ webhooks
    def _sign_delivery(self, raw_body: bytes, event: dict) -> dict[str, str]:
        timestamp = int(self.clock.now())
        return {
            "Content-Type": "application/json",
            "X-TestShop-Topic": event["topic"],
            "X-TestShop-Event-Id": event["id"],
            "X-TestShop-Timestamp": str(timestamp),
            "X-TestShop-Signature": sign(raw_body, timestamp, self.webhook_secret),
        }

    def make_event(self, topic: str, customer: dict) -> dict:
        if topic not in TOPICS:
            raise ValueError(f"topic must be one of {TOPICS}, not {topic!r}")
        return {
            "id": f"evt_{uuid.uuid4().hex}",
            "topic": topic,
            "occurred_at": utc_iso(self.clock.now()),
            "data": dict(customer),
        }

    def emit(self, topic: str, customer: dict, *, deliver: bool | None = None) -> dict:
        """Build an event for ``customer`` and deliver or queue it; return it.

        ``deliver``: True posts now (RuntimeError without a webhook URL), False
        queues, None follows ``webhook_mode`` (queues without a URL).
        Delivery answers are in ``self.webhooks.history``.
        """
        event = self.make_event(topic, customer)
        if deliver is None:
            mode = self.webhook_mode if self.webhook_url else "queue"
        else:
            mode = "sync" if deliver else "queue"
        self.webhooks.send(event, mode)
        return event

    # --------------------------------------------------------------- hooks
    def before_request(self, request: Request, operation: str | None):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return self._unauthorized("missing bearer token")
        if not hmac.compare_digest(token.strip().encode(), self.token.encode()):
            return self._unauthorized("invalid token")
        ok, wait, available = self.bucket.try_take(1)
        request.environ["testshop.remaining"] = available
        if not ok:
            return self.throttle_response(request, wait)
        return None

    def _unauthorized(self, message: str) -> Response:
        response = self.error_response(401, "unauthorized", message)
        response.headers["WWW-Authenticate"] = 'Bearer realm="testshop"'
        return response

    def throttle_response(self, request: Request, retry_after: float) -> Response:
        # An injected throttle also reports an empty bucket.
        request.environ["testshop.remaining"] = 0
        response = self.error_response(
            429, "throttled", "rate limit exceeded, retry later"
        )
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return response

    def finalize(self, request: Request, response: Response) -> Response:
        if not request.path.startswith("/__sandbox__/"):
            remaining = request.environ.get("testshop.remaining")
            if remaining is None:
                remaining = self.bucket.available
            response.headers["X-RateLimit-Limit"] = str(self.capacity)
            response.headers["X-RateLimit-Remaining"] = str(max(0, int(remaining)))
        return super().finalize(request, response)

    # ------------------------------------------------------------ API routes
    def on_customers_list(self, request: Request) -> Response:
        args = request.args
        limit = DEFAULT_LIMIT
        if "limit" in args:
            try:
                limit = int(args["limit"])
            except ValueError:
                limit = 0
            if not 1 <= limit <= MAX_LIMIT:
                raise ApiError(
                    400,
                    "invalid_request",
                    f"limit must be an integer from 1 to {MAX_LIMIT}",
                    param="limit",
                )
        after = None
        if args.get("cursor"):
            try:
                after = decode_cursor(args["cursor"])
            except ValueError:
                raise ApiError(
                    400, "invalid_request", "invalid cursor", param="cursor"
                ) from None
        since = None
        if args.get("updated_since"):
            try:
                since = parse_iso_ms(args["updated_since"])
            except ValueError:
                raise ApiError(
                    400,
                    "invalid_request",
                    "updated_since must be an ISO 8601 date-time",
                    param="updated_since",
                ) from None
        with self.lock:
            rows = sorted(
                ((self._updated_ms[cid], _id_number(cid)), dict(customer))
                for cid, customer in self._customers.items()
            )
        rows = [
            (key, customer)
            for key, customer in rows
            if (since is None or key[0] >= since) and (after is None or key > after)
        ]
        page = rows[:limit]
        next_cursor = None
        if len(rows) > limit:
            last = page[-1][1]
            next_cursor = encode_cursor(last["updated_at"], last["id"])
        return json_response(
            {"data": [customer for _key, customer in page], "next_cursor": next_cursor}
        )

    def on_customers_get(self, request: Request, customer_id: str) -> Response:
        with self.lock:
            customer = self._customers.get(customer_id)
            if customer is None:
                raise ApiError(404, "not_found", f"no customer {customer_id}")
            return json_response(dict(customer))

    def on_customers_create(self, request: Request) -> Response:
        return self._idempotent(
            request,
            lambda data: (201, self._create(data), "customer/created"),
        )

    def on_customers_update(self, request: Request, customer_id: str) -> Response:
        return self._idempotent(
            request,
            lambda data: (200, self._update(customer_id, data), "customer/updated"),
        )

    def _idempotent(self, request: Request, write) -> Response:
        """Run ``write(data) -> (status, customer, topic)`` at most once per key."""
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            raise ApiError(
                400,
                "idempotency_key_required",
                "the Idempotency-Key header is required on writes",
            )
        if len(key) > MAX_KEY_LENGTH:
            raise ApiError(
                400,
                "invalid_request",
                f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters",
                param="Idempotency-Key",
            )
        raw = request.get_data(cache=True)
        fingerprint = (request.method, request.path, _canonical(raw))
        now = self.clock.now()
        with self.lock:
            self._idempotency = {
                k: stored
                for k, stored in self._idempotency.items()
                if now - stored.stored_at < IDEMPOTENCY_TTL
            }
            stored = self._idempotency.get(key)
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise ApiError(
                        409,
                        "idempotency_mismatch",
                        "this Idempotency-Key was used with another request",
                    )
                response = Response(
                    stored.body, status=stored.status, content_type="application/json"
                )
                response.headers["Idempotent-Replayed"] = "true"
                return response
            try:
                data = json.loads(raw)
            except ValueError:
                raise ApiError(
                    400, "invalid_request", "body is not valid JSON"
                ) from None
            status, customer, topic = write(data)
            body = json.dumps(customer).encode()
            self._idempotency[key] = _StoredAnswer(fingerprint, status, body, now)
        # Outside the lock: the receiver may call the API back.
        if self.auto_webhooks:
            self.emit(topic, customer)
        return Response(body, status=status, content_type="application/json")

    # ---------------------------------------------------------- admin routes
    def admin_config(self, request: Request, data: dict) -> dict:
        if request.method == "POST":
            if "webhook_mode" in data:
                if data["webhook_mode"] not in WEBHOOK_MODES:
                    raise ValueError(f"webhook_mode must be one of {WEBHOOK_MODES}")
                self.webhook_mode = data["webhook_mode"]
            if "webhook_url" in data:
                self.webhook_url = data["webhook_url"]
            if "auto_webhooks" in data:
                self.auto_webhooks = bool(data["auto_webhooks"])
        return {
            "webhook_url": self.webhook_url,
            "auto_webhooks": self.auto_webhooks,
            "webhook_mode": self.webhook_mode,
        }

    def admin_customers(self, request: Request, data: dict) -> Any:
        if request.method == "POST":
            data = dict(data)
            emit = bool(data.pop("emit", False))
            customer = self._create(data)
            if emit:
                self.emit("customer/created", customer)
            return json_response(customer, 201)
        return list(self.customers.values())

    def admin_customer(self, request: Request, data: dict, customer_id: str) -> dict:
        if request.method == "PUT":
            data = dict(data)
            emit = bool(data.pop("emit", False))
            customer = self._update(customer_id, data)
            if emit:
                self.emit("customer/updated", customer)
            return customer
        with self.lock:
            if customer_id not in self._customers:
                raise ApiError(404, "not_found", f"no customer {customer_id}")
            return dict(self._customers[customer_id])

    def admin_emit(self, request: Request, data: dict) -> dict:
        customer = self.customer(data["customer_id"])
        return self.emit(data["topic"], customer, deliver=data.get("deliver"))

    def admin_webhooks(self, request: Request, data: dict) -> dict:
        return {
            "pending": self.webhooks.pending,
            "history": [
                {
                    "event_id": delivery.event.get("id"),
                    "topic": delivery.event.get("topic"),
                    "status": delivery.status,
                    "body": delivery.body,
                    "duplicate": delivery.duplicate,
                }
                for delivery in self.webhooks.history
            ],
        }

    def admin_flush(self, request: Request, data: dict) -> list:
        answers = self.flush_webhooks(
            order=data.get("order", "fifo"),
            duplicate_every=data.get("duplicate_every"),
            seed=data.get("seed"),
        )
        return [{"status": status, "body": body} for status, body in answers]
