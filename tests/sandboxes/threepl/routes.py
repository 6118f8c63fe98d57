"""The API routes of the 3PL sandbox (``/<version>/...``), ShipBob-shaped.

- ``GET /channel`` (https://developer.shipbob.com/guides/returns: "Fetch this
  with a GET request to /2026-01/channel"; ``{items, next, prev}``:
  .../2026-07/api/channels/get-channels);
- ``POST /order`` (https://developer.shipbob.com/guides/build-orders-integration,
  "Step 1: Create an Order": ``reference_id``, ``order_number``,
  ``shipping_method``, ``recipient``, ``products[{reference_id, name,
  quantity}]``, ``type``, ``tags``; "Reference id – This is a unique order
  number ... This number must be unique within your ShipBob account"
  (https://developer.shipbob.com/guides/orders); a second one: 422 "Duplicate
  reference ID" (https://developer.shipbob.com/2026-07/errors));
- ``GET /order``: "All filter parameters use AND logic"; ``Page``,
  ``Limit``, ``IDs`` and ``ReferenceIds`` ("comma separated"), ``HasTracking``
  (https://developer.shipbob.com/2026-07/api/orders/get-orders; Limit 1-250,
  default 50: https://developer.shipbob.com/guides/tracking);
  ``GET /order/{id}``, ``GET /order/{id}/shipment``,
  ``GET /order/{id}/shipment/{sid}``;
- changes before shipment: ``PUT /shipment/{id}:updateAddress`` (required
  ``city``, ``street_address1``; ``company_name``, ``country_code``,
  ``email``; the other address fields: secondary source) and ``POST
  /shipment/{id}:updateLineItemsBySku`` ("The request body must include the
  complete list of line items — partial updates are not supported"; "if any
  SKU in the request cannot be resolved, the whole request fails"; "returns
  HTTP 200 for both successful and failed operations ... When is_success is
  false, the error object contains the error code and message. HTTP 400 is
  only returned when the request body itself is missing or empty"), see
  https://developer.shipbob.com/2026-07/api/orders/update-shipment-address and
  .../update-shipment-line-items-by-sku; the item fields ``sku`` and
  ``quantity`` and the refusal once shipped (422 for the address) are a
  secondary source; they send ``order.shipment.address.updated`` and
  ``order.shipment.line_item.updated``;
- ``POST /order/{id}:cancel``: "Cancels an order and all associated
  shipments. The order must be in a cancellable state" (https://developer.
  shipbob.com/2026-01/api/orders/cancel-order), answering
  ``canceled_shipment_results[{action, is_success, reason, shipment_id}]`` and
  ``order``; a shipped order is not cancellable (422, the shipment "must not
  be picked, packed, or shipped": cancel-shipment-by-order-id-and-shipment-id);
- ``GET /inventory-level``, ``/inventory-level/{id}``,
  ``/inventory-level/locations``: see ``inventory`` (paged
  ``{first, items, last, next, prev}``, ShipBob 2026-07 "Get All Inventory
  Levels");
- ``GET /fulfillment-center`` (https://developer.shipbob.com/v1.0/faq.md);
- ``POST|GET /webhook``, ``DELETE /webhook/{id}`` (see ``webhooks``);
- receiving (WRO) and returns: ``receiving.py``.
"""

from __future__ import annotations

import json

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..toolkit import json_response
from . import inventory, receiving, render
from .inventory import (  # noqa: F401 - handlers found by name
    on_inventory_level,
    on_inventory_level_locations,
    on_inventory_levels,
)
from .warehouse import SHIPMENT_OPEN, SHIPPED, WarehouseError


class HttpProblem(Exception):
    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


class BadRequest(HttpProblem):
    def __init__(self, field: str, message: str):
        super().__init__(400, message, field)


class Forbidden(HttpProblem):
    def __init__(self, message: str):
        super().__init__(403, message)


def _rule(path: str, endpoint: str, *methods: str) -> Rule:
    return Rule(receiving.VERSION + path, endpoint=endpoint, methods=list(methods))


RULES = [
    _rule("/channel", "channels", "GET"),
    _rule("/order", "orders", "GET", "POST"),
    _rule("/order/<int:order_id>", "order", "GET"),
    _rule("/order/<int:order_id>:cancel", "order_cancel", "POST"),
    _rule("/order/<int:order_id>/shipment", "order_shipments", "GET"),
    _rule("/order/<int:order_id>/shipment/<int:shipment_id>", "order_shipment", "GET"),
    _rule("/shipment/<int:shipment_id>:updateAddress", "update_address", "PUT"),
    _rule("/shipment/<int:shipment_id>:updateLineItemsBySku", "update_lines", "POST"),
    _rule("/inventory-level", "inventory_levels", "GET"),
    _rule("/inventory-level/locations", "inventory_level_locations", "GET"),
    _rule("/inventory-level/<int:inventory_id>", "inventory_level", "GET"),
    _rule("/fulfillment-center", "fulfillment_centers", "GET"),
    _rule("/webhook", "webhooks", "GET", "POST"),
    _rule("/webhook/<int:subscription_id>", "webhook", "DELETE"),
    *receiving.RULES,
]


def body(request: Request) -> dict:
    try:
        data = json.loads(request.get_data(cache=True) or b"{}")
    except ValueError:
        raise BadRequest("body", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("body", "The request body must be a JSON object.")
    return data


def on_channels(sb, request, version):
    # "Get Channels" (https://developer.shipbob.com/2026-07/api/channels/
    # get-channels): "Retrieves a paginated list of channels"; RecordsPerPage
    # (default 50) and Cursor; 200 {items, next, prev}, next/prev paths
    return inventory.page(
        request,
        [
            {**c, "scopes": ["orders_read", "orders_write", "receiving_read"]}
            for c in sb.channels
        ],
        size_param="RecordsPerPage",
        keys=("items", "next", "prev"),
        absolute=False,
    )


def _owned(sb, request, order_id, required=False) -> dict:
    channel = sb.channel(request, required=required)
    order = sb.warehouse.get_order(order_id)
    if channel is not None and order["channel_id"] != channel["id"]:
        raise WarehouseError(
            404, "unknown_order", "The requested resource doesn't exist."
        )
    return order


def on_orders(sb, request, version):
    if request.method == "POST":
        channel = sb.channel(request, required=True)
        data = body(request)
        order = sb.warehouse.create_order(
            channel["id"], order_data(data, version), "rest"
        )
        return json_response(render.order(sb, order), 201)
    channel = sb.channel(request, required=False)
    args = {k.lower(): v for k, v in request.args.items()}
    refs = set(filter(None, args.get("referenceids", "").split(",")))
    ids = set(filter(None, args.get("ids", "").split(",")))
    tracking = args.get("hastracking")
    orders = [
        o
        for o in sb.warehouse.orders.values()
        if (channel is None or o["channel_id"] == channel["id"])
        and (not refs or o["reference_id"] in refs)
        and (not ids or str(o["id"]) in ids)
        and (
            tracking is None or (tracking.lower() == "true") == (o["status"] in SHIPPED)
        )
    ]
    return sb.paginate(request, [render.order(sb, o) for o in orders])


ORDER_TYPES = ("DTC", "DropShip", "B2B")


def order_data(data: dict, version: str = "2026-07") -> dict:
    """ShipBob's order body -> the warehouse's order data."""
    missing = [
        k for k in ("reference_id", "shipping_method", "recipient") if not data.get(k)
    ]
    if missing:
        raise BadRequest(missing[0], f"The {missing[0]} field is required.")
    # 2026-07 Create Order: "type enum Required. Order type. Accepted values
    # are DTC, DropShip and B2B. DropShip and B2B orders must also include
    # retailer_program_data and shipping_terms, or the create request fails
    # validation with a 422 response"
    # (https://developer.shipbob.com/2026-07/api/orders/create-order); no
    # default. Older versions keep the sandbox's former DTC default (their
    # pages were not reviewed).
    kind = data.get("type")
    if version >= "2026-07" or kind is not None:
        if not kind:
            raise BadRequest("type", "The type field is required.")
        if kind not in ORDER_TYPES:
            raise BadRequest(
                "type", f"The type must be one of {', '.join(ORDER_TYPES)}."
            )
        if kind != "DTC" and version >= "2026-07":
            absent = [
                k
                for k in ("retailer_program_data", "shipping_terms")
                if not data.get(k)
            ]
            if absent:
                raise HttpProblem(
                    422,
                    f"{kind} orders must include retailer_program_data and "
                    "shipping_terms.",
                    absent[0],
                )
    recipient = data["recipient"]
    address = recipient.get("address") if isinstance(recipient, dict) else None
    if not isinstance(address, dict) or not all(
        address.get(k) for k in ("address1", "city", "country")
    ):
        # "Recipient address – specifically the Address1, City, and Country"
        # (https://developer.shipbob.com/guides/orders)
        raise BadRequest(
            "recipient.address", "address1, city and country are required."
        )
    products = data.get("products")
    if not isinstance(products, list) or not products:
        raise BadRequest("products", "The products field is required.")
    lines = []
    for index, product in enumerate(products, 1):
        if not isinstance(product, dict) or not product.get("reference_id"):
            raise BadRequest(
                f"products[{index - 1}].reference_id", "reference_id is required."
            )
        lines.append(
            {
                "line_no": product.get("external_line_id") or index,
                "sku": product["reference_id"],
                "name": product.get("name"),
                "qty": product.get("quantity"),
                "uom": product.get("quantity_unit_of_measure_code"),
                "barcode": product.get("upc") or product.get("gtin"),
            }
        )
    return {
        "reference_id": str(data["reference_id"]),
        "order_number": data.get("order_number"),
        "shipping_method": data["shipping_method"],
        "recipient": render.recipient_in(recipient),
        "lines": lines,
        "type": data.get("type") or "DTC",
        "tags": data.get("tags") or [],
        "fc": data.get("location_id"),
    }


def on_order(sb, request, version, order_id):
    return render.order(sb, _owned(sb, request, order_id))


def on_order_cancel(sb, request, version, order_id):
    order = _owned(sb, request, order_id, required=True)
    open_ids = [
        sid
        for sid in order["shipments"]
        if sb.warehouse.shipments[sid]["status"] in SHIPMENT_OPEN
    ]
    sb.warehouse.cancel_order(order)
    return {
        "canceled_shipment_results": [
            {"action": "Cancel", "is_success": True, "reason": None, "shipment_id": sid}
            for sid in open_ids
        ],
        "order": render.order(sb, order),
    }


def on_order_shipments(sb, request, version, order_id):
    order = _owned(sb, request, order_id)
    return [render.shipment(sb, sb.warehouse.shipments[s]) for s in order["shipments"]]


def on_order_shipment(sb, request, version, order_id, shipment_id):
    order = _owned(sb, request, order_id)
    if shipment_id not in order["shipments"]:
        raise HttpProblem(404, "The requested resource doesn't exist.")
    return render.shipment(sb, sb.warehouse.shipments[shipment_id])


def on_fulfillment_centers(sb, request, version):
    return [{"id": fc["id"], "name": fc["name"]} for fc in sb.warehouse.fcs.values()]


def on_webhooks(sb, request, version):
    if request.method == "POST":
        result = sb.hub.subscribe(body(request))
        if "errors" in result:
            return json_response(result["errors"], 400)
        return json_response(sb.hub.public(result, with_secret=True), 201)
    # "Get Subscriptions" (https://developer.shipbob.com/2026-07/api/webhooks/
    # get-subscriptions): query RecordsPerPage and Cursor ("A pagination
    # token used to retrieve the next or previous page of results"); 200
    # {items, next, prev}
    return inventory.page(
        request,
        [sb.hub.public(s) for s in sb.hub.subscriptions.values()],
        size_param="RecordsPerPage",
        keys=("items", "next", "prev"),
        absolute=False,
    )


def on_webhook(sb, request, version, subscription_id):
    if sb.hub.subscriptions.pop(subscription_id, None) is None:
        raise HttpProblem(404, "The requested resource doesn't exist.")
    return Response(status=204)


def _shipment(sb, request, shipment_id) -> tuple[dict, dict]:
    shipment = sb.warehouse.shipments.get(shipment_id)
    if shipment is None:
        raise HttpProblem(404, "The requested resource doesn't exist.")
    return shipment, _owned(sb, request, shipment["order_id"])


def on_update_address(sb, request, version, shipment_id):
    shipment, order = _shipment(sb, request, shipment_id)
    data = body(request)
    for field in ("city", "street_address1"):
        if not data.get(field):
            raise BadRequest(field, f"The {field} field is required.")
    recipient = {
        "name": data.get("name") or order["recipient"].get("name"),
        "address": {
            "address1": data["street_address1"],
            "address2": data.get("street_address2"),
            "company_name": data.get("company_name"),
            "city": data["city"],
            "state": data.get("state"),
            "country": data.get("country_code")
            or order["recipient"]["address"].get("country"),
            "zip_code": data.get("zip_code"),
        },
        "email": data.get("email"),
        "phone_number": data.get("phone_number"),
    }
    sb.warehouse.change_order(order, {"lines": order["lines"], "recipient": recipient})
    if order["transport"] == "rest":
        sb.hub.publish("order.shipment.address.updated", render.shipment(sb, shipment))
    return render.shipment(sb, shipment)


def on_update_lines(sb, request, version, shipment_id):
    shipment, order = _shipment(sb, request, shipment_id)
    raw = request.get_data(cache=True)
    data = body(request) if raw.strip() else {}
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise BadRequest("items", "The items field is required.")

    def failed(code, message):
        return {
            "id": shipment_id,
            "is_success": False,
            "error": {"code": code, "message": message},
            "shipment_line_items": None,
        }

    if order["status"] not in ("Processing", "Exception"):
        return failed("ShipmentNotEditable", f"The shipment is {shipment['status']}.")
    unknown = [i.get("sku") for i in items if i.get("sku") not in sb.warehouse.products]
    if unknown:
        return failed("SkuNotFound", f"Unknown SKU(s): {', '.join(map(str, unknown))}")
    lines = [
        {
            "line_no": n,
            "sku": i["sku"],
            "qty": i.get("quantity"),
            "lot": i.get("lot_number"),
        }
        for n, i in enumerate(items, 1)
    ]
    try:
        sb.warehouse.change_order(order, {"lines": lines})
    except WarehouseError as exc:
        return failed(exc.code, exc.message)
    if order["transport"] == "rest":
        sb.hub.publish(
            "order.shipment.line_item.updated", render.shipment(sb, shipment)
        )
    return {
        "id": shipment_id,
        "is_success": True,
        "error": None,
        "shipment_line_items": [
            {"sku": ln["sku"], "quantity": ln["qty"]} for ln in shipment["lines"]
        ],
    }
