"""The HTTP face of the Stripe sandbox: keys, versions, rate limits, the
idempotency layer, form decoding, expansion, lists and the routes.

Documentation followed (each also cited where it is implemented):

- Authentication: ``Authorization: Bearer sk_test_...`` (or HTTP Basic with the
  key as user name); no key or an unknown key: 401
  (https://docs.stripe.com/api/authentication). Restricted keys (``rk_``)
  hold per-resource ``read``/``write`` permissions, write implying read; a
  request the key may not make: 403 ``invalid_request_error`` naming the
  missing permission (https://docs.stripe.com/keys/restricted-api-keys; the
  message as Stripe sends it, stripe/stripe-node#2246).
- Versions: ``Stripe-Version`` picks the version, else the account default
  (https://docs.stripe.com/api/versioning); an unknown one: 400
  ``Invalid Stripe API version: X`` (as Stripe answers,
  beam-community/stripity-stripe#613). Every version answers with the shapes
  of the contract (``spec3.subset.2023-08-16.json``); the version shows in
  the ``Stripe-Version`` answer header and in events' ``api_version``.
- Errors: ``{"error": {"type", "code", "message", "param", "doc_url",
  "request_log_url"}}`` and a ``Request-Id`` header on every answer
  (https://docs.stripe.com/api/errors, https://docs.stripe.com/api/request_ids).
- Rate limits: 25 requests a second in a sandbox; over it: 429
  (https://docs.stripe.com/rate-limits) with code ``rate_limit``
  (https://docs.stripe.com/error-codes#rate-limit).
- ``Stripe-Should-Retry``: Stripe's SDKs obey it before anything else
  (stripe/stripe-python ``_http_client.py`` ``_should_retry``); the sandbox
  sends ``true`` on 502/503/504 faults and on the 409 of a key in use, and
  ``false`` on a saved 500 (a retry with the same key can only replay it).
"""

from __future__ import annotations

import base64
import hmac
import secrets
import threading
import time
import uuid
from urllib.parse import parse_qsl

from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from ..toolkit import (
    ApiError,
    BaseSandbox,
    Clock,
    TokenBucket,
    json_response,
    register,
)
from . import admin, routes
from .forms import FormError, canonical, parse_pairs
from .idempotency import MAX_KEY_LENGTH, IdempotencyStore
from .ledger import Ledger
from .webhooks import WebhookHub

API_VERSION = "2026-09-30.endive"
CONTRACT_VERSION = "2023-08-16"
# versions the sandbox accepts: the contract's and the releases named in
# https://docs.stripe.com/api-versions and its changelog. Stripe accepts
# every released version (a major, then monthly additive releases of the
# same name, https://docs.stripe.com/changelog/clover), so refusing a real
# one would be stricter than Stripe: each release below is named by the
# changelog (2025-03-31.basil, 2025-04-30.basil, 2025-09-30.clover) or pinned
# by Stripe's own SDKs and tools (stripe-ruby 18.x: 2025-11-17.clover,
# 2026-02-25.clover; stripe/agent-toolkit: 2024-12-18.acacia,
# 2025-08-27.basil, 2026-04-22.dahlia, 2026-05-27.dahlia, 2026-06-24.dahlia;
# stripe/openapi: 2026-04-22.dahlia). Monthly releases not named anywhere
# reachable are missing (listed as open in the Stripe sandbox review).
KNOWN_VERSIONS = (
    CONTRACT_VERSION,
    "2024-09-30.acacia",
    "2024-12-18.acacia",
    "2025-03-31.basil",
    "2025-04-30.basil",
    "2025-08-27.basil",
    "2025-09-30.clover",
    "2025-11-17.clover",
    "2025-12-15.clover",
    "2026-02-25.clover",
    "2026-03-25.dahlia",
    "2026-04-22.dahlia",
    "2026-05-27.dahlia",
    "2026-06-24.dahlia",
    "2026-09-30.endive",
)
SECRET_KEY = "sk_test_sandbox"
ACCOUNT = "acct_1SandboxAccount0"
WEBHOOK_MODES = ("queue", "sync")
# path segment -> restricted key resource (permission ``rak_<name>_<level>``)
RESOURCES = {
    "payment_intents": "payment_intent",
    "charges": "charge",
    "refunds": "refund",
    "disputes": "dispute",
    "balance": "balance",
    "balance_transactions": "balance",
    "payouts": "payout",
    "customers": "customer",
    "events": "event",
    "webhook_endpoints": "webhook",
}
NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the "
    "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
    "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for "
    "details, or we can help at https://support.stripe.com/."
)


def mask(key: str) -> str:
    head = key[: key.index("_", 3) + 1] if key.count("_") >= 2 else ""
    return head + "*" * max(0, len(key) - len(head) - 4) + key[-4:]


@register("stripe")
class StripeSandbox(BaseSandbox):
    """One Stripe account in test mode; see the package docstring."""

    name = "stripe"
    url_map = Map(routes.RULES, strict_slashes=False)
    admin_rules = routes.ADMIN_RULES

    def __init__(
        self,
        secret_key: str = SECRET_KEY,
        *,
        clock: Clock | None = None,
        api_version: str = API_VERSION,
        known_versions: tuple[str, ...] = KNOWN_VERSIONS,
        currency: str = "usd",
        fx_rates: dict | None = None,
        fee_percent: str = "2.9",
        fee_fixed: int = 30,
        dispute_fee: int = 1500,
        dispute_fee_refunded_on_win: bool = False,
        refund_status: str = "succeeded",
        available_after: int = 2 * 86400,
        rate_limit: float = 25,
        webhook_mode: str = "queue",
    ):
        """Fees: ``fee_percent`` % + ``fee_fixed`` per charge (Stripe's US
        card pricing, https://stripe.com/pricing) and ``dispute_fee``, all in
        ``currency`` (the settlement currency); ``fx_rates`` converts other
        charge currencies into it; funds become available ``available_after``
        seconds after the charge; new refunds start ``refund_status``
        (``succeeded``, or ``pending`` until ``/__sandbox__/refunds/<id>/
        status`` settles or fails them). ``webhook_mode`` ``sync`` delivers every
        event right after the request that caused it; ``queue`` waits for
        :meth:`flush_webhooks`."""
        if webhook_mode not in WEBHOOK_MODES:
            raise ValueError(f"webhook_mode must be one of {WEBHOOK_MODES}")
        self.secret_key = secret_key
        self.restricted_keys: dict[str, dict[str, str]] = {}
        self.api_version = api_version
        self.known_versions = tuple(known_versions)
        self.currency = currency.lower()
        self.fx_rates = dict(fx_rates or {"eur": "1.08", "gbp": "1.27"})
        self.fee_percent = fee_percent
        self.fee_fixed = fee_fixed
        self.dispute_fee = dispute_fee
        self.dispute_fee_refunded_on_win = dispute_fee_refunded_on_win
        self.refund_status = refund_status
        self.available_after = available_after
        self.rate_limit = rate_limit
        self.webhook_mode = webhook_mode
        self._local = threading.local()
        clock = clock or Clock()
        self.hub = WebhookHub(clock, self._render_event)
        super().__init__(clock=clock)

    # --------------------------------------------------------------- state
    def reset_state(self) -> None:
        with self.lock:
            self.ledger = Ledger(self)
            self.idempotency = IdempotencyStore(self.clock)
            self.reset_bucket()
            self.hub.reset()

    def reset_bucket(self) -> None:
        self.bucket = TokenBucket(self.rate_limit, self.rate_limit, self.clock)

    def add_restricted_key(self, permissions: dict[str, str], key=None) -> str:
        """``{"charge": "read", "refund": "write", ...}`` (resources of
        :data:`RESOURCES`); returns the new ``rk_test_`` key."""
        for resource, level in permissions.items():
            if resource not in RESOURCES.values() or level not in ("read", "write"):
                raise ValueError(f"bad permission {resource}={level}")
        key = key or "rk_test_" + secrets.token_hex(12)
        self.restricted_keys[key] = dict(permissions)
        return key

    def current_request(self) -> dict:
        """``event.request`` for an event caused now: the API request and its
        idempotency key, or nulls for Dashboard/automatic actions."""
        return {
            "id": getattr(self._local, "request_id", None),
            "idempotency_key": getattr(self._local, "idempotency_key", None),
        }

    # ---------------------------------------------------------- http hooks
    def finalize(self, request: Request, response: Response) -> Response:
        request_id = request.environ.setdefault(
            "stripe.request_id", "req_" + uuid.uuid4().hex[:14]
        )
        response.headers["Request-Id"] = request_id
        version = request.environ.get("stripe.version")
        if version:
            response.headers["Stripe-Version"] = version
        return response

    def error_response(self, status: int, code: str, message: str, **extra):
        error = {"type": extra.pop("type", None) or "invalid_request_error"}
        if status == 404 and not code and "Unrecognized" not in message:
            code = "resource_missing"
        if code:
            error["code"] = code
            error["doc_url"] = (
                f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
            )
        error["message"] = message
        error.update({k: v for k, v in extra.items() if v is not None})
        return json_response({"error": error}, status)

    def _route_error(self, exc):
        if exc.code in (404, 405):
            return self.error_response(
                404,
                "",
                "Unrecognized request URL. Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            )
        return super()._route_error(exc)

    def throttle_response(self, request: Request, retry_after: float) -> Response:
        return self.error_response(
            429,
            "rate_limit",
            "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
        )

    def fault_response(self, fault) -> Response:
        status = fault.status or 500
        if fault.body is not None:
            response = super().fault_response(fault)
        else:
            response = self.error_response(
                status, "", "An unknown error occurred", type="api_error"
            )
        if status in (502, 503, 504):
            response.headers["Stripe-Should-Retry"] = "true"
        response.headers.update(fault.headers)
        return response

    def apply_fault(self, fault, request: Request):
        # Inside an idempotent POST, a 500 or a slow answer happens after
        # execution began: the idempotency layer holds the key meanwhile (a
        # concurrent retry gets 409) and saves the outcome (see _execute).
        idempotent = (
            request.method == "POST"
            and request.headers.get("Idempotency-Key")
            and request.path.startswith("/v1/")
        )
        inner = fault.kind == "timeout" or (
            fault.kind == "status" and (fault.status or 500) == 500
        )
        if idempotent and inner:
            request.environ["stripe.fault"] = fault
            return None
        return super().apply_fault(fault, request)

    def before_request(self, request: Request, operation):
        if not request.path.startswith("/v1/"):
            return None
        key = self._key(request)
        if key is None:
            return self.error_response(401, "", NO_KEY)
        if not (
            hmac.compare_digest(key, self.secret_key) or key in self.restricted_keys
        ):
            return self.error_response(
                401, "", f"Invalid API Key provided: {mask(key)}"
            )
        version = request.headers.get("Stripe-Version")
        if version is not None and version not in self.known_versions:
            return self.error_response(
                400, "", f"Invalid Stripe API version: {version}"
            )
        request.environ["stripe.version"] = version or self.api_version
        if key in self.restricted_keys:
            denied = self._denied(key, request)
            if denied:
                return self.error_response(403, "", denied)
        ok, _, _ = self.bucket.try_take()
        if not ok:
            return self.throttle_response(request, 1)
        return None

    @staticmethod
    def _key(request: Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        if scheme.lower() == "basic" and value:
            try:
                user = base64.b64decode(value).decode().partition(":")[0]
            except ValueError:
                return None
            return user or None
        return None

    def _denied(self, key: str, request: Request) -> str | None:
        segment = request.path.split("/")[2] if request.path.count("/") >= 2 else ""
        resource = RESOURCES.get(segment)
        if resource is None:
            return None
        need = "read" if request.method == "GET" else "write"
        have = self.restricted_keys[key].get(resource)
        if have in ("write", need):
            return None
        return (
            f"The provided key '{mask(key)}' does not have the required permissions "
            f"for this endpoint on account '{ACCOUNT}'. Having the "
            f"'rak_{resource}_{need}' permission would allow this request to continue."
        )

    # ------------------------------------------------ idempotency + handler
    def _params(self, request: Request) -> dict:
        raw = (
            request.query_string.decode("latin-1")
            if request.method in ("GET", "DELETE")
            else request.get_data(cache=True).decode("utf-8", "replace")
        )
        return parse_pairs(parse_qsl(raw, keep_blank_values=True))

    def _call(self, handler, request: Request, args: dict) -> Response:
        try:
            params = self._params(request)
        except FormError as exc:
            return self.error_response(400, "", str(exc), param=exc.param)
        key = (
            request.headers.get("Idempotency-Key") if request.method == "POST" else None
        )
        if key is not None and len(key) > MAX_KEY_LENGTH:
            return self.error_response(
                400, "", "Idempotency-Key must be at most 255 characters long."
            )
        if key is None or not request.path.startswith("/v1/"):
            return self._run(handler, request, args, params, None)
        fingerprint = canonical([request.method, request.path, params])
        state, saved = self.idempotency.begin(key, fingerprint)
        if state == "mismatch":
            return self.error_response(
                400,
                "",
                "Keys for idempotent requests can only be used with the same "
                "parameters they were first used with. Try using a key other than "
                f"'{key}' if you meant to execute a different request.",
                type="idempotency_error",
            )
        if state == "busy":
            response = self.error_response(
                409,
                "",
                "There is currently another in-progress request using this "
                "Idempotent Key (that probably means you submitted twice, and the "
                "other request is still going through): "
                f"{key}. Please try again later.",
                type="idempotency_error",
            )
            response.headers["Stripe-Should-Retry"] = "true"
            return response
        if state == "replay":
            response = Response(
                saved.body,
                status=saved.status,
                headers=saved.headers,
                content_type="application/json",
            )
            response.headers["Idempotent-Replayed"] = "true"
            return response
        response, began = None, False
        try:
            response, began = self._execute(handler, request, args, params, key)
        finally:
            if began and response is not None:
                headers = {
                    k: v
                    for k, v in response.headers.items()
                    if k.lower().startswith("stripe-should")
                }
                self.idempotency.finish(
                    key, response.status_code, response.get_data(), headers
                )
            else:
                self.idempotency.release(key)
        return response

    def _execute(self, handler, request, args, params, key):
        fault = request.environ.get("stripe.fault")
        if fault is not None and fault.kind == "timeout":
            time.sleep(fault.seconds or 0)
            fault = fault if fault.status else None
        if fault is not None:
            response = self.fault_response(fault)
            response.headers["Stripe-Should-Retry"] = "false"
            return response, True
        response = self._run(handler, request, args, params, key)
        return response, not request.environ.get("stripe.invalid")

    def _run(self, handler, request, args, params, key) -> Response:
        self._local.request_id = request.environ.setdefault(
            "stripe.request_id", "req_" + uuid.uuid4().hex[:14]
        )
        self._local.idempotency_key = key
        try:
            with self.lock:
                result = handler(request, params, **args)
        except FormError as exc:
            # "If incoming parameters fail validation ... no idempotent result
            # is saved"
            request.environ["stripe.invalid"] = True
            return self.error_response(400, "", str(exc), param=exc.param)
        except ApiError as exc:
            return self.error_response(exc.status, exc.code, exc.message, **exc.extra)
        finally:
            self._local.request_id = None
            self._local.idempotency_key = None
        if self.webhook_mode == "sync":
            self.flush_webhooks()
        return result if isinstance(result, Response) else json_response(result)

    # ------------------------------------------------------------ webhooks
    def _render_event(self, event_id: str, endpoint: dict) -> dict:
        with self.lock:
            event = self.ledger.render(self.ledger.objects[event_id])
        # "Events sent to this endpoint will be generated with this Stripe
        # Version instead of your account's default"
        event["api_version"] = endpoint.get("api_version") or self.api_version
        return event

    def _delivered(self, event_id: str) -> None:
        with self.lock:
            event = self.ledger.objects.get(event_id)
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1

    def flush_webhooks(self, **kwargs):
        """Deliver the due deliveries; see :meth:`WebhookHub.flush`."""
        return self.hub.flush(on_done=self._delivered, **kwargs)

    # handlers live in routes.py (``on_<endpoint>``) and admin.py
    def __getattr__(self, name: str):
        module = routes if name.startswith("on_") else admin
        function = getattr(module, name, None) if name[:3] in ("on_", "adm") else None
        if function is None:
            raise AttributeError(name)
        return lambda *a, **kw: function(self, *a, **kw)
