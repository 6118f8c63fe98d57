"""Selling Partner API client on the base client, and the LWA token grant.

What Amazon documents:

- Login with Amazon (LWA): ``POST /auth/o2/token`` (form) with
  ``grant_type=refresh_token``, ``refresh_token``, ``client_id``,
  ``client_secret`` -> ``{"access_token", "token_type": "bearer",
  "expires_in": 3600}``; refusals are OAuth 2.0 errors
  ``{"error": "invalid_grant" | "invalid_client", "error_description"}``
  (https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api,
  step 1). SigV4 is no longer needed (changelog, 2023-10-02).
- Every SP-API call sends the access token as ``x-amz-access-token``; an
  expired or unknown token is refused with 403 ``Unauthorized`` (the 403 of
  every operation in the models; https://developer-docs.amazon.com/sp-api/docs/sp-api-errors-faq):
  the client asks for a new token once and repeats the call.
- Rate limits are token buckets per operation; an answer may carry the
  operation's rate in ``x-amzn-RateLimit-Limit``; a call over it gets 429
  ``QuotaExceeded`` without Retry-After, so the wait is one token at the
  operation's rate (https://developer-docs.amazon.com/sp-api/docs/usage-plans-and-rate-limits).
  Every answer has ``x-amzn-RequestId`` (kept in the exchange log).
- Errors: ``{"errors": [{"code", "message", "details"}]}``; 5xx are
  transient. SP-API has no idempotency key: writes are made idempotent by
  their flows (a shipment confirmation checks the order's packages first).
"""

from odoo.addons.retail_connect_base.lib.errors import (
    AuthError,
    RemoteError,
    ThrottledError,
    TransientError,
)
from odoo.addons.retail_connect_base.lib.http import RetailHttpClient

from .catalog import USAGE_PLANS

USER_AGENT = "retail_connect/18.0 (Language=Python)"
RATE_HEADER = "x-amzn-RateLimit-Limit"


class TokenRejected(AuthError):
    """SP-API refused the access token (expired or unknown): get a new one."""


def sp_errors(response):
    """``(code, message, details)`` of the first error of an SP-API answer."""
    try:
        data = response.json()
    except ValueError:
        return None, response.text[:300], ""
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return first.get("code"), first.get("message") or "", first.get("details") or ""
    return None, str(data)[:300], ""


def rate_of(response, operation):
    """The operation's rate (requests/s): the header's, else the model's."""
    value = response.headers.get(RATE_HEADER)
    try:
        rate = float(value) if value else 0.0
    except ValueError:
        rate = 0.0
    return rate or USAGE_PLANS.get(operation, (0.5, 1))[0]


class LwaClient(RetailHttpClient):
    """The LWA token endpoint (its own host: no SP-API token goes there)."""

    request_id_header = "x-amzn-RequestId"
    idempotency_header = None

    def classify(self, response):
        status = response.status_code
        if 200 <= status < 300:
            return
        try:
            data = response.json()
        except ValueError:
            data = {}
        error = data.get("error") if isinstance(data, dict) else None
        description = (data.get("error_description") if error else None) or ""
        if status == 429:
            raise ThrottledError(f"LWA {status}: {error or response.text[:200]}")
        if status >= 500:
            raise TransientError(f"LWA {status}: {error or response.text[:200]}")
        if error == "invalid_grant":
            raise AuthError(
                "Login with Amazon refused the refresh token (invalid_grant: "
                f"{description}): authorize the app again in Seller Central and "
                "set the new refresh token on the backend."
            )
        if error in ("invalid_client", "unauthorized_client") or status == 401:
            raise AuthError(
                f"Login with Amazon refused the client ({error}: {description}): "
                "check the LWA client ID and client secret of the app."
            )
        raise RemoteError(
            f"LWA {status} {error or ''}: {description}", status=status, code=error
        )

    def grant(self, path, client_id, client_secret, refresh_token):
        """A new access token: ``(token, expires_in seconds)``."""
        response = self.request(
            "POST",
            path,
            operation="lwa.token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": client_id,
                "client_secret": client_secret,
            },
        )
        body = response.json()
        return body["access_token"], int(body.get("expires_in") or 3600)


class AmazonClient(RetailHttpClient):
    request_id_header = "x-amzn-RequestId"
    idempotency_header = None  # SP-API takes none
    backoff_base = 1.0
    backoff_cap = 60.0

    def __init__(
        self,
        base_url,
        *,
        token,
        renew_token=None,
        operation_limiter=None,
        operation_budget=None,
        **kwargs,
    ):
        """``renew_token()``: a new access token (after a refusal);
        ``operation_limiter(operation, cost)``: take from the operation's
        bucket; ``operation_budget(operation, available, rate)``: what
        Amazon said of it (a 429: nothing left; its rate header)."""
        super().__init__(
            base_url,
            headers={
                "x-amz-access-token": token,
                "user-agent": USER_AGENT,
                "accept": "application/json",
            },
            **kwargs,
        )
        self.renew_token = renew_token
        self.operation_limiter = operation_limiter
        self.operation_budget = operation_budget
        self.limiter = self._limit if operation_limiter else self.limiter
        self._operation = None

    def _limit(self, cost):
        self.operation_limiter(self._operation, cost)

    # -- signals ---------------------------------------------------------
    def throttle_state(self, response):
        return response.headers.get(RATE_HEADER)

    def observe(self, response):
        if not self.operation_budget:
            return
        plan = USAGE_PLANS.get(self._operation)
        if response.status_code == 429:
            self.operation_budget(self._operation, 0.0, None)
            return
        value = response.headers.get(RATE_HEADER)
        try:
            rate = float(value) if value else None
        except ValueError:
            rate = None
        if rate and plan and rate != plan[0]:
            # the seller's plan differs from the default: learn it
            self.operation_budget(self._operation, None, rate)

    def classify(self, response):
        status = response.status_code
        if 200 <= status < 300:
            return
        code, message, details = sp_errors(response)
        text = f"SP-API {status} {code or ''}: {message}"
        if details:
            text = f"{text} ({details})"
        if status == 429:
            # no Retry-After: one token comes back after 1/rate seconds
            raise ThrottledError(
                text, seconds=round(1.0 / rate_of(response, self._operation), 1)
            )
        if status >= 500:
            raise TransientError(text)
        if status == 401 or (
            status == 403 and "token" in f"{message} {details}".lower()
        ):
            raise TokenRejected(f"Amazon refused the access token: {text}")
        if status == 403:
            raise AuthError(
                f"Amazon refused the request ({text}): check the app's roles "
                "(Orders, Inventory and Order Tracking, Direct-to-Consumer "
                "Delivery) and that the seller authorized it."
            )
        raise RemoteError(text, status=status, code=code)

    # -- calls -------------------------------------------------------------
    def request(self, method, path, *, operation, **kwargs):
        self._operation = operation
        return super().request(method, path, operation=operation, **kwargs)

    def call(self, method, path, *, operation, params=None, json=None):
        """One SP-API call; a refused access token is renewed once."""
        for attempt in (1, 2):
            try:
                response = self.request(
                    method, path, operation=operation, params=params, json=json
                )
            except TokenRejected:
                if attempt == 2 or not self.renew_token:
                    raise
                self.headers["x-amz-access-token"] = self.renew_token()
                continue
            if not response.content:
                return {}
            return response.json()
        return {}  # not reached

    def search_orders(self, params, restarts=3):
        """Every order of ``searchOrders``, page after page (``nextToken``
        sent back as ``paginationToken`` with the same filters).

        A pagination token expires after 24 hours (Orders API v2026-01-01
        migration guide): refused (400 ``InvalidInput``), the search starts
        again from its first page with the same filters (at most
        ``restarts`` times); an order already given (same id and
        ``lastUpdatedTime``) is not given again, and nothing is skipped.
        """
        first = dict(params)
        params = dict(first)
        seen = set()
        while True:
            try:
                page = self.call(
                    "GET",
                    "/orders/2026-01-01/orders",
                    operation="searchOrders",
                    params=params,
                )
            except RemoteError as err:
                if err.status != 400 or "paginationToken" not in params or not restarts:
                    raise
                restarts -= 1
                params = dict(first)
                continue
            for order in page.get("orders") or []:
                key = (order.get("orderId"), order.get("lastUpdatedTime"))
                if key not in seen:
                    seen.add(key)
                    yield order
            token = (page.get("pagination") or {}).get("nextToken")
            if not token:
                return
            params["paginationToken"] = token
