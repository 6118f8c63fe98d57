"""The 3PL's inventory levels over REST, as canonical snapshots (≈846).

ShipBob 2026-07 "Get All Inventory Levels" (``GET /inventory-level``,
https://developer.shipbob.com/2026-07/api/inventory/get-all-inventory-levels)
answers a page ``{first, items, last, next, prev}`` (``next``: the URL of
the following page, null on the last one); each item has ``sku``,
``total_on_hand_quantity``, ``total_committed_quantity``,
``total_fulfillable_quantity``... The per-fulfillment-center levels are
``GET /inventory-level/locations`` (items ``{sku, locations[{location_id,
name, on_hand_quantity, committed_quantity, fulfillable_quantity}]}``).

Levels are current (no ``as_of`` of their own): the count is true when read.
The canonical snapshot is the SFTP contract's (docs/3pl-sftp-csv.md §3.7):
per SKU ``on_hand`` and ``damaged``. On hand units that are neither
fulfillable nor committed (damaged, quarantined: "Inventory GET", fulfillable
is on hand minus committed and minus what cannot ship) are not sellable, as
the file's ``damaged``.
"""

from datetime import datetime


def inventory_levels(client, *, per_location=False):
    """The account's levels (``per_location``: grouped by fulfillment
    center)."""
    path = "inventory-level/locations" if per_location else "inventory-level"
    return list(client.list_all(path, {"PageSize": 250}, operation="inventory.list"))


def _qty(source, *names):
    for name in names:
        value = source.get(name)
        if value is not None:
            return float(value)
    return None


def _line(sku, source, prefix):
    on_hand = _qty(source, f"{prefix}on_hand_quantity") or 0.0
    fulfillable = _qty(source, f"{prefix}fulfillable_quantity")
    committed = _qty(source, f"{prefix}committed_quantity")
    damaged = 0.0
    if fulfillable is not None and committed is not None:
        damaged = max(0.0, on_hand - fulfillable - committed)
    return {"sku": sku, "on_hand": on_hand, "damaged": damaged}


def _location(item, warehouse_code):
    for location in item.get("locations") or []:
        if warehouse_code in (str(location.get("location_id")), location.get("name")):
            return location
    return None


def snapshot_from_levels(items, *, warehouse_code, as_of, per_location=False):
    """The snapshot of one warehouse: the account's totals (one 3PL
    warehouse), or the location whose id or name is the warehouse's code."""
    moment = as_of if isinstance(as_of, datetime) else datetime.fromisoformat(as_of)
    lines = []
    for item in items:
        if not item.get("sku"):
            continue
        if per_location:
            location = _location(item, warehouse_code)
            if location is not None:
                lines.append(_line(item["sku"], location, ""))
        else:
            lines.append(_line(item["sku"], item, "total_"))
    return {
        "type": "inventory_snapshot",
        "message_id": f"inventory-level-{warehouse_code}-{moment:%Y%m%dT%H%M%S}",
        "warehouse_code": warehouse_code,
        "as_of": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lines": lines,
    }
