"""Inventory levels of the 3PL sandbox, as ShipBob 2026-07 documents them.

- ``GET /inventory-level`` ("Get All Inventory Levels",
  https://developer.shipbob.com/2026-07/api/inventory/get-all-inventory-levels,
  same shape as .../2026-01/api/inventory/get-all-inventory-levels): query
  ``SearchBy``, ``InventoryIds``, ``IsActive``, ``IsDigital``, ``PageSize``,
  ``SortBy``; the answer is a page object ``{first, items, last, next, prev}``
  ("first — URL to retrieve the first page of results. Null if already on the
  first page"; likewise ``prev``; ``next``/``last`` null on the last page).
  Each item: ``inventory_id``, ``name``, ``sku``, ``total_awaiting_quantity``,
  ``total_backordered_quantity``, ``total_committed_quantity``,
  ``total_exception_quantity``, ``total_fulfillable_quantity``,
  ``total_internal_transfer_quantity``, ``total_on_hand_quantity``,
  ``total_sellable_quantity``. There is no per-location breakdown here: that
  is the "Grouped By Fulfillment Center" endpoint below.
- ``GET /inventory-level/{inventoryId}`` ("Get Inventory Levels"): one such
  item.
- ``GET /inventory-level/locations`` ("Get All Inventory Levels Grouped By
  Fulfillment Center", .../2026-07/api/inventory/get-all-inventory-levels-
  grouped-by-fulfillment-center): the same page object, items
  ``{inventory_id, name, sku, locations[{location_id, name, on_hand_quantity,
  committed_quantity, fulfillable_quantity, awaiting_quantity,
  internal_transfer_quantity}]}``; filters ``LocationId`` and those above.

Quantities (https://developer.shipbob.com/guides, "Inventory GET"): on hand is
everything stocked; fulfillable is on hand minus committed (and, here, minus
damaged units, which are on hand but cannot ship); sellable is fulfillable
minus the units of exception orders, network-wide only.

``SearchBy``: "Inventory ID is exact match; search by Inventory Name or SKU
is partial match (consecutive characters, case insensitive)" (secondary
source: withone.ai's ShipBob "Get All Inventory Levels" page; the official
page lists the parameter only). The cursor inside the ``next``/``prev`` URLs
is opaque (a client follows the URL); its name ``Cursor`` and the PageSize
bounds (1-250, default 50, as the other 2026-07 lists) are the sandbox's.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 250


def _BadQuery(field: str, message: str):  # noqa: N802 - raised like a class
    from .routes import BadRequest  # routes imports this module

    return BadRequest(field, message)


def _flag(value: str | None, field: str) -> bool | None:
    if value is None:
        return None
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _BadQuery(field, f"The value '{value}' is not valid for {field}.")


def _products(sb, args: dict) -> list[dict]:
    wh = sb.warehouse
    ids = set()
    for value in args.get("inventoryids", []):
        for part in value.split(","):
            if part.strip():
                ids.add(part.strip())
    search = (args.get("searchby") or [""])[0].strip().lower()
    active = _flag((args.get("isactive") or [None])[0], "IsActive")
    digital = _flag((args.get("isdigital") or [None])[0], "IsDigital")
    found = []
    for sku, product in sorted(wh.products.items()):
        if ids and str(product["inventory_id"]) not in ids:
            continue
        if search and not (
            search == str(product["inventory_id"])
            or search in sku.lower()
            or search in (product["name"] or "").lower()
        ):
            continue
        # every sandbox product is an active, physical one
        if active is False or digital is True:
            continue
        found.append(product)
    return found


def level_item(sb, product: dict) -> dict:
    wh = sb.warehouse
    sku = product["sku"]
    total = wh.level(sku)
    exception = sum(
        ln["qty"]
        for o in wh.orders.values()
        if o["status"] == "Exception"
        for ln in o["lines"]
        if ln["sku"] == sku
    )
    return {
        "inventory_id": product["inventory_id"],
        "name": product["name"],
        "sku": sku,
        "total_awaiting_quantity": 0,
        "total_backordered_quantity": 0,
        "total_committed_quantity": total["committed"],
        "total_exception_quantity": exception,
        "total_fulfillable_quantity": total["available"],
        "total_internal_transfer_quantity": 0,
        "total_on_hand_quantity": total["on_hand"],
        "total_sellable_quantity": total["available"] - exception,
    }


def locations_item(sb, product: dict, location_id=None) -> dict:
    wh = sb.warehouse
    locations = []
    for fc in wh.fcs.values():
        if location_id is not None and str(fc["id"]) != str(location_id):
            continue
        level = wh.level(product["sku"], fc["id"])
        locations.append(
            {
                "location_id": fc["id"],
                "name": fc["name"],
                "on_hand_quantity": level["on_hand"],
                "committed_quantity": level["committed"],
                "fulfillable_quantity": level["available"],
                "awaiting_quantity": 0,
                "internal_transfer_quantity": 0,
            }
        )
    return {
        "inventory_id": product["inventory_id"],
        "name": product["name"],
        "sku": product["sku"],
        "locations": locations,
    }


def _cursor(offset: int) -> str:
    raw = json.dumps({"o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _offset(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded))["o"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise _BadQuery("Cursor", "The cursor is not valid.") from None
    return offset


def page(
    request,
    items: list,
    size_param: str = "PageSize",
    keys: tuple = ("first", "items", "last", "next", "prev"),
    absolute: bool = True,
) -> dict:
    """The documented page object (``{first, items, last, next, prev}``, or
    the ``keys`` of another 2026-07 list) for the size parameter
    ``size_param`` and an opaque ``Cursor``."""
    args = {k.lower(): v for k, v in request.args.items()}
    try:
        size = int(args.get(size_param.lower(), PAGE_SIZE_DEFAULT))
    except ValueError:
        raise _BadQuery(size_param, f"{size_param} must be an integer.") from None
    if not 1 <= size <= PAGE_SIZE_MAX:
        raise _BadQuery(
            size_param, f"{size_param} must be between 1 and {PAGE_SIZE_MAX}."
        )
    offset = _offset(args["cursor"]) if args.get("cursor") else 0
    keep = [
        (k, v)
        for k, v in request.args.items(multi=True)
        if k.lower() not in ("cursor", size_param.lower())
    ]

    def url(at: int) -> str:
        query = keep + [(size_param, str(size)), ("Cursor", _cursor(at))]
        # Get Channels' example answers a path ("next":
        # "/2026-01/channel?cursor=..."); the inventory example a full URL
        host = request.host_url.rstrip("/") if absolute else ""
        return f"{host}{request.path}?{urlencode(query)}"

    last_at = max(0, (len(items) - 1) // size * size)
    has_next = offset + size < len(items)
    answer = {
        "first": url(0) if offset > 0 else None,
        "items": items[offset : offset + size],
        "last": url(last_at) if has_next else None,
        "next": url(offset + size) if has_next else None,
        "prev": url(max(0, offset - size)) if offset > 0 else None,
    }
    return {k: answer[k] for k in keys}


def _sort(items: list, request) -> list:
    sort_by = request.args.get("SortBy") or request.args.get("sortby")
    if not sort_by:
        return items
    for field in reversed(sort_by.split(",")):
        field = field.strip()
        desc = field.startswith("-")
        key = field.lstrip("-")
        if not key:
            continue
        if items and key not in items[0]:
            raise _BadQuery("SortBy", f"Cannot sort by '{key}'.")
        items = sorted(items, key=lambda i, k=key: (i[k] is None, i[k]), reverse=desc)
    return items


def _multi(request) -> dict:
    args: dict[str, list] = {}
    for k, v in request.args.items(multi=True):
        args.setdefault(k.lower(), []).append(v)
    return args


def on_inventory_levels(sb, request, version):
    items = [level_item(sb, p) for p in _products(sb, _multi(request))]
    return page(request, _sort(items, request))


def on_inventory_level(sb, request, version, inventory_id):
    from .routes import HttpProblem

    for product in sb.warehouse.products.values():
        if product["inventory_id"] == inventory_id:
            return level_item(sb, product)
    raise HttpProblem(404, "The requested resource doesn't exist.")


def on_inventory_level_locations(sb, request, version):
    location_id = request.args.get("LocationId") or request.args.get("locationid")
    items = [locations_item(sb, p, location_id) for p in _products(sb, _multi(request))]
    return page(request, _sort(items, request))
