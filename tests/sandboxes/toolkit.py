"""Shared machinery for the platform sandboxes.

A sandbox is a WSGI app (a :class:`BaseSandbox` subclass) that speaks one
platform's protocol and keeps state; :class:`SandboxServer` serves it on
127.0.0.1 from a daemon thread. Every sandbox gets an injectable :class:`Clock`,
a :class:`FaultPlan`, a :class:`Recorder` and JSON admin routes under
``/__sandbox__/``:

- ``POST /__sandbox__/reset``: forget all state, faults, recorded requests and
  clock moves (configuration such as tokens and the webhook URL is kept);
- ``GET|POST /__sandbox__/clock``: ``{"advance": seconds}`` or ``{"set": epoch}``,
  answers ``{"now": epoch, "iso": "...Z"}``;
- ``GET|POST|DELETE /__sandbox__/faults``: list, add (``{"kind", "status",
  "times", "skip", "path", "operation", "seconds", "body"}``) or clear the
  faults (``skip``: let that many matching requests through first);
- ``GET|DELETE /__sandbox__/requests[?path=prefix]``: list or clear the
  recorded API requests;
- ``GET /__sandbox__/stock_history``: what the platform offered for sale,
  ``[{"time", "sku", "where", "quantity"}]`` oldest first, one entry per
  change (sandboxes that sell stock: :meth:`BaseSandbox.offered_stock`).

State lives in memory; with :meth:`BaseSandbox.persist_ids` (``python -m
sandboxes --state-dir``, as ``make demo`` does) the ids a sandbox hands out are
never handed out again by a later run or a reset, so a database that outlives
the sandbox never sees an old id come back for a new record.

Admin requests are neither recorded nor subject to faults.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

_logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/__sandbox__/"
FAULT_KINDS = ("status", "timeout", "throttle")
DEFAULT_TIMEOUT_SECONDS = 3.0
# A timeout fault must never hang a test run or a demo for long.
MAX_TIMEOUT_SECONDS = 30.0
MAX_WEBHOOK_DELAY = 30.0
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ISO_RE = re.compile(
    r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:?\d\d)?"
)


# --------------------------------------------------------------------- time
def utc_iso(epoch: float) -> str:
    """Format epoch seconds as ISO 8601 UTC with milliseconds and a ``Z``."""
    # Work on integer milliseconds: float seconds would round 1.001 to 1.000.
    return iso_from_ms(math.floor(epoch * 1000))


def iso_from_ms(ms: int) -> str:
    """Format integer epoch milliseconds as ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    moment = datetime.fromtimestamp(ms // 1000, timezone.utc)
    moment = moment.replace(microsecond=(ms % 1000) * 1000)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_datetime(text: str) -> datetime:
    """Parse ISO 8601 (``Z``, an offset, or naive meaning UTC) to an aware UTC."""
    match = _ISO_RE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"invalid ISO 8601 date-time {text!r}")
    # Python 3.10's fromisoformat takes neither "Z", "+0100" nor 1 to 9 digits.
    head, fraction, zone = match.groups()
    fraction = (fraction or "")[:6].ljust(6, "0")
    if zone in (None, "Z", "z"):
        zone = "+00:00"
    elif ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    moment = datetime.fromisoformat(f"{head}.{fraction}{zone}")
    return moment.astimezone(timezone.utc)


def parse_iso(text: str) -> float:
    """Parse ISO 8601 to epoch seconds; see :func:`parse_datetime`."""
    return parse_datetime(text).timestamp()


def parse_iso_ms(text: str) -> int:
    """Parse ISO 8601 to exact integer epoch milliseconds (rounded down)."""
    # Integer arithmetic: float seconds * 1000 can land 1 ms short.
    return (parse_datetime(text) - _EPOCH) // timedelta(milliseconds=1)


class Clock:
    """Injectable clock: real time plus an offset, or frozen until moved.

    ``Clock()`` follows real time; ``Clock(start=epoch)`` starts at ``epoch`` and
    runs on; ``frozen=True`` only moves through :meth:`advance` and :meth:`set`.
    """

    def __init__(self, start: float | None = None, *, frozen: bool = False):
        self._lock = threading.Lock()
        self._start = start
        self._frozen = frozen
        self.reset()

    @property
    def frozen(self) -> bool:
        return self._frozen

    def reset(self) -> None:
        """Go back to the configuration given at construction."""
        with self._lock:
            real = time.time()
            base = real if self._start is None else self._start
            self._offset = base - real
            self._fixed = base

    def now(self) -> float:
        with self._lock:
            return self._fixed if self._frozen else time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move by ``seconds`` (negative moves back); return the new now."""
        with self._lock:
            self._fixed += seconds
            self._offset += seconds
            return self._fixed if self._frozen else time.time() + self._offset

    def set(self, epoch: float) -> float:
        with self._lock:
            self._fixed = epoch
            self._offset = epoch - time.time()
            return epoch


# --------------------------------------------------------------- throttling
class TokenBucket:
    """Up to ``capacity`` tokens, refilled at ``rate`` tokens a second."""

    def __init__(self, capacity: float, rate: float, clock: Clock | None = None):
        if capacity <= 0 or rate <= 0:
            raise ValueError("capacity and rate must be positive")
        self.capacity = capacity
        self.rate = rate
        self.clock = clock or Clock()
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Fill the bucket."""
        with self._lock:
            self._tokens = float(self.capacity)
            self._stamp = self.clock.now()

    def drain(self) -> None:
        """Empty the bucket (the next request waits ``1 / rate``)."""
        with self._lock:
            self._refill()
            self._tokens = 0.0

    def _refill(self) -> None:
        now = self.clock.now()
        elapsed = now - self._stamp
        if elapsed > 0:
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        # A clock set backwards restarts the refill from there, never drains.
        self._stamp = now

    @property
    def available(self) -> float:
        with self._lock:
            self._refill()
            return self._tokens

    def try_take(self, cost: float = 1) -> tuple[bool, float, float]:
        """Take ``cost`` tokens if there are enough.

        Return ``(ok, wait_seconds, available)``: ``wait_seconds`` is how long
        until ``cost`` tokens are there (0 when ok, ``inf`` when ``cost`` exceeds
        the capacity), ``available`` what is left after the attempt.
        """
        with self._lock:
            self._refill()
            if self._tokens >= cost:
                self._tokens -= cost
                return True, 0.0, self._tokens
            if cost > self.capacity:
                return False, math.inf, self._tokens
            return False, (cost - self._tokens) / self.rate, self._tokens


class LeakyBucket(TokenBucket):
    """A leaky bucket (Shopify's model): requests fill it, it leaks ``rate``/s.

    It answers exactly like a token bucket whose tokens are the free room;
    ``level`` is how full it is.
    """

    @property
    def level(self) -> float:
        return self.capacity - self.available


# ------------------------------------------------------------------- faults
@dataclass
class Fault:
    """One injected fault; ``times`` is what is left (``None``: until cleared);
    ``skip`` matching requests pass untouched before it strikes."""

    kind: str
    status: int | None = None
    times: int | None = 1
    skip: int = 0
    path: str | None = None
    operation: str | None = None
    seconds: float | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def matches(self, path: str, operation: str | None) -> bool:
        if self.path is not None and not path.startswith(self.path):
            return False
        return self.operation is None or self.operation == operation

    def to_dict(self) -> dict:
        body = self.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        return {
            "kind": self.kind,
            "status": self.status,
            "times": self.times,
            "skip": self.skip,
            "path": self.path,
            "operation": self.operation,
            "seconds": self.seconds,
            "body": body,
            "headers": dict(self.headers),
        }


class FaultPlan:
    """Queue of injected faults, consumed in order by the requests they match.

    - ``status``: answer ``status`` (default 500) with ``body`` or the
      platform's error shape;
    - ``timeout``: sleep ``seconds`` (default 3, at most 30) first; then, like a
      slow server, still do the work, unless ``status`` is given: then answer
      that instead;
    - ``throttle``: answer the platform's throttle response, ``seconds`` being
      the retry delay (default 1).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        kind: str = "status",
        *,
        status: int | None = None,
        times: int | None = 1,
        skip: int = 0,
        path: str | None = None,
        operation: str | None = None,
        seconds: float | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, not {kind!r}")
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ValueError("times must be a positive integer or None")
        if not isinstance(skip, int) or skip < 0:
            raise ValueError("skip must be a non-negative integer")
        if kind == "status" and status is None:
            status = 500
        if status is not None and not 100 <= int(status) <= 599:
            raise ValueError(f"invalid HTTP status {status!r}")
        if seconds is not None and seconds < 0:
            raise ValueError("seconds must not be negative")
        if kind == "timeout":
            seconds = DEFAULT_TIMEOUT_SECONDS if seconds is None else seconds
            seconds = min(float(seconds), MAX_TIMEOUT_SECONDS)
        elif kind == "throttle" and seconds is None:
            seconds = 1.0
        fault = Fault(
            kind=kind,
            status=None if status is None else int(status),
            times=times,
            skip=skip,
            path=path,
            operation=operation,
            seconds=seconds,
            body=body,
            headers=dict(headers or {}),
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, path: str, operation: str | None = None) -> Fault | None:
        """Consume one use of the first fault matching this request."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(path, operation):
                    if fault.skip:
                        fault.skip -= 1
                        continue
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)


# ------------------------------------------------------------ stock history
class StockHistory:
    """What a sandbox offered for sale over time: one entry per change of a
    ``(sku, where)`` quantity, stamped with the sandbox's clock.

    The sandbox observes its own state after every request (API or admin),
    so every change made over HTTP is there, at most one request late; the
    flash sale scenario reads it to measure how long a channel offered more
    than Odoo could sell (tests/sandboxes/flashsale)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], int] = {}
        self.entries: list[dict] = []

    def observe(self, now: float, offered: Mapping[tuple[str, str], int]) -> None:
        with self._lock:
            for key in sorted(set(offered) | set(self._last)):
                quantity = offered.get(key)
                if key in self._last and self._last[key] == quantity:
                    continue
                if quantity is None:
                    del self._last[key]
                else:
                    self._last[key] = quantity
                sku, where = key
                self.entries.append(
                    {"time": now, "sku": sku, "where": where, "quantity": quantity}
                )

    def clear(self) -> None:
        with self._lock:
            self._last.clear()
            self.entries = []

    def list(self) -> list[dict]:
        with self._lock:
            return [dict(entry) for entry in self.entries]


# ----------------------------------------------------------------- recorder
@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    time: float
    operation: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body.decode("utf-8", "replace"),
            "time": self.time,
            "operation": self.operation,
        }


class Recorder:
    """The last ``maxlen`` requests received, oldest first."""

    def __init__(self, maxlen: int = 10_000):
        self._lock = threading.Lock()
        self._items: deque[RecordedRequest] = deque(maxlen=maxlen)

    def record(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def requests(
        self, path_prefix: str | None = None, method: str | None = None
    ) -> list[RecordedRequest]:
        with self._lock:
            items = list(self._items)
        return [
            item
            for item in items
            if (path_prefix is None or item.path.startswith(path_prefix))
            and (method is None or item.method == method.upper())
        ]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


# ------------------------------------------------------------------- server
class _QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Tests make thousands of requests; errors are still logged.
        pass


class SandboxServer:
    """Serve a WSGI app on 127.0.0.1 from a daemon thread (port 0: any free).

    A sandbox's :meth:`~BaseSandbox.companions` are served alongside, each on a
    free port of the same host, and stopped with it.
    """

    def __init__(
        self, app, port: int = 0, host: str = "127.0.0.1", *, quiet: bool = True
    ):
        self.app = app
        self.host = host
        self.port = port
        self.quiet = quiet
        self._server = None
        self._thread: threading.Thread | None = None
        self._companions: list[SandboxServer] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> SandboxServer:
        if self._server is not None:
            raise RuntimeError("server already started")
        # A subclass per server: werkzeug sets protocol_version on the class.
        handler = type(
            "SandboxRequestHandler",
            (_QuietRequestHandler if self.quiet else WSGIRequestHandler,),
            {},
        )
        self._server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=handler
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            # A short poll keeps stop() fast.
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        if isinstance(self.app, BaseSandbox):
            self.app.url = self.url
            # a companion is another host of the platform (e.g. the storage
            # that serves signed download URLs): its own listener, same life
            for companion in self.app.companions():
                self._companions.append(
                    SandboxServer(companion, 0, self.host, quiet=self.quiet).start()
                )
            # listeners of other protocols (the 3PL's SFTP server)
            self.app.on_serve(self)
        return self

    def stop(self) -> None:
        while self._companions:
            self._companions.pop().stop()
        if self._server is not None and isinstance(self.app, BaseSandbox):
            self.app.on_stop()
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


# ------------------------------------------------------------------ sandbox
class ApiError(Exception):
    """Raised by handlers; answered with the sandbox's error shape."""

    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(payload),
        status=status,
        headers=dict(headers or {}),
        content_type="application/json",
    )


class SandboxRequest(Request):
    # Platforms refuse huge bodies; so does the sandbox.
    max_content_length = 10 * 1024 * 1024


class IdBlocks:
    """Blocks of ids reserved in a file, so no two runs hand out the same id.

    Each :meth:`reserve` returns the start of a block of ``size`` ids nobody
    got before (the file keeps the next free start, under an exclusive lock,
    so concurrent sandboxes on one file get distinct blocks too).
    """

    def __init__(self, path: str | Path, size: int = 1_000_000):
        self.path = Path(path)
        self.size = size

    def reserve(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            text = handle.read().strip()
            start = int(text) if text else 0
            handle.seek(0)
            handle.truncate()
            handle.write(f"{start + self.size}\n")
            handle.flush()
        return start


class BaseSandbox:
    """WSGI app with a clock, faults, a recorder, a state lock and admin routes.

    Subclasses set ``url_map`` (rule endpoints ``X`` are served by methods
    ``on_X(request, **args)``), may add ``admin_rules`` (served by
    ``admin_X(request, data, **args)`` returning JSON-able data or a Response),
    set their configuration before calling ``super().__init__()`` and keep
    their state in :meth:`reset_state`, under ``self.lock``.

    A request goes: record, fault, :meth:`before_request` (auth, throttling),
    routing errors, handler, :meth:`finalize` (headers).
    """

    name = "sandbox"
    url_map = Map([])
    admin_rules: tuple[Rule, ...] = ()

    def __init__(self, *, clock: Clock | None = None):
        self.id_blocks: IdBlocks | None = None
        self.clock = clock or Clock()
        self.faults = FaultPlan()
        self.recorder = Recorder()
        self.stock_history = StockHistory()
        self.lock = threading.RLock()
        self.url: str | None = None
        base_rules = [
            Rule("/__sandbox__/reset", endpoint="reset", methods=["POST"]),
            Rule("/__sandbox__/clock", endpoint="clock", methods=["GET", "POST"]),
            Rule(
                "/__sandbox__/faults",
                endpoint="faults",
                methods=["GET", "POST", "DELETE"],
            ),
            Rule(
                "/__sandbox__/requests", endpoint="requests", methods=["GET", "DELETE"]
            ),
            Rule("/__sandbox__/stock_history", endpoint="stock_history"),
        ]
        # Rules bind to one Map: copy the class-level ones for this instance.
        self._admin_map = Map(
            base_rules + [rule.empty() for rule in self.admin_rules],
            strict_slashes=False,
        )
        self.reset_state()

    # ---------------------------------------------------------- python API
    # Sandboxes that send webhooks set ``self.webhooks`` (a WebhookSender).
    @property
    def webhook_url(self) -> str | None:
        return self.webhooks.target()

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        self.webhooks.url = url

    def flush_webhooks(self, **kwargs: Any) -> list[tuple[int | None, str]]:
        """Deliver queued events; see :meth:`WebhookSender.flush`."""
        return self.webhooks.flush(**kwargs)

    def companions(self) -> list[BaseSandbox]:
        """Other hosts of the platform, each served on its own port by the
        :class:`SandboxServer` that serves this sandbox (subclasses)."""
        return []

    def reset_state(self) -> None:
        """Forget the platform state (subclasses)."""

    def on_serve(self, server: SandboxServer) -> None:
        """Called once ``server`` listens: start other listeners (subclasses)."""

    def on_stop(self) -> None:
        """Called when the server stops: stop them (subclasses)."""

    def persist_ids(self, path: str | Path) -> None:
        """Never hand out an id again that a run on ``path`` handed out before.

        The platform state starts over (it lives in memory), its id counters
        from a block of ids reserved in ``path``; a reset reserves a new one.
        """
        with self.lock:
            self.id_blocks = IdBlocks(path)
            self.reset_state()

    def _id_base(self) -> int:
        """Where a fresh state's id counters start above their usual values:
        0 in memory only, a new reserved block with :meth:`persist_ids`."""
        return self.id_blocks.reserve() if self.id_blocks else 0

    def reset(self, *, clock: bool = True) -> None:
        """Forget state, faults, recorded requests and (``clock``) clock moves."""
        with self.lock:
            self.faults.clear()
            self.recorder.clear()
            self.stock_history.clear()
            if clock:
                self.clock.reset()
            self.reset_state()

    def inject_fault(self, kind: str = "status", **kwargs: Any) -> Fault:
        """Add a fault; see :meth:`FaultPlan.add`."""
        return self.faults.add(kind, **kwargs)

    def requests(
        self, path_prefix: str | None = None, method: str | None = None
    ) -> list[RecordedRequest]:
        return self.recorder.requests(path_prefix, method)

    def serve(self, port: int = 0, host: str = "127.0.0.1") -> SandboxServer:
        """Start a :class:`SandboxServer` for this sandbox and return it."""
        return SandboxServer(self, port, host).start()

    # --------------------------------------------------------------- hooks
    def offered_stock(self) -> dict[tuple[str, str], int]:
        """``{(sku, where): quantity}`` a buyer can order now (sandboxes that
        sell stock; ``where``: a location or marketplace). Called under
        :attr:`lock` after every request, for :attr:`stock_history`."""
        return {}

    def observe_stock(self) -> None:
        with self.lock:
            offered = self.offered_stock()
            if offered or self.stock_history.entries:
                self.stock_history.observe(self.clock.now(), offered)

    def operation_for(self, request: Request, endpoint: str | None) -> str | None:
        """Name of the operation that faults can match (the rule endpoint)."""
        return endpoint

    def before_request(self, request: Request, operation: str | None):
        """Return a Response to answer instead of routing (auth, throttling)."""
        return None

    def finalize(self, request: Request, response: Response) -> Response:
        response.headers.setdefault("X-Request-Id", str(uuid.uuid4()))
        return response

    def error_response(
        self, status: int, code: str, message: str, **extra: Any
    ) -> Response:
        return json_response(
            {"error": {"code": code, "message": message, **extra}}, status
        )

    def throttle_response(self, request: Request, retry_after: float) -> Response:
        response = self.error_response(429, "throttled", "too many requests")
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return response

    def fault_response(self, fault: Fault) -> Response:
        status = fault.status or 500
        if fault.body is None:
            response = self.error_response(status, "internal", "injected")
        elif isinstance(fault.body, str | bytes):
            response = Response(fault.body, status=status)
        else:
            response = json_response(fault.body, status)
        response.headers.update(fault.headers)
        return response

    def apply_fault(self, fault: Fault, request: Request) -> Response | None:
        """Answer for ``fault``, or None to go on with the request."""
        if fault.kind == "timeout":
            time.sleep(fault.seconds or 0)
            return None if fault.status is None else self.fault_response(fault)
        if fault.kind == "throttle":
            return self.throttle_response(request, fault.seconds or 1)
        return self.fault_response(fault)

    # ---------------------------------------------------------------- WSGI
    def __call__(self, environ, start_response):
        request = SandboxRequest(environ)
        try:
            response = self.dispatch(request)
            self.observe_stock()
        except Exception:
            _logger.exception("%s sandbox failed on %s", self.name, request.path)
            response = self.finalize(
                request, self.error_response(500, "internal", "sandbox error")
            )
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith(ADMIN_PREFIX):
            return self.finalize(request, self._dispatch_admin(request))
        endpoint, args, route_error = None, {}, None
        try:
            endpoint, args = self.url_map.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            route_error = exc
        operation = self.operation_for(request, endpoint)
        self.recorder.record(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=request.query_string.decode("latin-1"),
                headers=dict(request.headers),
                body=request.get_data(cache=True),
                time=self.clock.now(),
                operation=operation,
            )
        )
        response = None
        fault = self.faults.take(request.path, operation)
        if fault is not None:
            response = self.apply_fault(fault, request)
        if response is None:
            response = self.before_request(request, operation)
        if response is None:
            if route_error is not None:
                response = self._route_error(route_error)
            else:
                response = self._call(getattr(self, f"on_{endpoint}"), request, args)
        return self.finalize(request, response)

    def _route_error(self, exc: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(
            exc.code, "invalid_request"
        )
        return self.error_response(exc.code or 400, code, exc.description or code)

    def _call(self, handler: Callable, request: Request, args: dict) -> Response:
        try:
            return handler(request, **args)
        except ApiError as exc:
            return self.error_response(exc.status, exc.code, exc.message, **exc.extra)
        except HTTPException as exc:
            return self._route_error(exc)

    def _dispatch_admin(self, request: Request) -> Response:
        try:
            endpoint, args = self._admin_map.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            return self._route_error(exc)
        data: Any = {}
        raw = request.get_data(cache=True)
        if raw.strip():
            try:
                data = json.loads(raw)
            except ValueError:
                return self.error_response(
                    400, "invalid_request", "body is not valid JSON"
                )
            if not isinstance(data, dict):
                return self.error_response(
                    400, "invalid_request", "body must be a JSON object"
                )
        try:
            result = getattr(self, f"admin_{endpoint}")(request, data, **args)
        except (ValueError, TypeError, KeyError) as exc:
            return self.error_response(400, "invalid_request", str(exc))
        except ApiError as exc:
            return self.error_response(exc.status, exc.code, exc.message, **exc.extra)
        return result if isinstance(result, Response) else json_response(result)

    # --------------------------------------------------------- admin routes
    def admin_reset(self, request: Request, data: dict) -> dict:
        self.reset(clock=data.get("clock", True))
        return {"reset": True}

    def admin_stock_history(self, request: Request, data: dict) -> list:
        self.observe_stock()
        return self.stock_history.list()

    def admin_clock(self, request: Request, data: dict) -> dict:
        if request.method == "POST":
            if "set" in data:
                self.clock.set(float(data["set"]))
            if "advance" in data:
                self.clock.advance(float(data["advance"]))
        now = self.clock.now()
        return {"now": now, "iso": utc_iso(now)}

    def admin_faults(self, request: Request, data: dict) -> Any:
        if request.method == "POST":
            allowed = {
                "kind",
                "status",
                "times",
                "skip",
                "path",
                "operation",
                "seconds",
                "body",
                "headers",
            }
            unknown = set(data) - allowed
            if unknown:
                raise ValueError(f"unknown fault fields: {sorted(unknown)}")
            fault = self.faults.add(**data)
            return json_response(fault.to_dict(), 201)
        if request.method == "DELETE":
            self.faults.clear()
        return [fault.to_dict() for fault in self.faults.pending()]

    def admin_requests(self, request: Request, data: dict) -> list:
        if request.method == "DELETE":
            self.recorder.clear()
        path = request.args.get("path")
        return [item.to_dict() for item in self.recorder.requests(path)]


# ----------------------------------------------------------------- webhooks
@dataclass
class Delivery:
    """One POST of an event (``status`` None: no answer, ``body`` says why)."""

    event: dict
    status: int | None
    body: str
    duplicate: bool
    time: float


class WebhookSender:
    """Post signed webhook deliveries to ``url``, now or from a queue.

    ``sign(raw_body, event) -> headers`` gives every header of a delivery
    (signature, topic, event id, content type); it is called again for each
    POST, duplicates included, as platforms sign each attempt. ``url`` may be
    a string or a callable returning it.
    """

    def __init__(
        self,
        sign: Callable[[bytes, dict], Mapping[str, str]],
        url: str | Callable[[], str | None] | None = None,
        *,
        timeout: float = 10.0,
        serialize: Callable[[dict], bytes] | None = None,
        history: int = 1000,
    ):
        self.sign = sign
        self.url = url
        self.timeout = timeout
        self.serialize = serialize or (lambda event: json.dumps(event).encode())
        self._lock = threading.Lock()
        self._queue: list[dict] = []
        self.history: deque[Delivery] = deque(maxlen=history)

    def target(self) -> str | None:
        return self.url() if callable(self.url) else self.url

    def deliver(
        self, event: dict, duplicate: bool = False, delay: float = 0
    ) -> list[tuple[int | None, str]]:
        """POST ``event`` (twice if ``duplicate``) after ``delay`` real seconds."""
        if delay:
            time.sleep(min(delay, MAX_WEBHOOK_DELAY))
        raw = self.serialize(event)
        answers = [self._post(raw, event, duplicate=False)]
        if duplicate:
            answers.append(self._post(raw, event, duplicate=True))
        return answers

    def _post(self, raw: bytes, event: dict, duplicate: bool) -> tuple[int | None, str]:
        # an event may carry its own target (one per platform subscription)
        url = event.get("url") or self.target()
        if not url:
            raise RuntimeError("no webhook target URL set")
        headers = dict(self.sign(raw, event))
        try:
            answer = requests.post(url, data=raw, headers=headers, timeout=self.timeout)
            status, body = answer.status_code, answer.text
        except requests.RequestException as exc:
            status, body = None, f"{type(exc).__name__}: {exc}"
        self.history.append(Delivery(event, status, body, duplicate, time.time()))
        return status, body

    def send(self, event: dict, mode: str) -> None:
        """Post now (``sync``), from a thread (``async``) or later (``queue``)."""
        if mode == "sync":
            self.deliver(event)
        elif mode == "async":
            threading.Thread(target=self.deliver, args=(event,), daemon=True).start()
        else:
            self.queue(event)

    def queue(self, event: dict) -> None:
        with self._lock:
            self._queue.append(event)

    @property
    def pending(self) -> list[dict]:
        with self._lock:
            return list(self._queue)

    def flush(
        self,
        order: str = "fifo",
        duplicate_every: int | None = None,
        delay: float = 0,
        seed: int | None = None,
    ) -> list[tuple[int | None, str]]:
        """Deliver the queued events and empty the queue.

        ``order``: ``fifo``, ``reverse`` or ``shuffle`` (``seed`` makes it
        repeatable); every ``duplicate_every``-th event is posted twice in a
        row; ``delay`` real seconds are waited before each event.
        """
        if order not in ("fifo", "reverse", "shuffle"):
            raise ValueError(f"unknown order {order!r}")
        if duplicate_every is not None and duplicate_every < 1:
            raise ValueError("duplicate_every must be positive")
        with self._lock:
            events, self._queue = self._queue, []
        if order == "reverse":
            events.reverse()
        elif order == "shuffle":
            random.Random(seed).shuffle(events)
        answers = []
        for index, event in enumerate(events, 1):
            duplicate = bool(duplicate_every) and index % duplicate_every == 0
            answers += self.deliver(event, duplicate=duplicate, delay=delay)
        return answers

    def clear(self) -> None:
        """Drop the queue and the history."""
        with self._lock:
            self._queue.clear()
        self.history.clear()


# ----------------------------------------------------------------- registry
REGISTRY: dict[str, Callable[[], BaseSandbox]] = {}


def register(name: str):
    """Class decorator: make a sandbox startable by ``python -m sandboxes``.

    The factory (usually the class) is called without arguments.
    """

    def decorator(factory):
        REGISTRY[name] = factory
        return factory

    return decorator
