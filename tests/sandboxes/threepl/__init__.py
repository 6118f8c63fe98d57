"""3PL: a stateful sandbox of a third-party warehouse, over REST and SFTP.

The REST face is modeled on ShipBob's API (date-versioned paths such as
``/2026-07/order``, a Bearer token, ``shipbob_channel_id``, 150 requests a
minute, ``next-page``, Standard-Webhooks-signed webhooks); the SFTP face
follows our CSV contract (``docs/3pl-sftp-csv.md``). Both share one
warehouse. Written from developer.shipbob.com, www.standardwebhooks.com and
PLATFORMS.md §4, never from a connector. One module per concern:

- ``warehouse``: products, stock ledger (counts as of any moment), orders,
  shipments (full, partial, none), adjustments, snapshots;
- ``receiving``: receiving orders (the ASN, ShipBob's WRO) and returns, with
  their REST routes;
- ``sandbox``: token, versions, channel, sliding-window rate limit, errors,
  pagination, outages, the webhooks caused by the warehouse's facts;
- ``routes``: the order, inventory and webhook-subscription routes;
- ``render``: JSON shapes of answers and webhook payloads;
- ``webhooks``: subscriptions, Standard Webhooks signatures, deliveries and
  retries on the sandbox clock;
- ``admin``: the ``/__sandbox__/`` routes (and Python methods) that drive
  the warehouse floor;
- ``sftp`` / ``csvfiles``: the SFTP server and the CSV files.

In a test::

    sb = ThreePLSandbox(clock=Clock(EPOCH, frozen=True))
    with SandboxServer(sb) as server:      # REST on server.url
        ...                                # headers: Authorization: Bearer sb.token
"""

from .sandbox import API_VERSION, DEFAULT_CHANNEL, TOKEN, ThreePLSandbox
from .warehouse import WarehouseError
from .webhooks import TOPICS, sign, verify

__all__ = [
    "API_VERSION",
    "DEFAULT_CHANNEL",
    "TOKEN",
    "TOPICS",
    "ThreePLSandbox",
    "WarehouseError",
    "sign",
    "verify",
]
