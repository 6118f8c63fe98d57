"""Stripe: a stateful sandbox of the Stripe API v1 (one account, test mode).

``StripeSandbox(secret_key="sk_test_sandbox", clock=..., currency="usd")``
serves ``/v1/payment_intents``, ``/v1/charges``, ``/v1/refunds``,
``/v1/disputes`` (evidence updates, ``/close``), ``/v1/balance``,
``/v1/balance_transactions`` (``?payout=``), ``/v1/payouts``,
``/v1/customers``, ``/v1/events`` and
``/v1/webhook_endpoints``, written from docs.stripe.com and Stripe's OpenAPI
contract (``shared/contracts/stripe``), never from a connector. One module
per concern:

- ``forms``: form-encoded parameters (``a[b]=c``, ``expand[]``);
- ``sandbox``: keys and restricted keys, ``Stripe-Version``, rate limits,
  errors, ``Request-Id``, the idempotency layer, ``Stripe-Should-Retry``;
- ``idempotency``: the Idempotency-Key store;
- ``ledger``: objects and money (fees, exchange rates, balance transactions,
  disputes, payouts) and events with ``previous_attributes``;
- ``routes``: the API routes, lists and expansion;
- ``webhooks``: endpoints, ``Stripe-Signature``, deliveries and retries;
- ``admin``: the ``/__sandbox__/`` routes that drive scenarios;
- ``contract``: validation of answers against the OpenAPI contract (tests).
"""

from .sandbox import (
    ACCOUNT,
    API_VERSION,
    CONTRACT_VERSION,
    KNOWN_VERSIONS,
    SECRET_KEY,
    StripeSandbox,
)
from .webhooks import compute_signature, signature_header, verify_header
