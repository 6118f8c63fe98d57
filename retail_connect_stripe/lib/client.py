"""Stripe API v1 client on the base client.

What Stripe documents, and its official SDK does (``stripe-python``
``_http_client.py`` ``_should_retry``, ``_api_requestor.py``):

- form-encoded bodies with bracketed keys (``metadata[odoo_order]=S1``,
  ``expand[]=latest_charge``), JSON answers, a ``Request-Id`` header;
- ``Stripe-Version`` pinned on every request (the backend's API version);
- ``Idempotency-Key`` on every POST: the base gives the key of the job's
  write, the same on each retry of that job (Stripe replays the first answer);
- retries: ``Stripe-Should-Retry`` first; else 409 and 5xx; 429 (and the
  older 400 ``code: rate_limit``) is a throttle; back-off 0.5 s doubling,
  capped at 5 s;
- 401 is a refused key, 403 a restricted key lacking a permission (both
  ``AuthError``: fix the credentials); a 400 ``idempotency_error`` is a
  conflict (the same key sent with other parameters: a bug to look at).
"""

from odoo.addons.retail_connect_base.lib.errors import (
    AuthError,
    RemoteError,
    ThrottledError,
    TransientError,
)
from odoo.addons.retail_connect_base.lib.http import (
    RetailHttpClient,
    parse_retry_after,
)

# https://docs.stripe.com/currencies#zero-decimal and #three-decimal
ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
)
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())


def to_amount(minor, currency):
    """An amount in the currency's smallest unit (Stripe) as a decimal amount."""
    code = (currency or "").upper()
    digits = 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
    return minor / 10**digits


def to_minor(amount, currency):
    code = (currency or "").upper()
    digits = 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
    return round(amount * 10**digits)


def encode(params):
    """Nested parameters as Stripe's form fields: ``a[b]=c``, ``a[]=x``.

    A dict of field name to text (or list of texts, sent repeated), which
    ``requests`` encodes and the exchange log masks by field name.
    """
    fields = {}
    for name, value in _pairs(params):
        if name.endswith("[]"):
            fields.setdefault(name, []).append(value)
        else:
            fields[name] = value
    return fields


def _pairs(params, prefix=None):
    pairs = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, dict):
            pairs += _pairs(value, name)
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    pairs += _pairs(item, f"{name}[{index}]")
                else:
                    pairs.append((f"{name}[]", _text(item)))
        else:
            pairs.append((name, _text(value)))
    return pairs


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class StripeClient(RetailHttpClient):
    request_id_header = "Request-Id"
    idempotency_header = "Idempotency-Key"
    backoff_base = 0.5
    backoff_cap = 5.0

    def __init__(self, base_url, *, api_version, key, **kwargs):
        super().__init__(
            base_url,
            headers={
                "Authorization": f"Bearer {key}",
                "Stripe-Version": api_version,
                "Accept": "application/json",
            },
            **kwargs,
        )

    # -- signals ---------------------------------------------------------
    def should_retry(self, response):
        value = (response.headers.get("Stripe-Should-Retry") or "").lower()
        return {"true": True, "false": False}.get(value)

    def _error(self, response):
        try:
            data = response.json()
        except ValueError:
            return {}
        error = data.get("error") if isinstance(data, dict) else None
        return error if isinstance(error, dict) else {}

    def classify(self, response):
        status = response.status_code
        if 200 <= status < 300:
            return
        error = self._error(response)
        kind, code = error.get("type"), error.get("code")
        message = error.get("message") or response.text[:300]
        text = f"Stripe {status} {code or kind or ''}: {message}"
        wait = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429 or (status == 400 and code == "rate_limit"):
            raise ThrottledError(text, seconds=wait)
        explicit = self.should_retry(response)
        if explicit is True or (explicit is None and (status == 409 or status >= 500)):
            raise TransientError(text, seconds=wait)
        if status == 401:
            raise AuthError(f"Stripe refused the API key: {message}")
        if status == 403:
            raise AuthError(f"Stripe refused the request to this key: {message}")
        if kind == "idempotency_error":
            raise RemoteError(text, status=status, code=kind, category="conflict")
        raise RemoteError(text, status=status, code=code or kind)

    # -- calls -------------------------------------------------------------
    def get(self, path, params=None, *, operation):
        response = self.request(
            "GET", path, operation=operation, params=encode(params or {})
        )
        return response.json()

    def post(self, path, params=None, *, operation, idempotency_key=None):
        response = self.request(
            "POST",
            path,
            operation=operation,
            data=encode(params or {}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            idempotency_key=idempotency_key,
        )
        return response.json()

    def list_all(self, path, params=None, *, operation, limit=100):
        """Every object of a list, page after page (``starting_after``)."""
        params = dict(params or {}, limit=limit)
        while True:
            page = self.get(path, params, operation=operation)
            data = page.get("data") or []
            yield from data
            if not page.get("has_more") or not data:
                return
            params["starting_after"] = data[-1]["id"]
