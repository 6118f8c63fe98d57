"""Amazon: a stateful sandbox of the Selling Partner API (SP-API).

``AmazonSandbox(clock=...)`` serves LWA (``/auth/o2/token``) and the
operations the retail_connect Amazon connector uses, written from
developer-docs.amazon.com and the official models
(``shared/contracts/amazon``), never from a connector. One module per
concern:

- ``catalog``: regions, marketplaces, currencies, usage plans;
- ``auth``: LWA grants and tokens, the ``x-amz-access-token`` check, roles;
- ``throttle``: per-operation token buckets, ``QuotaExceeded``;
- ``orders``: orders, their statuses on the clock, the v2026-01-01 shapes;
- ``search``: ``searchOrders`` parameters and pagination tokens;
- ``shipping``: ``confirmShipment`` (v0), packages;
- ``listings``: Listings Items PATCH of ``fulfillment_availability``;
- ``storage``: the S3 host of feed and report documents (pre-signed URLs);
- ``feeds``: Feeds 2021-06-30, ``JSON_LISTINGS_FEED`` and its report;
- ``settlement``: settlement reports on their schedule, Reports 2021-06-30;
- ``notifications``: ORDER_CHANGE envelopes, duplicates, delivery;
- ``sandbox``: hosts, errors, request ids, the request pipeline;
- ``routes``: the API routes (operationIds of the models);
- ``admin``: ``/__sandbox__/`` routes that drive scenarios;
- ``contract``: validation of answers against the models (tests).

In a test::

    sandbox = AmazonSandbox(clock=Clock(EPOCH, frozen=True))
    with SandboxServer(sandbox) as server:
        ...  # server.url (every region) or sandbox.region_url("eu")
"""

from .auth import ACCESS_TOKEN_SECONDS, GRANTLESS_SCOPES
from . import contract
from .sandbox import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEFAULT_SELLERS,
    AmazonSandbox,
)

__all__ = [
    "contract",
    "ACCESS_TOKEN_SECONDS",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "DEFAULT_SELLERS",
    "GRANTLESS_SCOPES",
    "AmazonSandbox",
]
