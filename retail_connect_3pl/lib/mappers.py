"""The 3PL's REST shapes as canonical messages (PLATFORMS.md §4).

ShipBob's shipment webhooks are hints: ``order.shipped`` carries the shipped
shipment, ``order.shipment.cancelled`` the part that will not ship, and they
may arrive in any order and more than once ("cannot guarantee events arrive
in the original sequence", https://developer.shipbob.com/2026-07/guides/
tracking). The connector therefore reads the order again and makes one
shipping advice (≈945) of its closed state, all shipments together: the
advice of one order is the same whichever webhook asked for it, and its
``message_id`` (the order's id) makes it applied once.
"""

# order statuses of ShipBob's status reference
# (https://developer.shipbob.com/guides/overview, "Status Reference")
CLOSED = {"Fulfilled": "complete", "PartiallyFulfilled": "partial"}
CANCELLED = "Cancelled"


def advice_from_order(order):
    """The canonical shipping advice of a closed order, or None while open."""
    status = order.get("status")
    shipments = order.get("shipments") or []
    if status == CANCELLED:
        shipped_any = any(s.get("status") == "Completed" for s in shipments)
        advice_status = "partial" if shipped_any else "cancelled"
    elif status in CLOSED:
        advice_status = CLOSED[status]
    else:
        return None
    ordered = {}
    for product in order.get("products") or []:
        line_no = int(product.get("external_line_id") or 0)
        ordered[line_no] = {
            "line_no": line_no,
            "sku": product.get("reference_id") or product.get("sku"),
            "qty_ordered": float(product.get("quantity") or 0),
            "qty_shipped": 0.0,
            "qty_short": 0.0,
            "reason": None,
        }
    packages = []
    carrier = service = ship_date = None
    shipment_refs = []
    reasons = []
    for shipment in shipments:
        completed = shipment.get("status") == "Completed"
        if completed:
            shipment_refs.append(str(shipment["id"]))
            tracking = shipment.get("tracking") or {}
            carrier = carrier or tracking.get("carrier")
            service = service or tracking.get("carrier_service")
            ship_date = (
                ship_date
                or tracking.get("shipping_date")
                or shipment.get("actual_fulfillment_date")
            )
            if tracking.get("tracking_number"):
                packages.append(
                    {
                        "tracking_number": tracking["tracking_number"],
                        "tracking_url": tracking.get("tracking_url"),
                    }
                )
        elif shipment.get("status") == CANCELLED:
            reasons += [
                d.get("description")
                for d in shipment.get("status_details") or []
                if d.get("description")
            ]
        if not completed:
            continue
        for product in shipment.get("products") or []:
            line_no = int(product.get("external_line_id") or 0)
            qty = sum(
                float(item.get("quantity") or 0)
                for item in product.get("inventory_items") or []
            )
            line = ordered.setdefault(
                line_no,
                {
                    "line_no": line_no,
                    "sku": product.get("reference_id") or product.get("sku"),
                    "qty_ordered": 0.0,
                    "qty_shipped": 0.0,
                    "qty_short": 0.0,
                    "reason": None,
                },
            )
            line["qty_shipped"] += qty
    reason = ", ".join(dict.fromkeys(reasons)) or None
    for line in ordered.values():
        line["qty_short"] = max(0.0, line["qty_ordered"] - line["qty_shipped"])
        if line["qty_short"]:
            line["reason"] = reason or "not shipped"
    return {
        "type": "shipping_advice",
        "message_id": f"order-{order['id']}",
        "order_ref": order.get("reference_id"),
        "customer_order_ref": order.get("order_number"),
        "shipment_ref": ",".join(shipment_refs) or None,
        "ship_date": ship_date,
        "status": advice_status,
        "carrier": carrier,
        "service": service,
        "packages": packages,
        "lines": sorted(ordered.values(), key=lambda line: line["line_no"]),
    }
