"""``confirmShipment`` (Orders API v0, still current for merchant-fulfilled
orders: "confirmShipment stays in v0", the v2026-01-01 migration guide,
https://developer-docs.amazon.com/sp-api/docs/orders-api-migration-guide).

``POST /orders/v0/orders/{orderId}/shipmentConfirmation`` with a
``ConfirmShipmentRequest`` (``ordersV0.json``): ``marketplaceId`` and
``packageDetail`` {``packageReferenceId``, ``carrierCode``, ``carrierName``
("Required when carrierCode is Other"), ``shippingMethod``,
``trackingNumber``, ``shipDate`` (ISO 8601), ``orderItems`` [{``orderItemId``,
``quantity``}]} -> 204, no body. Errors are 400 ``InvalidInput`` (the model's
``ConfirmShipmentErrorResponse``), with the messages SP-API sends:

- an item not in the order: "OrderItemId is invalid, please obtain the value
  through the getOrderItems API or Manage Orders page"
  (amzn/selling-partner-api-models#492);
- ``packageReferenceId`` not a string of a positive number: "PackageReferenceId:
  is invalid, must be a positive numeric value." (jlevers/selling-partner-api#489)
  or, not a string, "The input you have submitted is not valid. Please check
  the fields with invalid type [packageDetail.packageReferenceId]."
  (amzn/selling-partner-api-models#5094);
- more than is left to ship, or an order already shipped: "Failed to create
  package due to not finding a matching package or order already fulfilled."
  (amzn/selling-partner-api-models#5037);
- an unknown order: 404; a marketplace that is not the order's, a cancelled
  or pending order, an Amazon-fulfilled order: 400 ``InvalidInput``.

A package is identified by ``packageReferenceId`` "within the scope of an
order" (``PackageReferenceId`` in the model): confirming the same package
again with the same items updates its carrier and tracking and ships nothing
more (sandbox reading of that definition and of the error "not finding a
matching package or order already fulfilled", #5037: Amazon looks for a
matching package before refusing; the same reference with other items is
refused). Each confirmation ships the package's quantities: the
order becomes ``PARTIALLY_SHIPPED``, then ``SHIPPED`` when nothing is left,
and shows the package in ``packages`` (Orders API v2026-01-01).
"""

from __future__ import annotations

from ..toolkit import ApiError, parse_iso
from .orders import iso

ITEM_INVALID = (
    "OrderItemId is invalid, please obtain the value through the getOrderItems "
    "API or Manage Orders page"
)
REFERENCE_INVALID = "PackageReferenceId: is invalid, must be a positive numeric value."
REFERENCE_TYPE = (
    "The input you have submitted is not valid. Please check the fields with "
    "invalid type [packageDetail.packageReferenceId]."
)
FULFILLED = (
    "Failed to create package due to not finding a matching package or order "
    "already fulfilled."
)
REQUIRED = ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate")


def invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidInput", message)


def confirm(sb, seller, order_id: str, body: dict) -> None:
    order = sb.book.orders.get(order_id)
    if order is None or order.seller_id != seller.seller_id:
        raise ApiError(404, "NotFound", f"Order {order_id} not found.")
    marketplace = body.get("marketplaceId")
    detail = body.get("packageDetail")
    if not isinstance(marketplace, str) or not isinstance(detail, dict):
        raise invalid("marketplaceId and packageDetail are required.")
    if marketplace != order.marketplace_id:
        raise invalid(f"Invalid marketplaceId {marketplace} for order {order_id}.")
    for name in (*REQUIRED, "orderItems"):
        if detail.get(name) in (None, "", []):
            raise invalid(f"packageDetail.{name} is required.")
    reference = detail["packageReferenceId"]
    if not isinstance(reference, str):
        raise invalid(REFERENCE_TYPE)
    if not reference.isdigit() or int(reference) <= 0:
        raise invalid(REFERENCE_INVALID)
    if detail["carrierCode"] == "Other" and not detail.get("carrierName"):
        raise invalid("carrierName is required when carrierCode is Other.")
    try:
        ship_time = parse_iso(str(detail["shipDate"]))
    except ValueError:
        raise invalid("shipDate must be an ISO 8601 date-time.") from None
    if order.fulfilled_by != "MERCHANT":
        raise invalid(f"Order {order_id} is fulfilled by Amazon.")
    if order.status in ("PENDING", "CANCELLED"):
        raise invalid(f"Order {order_id} is {order.status} and cannot be shipped.")
    wanted: dict[str, int] = {}
    for line in detail["orderItems"]:
        item = order.item(str(line.get("orderItemId")))
        quantity = line.get("quantity")
        if item is None:
            raise invalid(ITEM_INVALID)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise invalid("quantity must be a positive integer.")
        wanted[item.order_item_id] = wanted.get(item.order_item_id, 0) + quantity
    same = next(
        (p for p in order.packages if p["packageReferenceId"] == reference), None
    )
    if same is not None:
        items = {i["orderItemId"]: i["quantity"] for i in same["packageItems"]}
        if items != wanted:
            raise invalid(FULFILLED)
        same.update(_tracking(detail, ship_time))
        order.updated = max(order.updated, sb.clock.now())
        return
    for order_item_id, quantity in wanted.items():
        item = order.item(order_item_id)
        if quantity > item.quantity - item.shipped:
            raise invalid(FULFILLED)
    for order_item_id, quantity in wanted.items():
        order.item(order_item_id).shipped += quantity
    order.packages.append(
        {
            "packageReferenceId": reference,
            "createdTime": iso(sb.clock.now()),
            "packageStatus": {"status": "SHIPPED"},
            **_tracking(detail, ship_time),
            "packageItems": [
                {"orderItemId": key, "quantity": value} for key, value in wanted.items()
            ],
        }
    )
    done = all(item.shipped >= item.quantity for item in order.items)
    order.schedule = []
    sb.book.set_status(order, "SHIPPED" if done else "PARTIALLY_SHIPPED")


def _tracking(detail: dict, ship_time: float) -> dict:
    carrier = detail["carrierCode"]
    if carrier == "Other":
        carrier = detail["carrierName"]
    fields = {
        "carrier": carrier,
        "trackingNumber": detail["trackingNumber"],
        "shipTime": iso(ship_time),
    }
    if detail.get("shippingMethod"):
        fields["shippingService"] = detail["shippingMethod"]
    return fields
