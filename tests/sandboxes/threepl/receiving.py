"""Inbound goods: receiving orders (the ASN; ShipBob's WRO) and returns.

Documentation followed:

- "A Warehouse Receiving Order (WRO) is how ShipBob manages inbound shipments
  into their fulfillment centers. Some other solutions call this an 'ASN'";
  ``POST /receiving`` with ``fulfillment_center{id}``, ``package_type``,
  ``box_packaging_type``, ``boxes[{tracking_number, box_items[{inventory_id,
  quantity, lot_number, lot_date}]}]``, ``expected_arrival_date``,
  ``purchase_order_number``; "Before creating a WRO, every product needs an
  inventory_id"; poll for completed WROs, then "Mark WRO as synced"
  (https://developer.shipbob.com/2026-07/guides/receiving and
  https://developer.shipbob.com/2026-01/api/receiving/create-warehouse-receiving-order:
  ``box_packaging_type`` and ``boxes`` required); routes Get Multiple / Get /
  Cancel / Set ExternalSync flag (https://developer.shipbob.com/2026-07/api/
  receiving/llms.txt). Status names (Awaiting, Arrived, Processing,
  Completed, Cancelled) and the answer's ``inventory_quantities[{inventory_id,
  sku, expected_quantity, received_quantity, stowed_quantity}]``: the guide's
  "WRO Status Flow" and "Understanding the Inventory Quantities"; the lot and
  damaged detail per line is a secondary source (PLATFORMS.md §4, 944 W07/W13).
- Returns: ``POST /return`` with ``reference_id`` ("a unique identifier from
  your system that links the return in ShipBob to your records"),
  ``fulfillment_center{id}``, ``inventory[{id, quantity, requested_action}]``,
  ``tracking_number``, ``original_shipment_id``
  (https://developer.shipbob.com/guides/returns); ``return.created``,
  ``return.updated``, ``return.completed`` webhooks ("Use return.completed
  events to update your system when a return has successfully been processed
  and completed by ShipBob", https://developer.shipbob.com/2026-07/webhooks).
"""

from __future__ import annotations

from werkzeug.routing import Rule

from ..toolkit import json_response, utc_iso
from .warehouse import WarehouseError, _qty

WRO_OPEN = ("Awaiting", "Arrived", "Processing")


VERSIONS = ("2026-07", "2026-01", "2025-07")
# an unknown version is a path that does not exist (404)
VERSION = "/<any(" + ", ".join(f'"{v}"' for v in VERSIONS) + "):version>"


def _rule(path: str, endpoint: str, *methods: str) -> Rule:
    return Rule(VERSION + path, endpoint=endpoint, methods=list(methods))


RULES = [
    _rule("/receiving", "wros", "GET", "POST"),
    _rule("/receiving/<int:wro_id>", "wro", "GET"),
    _rule("/receiving/<int:wro_id>:cancel", "wro_cancel", "POST"),
    _rule("/receiving:setExternalSync", "wro_sync", "POST"),
    _rule("/return", "returns", "GET", "POST"),
    _rule("/return/<int:return_id>", "return_", "GET"),
]


# ---------------------------------------------------------------- warehouse
def create_wro(wh, data: dict, transport: str) -> dict:
    """``data``: asn_ref, fc, expected_date, tracking_number, lines[{line_no,
    sku, qty, lot, expiry}], message_id."""
    asn_ref = data.get("asn_ref") or ""
    if transport == "sftp" and asn_ref in wh.asn_refs:
        raise WarehouseError(
            422,
            "duplicate_asn_ref",
            f"an ASN {asn_ref} exists already (receiving order {wh.asn_refs[asn_ref]})",
        )
    if not data.get("lines"):
        raise WarehouseError(400, "missing_field", "a receiving order needs items")
    lines = []
    for index, line in enumerate(data["lines"], 1):
        product = wh.product(line.get("sku"))
        lines.append(
            {
                "line_no": int(line.get("line_no") or index),
                "sku": product["sku"],
                "inventory_id": product["inventory_id"],
                "expected": _qty(line.get("qty"), f"line {index} quantity"),
                "lot": line.get("lot") or None,
                "expiry": line.get("expiry") or None,
                "received": 0,
                "damaged": 0,
                "lots": [],
            }
        )
    wro = {
        "id": wh.next_id("wro"),
        "asn_ref": asn_ref,
        "fc": wh.fc(data.get("fc"))["id"],
        "status": "Awaiting",
        "transport": transport,
        "expected_date": data.get("expected_date"),
        "tracking_number": data.get("tracking_number") or "",
        "lines": lines,
        "created_at": wh.clock.now(),
        "updated_at": wh.clock.now(),
        "external_sync": False,
        "receipts": [],
    }
    wh.wros[wro["id"]] = wro
    if asn_ref:
        wh.asn_refs.setdefault(asn_ref, wro["id"])
    return wro


def cancel_wro(wh, wro: dict) -> dict:
    if wro["status"] == "Cancelled":
        return wro
    if wro["status"] != "Awaiting" or any(ln["received"] for ln in wro["lines"]):
        raise WarehouseError(
            422, "already_received", f"receiving order {wro['id']} is {wro['status']}"
        )
    wro["status"] = "Cancelled"
    wro["updated_at"] = wh.clock.now()
    return wro


def receive(wh, wro: dict, items: list[dict] | None = None, complete: bool = True):
    """The goods arrive: ``items`` [{sku, received, damaged, lot, expiry}]
    (default: everything expected, undamaged). Emits ``received``."""
    if wro["status"] not in WRO_OPEN:
        raise WarehouseError(
            409, "already_closed", f"receiving order is {wro['status']}"
        )
    if items is None:
        items = [
            {
                "sku": ln["sku"],
                "received": ln["expected"] - ln["received"],
                "lot": ln["lot"],
            }
            for ln in wro["lines"]
        ]
    now = wh.clock.now()
    receipt_lines = []
    for item in items:
        line = next((ln for ln in wro["lines"] if ln["sku"] == item.get("sku")), None)
        if line is None:
            raise WarehouseError(
                400, "unknown_sku", f"{item.get('sku')} is not on the ASN"
            )
        good = _qty(item.get("received", 0), "received")
        bad = _qty(item.get("damaged", 0), "damaged")
        line["received"] += good
        line["damaged"] += bad
        lot = item.get("lot") or line["lot"]
        line["lots"].append({"lot": lot, "received": good, "damaged": bad})
        wh.move(
            line["sku"], wro["fc"], on_hand=good + bad, damaged=bad, cause="receipt"
        )
        receipt_lines.append(
            {
                "line_no": line["line_no"],
                "sku": line["sku"],
                "qty_received": good,
                "qty_damaged": bad,
                "lot": lot,
                "expiry": item.get("expiry") or line["expiry"],
            }
        )
    wro["status"] = "Completed" if complete else "Processing"
    wro["updated_at"] = now
    receipt = {
        "receipt_ref": f"RCV-{wro['id']}-{len(wro['receipts']) + 1}",
        "received_at": now,
        "status": "complete" if complete else "partial",
        "lines": receipt_lines,
    }
    wro["receipts"].append(receipt)
    fact = {"transport": wro["transport"], "wro": wro, "receipt": receipt}
    wh.emit("received", fact)
    return fact


def create_return(wh, data: dict, transport: str) -> dict:
    """``data``: reference_id, fc, order (optional), tracking_number,
    lines[{sku, qty, action, reason}]."""
    order = data.get("order")
    if not data.get("lines"):
        raise WarehouseError(400, "missing_field", "a return needs inventory")
    lines = []
    for index, line in enumerate(data["lines"], 1):
        product = wh.product(line.get("sku"))
        lines.append(
            {
                "line_no": index,
                "sku": product["sku"],
                "inventory_id": product["inventory_id"],
                "qty": _qty(line.get("qty"), "quantity"),
                "action": line.get("action"),
                "reason": line.get("reason"),
            }
        )
    now = wh.clock.now()
    ret = {
        "id": wh.next_id("return"),
        "reference_id": data.get("reference_id") or "",
        "order_id": order["id"] if order else None,
        "original_shipment_id": data.get("original_shipment_id"),
        "fc": wh.fc(data.get("fc"))["id"],
        "status": "AwaitingArrival",
        "transport": transport,
        "tracking_number": data.get("tracking_number") or "",
        "lines": lines,
        "created_at": now,
        "completed_at": None,
    }
    wh.returns[ret["id"]] = ret
    wh.emit("return_created", {"transport": transport, "return": ret})
    return ret


def complete_return(wh, ret: dict, items: list[dict] | None = None) -> dict:
    """The return is received and processed: ``items`` [{sku, restocked,
    damaged, reason}] (default: everything restocked)."""
    if ret["status"] != "AwaitingArrival":
        raise WarehouseError(409, "already_closed", f"return is {ret['status']}")
    items = items or [{"sku": ln["sku"], "restocked": ln["qty"]} for ln in ret["lines"]]
    for item in items:
        line = next((ln for ln in ret["lines"] if ln["sku"] == item.get("sku")), None)
        if line is None:
            raise WarehouseError(
                400, "unknown_sku", f"{item.get('sku')} is not on the return"
            )
        line["restocked"] = _qty(item.get("restocked", 0), "restocked")
        line["damaged"] = _qty(item.get("damaged", 0), "damaged")
        if item.get("reason"):
            line["reason"] = item["reason"]
        wh.move(
            line["sku"],
            ret["fc"],
            on_hand=line["restocked"] + line["damaged"],
            damaged=line["damaged"],
            cause="return",
        )
    ret["status"] = "Completed"
    ret["completed_at"] = wh.clock.now()
    fact = {"transport": ret["transport"], "return": ret}
    wh.emit("return_completed", fact)
    return fact


# ------------------------------------------------------------------- render
def render_wro(sb, wro: dict) -> dict:
    fc = sb.warehouse.fcs[wro["fc"]]
    return {
        "id": wro["id"],
        "purchase_order_number": wro["asn_ref"],
        "status": wro["status"],
        "expected_arrival_date": wro["expected_date"],
        "insert_date": utc_iso(wro["created_at"]),
        "last_updated_date": utc_iso(wro["updated_at"]),
        "fulfillment_center": {"id": fc["id"], "name": fc["name"]},
        "external_sync_timestamp": utc_iso(wro["updated_at"])
        if wro["external_sync"]
        else None,
        "inventory_quantities": [
            {
                "inventory_id": ln["inventory_id"],
                "sku": ln["sku"],
                "expected_quantity": ln["expected"],
                "received_quantity": ln["received"] + ln["damaged"],
                "stowed_quantity": ln["received"],
                "damaged_quantity": ln["damaged"],
                "lots": [
                    {"lot_number": lot["lot"], "quantity": lot["received"]}
                    for lot in ln["lots"]
                ],
            }
            for ln in wro["lines"]
        ],
    }


# ------------------------------------------------------------------- routes
def _body(request):
    from .routes import body

    return body(request)


def _problem(status, message, field=None):
    from .routes import HttpProblem

    return HttpProblem(status, message, field)


def on_wros(sb, request, version):
    wh = sb.warehouse
    if request.method == "POST":
        data = _body(request)
        for field in ("fulfillment_center", "box_packaging_type", "boxes"):
            if not data.get(field):
                raise _problem(400, f"The {field} field is required.", field)
        lines = []
        for box in data["boxes"]:
            for item in box.get("box_items") or []:
                product = wh.by_inventory_id(item.get("inventory_id"))
                lines.append(
                    {
                        "sku": product["sku"],
                        "qty": item.get("quantity"),
                        "lot": item.get("lot_number"),
                        "expiry": item.get("lot_date"),
                    }
                )
        wro = create_wro(
            wh,
            {
                "asn_ref": data.get("purchase_order_number") or "",
                "fc": (data["fulfillment_center"] or {}).get("id"),
                "expected_date": data.get("expected_arrival_date"),
                "tracking_number": (data["boxes"][0] or {}).get("tracking_number"),
                "lines": lines,
            },
            "rest",
        )
        return json_response(render_wro(sb, wro), 201)
    args = {k.lower(): v for k, v in request.args.items()}
    statuses = set(filter(None, args.get("statuses", "").split(",")))
    refs = set(filter(None, args.get("purchaseordernumbers", "").split(",")))
    sync = args.get("externalsync")
    wros = [
        w
        for w in wh.wros.values()
        if (not statuses or w["status"] in statuses)
        and (not refs or w["asn_ref"] in refs)
        and (sync is None or w["external_sync"] == (sync.lower() == "true"))
    ]
    return sb.paginate(request, [render_wro(sb, w) for w in wros])


def _wro(sb, wro_id) -> dict:
    wro = sb.warehouse.wros.get(wro_id)
    if wro is None:
        raise _problem(404, "The requested resource doesn't exist.")
    return wro


def on_wro(sb, request, version, wro_id):
    return render_wro(sb, _wro(sb, wro_id))


def on_wro_cancel(sb, request, version, wro_id):
    return render_wro(sb, cancel_wro(sb.warehouse, _wro(sb, wro_id)))


def on_wro_sync(sb, request, version):
    data = _body(request)
    ids = data.get("ids") or []
    flag = bool(data.get("is_external_sync", True))
    for wro_id in ids:
        _wro(sb, int(wro_id))["external_sync"] = flag
    return [render_wro(sb, sb.warehouse.wros[int(i)]) for i in ids]


def on_returns(sb, request, version):
    from . import render

    wh = sb.warehouse
    if request.method == "POST":
        data = _body(request)
        if not data.get("reference_id"):
            raise _problem(400, "The reference_id field is required.", "reference_id")
        inventory = data.get("inventory") or []
        if not inventory:
            raise _problem(400, "The inventory field is required.", "inventory")
        shipment = wh.shipments.get(data.get("original_shipment_id") or 0)
        order = wh.orders[shipment["order_id"]] if shipment else None
        ret = create_return(
            wh,
            {
                "reference_id": data["reference_id"],
                "fc": (data.get("fulfillment_center") or {}).get("id"),
                "order": order,
                "original_shipment_id": data.get("original_shipment_id"),
                "tracking_number": data.get("tracking_number"),
                "lines": [
                    {
                        "sku": wh.by_inventory_id(item.get("id"))["sku"],
                        "qty": item.get("quantity"),
                        "action": item.get("requested_action"),
                    }
                    for item in inventory
                ],
            },
            "rest",
        )
        return json_response(render.return_(sb, ret), 201)
    return sb.paginate(request, [render.return_(sb, r) for r in wh.returns.values()])


def on_return_(sb, request, version, return_id):
    from . import render

    ret = sb.warehouse.returns.get(return_id)
    if ret is None:
        raise _problem(404, "The requested resource doesn't exist.")
    return render.return_(sb, ret)
