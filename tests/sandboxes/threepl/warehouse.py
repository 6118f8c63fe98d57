"""The warehouse: one store shared by the REST API and the SFTP files.

It holds products (SKU -> ``inventory_id``), stock per fulfillment center as a
ledger of moves (so a count can be taken *as of* any moment), shipping orders
with their shipments, receiving orders (the ASN; ShipBob's WRO), returns and
adjustments. It knows nothing of HTTP or files: every business fact it
produces (an order shipped, an ASN received, an adjustment, ...) is handed to
its listeners, and the transport the order or ASN came by (``rest`` or
``sftp``) decides who tells the retailer (a webhook, or a file in ``inbox/``).

Quantities (documented where they are used):

- on hand: "everything currently stocked at the warehouse";
- committed: quantities on open orders;
- fulfillable: "everything stocked at the warehouse minus quantities committed
  to orders"; sellable: fulfillable minus exception orders, network-wide only
  (https://developer.shipbob.com/guides, "Inventory GET").
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

from ..toolkit import ApiError

OPEN = ("Processing", "Exception")
SHIPMENT_OPEN = ("Processing", "Exception", "OnHold")
SHIPPED = ("Fulfilled", "PartiallyFulfilled")
DEFAULT_FC = {"id": 10, "name": "Sandbox FC (IL)", "code": "IL1"}
SHORT_REASONS = ("out_of_stock", "damaged", "lost", "address_invalid", "other")


class WarehouseError(ApiError):
    """A refused business action: ``status`` for REST, ``code`` for the ack."""


def _qty(value, name: str = "quantity") -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise WarehouseError(400, "invalid_value", f"{name} must be a number") from None
    if math.isnan(number) or number < 0:
        raise WarehouseError(400, "invalid_value", f"{name} must not be negative")
    return int(number) if number == int(number) else number


class Warehouse:
    """State of one 3PL account; every method runs under the sandbox lock."""

    def __init__(self, clock, *, fulfillment_centers=None, id_base: int = 0):
        self.clock = clock
        self.fcs = {fc["id"]: dict(fc) for fc in (fulfillment_centers or [DEFAULT_FC])}
        self.default_fc = next(iter(self.fcs))
        self.listeners: list[Callable[[str, dict], None]] = []
        self._ids = {
            name: itertools.count(id_base + start)
            for name, start in (
                ("order", 100_001),
                ("shipment", 200_001),
                ("wro", 300_001),
                ("return", 400_001),
                ("inventory", 500_001),
                ("adjustment", 600_001),
            )
        }
        self.products: dict[str, dict] = {}
        self.moves: list[dict] = []
        self.orders: dict[int, dict] = {}
        self.order_refs: dict[tuple[int, str], int] = {}
        self.shipments: dict[int, dict] = {}
        self.wros: dict[int, dict] = {}
        self.asn_refs: dict[str, int] = {}
        self.returns: dict[int, dict] = {}
        self.adjustments: list[dict] = []

    def next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    def emit(self, kind: str, fact: dict) -> None:
        for listener in list(self.listeners):
            listener(kind, fact)

    def fc(self, fc_id=None) -> dict:
        fc_id = self.default_fc if fc_id in (None, "") else fc_id
        for fc in self.fcs.values():
            if fc_id in (fc["id"], str(fc["id"]), fc["code"]):
                return fc
        raise WarehouseError(
            400, "invalid_value", f"unknown fulfillment center {fc_id}"
        )

    # ------------------------------------------------------------ products
    def product(self, sku: str, name: str | None = None, barcode=None) -> dict:
        """The product of ``sku``; created on first sight: "ShipBob will check
        if the product already exists based on a matching reference_id, and
        will automatically create a new product if one does not"
        (https://developer.shipbob.com/guides/orders)."""
        if not sku:
            raise WarehouseError(400, "missing_field", "a product needs a SKU")
        product = self.products.get(sku)
        if product is None:
            product = self.products[sku] = {
                "inventory_id": self.next_id("inventory"),
                "sku": sku,
                "name": name or sku,
                "barcode": barcode or None,
            }
        return product

    def by_inventory_id(self, inventory_id) -> dict:
        for product in self.products.values():
            if str(product["inventory_id"]) == str(inventory_id):
                return product
        raise WarehouseError(422, "unknown_sku", f"unknown inventory_id {inventory_id}")

    # --------------------------------------------------------------- stock
    def move(self, sku, fc_id, *, on_hand=0, damaged=0, cause="", at=None) -> None:
        self.product(sku)
        self.moves.append(
            {
                "time": self.clock.now() if at is None else at,
                "sku": sku,
                "fc": self.fc(fc_id)["id"],
                "on_hand": on_hand,
                "damaged": damaged,
                "cause": cause,
            }
        )

    def _sum(self, field, sku, fc_id, as_of) -> float:
        return sum(
            m[field]
            for m in self.moves
            if m["sku"] == sku
            and (fc_id is None or m["fc"] == fc_id)
            and (as_of is None or m["time"] <= as_of)
        )

    def on_hand(self, sku, fc_id=None, as_of=None) -> float:
        return self._sum("on_hand", sku, fc_id, as_of)

    def damaged(self, sku, fc_id=None, as_of=None) -> float:
        return self._sum("damaged", sku, fc_id, as_of)

    def committed(self, sku, fc_id=None, as_of=None) -> float:
        total = 0
        for order in self.orders.values():
            if fc_id is not None and order["fc"] != fc_id:
                continue
            if as_of is not None and order["created_at"] > as_of:
                continue
            closed = order["closed_at"]
            still_open = order["status"] in OPEN or (
                as_of is not None and closed is not None and closed > as_of
            )
            if still_open:
                total += sum(ln["qty"] for ln in order["lines"] if ln["sku"] == sku)
        return total

    def level(self, sku, fc_id=None, as_of=None) -> dict:
        on_hand = self.on_hand(sku, fc_id, as_of)
        damaged = self.damaged(sku, fc_id, as_of)
        committed = self.committed(sku, fc_id, as_of)
        return {
            "on_hand": on_hand,
            "committed": committed,
            "damaged": damaged,
            "available": on_hand - committed - damaged,
        }

    def seed_stock(self, sku, qty, fc_id=None, *, name=None, barcode=None) -> dict:
        """Set the on-hand quantity (a starting count, not a reported move)."""
        product = self.product(sku, name, barcode)
        fc = self.fc(fc_id)
        delta = _qty(qty) - self.on_hand(sku, fc["id"])
        if delta:
            self.move(sku, fc["id"], on_hand=delta, cause="seed")
        return product

    def drift(self, sku, delta, fc_id=None) -> None:
        """Stock changes nobody reports (miscount, theft): only a snapshot
        shows it."""
        self.move(sku, fc_id, on_hand=delta, cause="drift")

    def adjust(self, sku, delta, reason="cycle_count", fc_id=None, lot=None, ref=""):
        """A reported adjustment (≈ 947): moves stock and tells the retailer."""
        fc = self.fc(fc_id)
        if reason == "damaged":
            self.move(sku, fc["id"], damaged=-delta, cause="adjustment")
        else:
            self.move(sku, fc["id"], on_hand=delta, cause="adjustment")
        adjustment = {
            "id": self.next_id("adjustment"),
            "fc": fc["id"],
            "sku": sku,
            "delta": delta,
            "reason": reason,
            "lot": lot,
            "reference": ref,
            "adjusted_at": self.clock.now(),
        }
        self.adjustments.append(adjustment)
        self.emit("adjusted", {"transport": "sftp", "adjustment": adjustment})
        return adjustment

    def snapshot(self, fc_id=None, as_of=None) -> dict:
        """A full count of one fulfillment center as of ``as_of`` (default:
        now): moves after ``as_of`` are not in it."""
        fc = self.fc(fc_id)
        as_of = self.clock.now() if as_of is None else as_of
        lines = []
        for sku in sorted(self.products):
            level = self.level(sku, fc["id"], as_of)
            if any(level.values()):
                lines.append({"sku": sku, **level})
        return {"fc": fc["id"], "as_of": as_of, "lines": lines}

    # -------------------------------------------------------------- orders
    def find_order(self, channel_id, reference_id) -> dict | None:
        order_id = self.order_refs.get((channel_id, reference_id))
        return None if order_id is None else self.orders[order_id]

    def get_order(self, order_id) -> dict:
        try:
            return self.orders[int(order_id)]
        except (KeyError, ValueError):
            raise WarehouseError(404, "unknown_order", "order not found") from None

    def create_order(self, channel_id, data: dict, transport: str) -> dict:
        """``data``: reference_id, order_number, shipping_method, carrier,
        recipient{...}, lines[{line_no, sku, name, qty, uom, lot, barcode}],
        fc, tags, notes, message_id."""
        reference = data.get("reference_id")
        if not reference:
            raise WarehouseError(400, "missing_field", "reference_id is required")
        existing = self.find_order(channel_id, reference)
        if existing is not None:
            # "422 Duplicate reference ID: You have already created a product
            # or order with the same reference_id"
            # (https://developer.shipbob.com/2026-07/errors)
            raise WarehouseError(
                422,
                "duplicate_order_ref",
                "You have already created a product or order with the same "
                f"reference_id ({reference})",
                existing_order_id=existing["id"],
            )
        lines = self._lines(data.get("lines"))
        order = {
            "id": self.next_id("order"),
            "channel_id": channel_id,
            "reference_id": reference,
            "order_number": data.get("order_number") or reference,
            "transport": transport,
            "status": "Processing",
            "created_at": self.clock.now(),
            "closed_at": None,
            "shipping_method": data.get("shipping_method") or "Standard",
            "carrier": data.get("carrier") or "",
            "recipient": dict(data.get("recipient") or {}),
            "fc": self.fc(data.get("fc"))["id"],
            "lines": lines,
            "tags": list(data.get("tags") or []),
            "notes": data.get("notes") or "",
            "type": data.get("type") or "DTC",
            "shipments": [],
            "message_ids": [data["message_id"]] if data.get("message_id") else [],
        }
        shipment = self._new_shipment(order, "Processing", [dict(ln) for ln in lines])
        order["shipments"].append(shipment["id"])
        self.orders[order["id"]] = order
        self.order_refs[(channel_id, reference)] = order["id"]
        return order

    def _lines(self, raw) -> list[dict]:
        if not raw:
            raise WarehouseError(400, "missing_field", "an order needs products")
        lines = []
        for index, line in enumerate(raw, 1):
            product = self.product(
                line.get("sku"), line.get("name"), line.get("barcode")
            )
            qty = _qty(line.get("qty"), f"line {index} quantity")
            if not qty:
                raise WarehouseError(
                    400, "invalid_value", f"line {index}: quantity must be positive"
                )
            lines.append(
                {
                    "line_no": int(line.get("line_no") or index),
                    "sku": product["sku"],
                    "name": line.get("name") or product["name"],
                    "inventory_id": product["inventory_id"],
                    "qty": qty,
                    "uom": line.get("uom") or "EA",
                    "lot": line.get("lot") or None,
                    "barcode": line.get("barcode") or product["barcode"],
                }
            )
        return lines

    def _new_shipment(self, order, status, lines) -> dict:
        now = self.clock.now()
        shipment = {
            "id": self.next_id("shipment"),
            "order_id": order["id"],
            "status": status,
            "created_at": now,
            "updated_at": now,
            "shipped_at": None,
            "lines": lines,
            "packages": [],
            "carrier": "",
            "service": "",
            "reason": "",
            "tracking_status": None,
        }
        self.shipments[shipment["id"]] = shipment
        return shipment

    def _refuse_if_shipped(self, order) -> None:
        # "The shipment must not be picked, packed, or shipped to proceed with
        # the cancellation" (https://developer.shipbob.com/2026-07/api/orders/
        # cancel-shipment-by-order-id-and-shipment-id)
        if order["status"] in SHIPPED:
            raise WarehouseError(
                422,
                "already_shipped",
                f"order {order['reference_id']} ({order['id']}) has shipped",
            )

    def change_order(self, order, data: dict) -> dict:
        self._refuse_if_shipped(order)
        if order["status"] == "Cancelled":
            raise WarehouseError(
                422, "already_cancelled", f"order {order['reference_id']} is cancelled"
            )
        lines = self._lines(data.get("lines"))
        order["lines"] = lines
        if data.get("recipient"):
            order["recipient"] = dict(data["recipient"])
        for key in ("shipping_method", "carrier", "notes", "order_number"):
            if data.get(key):
                order[key] = data[key]
        shipment = self.shipments[order["shipments"][-1]]
        shipment["lines"] = [dict(ln) for ln in lines]
        shipment["updated_at"] = self.clock.now()
        return order

    def cancel_order(self, order) -> dict:
        """Cancel an open order; a cancelled one stays cancelled (no error)."""
        if order["status"] == "Cancelled":
            return order
        self._refuse_if_shipped(order)
        now = self.clock.now()
        order["status"] = "Cancelled"
        order["closed_at"] = now
        for shipment_id in order["shipments"]:
            shipment = self.shipments[shipment_id]
            if shipment["status"] in SHIPMENT_OPEN:
                shipment["status"] = "Cancelled"
                shipment["updated_at"] = now
        return order

    def ship(
        self,
        order,
        quantities: dict | None = None,
        *,
        reason: str = "",
        carrier: str = "USPS",
        service: str = "Ground",
        packages: int = 1,
    ) -> dict:
        """Ship ``order``: all of it, or ``quantities`` ({sku or line_no: qty});
        what is not shipped is short, with ``reason``. Returns the fact
        ``{order, shipment, short}`` it emits as ``shipped`` (or
        ``not_shipped`` when nothing at all ships)."""
        if order["status"] not in OPEN:
            raise WarehouseError(
                409,
                "already_shipped"
                if order["status"] in SHIPPED
                else "already_cancelled",
                f"order {order['reference_id']} is {order['status']}",
            )
        shipped, short = [], []
        for line in order["lines"]:
            want = line["qty"]
            if quantities is not None:
                want = quantities.get(
                    line["sku"], quantities.get(str(line["line_no"]), 0)
                )
                want = min(_qty(want), line["qty"])
            if want:
                have = self.on_hand(line["sku"], order["fc"]) - self.damaged(
                    line["sku"], order["fc"]
                )
                if have < want:
                    raise WarehouseError(
                        409,
                        "not_enough_stock",
                        f"{line['sku']}: {have} on hand at FC {order['fc']}, cannot "
                        f"ship {want}; seed stock first or ship partially",
                    )
                shipped.append({**line, "qty": want})
            if want < line["qty"]:
                short.append({**line, "qty": line["qty"] - want})
        if short and not reason:
            reason = "out_of_stock"
        if not shipped:
            return self.refuse(order, reason)
        now = self.clock.now()
        shipment = self.shipments[order["shipments"][-1]]
        shipment.update(
            status="Completed",
            shipped_at=now,
            updated_at=now,
            lines=shipped,
            carrier=carrier,
            service=service,
            tracking_status="LabeledCreated",
            reason="",
        )
        shipment["packages"] = self._packages(shipment, carrier, packages)
        for line in shipped:
            self.move(line["sku"], order["fc"], on_hand=-line["qty"], cause="shipment")
        cancelled = None
        if short:
            cancelled = self._new_shipment(order, "Cancelled", short)
            cancelled["reason"] = reason
            order["shipments"].append(cancelled["id"])
        order["status"] = "PartiallyFulfilled" if short else "Fulfilled"
        order["closed_at"] = now
        fact = {
            "transport": order["transport"],
            "order": order,
            "shipment": shipment,
            "short_shipment": cancelled,
            "reason": reason,
        }
        self.emit("shipped", fact)
        return fact

    def _packages(self, shipment, carrier, count) -> list[dict]:
        count = max(1, min(int(count), len(shipment["lines"])))
        packages = []
        for number in range(1, count + 1):
            tracking = f"9400{shipment['id']:010d}{number:02d}"
            packages.append(
                {
                    "package_no": number,
                    "tracking_number": tracking,
                    "tracking_url": f"https://tools.usps.com/go/TrackConfirmAction?tLabels={tracking}",
                    "weight_kg": 0.5,
                    "lines": shipment["lines"][number - 1 :: count],
                }
            )
        return packages

    def hold(self, order, reason: str = "out_of_stock", on_hold: bool = False):
        """The order waits in the warehouse: an exception ("Fires when a
        shipment is moved to exception status (e.g., out-of-stock items)") or,
        ``on_hold``, on hold ("Shipment blocked due to missing/invalid data")
        (https://developer.shipbob.com/experimental/webhooks,
        https://developer.shipbob.com/2026-07/guides/tracking). It stays open:
        it can still ship, be refused or be cancelled. The statuses
        ``Exception`` / ``OnHold``: secondary source (PLATFORMS.md §4)."""
        if order["status"] not in OPEN:
            raise WarehouseError(
                409,
                "already_closed",
                f"order {order['reference_id']} is {order['status']}",
            )
        shipment = self.shipments[order["shipments"][-1]]
        shipment.update(
            status="OnHold" if on_hold else "Exception",
            updated_at=self.clock.now(),
            reason=reason,
        )
        if not on_hold:
            order["status"] = "Exception"
        fact = {
            "transport": order["transport"],
            "order": order,
            "shipment": shipment,
            "reason": reason,
        }
        self.emit("on_hold" if on_hold else "exception", fact)
        return fact

    def refuse(self, order, reason: str = "out_of_stock") -> dict:
        """The warehouse ships nothing and cancels the order with ``reason``."""
        if order["status"] not in OPEN:
            raise WarehouseError(
                409,
                "already_closed",
                f"order {order['reference_id']} is {order['status']}",
            )
        now = self.clock.now()
        shipment = self.shipments[order["shipments"][-1]]
        shipment.update(status="Cancelled", updated_at=now, reason=reason or "other")
        order["status"] = "Cancelled"
        order["closed_at"] = now
        fact = {
            "transport": order["transport"],
            "order": order,
            "shipment": None,
            "short_shipment": shipment,
            "reason": shipment["reason"],
        }
        self.emit("not_shipped", fact)
        return fact

    def track(self, shipment_id, status: str) -> dict:
        """A carrier status change (InTransit, OutForDelivery, Delivered)."""
        shipment = self.shipments.get(int(shipment_id))
        if shipment is None or shipment["status"] != "Completed":
            raise WarehouseError(
                404, "unknown_shipment", "no shipped shipment with that id"
            )
        was_delivered = shipment.get("tracking_status") == "Delivered"
        shipment["tracking_status"] = status
        shipment["updated_at"] = self.clock.now()
        order = self.orders[shipment["order_id"]]
        fact = {"transport": order["transport"], "order": order, "shipment": shipment}
        # order.delivered "fires when all shipments on the order are delivered"
        # (https://developer.shipbob.com/2026-07/guides/tracking): once, when
        # this delivery is the last one (cancelled shipments do not count)
        live = [
            self.shipments[sid]
            for sid in order["shipments"]
            if self.shipments[sid]["status"] != "Cancelled"
        ]
        fact["order_delivered"] = (
            status == "Delivered"
            and not was_delivered
            and all(
                s["status"] == "Completed" and s.get("tracking_status") == "Delivered"
                for s in live
            )
        )
        self.emit("tracking", fact)
        return fact
