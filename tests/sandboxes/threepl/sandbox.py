"""The HTTP face of the 3PL sandbox: versions, token, channel, rate limit,
errors, pagination, outages and the webhooks the warehouse's facts cause.

Documentation followed (each also cited where it is implemented):

- Paths are date-versioned, ``https://api.shipbob.com/2026-07/...`` (and the
  older ``2026-01``, ``2025-07``); an unknown version is a route that does not
  exist: 404 (https://developer.shipbob.com/2026-07/rate-limit lists the
  version indexes 2026-07 (default), 2026-01, 2025-07).
- Authentication: ``Authorization: Bearer <Personal Access Token>``
  (https://developer.shipbob.com/2026-07/api/webhooks/create-subscription,
  "Authentication"); "401 Unauthorized: No valid API key provided"
  (https://developer.shipbob.com/2026-07/errors).
- Channel: "Make sure to pass the shipbob_channel_id in the request header.
  This identifies which channel the order belongs to"
  (https://developer.shipbob.com/guides/build-orders-integration); the header
  is "required" on Cancel Order (https://developer.shipbob.com/2026-01/api/
  orders/cancel-order). Channels come from ``GET /channel``
  (https://developer.shipbob.com/guides/returns, "Channel ID").
- Rate limit: "150 requests per-minute using a sliding window ... totalled
  per user, per application"; over it "429 ... (TooManyRequests)" with
  ``x-retry-after`` ("Try again in 25 seconds") and ``x-remaining-calls``,
  body ``{"statusCode": 429, "message": "Rate limit is exceeded. Try again
  in 25 seconds."}`` (https://developer.shipbob.com/2026-07/rate-limit). The
  sandbox sends ``x-remaining-calls`` on every API answer.
- Errors: 400 bodies are "map from string to list of string"
  (https://developer.shipbob.com/v2.0/api/orders/cancel-one-shipment-by-order-
  id-and-shipment-id/llms.txt); other errors use the one documented body shape
  above (``statusCode``, ``message``); 404 "The requested resource doesn't
  exist", 422 "Duplicate reference ID" (https://developer.shipbob.com/2026-07/errors).
- Pagination: "If there is an additional page you will see next-page in the
  header" (https://developer.shipbob.com/v1.0/faq.md); list endpoints take
  ``Page`` and ``Limit`` (https://developer.shipbob.com/2026-07/api/orders/
  get-completely-cancelled-orders). The header holds the path of the next
  page (secondary source: PLATFORMS.md §4).
"""

from __future__ import annotations

import math
import secrets
import uuid
from collections import deque
from pathlib import Path
from urllib.parse import urlencode

from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from ..toolkit import BaseSandbox, Clock, json_response, register
from . import admin, receiving, render, routes
from .sftp_side import SftpSide
from .warehouse import Warehouse
from .webhooks import WebhookHub

API_VERSION = "2026-07"
KNOWN_VERSIONS = receiving.VERSIONS
RATE_LIMIT = 150
RATE_WINDOW = 60.0
DEFAULT_LIMIT = 50
MAX_LIMIT = 250
DEFAULT_CHANNEL = {"id": 1001, "name": "retail_connect", "application_name": "SMA"}
WEBHOOK_MODES = ("queue", "sync")


# the demo's token (``python -m sandboxes``); tests may pass their own
TOKEN = "shipbob-sandbox-token"


@register("threepl")
class ThreePLSandbox(BaseSandbox):
    """One ShipBob-like merchant account; see the package docstring."""

    name = "threepl"
    url_map = Map(routes.RULES, strict_slashes=False)
    admin_rules = admin.ADMIN_RULES

    def __init__(
        self,
        token: str | None = None,
        *,
        clock: Clock | None = None,
        channels: list[dict] | None = None,
        fulfillment_centers: list[dict] | None = None,
        rate_limit: int = RATE_LIMIT,
        webhook_mode: str = "queue",
        sftp: bool = True,
        sftp_port: int = 0,
    ):
        """``webhook_mode`` ``sync`` delivers every webhook right after the
        request or admin action that caused it; ``queue`` waits for
        :meth:`flush_webhooks`. ``sftp=False``: no SFTP server (REST only);
        else it listens on ``sftp_port`` (0: any free) while the sandbox is
        served (``sb.sftp.info()``: port, host key, files)."""
        if webhook_mode not in WEBHOOK_MODES:
            raise ValueError(f"webhook_mode must be one of {WEBHOOK_MODES}")
        self.token = token or TOKEN
        self.channels = [dict(c) for c in (channels or [DEFAULT_CHANNEL])]
        self.fulfillment_centers = fulfillment_centers
        self.rate_limit = rate_limit
        self.webhook_mode = webhook_mode
        clock = clock or Clock()
        self.hub = WebhookHub(clock)
        self.sftp_port = sftp_port
        self.sftp = SftpSide(self, clock) if sftp else None
        super().__init__(clock=clock)

    # --------------------------------------------------------------- state
    def reset_state(self) -> None:
        with self.lock:
            base = self._id_base()
            self.warehouse = Warehouse(
                self.clock, fulfillment_centers=self.fulfillment_centers, id_base=base
            )
            self.warehouse.listeners.append(self._on_fact)
            self.hub.reset(base)
            self.calls: dict[str, deque] = {}
            self.outages: list[tuple[float, float]] = []
            if self.sftp is not None:
                self.sftp.reset()
                self.warehouse.listeners.append(self.sftp.on_fact)

    def on_serve(self, server) -> None:
        if self.sftp is not None:
            self.sftp.start(self.sftp_port)

    def on_stop(self) -> None:
        if self.sftp is not None:
            self.sftp.stop()

    def persist_ids(self, path) -> None:
        super().persist_ids(path)
        # ``python -m sandboxes --state-dir DIR``: DIR/threepl.authorized_keys
        # holds the OpenSSH public keys the SFTP account accepts
        keys = Path(path).with_suffix(".authorized_keys")
        if self.sftp is not None and keys.exists():
            for line in keys.read_text().splitlines():
                if line.strip() and not line.startswith("#"):
                    self.sftp.authorize(line.strip())

    def add_outage(self, start: float, end: float) -> None:
        """Every API request between ``start`` and ``end`` (clock) gets 503."""
        if end <= start:
            raise ValueError("an outage ends after it starts")
        self.outages.append((float(start), float(end)))

    def in_outage(self) -> bool:
        now = self.clock.now()
        return any(start <= now < end for start, end in self.outages)

    def channel(self, request: Request, required: bool) -> dict | None:
        raw = request.headers.get("shipbob_channel_id")
        if raw is None:
            raw = request.headers.get("shipbob-channel-id")
        if raw is None:
            if required:
                raise routes.BadRequest(
                    "shipbob_channel_id", "The channel header is required."
                )
            return None
        for channel in self.channels:
            if str(channel["id"]) == raw.strip():
                return channel
        raise routes.Forbidden(f"Channel {raw} is not accessible with this token.")

    # ---------------------------------------------------------- http hooks
    def operation_for(self, request: Request, endpoint: str | None) -> str | None:
        return endpoint

    def error_response(self, status: int, code: str, message: str, **extra) -> Response:
        if status == 400:
            return json_response({extra.get("field") or code: [message]}, 400)
        body = {"statusCode": status, "message": message}
        body.update({k: v for k, v in extra.items() if v is not None})
        return json_response(body, status)

    def throttle_response(self, request: Request, retry_after: float) -> Response:
        seconds = max(1, math.ceil(retry_after))
        response = json_response(
            {
                "statusCode": 429,
                "message": f"Rate limit is exceeded. Try again in {seconds} seconds.",
            },
            429,
        )
        response.headers["x-retry-after"] = str(seconds)
        response.headers["x-remaining-calls"] = "0"
        return response

    def _route_error(self, exc) -> Response:
        if exc.code in (404, 405):
            return self.error_response(
                404, "not_found", "The requested resource doesn't exist."
            )
        return super()._route_error(exc)

    def before_request(self, request: Request, operation):
        version = request.path.strip("/").split("/", 1)[0]
        if version not in KNOWN_VERSIONS:
            return None  # answered 404 by routing (no such path)
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            value.strip().encode(), self.token.encode()
        ):
            return self.error_response(
                401, "unauthorized", "No valid API key provided."
            )
        if self.in_outage():
            return self.error_response(503, "unavailable", "Service Unavailable")
        return self._count_call(request, value.strip())

    def _count_call(self, request: Request, token: str):
        # "150 requests per-minute using a sliding window"
        now = self.clock.now()
        with self.lock:
            calls = self.calls.setdefault(token, deque())
            while calls and calls[0] <= now - RATE_WINDOW:
                calls.popleft()
            if len(calls) >= self.rate_limit:
                return self.throttle_response(request, calls[0] + RATE_WINDOW - now)
            calls.append(now)
            request.environ["threepl.remaining"] = self.rate_limit - len(calls)
        return None

    def finalize(self, request: Request, response: Response) -> Response:
        remaining = request.environ.get("threepl.remaining")
        if remaining is not None and "x-remaining-calls" not in response.headers:
            response.headers["x-remaining-calls"] = str(remaining)
        response.headers.setdefault("x-request-id", str(uuid.uuid4()))
        return response

    def fault_response(self, fault) -> Response:
        if fault.body is not None:
            return super().fault_response(fault)
        status = fault.status or 500
        response = self.error_response(status, "injected", "Internal Server Error")
        response.headers.update(fault.headers)
        return response

    def _call(self, handler, request: Request, args: dict) -> Response:
        try:
            with self.lock:
                result = handler(request, **args)
        except routes.HttpProblem as exc:
            return self.error_response(exc.status, "", exc.message, field=exc.field)
        except routes.WarehouseError as exc:
            return self.error_response(exc.status, exc.code, exc.message)
        if self.webhook_mode == "sync":
            self.flush_webhooks()
        return result if isinstance(result, Response) else json_response(result)

    def paginate(self, request: Request, items: list) -> Response:
        """One page of ``items`` and, when there is more, ``next-page``."""
        args = {k.lower(): v for k, v in request.args.items()}
        try:
            page = max(1, int(args.get("page", 1)))
            limit = min(MAX_LIMIT, max(1, int(args.get("limit", DEFAULT_LIMIT))))
        except ValueError:
            raise routes.BadRequest(
                "Page", "Page and Limit must be integers."
            ) from None
        chunk = items[(page - 1) * limit : page * limit]
        response = json_response(chunk)
        if page * limit < len(items):
            query = [(k, v) for k, v in request.args.items(multi=True)]
            query = [(k, v) for k, v in query if k.lower() not in ("page", "limit")]
            query += [("Page", str(page + 1)), ("Limit", str(limit))]
            response.headers["next-page"] = f"{request.path}?{urlencode(query)}"
        return response

    # ------------------------------------------------------------ webhooks
    def _on_fact(self, kind: str, fact: dict) -> None:
        if fact.get("transport") != "rest":
            return
        for topic, payload in render.webhook_payloads(self, kind, fact):
            self.hub.publish(topic, payload)

    def flush_webhooks(self, **kwargs):
        """Deliver the due webhooks; see :meth:`WebhookHub.flush`."""
        return self.hub.flush(**kwargs)

    # the warehouse floor, from Python (same as the admin routes)
    ship = admin.ship
    refuse = admin.refuse
    track = admin.track
    receive = admin.receive
    arrive_return = admin.arrive_return
    complete_return = admin.complete_return
    stock = admin.stock
    drift = admin.drift
    adjust = admin.adjust
    snapshot = admin.snapshot

    # handlers live in routes.py and receiving.py (``on_<endpoint>``) and admin.py
    def __getattr__(self, name: str):
        modules = (routes, receiving) if name.startswith("on_") else (admin,)
        function = None
        if name[:3] in ("on_", "adm"):
            function = next(
                (getattr(m, name) for m in modules if hasattr(m, name)), None
            )
        if function is None:
            raise AttributeError(name)
        return lambda *a, **kw: function(self, *a, **kw)
