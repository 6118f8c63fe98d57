"""JSON shapes of the REST API and of the webhook payloads.

Order (``POST /order`` answer, ``GET /order``): ``id``, ``created_date``,
``purchase_date``, ``reference_id``, ``order_number``, ``status``, ``type``,
``channel{id,name}``, ``shipping_method``, ``recipient{name, address{address1,
address2, company_name, city, state, country, zip_code}, email,
phone_number}``, ``products[{id, reference_id, quantity, sku, name, ...}]``,
``tags``, ``shipments`` (https://developer.shipbob.com/api-reference/2.0/
orders/cancel-single-order-by-order-id, the order in the answer;
https://developer.shipbob.com/guides/build-orders-integration). Shipment:
``id``, ``order_id``, ``reference_id``, ``status``, ``location``,
``tracking{carrier, tracking_number, carrier_service, tracking_url,
shipping_date}``, ``products[{reference_id, sku, inventory_items[{id,
quantity, lot}]}]``, ``actual_fulfillment_date`` (https://developer.shipbob.com/
2026-07/api/orders/cancel-shipment-by-order-id-and-shipment-id, "Response";
the fields not on that page: secondary source, PLATFORMS.md §4). Order
statuses Processing / Exception / PartiallyFulfilled / Fulfilled / Cancelled
and shipment statuses Processing / Completed / Cancelled follow ShipBob's
status reference (https://developer.shipbob.com/guides/overview, "Status
Reference"; secondary source for the exact names).

Webhook payloads (secondary source: PLATFORMS.md §4, the hookdeck skill):
``order.shipped`` and ``order.shipment.cancelled`` /
``order.shipment.tracking.updated`` / ``order.shipment.delivered`` carry the
shipment with its order's ``reference_id``; ``order.delivered`` ("Order-level
delivery confirmation (fires when all shipments on the order are
delivered)", https://developer.shipbob.com/2026-07/guides/tracking; "Use
order.delivered to detect when all shipments on an order have been
delivered", https://developer.shipbob.com/2026-07/webhooks) carries the order
(its payload is not on those pages: the order, as ``GET /order/{id}``
answers, is the sandbox's reading of "order-level"); ``order.shipped`` "Fires when a
shipping label is purchased and printed"
(https://developer.shipbob.com/experimental/webhooks); ``return.*`` carry
the return.
"""

from __future__ import annotations

from ..toolkit import utc_iso


def _iso(epoch):
    return None if epoch is None else utc_iso(epoch)


def recipient_in(raw: dict) -> dict:
    address = raw.get("address") or {}
    return {
        "name": raw.get("name"),
        "address": {
            k: address.get(k)
            for k in (
                "address1",
                "address2",
                "company_name",
                "city",
                "state",
                "country",
                "zip_code",
            )
        },
        "email": raw.get("email"),
        "phone_number": raw.get("phone_number"),
    }


def order(sb, order: dict) -> dict:
    channel = next(
        (c for c in sb.channels if c["id"] == order["channel_id"]),
        {"id": order["channel_id"], "name": ""},
    )
    return {
        "id": order["id"],
        "created_date": _iso(order["created_at"]),
        "purchase_date": _iso(order["created_at"]),
        "reference_id": order["reference_id"],
        "order_number": order["order_number"],
        "status": order["status"],
        "type": order["type"],
        "channel": {"id": channel["id"], "name": channel["name"]},
        "shipping_method": order["shipping_method"],
        "recipient": order["recipient"],
        "products": [
            {
                "id": line["inventory_id"],
                "reference_id": line["sku"],
                "sku": line["sku"],
                "name": line["name"],
                "quantity": line["qty"],
                "quantity_unit_of_measure_code": line["uom"],
                "external_line_id": line["line_no"],
                "upc": line["barcode"],
            }
            for line in order["lines"]
        ],
        "tags": order["tags"],
        "shipments": [
            shipment(sb, sb.warehouse.shipments[sid]) for sid in order["shipments"]
        ],
    }


def shipment(sb, shipment: dict) -> dict:
    wh = sb.warehouse
    order = wh.orders[shipment["order_id"]]
    fc = wh.fcs[order["fc"]]
    package = shipment["packages"][0] if shipment["packages"] else None
    tracking = None
    if package is not None:
        tracking = {
            "carrier": shipment["carrier"],
            "carrier_service": shipment["service"],
            "tracking_number": package["tracking_number"],
            "tracking_url": package["tracking_url"],
            "shipping_date": _iso(shipment["shipped_at"]),
        }
    return {
        "id": shipment["id"],
        "order_id": order["id"],
        "reference_id": order["reference_id"],
        "recipient": order["recipient"],
        "created_date": _iso(shipment["created_at"]),
        "last_update_at": _iso(shipment["updated_at"]),
        "status": shipment["status"],
        "status_details": (
            [{"name": shipment["status"], "description": shipment["reason"]}]
            if shipment["reason"]
            else []
        ),
        "tracking_status": shipment["tracking_status"],
        "location": {"id": fc["id"], "name": fc["name"]},
        "tracking": tracking,
        "actual_fulfillment_date": _iso(shipment["shipped_at"]),
        "products": [
            {
                "id": line["inventory_id"],
                "reference_id": line["sku"],
                "sku": line["sku"],
                "name": line["name"],
                "external_line_id": line["line_no"],
                "inventory_items": [
                    {
                        "id": line["inventory_id"],
                        "name": line["name"],
                        "quantity": line["qty"],
                        "lot": line["lot"],
                    }
                ],
            }
            for line in shipment["lines"]
        ],
    }


def webhook_payloads(sb, kind: str, fact: dict) -> list[tuple[str, dict]]:
    """``[(topic, payload)]`` for a fact of the warehouse."""
    if kind == "shipped":
        out = [("order.shipped", shipment(sb, fact["shipment"]))]
        if fact["short_shipment"] is not None:
            out.append(
                ("order.shipment.cancelled", shipment(sb, fact["short_shipment"]))
            )
        return out
    if kind == "not_shipped":
        return [("order.shipment.cancelled", shipment(sb, fact["short_shipment"]))]
    if kind in ("exception", "on_hold"):
        return [(f"order.shipment.{kind}", shipment(sb, fact["shipment"]))]
    if kind == "tracking":
        out = [("order.shipment.tracking.updated", shipment(sb, fact["shipment"]))]
        if fact["shipment"]["tracking_status"] == "Delivered":
            out.append(("order.shipment.delivered", shipment(sb, fact["shipment"])))
        if fact.get("order_delivered"):
            out.append(("order.delivered", order(sb, fact["order"])))
        return out
    if kind in ("return_created", "return_completed", "return_updated"):
        topic = "return." + kind.split("_", 1)[1]
        return [(topic, return_(sb, fact["return"]))]
    return []


def return_(sb, ret: dict) -> dict:
    fc = sb.warehouse.fcs[ret["fc"]]
    return {
        "id": ret["id"],
        "reference_id": ret["reference_id"],
        "status": ret["status"],
        "original_shipment_id": ret["original_shipment_id"],
        "tracking_number": ret["tracking_number"],
        "fulfillment_center": {"id": fc["id"], "name": fc["name"]},
        "insert_date": _iso(ret["created_at"]),
        "completed_date": _iso(ret["completed_at"]),
        "inventory": [
            {
                "id": line["inventory_id"],
                "sku": line["sku"],
                "quantity": line["qty"],
                "action_requested": {"action": line.get("action") or "Default"},
                "action_taken": [
                    {"action": "Restock", "quantity": line.get("restocked", 0)},
                    {"action": "Dispose", "quantity": line.get("damaged", 0)},
                ]
                if ret["status"] == "Completed"
                else [],
                "return_reason": line.get("reason"),
            }
            for line in ret["lines"]
        ],
    }
