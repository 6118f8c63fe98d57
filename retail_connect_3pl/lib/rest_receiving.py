"""Inbound goods over the REST API: ShipBob's receiving orders and returns.

- A Warehouse Receiving Order (WRO) "is how ShipBob manages inbound
  shipments into their fulfillment centers. Some other solutions call this
  an 'ASN'": ``POST /receiving`` with ``fulfillment_center{id}``,
  ``package_type``, ``box_packaging_type``, ``boxes[{tracking_number,
  box_items[{inventory_id, quantity, lot_number, lot_date}]}]``,
  ``expected_arrival_date`` and ``purchase_order_number``; "Before creating a
  WRO, every product needs an inventory_id"; completed WROs are polled, then
  marked synced (``POST /receiving:setExternalSync``)
  (https://developer.shipbob.com/2026-07/guides/receiving,
  https://developer.shipbob.com/2026-01/api/receiving/create-warehouse-receiving-order).
  ShipBob keeps no unique key on a WRO: the connector sends the receipt's name
  as ``purchase_order_number`` and, before creating one, adopts a WRO of that
  number an earlier try created (one WRO per receipt whatever the retries).
- Returns: ``return.completed`` "to update your system when a return has
  successfully been processed and completed by ShipBob"
  (https://developer.shipbob.com/2026-07/webhooks); ``GET /return/{id}``
  (https://developer.shipbob.com/guides/returns).
"""

from odoo.addons.retail_connect_base.lib.errors import RemoteError

from .transport import Refused

OPEN = ("Awaiting", "Arrived", "Processing")
COMPLETED = "Completed"


def find_wro(client, asn_ref):
    """The 3PL's WRO (not cancelled) of ``asn_ref``, or None."""
    for wro in client.list_all(
        "receiving", {"PurchaseOrderNumbers": asn_ref}, operation="receiving.find"
    ):
        if wro.get("purchase_order_number") == asn_ref and wro.get("status") != (
            "Cancelled"
        ):
            return wro
    return None


def fulfillment_center(client, code):
    """The FC of the warehouse ``code``: its id or name, or the only one."""
    centers = client.get("fulfillment-center", operation="fc.list").json() or []
    for center in centers:
        if code and code in (str(center.get("id")), center.get("name")):
            return center
    if len(centers) == 1:
        return centers[0]
    raise Refused(
        "invalid_value",
        f"no fulfillment center of the 3PL matches the warehouse code {code}: "
        "set the warehouse code to the FC's id",
    )


def inventory_ids(client, skus):
    found = {}
    for item in client.list_all(
        "inventory-level", {"SKUs": ",".join(skus)}, operation="inventory.find"
    ):
        if item.get("sku") in skus:
            found[item["sku"]] = item["inventory_id"]
    missing = [sku for sku in skus if sku not in found]
    if missing:
        raise Refused(
            "unknown_sku",
            f"the 3PL knows no product {', '.join(missing)}: create it there "
            "first (a WRO needs each product's inventory_id)",
        )
    return found


def send_inbound_notice(client, message):
    asn_ref = message["asn_ref"]
    existing = find_wro(client, asn_ref)
    if message.get("purpose") == "cancel":
        if not existing:
            return {"remote_ref": None, "acked": True}
        try:
            client.post(f"receiving/{existing['id']}:cancel", operation="wro.cancel")
        except RemoteError as err:
            if err.status != 422:
                raise
            raise Refused("already_received", err.message) from err
        return {"remote_ref": str(existing["id"]), "acked": True}
    if existing:
        # a retry after a lost answer: the WRO of the first try
        return {"remote_ref": str(existing["id"]), "acked": True, "adopted": True}
    center = fulfillment_center(client, message.get("warehouse_code"))
    lines = message.get("lines") or []
    ids = inventory_ids(client, sorted({line["sku"] for line in lines}))
    body = {
        "fulfillment_center": {"id": center["id"]},
        "package_type": "Package",
        "box_packaging_type": "EverythingInOneBox",
        "expected_arrival_date": message.get("expected_date"),
        "purchase_order_number": asn_ref,
        "boxes": [
            {
                "tracking_number": message.get("tracking_number") or asn_ref,
                "box_items": [
                    {
                        "inventory_id": ids[line["sku"]],
                        "quantity": line["qty"],
                        "lot_number": line.get("lot"),
                        "lot_date": line.get("expiry"),
                    }
                    for line in lines
                ],
            }
        ],
    }
    wro = client.post("receiving", body, operation="wro.create").json()
    return {"remote_ref": str(wro.get("id")), "acked": True}


def receipt_advice_from_wro(wro):
    """The canonical receipt advice (≈944) of a completed WRO, else None.

    ``stowed_quantity`` is what went to sellable stock, ``damaged_quantity``
    what arrived damaged; the lots are those of the stowed units."""
    if wro.get("status") != COMPLETED:
        return None
    lines = []
    for number, item in enumerate(wro.get("inventory_quantities") or [], 1):
        good = float(item.get("stowed_quantity") or 0)
        damaged = float(item.get("damaged_quantity") or 0)
        for lot in item.get("lots") or []:
            quantity = min(float(lot.get("quantity") or 0), good)
            if not (lot.get("lot_number") and quantity):
                continue
            lines.append(_line(number, item, quantity, 0.0, lot["lot_number"]))
            good -= quantity
        if good or damaged or not lines:
            lines.append(_line(number, item, good, damaged, None))
    return {
        "type": "receipt_advice",
        "message_id": f"wro-{wro['id']}",
        "asn_ref": wro.get("purchase_order_number"),
        "receipt_ref": str(wro["id"]),
        "received_at": wro.get("last_updated_date"),
        "status": "complete",
        "lines": lines,
    }


def _line(number, item, good, damaged, lot):
    return {
        "line_no": number,
        "sku": item.get("sku"),
        "qty_received": good,
        "qty_damaged": damaged,
        "lot": lot,
        "expiry": None,
    }


def return_advice_from_return(ret):
    """The canonical return advice (≈180) of a completed return, else None."""
    if ret.get("status") != COMPLETED:
        return None
    lines = []
    for number, item in enumerate(ret.get("inventory") or [], 1):
        taken = {
            action.get("action"): float(action.get("quantity") or 0)
            for action in item.get("action_taken") or []
        }
        lines.append(
            {
                "line_no": number,
                "sku": item.get("sku"),
                "qty_restocked": taken.get("Restock", 0.0),
                # disposed of: back at the warehouse but not sellable
                "qty_damaged": sum(q for a, q in taken.items() if a != "Restock"),
                "reason": item.get("return_reason"),
            }
        )
    return {
        "type": "return_advice",
        "message_id": f"return-{ret['id']}",
        "return_ref": ret.get("reference_id") or str(ret["id"]),
        "original_shipment_id": ret.get("original_shipment_id"),
        "order_ref": None,
        "tracking_number": ret.get("tracking_number"),
        "received_at": ret.get("completed_date"),
        "lines": lines,
    }
