"""The 3PL's REST API (modeled on ShipBob's), on the base HTTP client.

What ShipBob documents (https://developer.shipbob.com/2026-07/...):

- date-versioned paths ``/2026-07/order``; ``Authorization: Bearer <PAT>``
  and the ``shipbob_channel_id`` header on every call (quickstart,
  api/orders/create-order);
- 150 requests per minute in a sliding window; past it a 429 with
  ``x-retry-after`` (seconds), ``x-remaining-calls`` on every answer
  (rate-limit); pagination by a ``next-page`` header holding the next page's
  path (guides/build-orders-integration);
- ``reference_id`` is unique per account: creating an order with a known one
  answers 422 "Duplicate reference ID" (errors). The connector sends the
  delivery's name as ``reference_id``: a retry after a lost answer gets the
  422 and adopts the order the first try created, so there is one order at
  the 3PL whatever the retries;
- cancelling: ``POST /2026-07/order/{id}:cancel`` (api/orders/cancel-order),
  each shipment's result in ``canceled_shipment_results`` (a shipment
  picked, packed or shipped cannot be cancelled).
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

from .rest_receiving import send_inbound_notice
from .transport import Refused, Transport


class ThreeplClient(RetailHttpClient):
    request_id_header = "x-request-id"
    # ShipBob documents no idempotency header: reference_id is the key
    idempotency_header = None
    backoff_base = 2.0
    backoff_cap = 60.0

    def __init__(self, base_url, *, api_version, token, channel_id, **kwargs):
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if channel_id:
            headers["shipbob_channel_id"] = str(channel_id)
        super().__init__(base_url, headers=headers, **kwargs)
        self.api_version = api_version

    def path(self, path):
        return f"/{self.api_version}/{path.lstrip('/')}"

    # -- signals ---------------------------------------------------------
    def throttle_state(self, response):
        remaining = response.headers.get("x-remaining-calls")
        return f"{remaining} left" if remaining is not None else None

    def observe(self, response):
        remaining = response.headers.get("x-remaining-calls")
        try:
            self.report_budget(float(remaining) if remaining is not None else None)
        except ValueError:
            return

    def classify(self, response):
        status = response.status_code
        if 200 <= status < 300:
            return
        code, message = self.error_of(response)
        text = f"3PL {status}: {message or code or response.reason}"
        if status == 429:
            wait = parse_retry_after(response.headers.get("x-retry-after"))
            wait = (
                wait
                if wait is not None
                else parse_retry_after(response.headers.get("Retry-After"))
            )
            raise ThrottledError(text, seconds=wait)
        if status >= 500 or status == 409:
            raise TransientError(
                text, seconds=parse_retry_after(response.headers.get("Retry-After"))
            )
        if status == 401:
            raise AuthError(f"The 3PL refused the API token: {text}")
        if status == 403:
            raise AuthError(f"The API token lacks a permission: {text}")
        raise RemoteError(text, status=status, code=code)

    def error_of(self, response):
        """ShipBob's error bodies: ``{"statusCode", "message"}``, or for a 400
        a map of field name to messages (errors; cancel-one-shipment)."""
        try:
            data = response.json()
        except ValueError:
            return None, response.text[:300]
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return None, data["message"]
        if isinstance(data, dict) and data:
            parts = []
            for field, msgs in data.items():
                text = " ".join(map(str, msgs)) if isinstance(msgs, list) else msgs
                parts.append(f"{field}: {text}")
            return None, "; ".join(parts)
        return super().error_of(response)

    # -- calls -------------------------------------------------------------
    def get(self, path, params=None, *, operation):
        return self.request("GET", self.path(path), operation=operation, params=params)

    def post(self, path, body=None, *, operation):
        return self.request(
            "POST", self.path(path), operation=operation, json=body or {}
        )

    def list_all(self, path, params=None, *, operation):
        """Every item of a list: a bare list paged by the ``next-page``
        header (Get Orders), or a 2026-07 page object ``{items, next, ...}``
        whose ``next`` is the following page's URL or path (Get Channels,
        Get All Inventory Levels)."""
        response = self.get(path, params, operation=operation)
        while True:
            data = response.json() or []
            if isinstance(data, dict):
                yield from data.get("items") or []
                following = data.get("next")
            else:
                yield from data
                following = response.headers.get("next-page")
            if not following:
                return
            # a path on the API (or an absolute URL of its own origin)
            response = self.request("GET", following, operation=operation)


class RestTransport(Transport):
    name = "rest"

    def __init__(self, client):
        self.client = client

    def send(self, message):
        kind = message["type"]
        if kind == "inbound_shipment_notice":
            return send_inbound_notice(self.client, message)
        if kind != "shipping_order":
            raise Refused(
                "invalid_value", f"the REST transport does not send {kind} messages"
            )
        purpose = message.get("purpose") or "new"
        if purpose == "new":
            return self._create(message)
        if purpose == "cancel":
            return self._cancel(message)
        raise Refused(
            "invalid_value",
            "the REST API changes no order: cancel it and send a new one",
        )

    def find_order(self, order_ref):
        """The 3PL's order of ``order_ref`` (our delivery), or None."""
        response = self.client.get(
            "order", {"ReferenceIds": order_ref}, operation="order.find"
        )
        orders = response.json() or []
        return next((o for o in orders if o.get("reference_id") == order_ref), None)

    def _create(self, message):
        try:
            response = self.client.post(
                "order", order_body(message), operation="order.create"
            )
        except RemoteError as err:
            # 422 "Duplicate reference ID" (errors)
            if err.status != 422:
                raise
            # a retry after a lost answer, or a resend: the order is there
            order = self.find_order(message["order_ref"])
            if not order:
                raise
            return {"remote_ref": str(order["id"]), "acked": True, "adopted": True}
        order = response.json()
        return {"remote_ref": str(order.get("id")), "acked": True}

    def _cancel(self, message):
        order = self.find_order(message["order_ref"])
        if not order:
            raise Refused(
                "unknown_order", f"the 3PL has no order {message['order_ref']}"
            )
        try:
            response = self.client.post(
                f"order/{order['id']}:cancel", operation="order.cancel"
            )
        except RemoteError as err:
            # "The order must be in a cancellable state" (cancel-order): a
            # picked, packed or shipped order is refused
            if err.status != 422:
                raise
            raise Refused("already_shipped", err.message) from err
        results = (response.json() or {}).get("canceled_shipment_results") or []
        failed = [r for r in results if not r.get("is_success")]
        if failed:
            raise Refused(
                "already_shipped",
                "the 3PL could not cancel: "
                + "; ".join(str(r.get("reason") or r.get("action")) for r in failed),
            )
        return {"remote_ref": str(order["id"]), "acked": True}


def order_body(message):
    """A canonical shipping order as ShipBob's Create Order body."""
    ship_to = message.get("ship_to") or {}
    body = {
        "reference_id": message["order_ref"],
        "order_number": message.get("customer_order_ref") or message["order_ref"],
        "shipping_method": message.get("service_level") or "Standard",
        "type": "DTC",
        "recipient": {
            "name": ship_to.get("name"),
            "address": {
                "address1": ship_to.get("street"),
                "address2": ship_to.get("street2"),
                "company_name": ship_to.get("company"),
                "city": ship_to.get("city"),
                "state": ship_to.get("state_code"),
                "country": ship_to.get("country_code"),
                "zip_code": ship_to.get("zip"),
            },
            "email": ship_to.get("email"),
            "phone_number": ship_to.get("phone"),
        },
        "products": [
            {
                "reference_id": line["sku"],
                "external_line_id": line["line_no"],
                "name": line.get("name") or line["sku"],
                "quantity": line["qty"],
                "quantity_unit_of_measure_code": line.get("uom") or "EA",
                "upc": line.get("barcode"),
            }
            for line in message.get("lines") or []
        ],
        "tags": [{"name": "message_id", "value": message["message_id"]}],
    }
    return body
