"""The HTTP client every platform uses.

One ``requests.Session`` per backend, a timeout on every call, an idempotency key
on writes, every exchange reported (masked) to a callback, and the platform's own
"slow down / try again" signals turned into ``ThrottledError`` / ``TransientError``
carrying the delay the platform asked for. It never sleeps: inside a job the base
turns those errors into ``RetryableJobError(seconds=...)`` so no worker is held.

Credentials go to the backend's API host only. The ``headers`` given to the
client (the token) are sent with paths and with absolute URLs of the API's own
origin (scheme, host, port); an absolute URL elsewhere is refused
(``ForeignHostError``) unless the call says ``anonymous=True``, which sends none
of them: a platform's download file on a storage host (a signed URL carrying its
own authorization) is fetched that way. A redirect to another origin drops them
too (requests itself only drops ``Authorization``). Calls elsewhere are neither
charged to the API's rate budget nor read by the platform's hooks (``classify``,
``observe``, ``throttle_state`` know the API's answers, not a storage host's).

Shadow mode: given a ``shadow`` function, a write to the API (``is_write``) is
first offered to it as a ``ShadowRequest`` (method, URL, masked body,
idempotency key); when it answers True (the backend, or the policy of the
running flow, is in shadow) the request is not sent and ``ShadowWrite`` is
raised instead. Reads go out as usual.

Platform clients subclass it and override ``classify`` (their error shapes and
retry headers), ``throttle_state`` and ``observe`` (their rate-limit headers),
and ``is_write`` / ``body_idempotency_key`` when a write is not told by its
method (GraphQL).
"""

import email.utils
import json as _json
import random
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from .errors import (
    AuthError,
    ForeignHostError,
    RemoteError,
    ShadowWrite,
    ThrottledError,
    TransientError,
)
from .masking import mask_body, mask_data, mask_text, mask_url

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class Exchange:
    operation: str
    method: str
    url: str
    status: int | None = None
    duration_ms: float = 0.0
    attempt: int = 1
    idempotency_key: str | None = None
    request_id: str | None = None
    throttle_state: str | None = None
    error: str | None = None
    request_body: str | None = None
    response_body: str | None = None
    # what the answer said is left of the platform's budget, ``(available,
    # capacity, rate)``: ``on_exchange`` applies it with the call's log
    budget: tuple | None = None


@dataclass
class ShadowRequest:
    """A write request as it would have been sent (shadow mode)."""

    operation: str
    method: str
    url: str
    body: str | None = None
    idempotency_key: str | None = None


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def origin(url):
    """``(scheme, host, port)`` of a URL, the default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return (
        scheme,
        (parts.hostname or "").lower(),
        parts.port or DEFAULT_PORTS.get(scheme),
    )


class _Session(requests.Session):
    """A session whose redirects to another origin drop the client's headers."""

    def __init__(self, private_headers):
        super().__init__()
        self.private_headers = {name.lower() for name in private_headers}

    def rebuild_auth(self, prepared_request, response):
        result = super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in list(prepared_request.headers):
                if name.lower() in self.private_headers:
                    del prepared_request.headers[name]
        return result


def _with_params(url, params):
    """The URL as sent, ``params`` in its query string."""
    if not params:
        return url
    prepared = requests.models.PreparedRequest()
    prepared.prepare_url(url, params)
    return prepared.url


def _masked(err):
    """``err`` with its message masked: it reaches logs, jobs and users."""
    err.args = tuple(mask_text(a) if isinstance(a, str) else a for a in err.args)
    if isinstance(getattr(err, "message", None), str):
        err.message = mask_text(err.message)
    return err


def classify_elsewhere(response):
    """Raise for a failed answer of a host that is not the API (a storage host).

    By status only; a refusal there (an expired or bad signed URL) says nothing
    of the backend's credentials, so it is never an ``AuthError``.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    text = f"{status}: {response.text[:300]}"
    if status == 429:
        raise ThrottledError(
            text, seconds=parse_retry_after(response.headers.get("Retry-After"))
        )
    if status >= 500:
        raise TransientError(
            text, seconds=parse_retry_after(response.headers.get("Retry-After"))
        )
    raise RemoteError(text, status=status)


class RetailHttpClient:
    # one number, not a (connect, read) pair: Odoo's test harness only accepts
    # scalars, and 30 s bounds both phases well under queue_job's job timeout
    timeout_seconds = 30
    backoff_base = 2.0
    backoff_cap = 300.0
    request_id_header = "X-Request-Id"
    idempotency_header = "Idempotency-Key"

    def __init__(
        self,
        base_url,
        *,
        headers=None,
        on_exchange=None,
        limiter=None,
        on_budget=None,
        attempt=1,
        timeout=None,
        idempotency_keys=None,
        shadow=None,
    ):
        """``on_exchange(exchange)``: logs every call, and applies the budget
        its answer reported (``exchange.budget``) in the same write;
        ``on_budget(available, capacity, rate)``: that budget, for a client
        without ``on_exchange``.

        ``idempotency_keys``: a function giving the key of the next write
        that has none (the backend numbers its job's writes, so a retried job
        sends the keys it sent before); without it, a random key per call.
        ``shadow``: a function given each write's ``ShadowRequest`` before it
        is sent; True keeps it from being sent (``ShadowWrite``)."""
        self.base_url = base_url.rstrip("/")
        self.origin = origin(self.base_url)
        # the API host's headers (credentials): never in the session, which
        # would send them everywhere
        self.headers = dict(headers or {})
        self.session = _Session(self.headers)
        self.on_exchange = on_exchange
        self.limiter = limiter
        self.on_budget = on_budget
        self.attempt = attempt
        self.timeout = timeout or self.timeout_seconds
        self.idempotency_keys = idempotency_keys or (lambda: str(uuid.uuid4()))
        self.shadow = shadow
        self._answering = None  # the exchange whose answer ``observe`` reads

    # -- policy hooks (platforms override) ---------------------------------
    def backoff(self):
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (self.attempt - 1))
        return round(delay * random.uniform(0.75, 1.25), 1)

    def is_write(self, method, url, json=None, data=None):
        """True when the request changes something on the platform: a backend
        in shadow mode does not send it. REST: the write methods; a GraphQL
        client tells a mutation from a query."""
        return method in WRITE_METHODS

    def body_idempotency_key(self, json):
        """The idempotency key a write carries in its body (GraphQL's
        ``@idempotent(key:)``), for the shadow record; None: in a header."""
        return None

    def should_retry(self, response):
        """Platform's explicit retry signal: True/False, or None when silent."""
        return None

    def error_of(self, response):
        """``(code, message)`` from an error body."""
        try:
            data = response.json()
        except ValueError:
            return None, mask_text(response.text[:300])
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict):
            return err.get("code") or err.get("type"), err.get("message")
        if isinstance(err, str):
            return err, data.get("error_description") or err
        errors = data.get("errors") if isinstance(data, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return errors[0].get("code"), errors[0].get("message")
        return None, _json.dumps(mask_data(data), default=str)[:300]

    def classify(self, response):
        """Raise the right error for a response that is not a success."""
        status = response.status_code
        if 200 <= status < 300:
            return
        code, message = self.error_of(response)
        text = f"{status} {code or ''}: {message or ''}".strip()
        explicit = self.should_retry(response)
        if status == 429:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            raise ThrottledError(text, seconds=wait if wait is not None else None)
        if explicit is True or (explicit is None and (status == 409 or status >= 500)):
            wait = parse_retry_after(response.headers.get("Retry-After"))
            raise TransientError(text, seconds=wait)
        if status in (401, 403):
            raise AuthError(f"The platform refused our credentials ({text})")
        raise RemoteError(text, status=status, code=code)

    def throttle_state(self, response):
        """A short text of the remaining rate budget, for the exchange log."""
        headers = response.headers
        remaining = headers.get("X-RateLimit-Remaining")
        limit = headers.get("X-RateLimit-Limit")
        if remaining is not None:
            return f"{remaining}/{limit}" if limit else str(remaining)
        return None

    def observe(self, response):
        """Feed the limiter with what the platform says is left (override).

        Platforms read their rate-limit signals here and call ``report_budget``.
        """

    def report_budget(self, available, capacity=None, rate=None):
        """What the platform says is left; during a call, reported with its
        exchange (``on_exchange``: one write for both), else ``on_budget``."""
        if available is None:
            return
        if self._answering is not None:
            self._answering.budget = (available, capacity, rate)
        elif self.on_budget:
            self.on_budget(available, capacity, rate)

    # -- the call ------------------------------------------------------------
    def request(
        self,
        method,
        path,
        *,
        operation,
        params=None,
        json=None,
        data=None,
        headers=None,
        idempotency_key=None,
        cost=1.0,
        stream=False,
        anonymous=False,
    ):
        """Send one request; return the ``requests.Response`` of a success.

        ``path`` is a path on the API, or an absolute URL: on another origin
        it needs ``anonymous=True`` (sent without the client's headers).
        ``stream=True`` leaves the body unread (large downloads read it line by
        line); it is then not logged.

        Raises ``ThrottledError`` / ``TransientError`` (retry later, with the
        platform's delay in ``seconds``), ``AuthError``, ``RemoteError`` or
        ``ForeignHostError``.
        """
        method = method.upper()
        absolute = urlsplit(path).scheme in DEFAULT_PORTS
        url = path if absolute else f"{self.base_url}{path}"
        api = origin(url) == self.origin
        if not (api or anonymous):
            raise ForeignHostError(
                f"{operation}: {urlsplit(url).netloc} is not the API host "
                f"{urlsplit(self.base_url).netloc}: the backend's credentials are "
                "not sent there (a call elsewhere must be anonymous)"
            )
        headers = dict({} if anonymous else self.headers, **(headers or {}))
        if method in WRITE_METHODS and self.idempotency_header:
            idempotency_key = idempotency_key or self.idempotency_keys()
            headers.setdefault(self.idempotency_header, idempotency_key)
        exchange = Exchange(
            operation=operation,
            method=method,
            url=mask_url(_with_params(url, params)),
            attempt=self.attempt,
            idempotency_key=idempotency_key,
            request_body=mask_body(json if json is not None else data),
        )
        if self.shadow and api and self.is_write(method, url, json, data):
            would_be = ShadowRequest(
                operation=operation,
                method=method,
                url=exchange.url,
                body=exchange.request_body,
                idempotency_key=idempotency_key or self.body_idempotency_key(json),
            )
            if self.shadow(would_be):
                raise ShadowWrite(would_be)
        if self.limiter and api:
            try:
                self.limiter(cost)
            except ThrottledError as err:
                exchange.error = f"local limiter: wait {err.seconds}s"
                exchange.throttle_state = "local-limit"
                self._report(exchange)
                raise
        start = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json,
                data=data,
                headers=headers,
                timeout=self.timeout,
                stream=stream,
            )
        except (requests.Timeout, requests.ConnectionError) as err:
            # requests' text holds the URL (a signed one is a credential): the
            # masked text replaces the original, which is not chained
            kind = "timeout" if isinstance(err, requests.Timeout) else "connection"
            exchange.duration_ms = (time.monotonic() - start) * 1000
            exchange.error = f"{kind} error: {err}"
            self._report(exchange)
            raise TransientError(
                f"{operation}: {exchange.error}", seconds=self.backoff()
            ) from None
        exchange.duration_ms = (time.monotonic() - start) * 1000
        exchange.status = response.status_code
        exchange.request_id = response.headers.get(self.request_id_header)
        if api:
            exchange.throttle_state = self.throttle_state(response)
        if not stream:
            exchange.response_body = mask_body(response.content)
        if api:
            self._answering = exchange
            try:
                self.observe(response)
            finally:
                self._answering = None
        try:
            if api:
                self.classify(response)
            else:
                classify_elsewhere(response)
        except (ThrottledError, TransientError) as err:
            if err.seconds is None:
                err.seconds = self.backoff()
            exchange.error = str(_masked(err))
            self._report(exchange)
            raise
        except Exception as err:
            exchange.error = str(_masked(err))
            self._report(exchange)
            raise
        self._report(exchange)
        return response

    def _report(self, exchange):
        """Every call ends here, whatever its outcome: ``on_exchange`` logs it
        and applies the budget its answer reported."""
        exchange.error = mask_text(exchange.error)
        if self.on_exchange:
            self.on_exchange(exchange)
        elif exchange.budget and self.on_budget:
            self.on_budget(*exchange.budget)
