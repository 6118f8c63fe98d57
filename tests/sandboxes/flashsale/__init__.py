"""The flash sale: every platform at once, wired together, under traffic.

``python3 -m sandboxes.flashsale`` (``tests/`` on ``PYTHONPATH``, ``make demo``
running) drives the sandboxes like a real flash sale and prints the business
checks; the end-to-end test (tests/addons/retail_connect_test_flashsale) runs
a short version inside the Odoo test harness. Both use the same three parts:

- :mod:`.wiring`: one backend per platform, wired together (``wire``): the
  3PL-managed warehouse ships everything; Shopify's location and Amazon's
  marketplace take their stock from it, each with its safety stock; Shopify's
  ``stripe`` gateway is booked by the Stripe backend, whose PaymentIntents
  carry the Shopify order's name (``metadata[shopify_order]``);
- :mod:`.traffic`: the sale itself (``FlashSale``): orders ramping to the
  peak on both channels, Stripe payments, the 3PL shipping, and the trouble
  such a day brings, only through the sandboxes' own admin routes and faults
  (duplicated, reordered and late webhooks, 5xx, 429, timeouts, a 3PL outage,
  unknown SKUs, a dispute, a short shipment);
- :mod:`.checks`: the business outcome, from Odoo's records and the
  sandboxes' own (``checks.run``), with the oversell window and the backlog's
  drain time.

Odoo is reached through one callable, ``odoo(model, method, *args,
**kwargs)``: JSON-RPC for the demo (:class:`.odoo.JsonRpc`), the test's
environment in the test (:class:`.odoo.EnvCalls`).
"""

from .options import Options

__all__ = ["Options"]
