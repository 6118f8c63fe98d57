"""The HTTP client every platform uses.

One ``requests.Session`` per backend, a timeout on every call, an idempotency key
on writes, every exchange reported (masked) to a callback, and the platform's own
"slow down / try again" signals turned into ``ThrottledError`` / ``TransientError``
carrying the delay the platform asked for. It never sleeps: inside a job the base
turns those errors into ``RetryableJobError(seconds=...)`` so no worker is held.

Platform clients subclass it and override ``classify`` (their error shapes and
retry headers), ``throttle_state`` and ``observe`` (their rate-limit headers).
"""

import email.utils
import random
import time
import uuid
from dataclasses import dataclass

import requests

from .errors import AuthError, RemoteError, ThrottledError, TransientError
from .masking import mask_body, mask_text

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


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
        session=None,
        on_exchange=None,
        limiter=None,
        on_budget=None,
        attempt=1,
        timeout=None,
    ):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.headers.update(headers or {})
        self.on_exchange = on_exchange
        self.limiter = limiter
        self.on_budget = on_budget
        self.attempt = attempt
        self.timeout = timeout or self.timeout_seconds

    # -- policy hooks (platforms override) ---------------------------------
    def backoff(self):
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (self.attempt - 1))
        return round(delay * random.uniform(0.75, 1.25), 1)

    def should_retry(self, response):
        """Platform's explicit retry signal: True/False, or None when silent."""
        return None

    def error_of(self, response):
        """``(code, message)`` from an error body."""
        try:
            data = response.json()
        except ValueError:
            return None, response.text[:300]
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict):
            return err.get("code") or err.get("type"), err.get("message")
        if isinstance(err, str):
            return err, data.get("error_description") or err
        errors = data.get("errors") if isinstance(data, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return errors[0].get("code"), errors[0].get("message")
        return None, str(data)[:300]

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
        if self.on_budget and available is not None:
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
    ):
        """Send one request; return the ``requests.Response`` of a success.

        ``stream=True`` leaves the body unread (large downloads read it line by
        line); it is then not logged.

        Raises ``ThrottledError`` / ``TransientError`` (retry later, with the
        platform's delay in ``seconds``), ``AuthError`` or ``RemoteError``.
        """
        method = method.upper()
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        headers = dict(headers or {})
        if method in WRITE_METHODS and self.idempotency_header:
            idempotency_key = idempotency_key or str(uuid.uuid4())
            headers.setdefault(self.idempotency_header, idempotency_key)
        exchange = Exchange(
            operation=operation,
            method=method,
            url=mask_text(url),
            attempt=self.attempt,
            idempotency_key=idempotency_key,
            request_body=mask_body(json if json is not None else data),
        )
        if self.limiter:
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
        except requests.Timeout as err:
            exchange.duration_ms = (time.monotonic() - start) * 1000
            exchange.error = f"timeout: {err}"
            self._report(exchange)
            raise TransientError(
                f"{operation}: timeout", seconds=self.backoff()
            ) from err
        except requests.ConnectionError as err:
            exchange.duration_ms = (time.monotonic() - start) * 1000
            exchange.error = f"connection error: {err}"
            self._report(exchange)
            raise TransientError(
                f"{operation}: connection error", seconds=self.backoff()
            ) from err
        exchange.duration_ms = (time.monotonic() - start) * 1000
        exchange.status = response.status_code
        exchange.request_id = response.headers.get(self.request_id_header)
        exchange.throttle_state = self.throttle_state(response)
        if not stream:
            exchange.response_body = mask_body(response.content)
        self.observe(response)
        try:
            self.classify(response)
        except (ThrottledError, TransientError) as err:
            if err.seconds is None:
                err.seconds = self.backoff()
            exchange.error = str(err)
            self._report(exchange)
            raise
        except Exception as err:
            exchange.error = str(err)
            self._report(exchange)
            raise
        self._report(exchange)
        return response

    def _report(self, exchange):
        if self.on_exchange:
            self.on_exchange(exchange)
