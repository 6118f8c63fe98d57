"""Orders of the sandbox: state, status changes on the clock, and the
Orders API v2026-01-01 shapes (``searchOrders``, ``getOrder``).

Written from ``orders_2026-01-01.json`` and
https://developer-docs.amazon.com/sp-api/docs/get-orders-with-filtering-criteria:

- Without ``includedData`` an order holds only its basic information
  (``orderId``, ``createdTime``, ``lastUpdatedTime``, ``programs``,
  ``salesChannel``, the items' ``orderItemId``, ``quantityOrdered``,
  ``product``); each ``includedData`` value adds its section: ``BUYER`` ->
  ``buyer``, ``RECIPIENT`` -> ``recipient``, ``FULFILLMENT`` ->
  ``fulfillment`` (order and items), ``PROCEEDS`` -> ``proceeds`` (order and
  items), ``CANCELLATION`` -> items' ``cancellation``, ``PACKAGES`` ->
  ``packages`` ("Only available for merchant-fulfilled (FBM) orders").
- Personal data is role-based, no Restricted Data Token: the delivery
  address needs the Direct-to-Consumer Delivery role and the buyer the Tax
  Remittance or Tax Invoicing role (same page). Without the role the sandbox
  leaves out the personal fields (buyer name and email; the address's name,
  lines and phone) and keeps where it goes (city, region, postal code,
  country), as v0 answered without a Restricted Data Token
  (``ordersV0.json`` ``OrderAddress``/``getOrderAddress``). ``buyerEmail``
  is "Only available for merchant-fulfilled (FBM) orders".
- Statuses (``FulfillmentStatus``): an order waits ``PENDING`` while Amazon
  authorizes the payment, then becomes ``UNSHIPPED``; a merchant order
  becomes ``PARTIALLY_SHIPPED`` / ``SHIPPED`` through ``confirmShipment``,
  an Amazon-fulfilled (FBA) one is shipped by Amazon; an order can be
  ``CANCELLED`` before it ships. Each change moves ``lastUpdatedTime`` ("An
  update is any change made by Amazon or the seller, including changes to
  order status", ``lastUpdatedAfter``). Scheduled changes happen at their
  time on the sandbox clock, whenever the sandbox is next asked.
"""

from __future__ import annotations

import secrets
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

from .catalog import MARKETPLACES, currency_of, money

INCLUDED_DATA = (
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
)
STATUSES = (
    "PENDING_AVAILABILITY",
    "PENDING",
    "UNSHIPPED",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "CANCELLED",
    "UNFULFILLABLE",
)
FULFILLED_BY = ("MERCHANT", "AMAZON")
OPEN = ("PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED")


def iso(epoch: float) -> str:
    """ISO 8601 as the model's examples write it: ``2024-12-25T10:30:00Z``."""
    moment = datetime.fromtimestamp(int(epoch), timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Item:
    order_item_id: str
    sku: str
    asin: str
    title: str
    quantity: int
    price: Decimal  # unit price, tax excluded
    tax: Decimal  # per unit
    shipping: Decimal  # for the line
    promotion: Decimal = Decimal(0)  # discount on the line
    shipped: int = 0
    settled: int = 0  # units in a settlement report
    refunded: int = 0


@dataclass
class Order:
    order_id: str
    seller_id: str
    marketplace_id: str
    fulfilled_by: str
    created: float
    updated: float
    status: str
    items: list[Item]
    buyer: dict
    address: dict
    service_level: str = "STANDARD"
    programs: list[str] = field(default_factory=list)
    packages: list[dict] = field(default_factory=list)
    # [(epoch, status)] still to happen, in time order
    schedule: list[tuple[float, str]] = field(default_factory=list)
    cancellation: dict | None = None

    @property
    def currency(self) -> str:
        return currency_of(self.marketplace_id)

    def item(self, order_item_id: str) -> Item | None:
        return next((i for i in self.items if i.order_item_id == order_item_id), None)


class OrderBook:
    """Every seller's orders; ``listeners`` hear each change
    ``(order, change_type, epoch)`` (notifications)."""

    def __init__(self, clock, id_base: int = 0):
        self.clock = clock
        self.orders: dict[str, Order] = {}
        self._seq = id_base
        self.listeners: list = []

    # ------------------------------------------------------------- seeding
    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def create(
        self,
        seller_id: str,
        marketplace_id: str,
        items: list[dict],
        *,
        fulfilled_by: str = "MERCHANT",
        pending_seconds: float = 0,
        ship_after: float | None = None,
        cancel_after: float | None = None,
        created: float | None = None,
        buyer: dict | None = None,
        address: dict | None = None,
        service_level: str = "STANDARD",
        programs=(),
    ) -> Order:
        """A new order placed now (or at ``created``).

        ``pending_seconds`` > 0: ``PENDING`` that long, then ``UNSHIPPED``;
        ``cancel_after``: cancelled by Amazon that long after creation
        unless shipped first; ``ship_after`` (FBA orders, default 2 h):
        Amazon ships the whole order that long after it became unshipped.
        """
        if marketplace_id not in MARKETPLACES:
            raise ValueError(f"unknown marketplace {marketplace_id}")
        if fulfilled_by not in FULFILLED_BY:
            raise ValueError(f"fulfilled_by must be one of {FULFILLED_BY}")
        if not items:
            raise ValueError("an order needs items")
        now = self.clock.now() if created is None else float(created)
        seq = self._next()
        # the 3-7-7 digits of an Amazon order id ("it should be in the 3-7-7
        # format", amzn/selling-partner-api-docs#3527), unique up to 9e9 orders
        head = 100 + (seq // 10**7) % 900
        order_id = f"{head:03d}-{seq % 10**7:07d}-{secrets.randbelow(10**7):07d}"
        lines = []
        for index, spec in enumerate(items, 1):
            quantity = int(spec.get("quantity", 1))
            if quantity < 1:
                raise ValueError("quantity must be positive")
            sku = spec["sku"]
            lines.append(
                Item(
                    order_item_id=f"{seq:09d}{index:05d}",
                    sku=sku,
                    asin=spec.get("asin")
                    or f"B0{zlib.crc32(sku.encode()) % 10**8:08d}",
                    title=spec.get("title") or f"Product {sku}",
                    quantity=quantity,
                    price=Decimal(str(spec.get("price", "10.00"))),
                    tax=Decimal(str(spec.get("tax", "0"))),
                    shipping=Decimal(str(spec.get("shipping", "0"))),
                    promotion=Decimal(str(spec.get("promotion", "0"))),
                )
            )
        country = MARKETPLACES[marketplace_id][1]
        status = "PENDING" if pending_seconds > 0 else "UNSHIPPED"
        order = Order(
            order_id=order_id,
            seller_id=seller_id,
            marketplace_id=marketplace_id,
            fulfilled_by=fulfilled_by,
            created=now,
            updated=now,
            status=status,
            items=lines,
            buyer=dict(
                buyer
                or {
                    "buyerName": f"Buyer {seq}",
                    "buyerEmail": f"buyer{seq}@marketplace.amazon.example",
                }
            ),
            address=dict(
                address
                or {
                    "name": f"Recipient {seq}",
                    "addressLine1": f"{seq} Sandbox Street",
                    "city": "Springfield",
                    "stateOrRegion": "ST",
                    "postalCode": "12345",
                    "countryCode": country,
                    "phone": "+1 555 0100",
                    "addressType": "RESIDENTIAL",
                }
            ),
            service_level=service_level,
            programs=list(programs),
        )
        unshipped_at = now + max(0.0, float(pending_seconds))
        if pending_seconds > 0:
            order.schedule.append((unshipped_at, "UNSHIPPED"))
        if cancel_after is not None:
            order.schedule.append((now + float(cancel_after), "CANCELLED"))
        if fulfilled_by == "AMAZON":
            delay = 7200.0 if ship_after is None else float(ship_after)
            order.schedule.append((unshipped_at + delay, "SHIPPED"))
        order.schedule.sort()
        self.orders[order_id] = order
        self.notify(order, "NewOrder", now)
        return order

    # ---------------------------------------------------------- the clock
    def tick(self) -> None:
        """Apply every scheduled change that is due, at its own time."""
        now = self.clock.now()
        for order in self.orders.values():
            while order.schedule and order.schedule[0][0] <= now:
                when, status = order.schedule.pop(0)
                if status == "UNSHIPPED" and order.status == "PENDING":
                    self.set_status(order, "UNSHIPPED", when)
                elif status == "CANCELLED" and order.status in OPEN:
                    if not any(item.shipped for item in order.items):
                        self.cancel(order, "AMAZON", "PaymentFailed", when)
                elif status == "SHIPPED" and order.status == "UNSHIPPED":
                    self.ship_by_amazon(order, when)

    def set_status(self, order: Order, status: str, when: float | None = None):
        when = self.clock.now() if when is None else when
        order.status = status
        order.updated = max(order.updated, when)
        self.notify(order, "OrderStatusChange", when)

    def cancel(self, order: Order, by: str, reason: str, when=None) -> None:
        if order.status not in OPEN or any(i.shipped for i in order.items):
            raise ValueError(f"order {order.order_id} cannot be cancelled now")
        order.schedule = []
        order.cancellation = {"cancelledBy": by, "cancelReason": reason}
        self.set_status(order, "CANCELLED", when)

    def ship_by_amazon(self, order: Order, when: float | None = None) -> None:
        when = self.clock.now() if when is None else when
        for item in order.items:
            item.shipped = item.quantity
        order.schedule = [s for s in order.schedule if s[1] != "SHIPPED"]
        self.set_status(order, "SHIPPED", when)

    def notify(self, order: Order, change_type: str, when: float) -> None:
        for listener in self.listeners:
            listener(order, change_type, when)

    # ----------------------------------------------------------- rendering
    def render(self, order: Order, included: set[str], roles: set[str]) -> dict:
        from .auth import ROLE_ADDRESS, ROLES_BUYER

        currency = order.currency
        body: dict = {
            "orderId": order.order_id,
            "createdTime": iso(order.created),
            "lastUpdatedTime": iso(order.updated),
            "salesChannel": {
                "channelName": "AMAZON",
                "marketplaceId": order.marketplace_id,
                "marketplaceName": MARKETPLACES[order.marketplace_id][3],
            },
        }
        if order.programs:
            body["programs"] = list(order.programs)
        merchant = order.fulfilled_by == "MERCHANT"
        if "BUYER" in included and roles & set(ROLES_BUYER):
            buyer = dict(order.buyer)
            if not merchant:
                buyer.pop("buyerEmail", None)
            body["buyer"] = buyer
        if "RECIPIENT" in included:
            address = dict(order.address)
            if ROLE_ADDRESS not in roles:
                for key in ("name", "companyName", "addressLine1", "addressLine2"):
                    address.pop(key, None)
                address.pop("addressLine3", None)
                address.pop("phone", None)
            elif not merchant:
                # "The buyer phone number will be suppressed ... All FBA"
                address.pop("phone", None)
            body["recipient"] = {"deliveryAddress": address}
        if "PROCEEDS" in included:
            # the grand total is the sum of the breakdowns (the model's
            # example: ITEM 149.97 + TAX 0.02 + DELIVERY_TIP 5.00 = 154.99)
            item_total = sum((i.price * i.quantity for i in order.items), Decimal(0))
            shipping = sum((i.shipping for i in order.items), Decimal(0))
            tax = sum((i.tax * i.quantity for i in order.items), Decimal(0))
            body["proceeds"] = {
                "grandTotal": money(item_total + shipping + tax, currency),
                "breakdowns": [
                    {"type": "ITEM", "subtotal": money(item_total, currency)},
                    {"type": "SHIPPING", "subtotal": money(shipping, currency)},
                    {"type": "TAX", "subtotal": money(tax, currency)},
                ],
            }
        if "FULFILLMENT" in included:
            body["fulfillment"] = {
                "fulfillmentStatus": order.status,
                "fulfilledBy": order.fulfilled_by,
                "fulfillmentServiceLevel": order.service_level,
                "shipByWindow": {
                    "earliestDateTime": iso(order.created),
                    "latestDateTime": iso(order.created + 2 * 86400),
                },
                "deliverByWindow": {
                    "earliestDateTime": iso(order.created + 3 * 86400),
                    "latestDateTime": iso(order.created + 6 * 86400),
                },
            }
        if "PACKAGES" in included and merchant:
            body["packages"] = [dict(package) for package in order.packages]
        body["orderItems"] = [
            self._render_item(order, item, included) for item in order.items
        ]
        return body

    def _render_item(self, order: Order, item: Item, included: set[str]) -> dict:
        currency = order.currency
        line: dict = {
            "orderItemId": item.order_item_id,
            "quantityOrdered": item.quantity,
            "product": {
                "asin": item.asin,
                "title": item.title,
                "sellerSku": item.sku,
                "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                "price": {"unitPrice": money(item.price, currency)},
            },
        }
        if "PROCEEDS" in included:
            total = item.price * item.quantity
            line["proceeds"] = {
                "proceedsTotal": money(
                    total + item.shipping + item.tax * item.quantity, currency
                ),
                "breakdowns": [
                    {"type": "ITEM", "subtotal": money(total, currency)},
                    {"type": "SHIPPING", "subtotal": money(item.shipping, currency)},
                    {
                        "type": "TAX",
                        "subtotal": money(item.tax * item.quantity, currency),
                    },
                ],
            }
        if "FULFILLMENT" in included:
            open_qty = (
                0 if order.status == "CANCELLED" else item.quantity - item.shipped
            )
            line["fulfillment"] = {
                "quantityFulfilled": item.shipped,
                "quantityUnfulfilled": open_qty,
            }
        if "CANCELLATION" in included and order.cancellation:
            line["cancellation"] = {"cancellationExecution": dict(order.cancellation)}
        return line
