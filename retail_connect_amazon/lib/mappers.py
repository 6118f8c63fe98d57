"""Orders API v2026-01-01 payloads as plain values (no ORM here).

Money is ``{"amount": "12.30", "currencyCode": "EUR"}`` with the amount a
decimal string (``Money`` / ``Decimal`` in ``orders_2026-01-01.json``): read
as ``Decimal``, never through a float. An item's proceeds break down into
``ITEM``, ``SHIPPING``, ``GIFT_WRAP``, ``COD_FEE``, ``OTHER``, ``TAX`` and
``DISCOUNT`` (``ItemProceedsBreakdown``).
"""

from datetime import datetime, timezone
from decimal import Decimal

PENDING = ("PENDING", "PENDING_AVAILABILITY")
CANCELLED = "CANCELLED"
SHIPPED = ("SHIPPED",)
MERCHANT, AMAZON = "MERCHANT", "AMAZON"
INCLUDED_DATA = "FULFILLMENT,PROCEEDS,RECIPIENT,BUYER"


def money(value):
    """A ``Money`` as ``(Decimal amount, currency code)``; absent: (0, None)."""
    if not value:
        return Decimal(0), None
    return Decimal(str(value.get("amount") or "0")), value.get("currencyCode")


def parse_time(text):
    """An ISO 8601 time as Odoo's naive UTC datetime."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def iso(moment):
    """A naive UTC datetime as SP-API's ISO 8601 (``2026-12-01T08:00:00Z``)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def status(order):
    return (order.get("fulfillment") or {}).get("fulfillmentStatus")


def fulfilled_by(order):
    return (order.get("fulfillment") or {}).get("fulfilledBy") or MERCHANT


def marketplace_id(order):
    return (order.get("salesChannel") or {}).get("marketplaceId")


def grand_total(order):
    return money((order.get("proceeds") or {}).get("grandTotal"))


def address(order):
    return (order.get("recipient") or {}).get("deliveryAddress") or {}


def order_lines(order):
    """One dict per order item: sku, title, quantity, and its proceeds split
    into item (``price_unit`` of one unit), shipping, tax and other (gift
    wrap, COD fee, discounts: signed as Amazon gives them)."""
    lines = []
    for item in order.get("orderItems") or []:
        product = item.get("product") or {}
        quantity = int(item.get("quantityOrdered") or 0)
        parts = {"ITEM": None, "SHIPPING": Decimal(0), "TAX": Decimal(0)}
        other = Decimal(0)
        for breakdown in (item.get("proceeds") or {}).get("breakdowns") or []:
            amount, _currency = money(breakdown.get("subtotal"))
            kind = breakdown.get("type")
            if kind in parts:
                parts[kind] = (parts[kind] or Decimal(0)) + amount
            else:
                other += amount
        item_total = parts["ITEM"]
        if item_total is None:
            unit, _currency = money((product.get("price") or {}).get("unitPrice"))
            item_total = unit * quantity
        lines.append(
            {
                "item_id": item["orderItemId"],
                "sku": product.get("sellerSku") or "",
                "asin": product.get("asin") or "",
                "title": product.get("title") or product.get("sellerSku") or "",
                "quantity": quantity,
                "item_total": item_total,
                "price_unit": item_total / quantity if quantity else Decimal(0),
                "shipping": parts["SHIPPING"],
                "tax": parts["TAX"],
                "other": other,
            }
        )
    return lines
