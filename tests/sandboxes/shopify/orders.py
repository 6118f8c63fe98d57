"""Orders, their lines, money, transactions and refunds: seeding, REST payloads, GraphQL
views and queries."""

from __future__ import annotations

import copy
import functools
import math
from datetime import (
    datetime,
    timezone,
)
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .. import shopify_discounts as disc
from ..toolkit import parse_iso_ms
from .schema import (
    ORDER_WINDOW_DAYS,
    SCHEMA,
    _bag,
    _current,
    fmt,
    gid_number,
    gql_time,
    money,
)


class ShopifyOrdersMixin:
    """Orders, their lines, money, transactions and refunds: seeding, REST payloads,
    GraphQL views and queries."""

    # ------------------------------------------------------------- orders
    def add_order(
        self,
        customer: str | dict | None = None,
        lines: list[dict] | tuple = (),
        *,
        financial_status: str = "PAID",
        paid: Any = None,
        presentment_currency: str | None = None,
        presentment_rate: Any = None,
        shipping: dict | None = None,
        taxes: list[dict] | None = None,
        discounts: Any = None,
        discount_applications: list[dict] | tuple = (),
        tip: Any = None,
        duties: dict | None = None,
        gift_card_payment: Any = None,
        email: str | None = None,
        phone: str | None = None,
        shipping_address: dict | None = None,
        billing_address: dict | None = None,
        location: str | None = None,
        tags: list[str] | tuple = (),
        note: str | None = None,
        gateway: str = "shopify_payments",
        declined: int = 0,
        test: bool = False,
        source_name: str = "web",
        taxes_included: bool = False,
        created_at: str | None = None,
        emit: bool = False,
    ) -> dict:
        """Create an order with one fulfillment order per location.

        ``customer``: a Customer GID or ``add_customer`` keyword arguments.
        ``lines``: ``[{"sku", "quantity", "price", "title", "discount",
        "location"}]`` (price defaults to the variant's; an unknown SKU makes a
        custom line). ``shipping``: ``{"title", "price", "code"}``. ``taxes``:
        ``[{"title", "rate"}]`` applied to every line and to shipping.
        A line's ``discount`` is an amount the merchant took off that line (a
        line-level manual discount, EXPLICIT); ``"gift_card": True`` sells a
        gift card (LineItem.isGiftCard "whether the line item represents the
        purchase of a gift card"), untaxed (LineItem.taxable false: a gift
        card is a means of payment, taxed on what it later buys) and out of
        order-wide discounts (shopify_discounts).
        ``tip``: an amount the customer added as a tip, a line item without
        product that can't be fulfilled (LineItem.nonFulfillableQuantity:
        "the item is not something that can be fulfilled, like a tip") and
        ``Order.totalTipReceivedSet``. ``duties``: ``{sku: amount}`` import
        duties charged at checkout (LineItem.duties, Duty.price;
        Order.currentTotalDutiesSet), part of the order's total; or ``{sku:
        {"price", "taxes": [{"title", "rate"}]}}``: a duty with the taxes
        charged on it (Duty.taxLines), part of the order's tax and total
        (assumption: the docs do not say how Order.totalTaxSet counts them;
        the customer pays them, so totalPriceSet does; they follow
        ``taxesIncluded`` as line items' taxes do).
        ``gift_card_payment``: that much of a paid order was paid with a gift
        card (a SALE transaction of the ``gift_card`` gateway): a payment, not
        a discount, so the order's total is unchanged.
        ``gateway``: the payment gateway of its transactions, as Shopify
        names it (OrderTransaction.gateway "the payment gateway used to
        process the transaction": ``shopify_payments``, ``paypal``,
        ``manual``...). ``declined``: that many attempts failed before the
        payment went through, each a SALE transaction of status FAILURE
        (OrderTransactionStatus FAILURE "The transaction failed.";
        https://shopify.dev/docs/api/admin-graphql/latest/enums/OrderTransactionStatus):
        the order keeps them, they move no money.
        ``test``: a test order (Order.test: "made using the Shopify Bogus
        Gateway or a payment provider with test mode enabled"); ``source_name``
        where it was placed (Order.sourceName: "such as web, mobile_app, or
        pos"; https://shopify.dev/docs/api/admin-graphql/latest/objects/Order).
        ``discounts`` an amount off the
        whole order (an order-level manual discount); ``discount_applications``
        any discounts, applied in their order after the lines' own (see
        ``shopify_discounts.application``: codes, automatic discounts, order,
        product or shipping targets, amounts or percentages; allocations on
        line items and shipping lines, taxes on what is left). A line goes to
        ``location``, else the first location with enough stock, and commits
        that stock. ``created_at`` (ISO) back-dates the order.

        ``financial_status`` is an ``OrderDisplayFinancialStatus``;
        ``PARTIALLY_PAID`` ("a payment was manually captured for the order with
        an amount less than the full order value", schema description of the
        enum) captures ``paid`` (default: half the total).

        ``presentment_currency`` / ``presentment_rate``: the customer pays in
        another currency than the shop's (Shopify Markets / multi-currency).
        Every MoneyBag of the order then carries ``shopMoney`` in the shop's
        currency and ``presentmentMoney`` = shop amount x rate in the
        customer's (https://shopify.dev/docs/api/admin-graphql/latest/objects/MoneyBag:
        "presentmentMoney contains the amount in the customer's selected
        currency, shopMoney the equivalent in the shop's base currency");
        ``Order.currencyCode`` stays the shop currency and
        ``presentmentCurrencyCode`` is the customer's (Order object, Admin
        GraphQL); REST orders give ``currency`` = shop currency; REST refunds
        give line subtotals and transactions in the currency the customer
        paid (``currency``: "the currency used for the payment", REST
        Transaction resource; "breaking changes to the Transaction and Refund
        resources",
        https://help.shopify.com/en/api/guides/multi-currency-migration-guide).
        """
        if not lines:
            raise ValueError("an order needs lines")
        statuses = SCHEMA.get_type("OrderDisplayFinancialStatus").values
        if financial_status not in statuses:
            raise ValueError(f"unknown financial status {financial_status!r}")
        if presentment_currency is not None:
            if presentment_currency not in SCHEMA.get_type("CurrencyCode").values:
                raise ValueError(f"currency {presentment_currency!r} is not known")
            if presentment_rate is None or Decimal(str(presentment_rate)) <= 0:
                raise ValueError("a presentment currency needs a positive rate")
        for where in [location, *(spec.get("location") for spec in lines)]:
            if where is not None and where not in self.locations:
                raise ValueError(f"unknown location {where!r}")
        if isinstance(customer, dict):
            customer = self.add_customer(**customer)["id"]
        with self.lock:
            buyer = (
                self._get(self.customers, customer, "customer") if customer else None
            )
            ms = parse_iso_ms(created_at) if created_at else self._now_ms()
            self._order_number += 1
            address = shipping_address
            if address is None and buyer and buyer["addresses"]:
                address = {k: v for k, v in buyer["addresses"][0].items() if k != "id"}
            order = {
                "id": self._next("Order"),
                "number": self._order_number,
                "name": f"#{self._order_number}",
                "customerId": buyer["id"] if buyer else None,
                "email": email or (buyer or {}).get("email"),
                "phone": phone or (buyer or {}).get("phone"),
                "currency": self.currency,
                "presentmentCurrency": presentment_currency or self.currency,
                "presentmentRate": Decimal(str(presentment_rate))
                if presentment_currency
                else Decimal(1),
                "createdAt": ms,
                "updatedAt": ms,
                "cancelledAt": None,
                "cancelReason": None,
                "closedAt": None,
                "financialStatus": financial_status,
                "taxesIncluded": taxes_included,
                "lineItems": [],
                "shippingLines": [],
                "shippingAddress": self._address(address),
                "billingAddress": self._address(billing_address or address),
                "refunds": [],
                "transactions": [],
                "fulfillmentOrders": [],
                "fulfillments": [],
                "tags": list(tags),
                "note": note,
                "gateway": gateway,
                "test": bool(test),
                "sourceName": source_name,
            }
            taxes = taxes or []
            for spec in lines:
                order["lineItems"].append(self._new_line(spec, taxes, taxes_included))
            if tip:
                order["lineItems"].append(
                    self._new_line(
                        {"title": "Tip", "price": tip, "tip": True},
                        taxes,
                        taxes_included,
                    )
                )
            for sku, duty in (duties or {}).items():
                line = next(x for x in order["lineItems"] if x["sku"] == sku)
                if not isinstance(duty, dict):
                    duty = {"price": duty}
                price = money(duty["price"])
                line["duties"].append(
                    {
                        "id": self._next("Duty"),
                        "price": price,
                        # Duty.taxLines: "A list of taxes charged on the duty"
                        # (https://shopify.dev/docs/api/admin-graphql/latest/objects/Duty)
                        "taxLines": self._tax_lines(
                            price, duty.get("taxes") or [], taxes_included
                        ),
                    }
                )
            if shipping:
                price = money(shipping.get("price", "0"))
                order["shippingLines"].append(
                    {
                        "id": self._next("ShippingLine"),
                        "title": shipping.get("title", "Shipping"),
                        "code": shipping.get("code", shipping.get("title", "Shipping")),
                        "source": "shopify",
                        "price": price,
                        "discount": money(0),
                        "allocations": [],
                        "taxLines": self._tax_lines(price, taxes, taxes_included),
                    }
                )
            specs = [
                {
                    "type": "manual",
                    "title": "Line discount",
                    "amount": spec["discount"],
                    "target": {"lines": [line["id"]]},
                }
                for spec, line in zip(
                    lines, order["lineItems"][: len(lines)], strict=True
                )
                if money(spec.get("discount", 0))
            ]
            if discounts:
                specs.append(
                    {"type": "manual", "title": "Order discount", "amount": discounts}
                )
            self._apply_discounts(
                order, [*specs, *discount_applications], taxes, taxes_included
            )
            self._open_fulfillment_orders(order, location, ms)
            total = self._totals(order)["total"]
            if gift_card_payment is not None:
                part = money(gift_card_payment)
                if financial_status != "PAID" or not 0 < part <= total:
                    raise ValueError("a gift card pays part of a paid order")
                self._transaction(order, "SALE", part, ms, gateway="gift_card")
                total -= part
            for _attempt in range(declined):
                self._transaction(order, "SALE", total, ms)["status"] = "FAILURE"
            if financial_status in ("PAID", "AUTHORIZED") and total:
                kind = "SALE" if financial_status == "PAID" else "AUTHORIZATION"
                self._transaction(order, kind, total, ms)
            elif financial_status == "PARTIALLY_PAID":
                part = money(paid) if paid is not None else money(total / 2)
                if not 0 < part < total:
                    raise ValueError("a partial payment is more than 0, less than due")
                self._transaction(order, "SALE", part, ms)
            self.orders[order["id"]] = order
            snapshot = self.order(order["id"])
        if emit:
            self.emit("orders/create", order["id"])
            if financial_status == "PAID":
                self.emit("orders/paid", order["id"])
        return snapshot

    def order(self, order_id: str) -> dict:
        """A deep copy of the order record, with its fulfillment orders."""
        with self.lock:
            order = copy.deepcopy(self._get(self.orders, order_id, "order"))
            order["fulfillmentOrders"] = [
                copy.deepcopy(self.fulfillment_orders[f])
                for f in order["fulfillmentOrders"]
            ]
            order["displayFinancialStatus"] = order["financialStatus"]
            order["displayFulfillmentStatus"] = self._fulfillment_status(order)
            order["totals"] = {k: fmt(v) for k, v in self._totals(order).items()}
            return order

    def _new_line(self, spec: dict, taxes: list, included: bool) -> dict:
        variant = None
        if spec.get("sku") is not None:
            variant = next(
                (v for v in self.variants.values() if v["sku"] == spec["sku"]), None
            )
        quantity = int(spec.get("quantity", 1))
        if quantity < 1:
            raise ValueError("line quantity must be positive")
        price = money(spec["price"]) if "price" in spec else None
        if price is None:
            price = variant["price"] if variant else money(0)
        product = self.products[variant["productId"]] if variant else None
        variant_title = None
        if variant and variant["options"] != [("Title", "Default Title")]:
            variant_title = " / ".join(value for _, value in variant["options"])
        line = {
            "id": self._next("LineItem"),
            "variantId": variant["id"] if variant else None,
            "productId": product["id"] if product else None,
            "sku": spec.get("sku"),
            "title": spec.get("title") or (product["title"] if product else "Item"),
            "variantTitle": variant_title,
            "quantity": quantity,
            "refunded": 0,
            "removed": 0,  # taken off by an order edit (edit_order)
            "price": price,
            "discount": money(0),  # all its allocations (line and order level)
            "allocations": [],
            "giftCard": bool(spec.get("gift_card")),
            "tip": bool(spec.get("tip")),
            "taxable": not (spec.get("gift_card") or spec.get("tip")),
            "duties": [],
            "taxLines": []
            if spec.get("gift_card") or spec.get("tip")
            else self._tax_lines(price * quantity, taxes, included),
            "locationId": spec.get("location"),
        }
        return line

    @staticmethod
    def _tax_lines(base: Decimal, taxes: list, included: bool) -> list[dict]:
        result = []
        for tax in taxes:
            rate = Decimal(str(tax["rate"]))
            amount = base - base / (1 + rate) if included else base * rate
            result.append(
                {"title": tax["title"], "rate": float(rate), "price": money(amount)}
            )
        return result

    def _apply_discounts(self, order, specs, taxes, included) -> None:
        """Discount applications of ``specs`` with their allocations; taxes
        of every line on what is left (shopify_discounts)."""
        order["discountApplications"] = []
        for index, spec in enumerate(specs):
            app, entitled = disc.application(spec, index, order)
            disc.allocate(app, entitled)
            order["discountApplications"].append(app)
        for line in [*order["lineItems"], *order["shippingLines"]]:
            line["discount"] = disc.total(line, order["discountApplications"])
            if line.get("taxable", True):
                line["taxLines"] = self._tax_lines(disc.net(line), taxes, included)
            else:
                line["taxLines"] = []

    def _pick_location(self, item_id: str | None, quantity: int) -> str:
        stocked = [loc for loc in self.locations if (item_id, loc) in self.levels]
        for location_id in stocked:
            if self.levels[(item_id, location_id)]["available"] >= quantity:
                return location_id
        if stocked:
            return stocked[0]
        if not self.locations:
            return self.add_location("Shop location")["id"]
        return next(iter(self.locations))

    def _transaction(
        self, order, kind, amount, ms=None, parent=None, gateway=None
    ) -> dict:
        transaction = {
            "id": self._next("OrderTransaction"),
            "kind": kind,
            "status": "SUCCESS",
            "gateway": gateway or order["gateway"],
            "amount": amount,
            "createdAt": self._now_ms() if ms is None else ms,
            "parentId": parent,
        }
        order["transactions"].append(transaction)
        return transaction

    @staticmethod
    def _uncaptured_authorization(order: dict) -> dict | None:
        captured = {
            t["parentId"] for t in order["transactions"] if t["kind"] == "CAPTURE"
        }
        return next(
            (
                t
                for t in order["transactions"]
                if t["kind"] == "AUTHORIZATION"
                and t["status"] == "SUCCESS"
                and t["id"] not in captured
            ),
            None,
        )

    def _totals(self, order: dict) -> dict[str, Decimal]:
        zero = Decimal("0.00")
        subtotal = current_subtotal = line_tax = current_tax = discounts = zero
        gross = tips = duties = zero
        for line in order["lineItems"]:
            tips += line["price"] if line.get("tip") else zero
            duties += sum((d["price"] for d in line.get("duties") or ()), zero)
            quantity, current = line["quantity"], _current(line)
            net = line["price"] * quantity - line["discount"]
            tax = sum((t["price"] for t in line["taxLines"]), zero)
            duty_tax = sum(
                (t["price"] for d in line.get("duties") or () for t in d["taxLines"]),
                zero,
            )
            gross += line["price"] * quantity
            discounts += line["discount"]
            subtotal += net
            line_tax += tax + duty_tax
            current_subtotal += money(net * current / quantity)
            current_tax += money(tax * current / quantity) + duty_tax
        shipping = sum((disc.net(s) for s in order["shippingLines"]), zero)
        discounts += sum((s["discount"] for s in order["shippingLines"]), zero)
        shipping_tax = sum(
            (t["price"] for s in order["shippingLines"] for t in s["taxLines"]), zero
        )
        included = order["taxesIncluded"]
        tax, current_tax = line_tax + shipping_tax, current_tax + shipping_tax
        kinds = {"SALE", "CAPTURE"}
        done = [t for t in order["transactions"] if t["status"] == "SUCCESS"]
        return {
            "line_items": gross,
            "subtotal": subtotal,
            "current_subtotal": current_subtotal,
            "shipping": shipping,
            "tax": tax,
            "current_tax": current_tax,
            "discounts": discounts,
            "tips": tips,
            "duties": duties,
            "total": subtotal + shipping + duties + (zero if included else tax),
            "current_total": current_subtotal
            + shipping
            + duties
            + (zero if included else current_tax),
            "paid": sum((t["amount"] for t in done if t["kind"] in kinds), zero),
            "refunded": sum((t["amount"] for t in done if t["kind"] == "REFUND"), zero),
        }

    def update_order(self, order_id: str, *, emit: bool = False, **fields) -> dict:
        """Change ``email``, ``phone``, ``note``, ``tags``, ``shipping_address``,
        ``billing_address`` or ``financial_status``; bumps ``updatedAt``.

        ``PAID`` is orderMarkAsPaid: it "will either create a new sale
        transaction for the full outstanding amount or capture an existing
        authorized transaction, depending on the order's current payment
        state" (https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderMarkAsPaid):
        an authorization not captured yet gets its CAPTURE, whose
        parentTransaction is the authorization ("The associated parent
        transaction, for example the authorization of a capture",
        OrderTransaction.parentTransaction); else a SALE of what is due."""
        names = {
            "shipping_address": "shippingAddress",
            "billing_address": "billingAddress",
            "financial_status": "financialStatus",
        }
        became_paid = False
        with self.lock:
            order = self._get(self.orders, order_id, "order")
            for key, value in fields.items():
                if key in ("shipping_address", "billing_address"):
                    value = self._address(value)
                elif key == "financial_status" and value == "PAID":
                    totals = self._totals(order)
                    due = totals["total"] - totals["paid"]
                    authorization = self._uncaptured_authorization(order)
                    if due > 0 and authorization:
                        self._transaction(
                            order,
                            "CAPTURE",
                            due,
                            parent=authorization["id"],
                            gateway=authorization["gateway"],
                        )
                    elif due > 0:
                        self._transaction(order, "SALE", due)
                    became_paid = order["financialStatus"] != "PAID"
                elif key not in ("email", "phone", "note", "tags", "financial_status"):
                    raise ValueError(f"unknown order field {key!r}")
                order[names.get(key, key)] = value
            self._touch(order)
        if emit:
            self.emit("orders/updated", order_id)
            if became_paid:
                self.emit("orders/paid", order_id)
        return self.order(order_id)

    def cancel_order(
        self,
        order_id: str,
        reason: str = "CUSTOMER",
        *,
        refund: bool = False,
        restock: bool = True,
        emit: bool = False,
    ) -> dict:
        """Cancel: close the fulfillment orders (releasing the committed stock
        when ``restock``), refund what was paid (``refund``) or void an
        authorization."""
        with self.lock:
            order = self._get(self.orders, order_id, "order")
            if order["cancelledAt"] is not None:
                raise ValueError(f"order {order_id} is already cancelled")
            ms = self._touch(order)
            order["cancelledAt"] = order["closedAt"] = ms
            order["cancelReason"] = reason
            for fo_id in order["fulfillmentOrders"]:
                fulfillment_order = self.fulfillment_orders[fo_id]
                for fo_line in fulfillment_order["lines"]:
                    left, fo_line["remaining"] = fo_line["remaining"], 0
                    item_id = self._item_of_line(fo_line["lineItemId"])
                    if left and item_id:
                        self._move(
                            item_id,
                            fulfillment_order["locationId"],
                            available=left if restock else 0,
                            committed=-left,
                        )
                fulfillment_order["status"] = "CLOSED"
                fulfillment_order["updatedAt"] = ms
            totals = self._totals(order)
            if refund and totals["paid"] > totals["refunded"]:
                self._refund(order, [], totals["paid"] - totals["refunded"], None)
            elif order["financialStatus"] == "AUTHORIZED":
                order["financialStatus"] = "VOIDED"
        if emit:
            self.emit("orders/cancelled", order_id)
        return self.order(order_id)

    def _item_of_line(self, line_item_id: str) -> str | None:
        _, line = self._line_items[line_item_id]
        variant = self.variants.get(line["variantId"])
        return variant["inventoryItemId"] if variant else None

    def refund_order(
        self,
        order_id: str,
        lines: list[dict] | tuple = (),
        *,
        amount: Any = None,
        note: str | None = None,
        emit: bool = False,
        split: int = 1,
    ) -> dict:
        """Refund ``[{"line_item_id", "quantity", "restock_type"}]`` and
        ``amount`` (default: the lines' price and tax), paid back in ``split``
        REFUND transactions (RefundInput.transactions: "A list of transactions
        involved in the refund", Admin GraphQL; the cents left over go to the
        last one).

        As RefundLineItemRestockType and the REST Refund resource's
        ``restock_type`` (https://shopify.dev/docs/api/admin-rest/latest/
        resources/refund) document: ``CANCEL`` "Use this when restocking
        unfulfilled line items": the units leave the open fulfillment orders
        and their commitment goes back to ``available``; ``RETURN`` "Use this
        when restocking line items that were fulfilled": the units go back to
        ``available`` at the location, the fulfillment orders stay;
        ``NO_RESTOCK`` "Refund line item was not restocked" ("Refunding these
        items won't affect inventory. The number of fulfillable units for this
        line item will remain unchanged"): no quantity and no fulfillment order
        changes. Without a type (the admin's "restock" box ticked): ``CANCEL``
        while the line has that many unfulfilled units, else ``RETURN``.
        """
        with self.lock:
            order = self._get(self.orders, order_id, "order")
            refund = self._refund(order, list(lines), amount, note, split)
            snapshot = copy.deepcopy(refund)
        if emit:
            self.emit("refunds/create", refund["id"])
        return snapshot

    def _refund(self, order, lines, amount, note, split=1) -> dict:
        ms = self._touch(order)
        refund_lines = []
        for spec in lines:
            owner, line = self._line_items.get(spec["line_item_id"], (None, None))
            if owner != order["id"]:
                raise ValueError(f"line item {spec['line_item_id']} not in this order")
            quantity = int(spec["quantity"])
            if not 0 < quantity <= _current(line):
                raise ValueError(f"cannot refund {quantity} of {line['id']}")
            unfulfilled = self._unfulfilled(line["id"])
            restock_type = spec.get("restock_type") or (
                "CANCEL" if quantity <= unfulfilled else "RETURN"
            )
            if restock_type == "CANCEL" and quantity > unfulfilled:
                raise ValueError(f"only unfulfilled units of {line['id']} cancel")
            line["refunded"] += quantity
            location_id = spec.get("location_id") or line["locationId"]
            if not spec.get("moved"):  # a return's refund restocked already
                self._release(order, line, quantity, restock_type, location_id)
            share = Decimal(quantity) / Decimal(line["quantity"])
            net = line["price"] * line["quantity"] - line["discount"]
            tax = sum((t["price"] for t in line["taxLines"]), Decimal(0))
            refund_lines.append(
                {
                    "id": self._next("RefundLineItem"),
                    "lineItemId": line["id"],
                    "quantity": quantity,
                    "restockType": restock_type,
                    "locationId": location_id,
                    "subtotal": money(net * share),
                    "tax": money(tax * share),
                }
            )
        if amount is None:
            amount = sum((r["subtotal"] + r["tax"] for r in refund_lines), Decimal(0))
        amount = money(amount)
        transactions = []
        if amount > 0:
            # a refund's parent "must be a capture or sale transaction" that
            # succeeded, and goes back through its gateway (REST Transaction
            # resource, parent_id; OrderTransactionInput.parentId)
            # (the card before a gift card that paid part of the order)
            paid = [
                t
                for t in order["transactions"]
                if t["kind"] in ("SALE", "CAPTURE") and t["status"] == "SUCCESS"
            ]
            paid.sort(key=lambda t: t["gateway"] == "gift_card")
            sale = paid[0] if paid else None
            parent = sale["id"] if sale else None
            if not 1 <= split <= amount * 100:
                raise ValueError(f"cannot pay {amount} back in {split} transactions")
            part = (amount / split).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
            for index in range(split):
                share = part if index < split - 1 else amount - part * (split - 1)
                transactions.append(
                    self._transaction(
                        order,
                        "REFUND",
                        share,
                        ms,
                        parent,
                        gateway=sale["gateway"] if sale else None,
                    )["id"]
                )
        refund = {
            "id": self._next("Refund"),
            "orderId": order["id"],
            "createdAt": ms,
            "updatedAt": ms,
            "note": note,
            "lines": refund_lines,
            "transactions": transactions,
            "amount": amount,
        }
        order["refunds"].append(refund)
        totals = self._totals(order)
        if totals["refunded"] > 0:
            full = totals["refunded"] >= totals["paid"] > 0
            order["financialStatus"] = "REFUNDED" if full else "PARTIALLY_REFUNDED"
        return refund

    def _release(self, order, line, quantity, restock_type, location_id) -> None:
        item_id = self._item_of_line(line["id"])
        if restock_type in ("RETURN", "LEGACY_RESTOCK"):
            if item_id:
                self._level(item_id, location_id, create=True)
                self._move(item_id, location_id, available=quantity)
            return
        if restock_type != "CANCEL":  # NO_RESTOCK: nothing moves
            return
        left = quantity
        for fo_id in order["fulfillmentOrders"]:
            fulfillment_order = self.fulfillment_orders[fo_id]
            for fo_line in fulfillment_order["lines"]:
                if fo_line["lineItemId"] != line["id"] or not left:
                    continue
                taken = min(left, fo_line["remaining"])
                fo_line["remaining"] -= taken
                left -= taken
                if taken and item_id:
                    where = fulfillment_order["locationId"]
                    self._move(item_id, where, available=taken, committed=-taken)
            if all(not fo_line["remaining"] for fo_line in fulfillment_order["lines"]):
                fulfillment_order["status"] = "CLOSED"

    # ---------------------------------------------------- REST payloads
    def _rest_time(self, ms: int | None) -> str | None:
        """REST timestamps: shop-local with an offset, e.g. ``...T11:30:00+01:00``."""
        if ms is None:
            return None
        try:
            zone: Any = ZoneInfo(self.timezone_name)
        except (KeyError, ValueError, OSError):
            zone = timezone.utc
        return datetime.fromtimestamp(ms // 1000, zone).isoformat(timespec="seconds")

    @staticmethod
    def _rest_tax_lines(tax_lines: list[dict]) -> list[dict]:
        return [
            {"title": t["title"], "rate": t["rate"], "price": fmt(t["price"])}
            for t in tax_lines
        ]

    def _rest_line(self, line: dict) -> dict:
        variant = self.variants.get(line["variantId"])
        remaining = self._unfulfilled(line["id"])
        fulfilled = _current(line) - remaining
        status = "fulfilled" if fulfilled > 0 and remaining == 0 else None
        if fulfilled > 0 and remaining:
            status = "partial"
        title = line["title"]
        return {
            "id": gid_number(line["id"]),
            "admin_graphql_api_id": line["id"],
            "variant_id": gid_number(line["variantId"]),
            "product_id": gid_number(line["productId"]),
            "sku": line["sku"],
            "title": title,
            "name": f"{title} - {line['variantTitle']}"
            if line["variantTitle"]
            else title,
            "variant_title": line["variantTitle"],
            "vendor": self.products[line["productId"]]["vendor"] if variant else None,
            "quantity": line["quantity"],
            "current_quantity": _current(line),
            "price": fmt(line["price"]),
            # REST Order resource (line_items): total_discount is the line's
            # own discount, like GraphQL's totalDiscountSet
            "total_discount": fmt(
                disc.total(
                    line,
                    self.orders[self._line_items[line["id"]][0]].get(
                        "discountApplications"
                    )
                    or [],
                    "LINE",
                )
            ),
            "fulfillable_quantity": remaining,
            "fulfillment_status": status,
            "fulfillment_service": "manual",
            "requires_shipping": True,
            "taxable": bool(line["taxLines"]),
            "gift_card": line.get("giftCard", False),
            "grams": 0,
            "properties": [],
            "product_exists": variant is not None,
            "variant_inventory_management": "shopify" if variant else None,
            "tax_lines": self._rest_tax_lines(line["taxLines"]),
        }

    def _rest_transaction(self, order: dict, transaction: dict) -> dict:
        return {
            "id": gid_number(transaction["id"]),
            "admin_graphql_api_id": transaction["id"],
            "order_id": gid_number(order["id"]),
            "kind": transaction["kind"].lower(),
            "status": transaction["status"].lower(),
            "gateway": transaction["gateway"],
            # in the currency the customer paid: multi-currency changed the
            # Transaction and Refund resources ("breaking changes to the
            # Transaction and Refund resources",
            # https://help.shopify.com/en/api/guides/multi-currency-migration-guide)
            "amount": fmt(money(transaction["amount"] * order["presentmentRate"])),
            "currency": order["presentmentCurrency"],
            "created_at": self._rest_time(transaction["createdAt"]),
            "parent_id": gid_number(transaction["parentId"]),
            "authorization": None,
            "message": None,
            "test": False,
        }

    def rest_refund(self, refund_id: str) -> dict:
        order, refund = self._find_refund(refund_id)
        lines = []
        for refund_line in refund["lines"]:
            _, line = self._line_items[refund_line["lineItemId"]]
            lines.append(
                {
                    "id": gid_number(refund_line["id"]),
                    "quantity": refund_line["quantity"],
                    "line_item_id": gid_number(line["id"]),
                    "location_id": gid_number(refund_line["locationId"]),
                    "restock_type": refund_line["restockType"].lower(),
                    # presentment amounts (Refund resource, multi-currency
                    # migration guide); shop amounts: GraphQL subtotalSet
                    "subtotal": _bag(refund_line["subtotal"], self.currency, order)[
                        "presentmentMoney"
                    ]["amount"],
                    "total_tax": _bag(refund_line["tax"], self.currency, order)[
                        "presentmentMoney"
                    ]["amount"],
                    "line_item": self._rest_line(line),
                }
            )
        transactions = {t["id"]: t for t in order["transactions"]}
        return {
            "id": gid_number(refund["id"]),
            "admin_graphql_api_id": refund["id"],
            "order_id": gid_number(order["id"]),
            "created_at": self._rest_time(refund["createdAt"]),
            "note": refund["note"],
            "restock": any(r["restockType"] != "NO_RESTOCK" for r in refund["lines"]),
            "refund_line_items": lines,
            "transactions": [
                self._rest_transaction(order, transactions[t])
                for t in refund["transactions"]
            ],
            "order_adjustments": [],
        }

    def _find_refund(self, refund_id: str) -> tuple[dict, dict]:
        for order in self.orders.values():
            for refund in order["refunds"]:
                if refund["id"] == refund_id:
                    return order, refund
        raise KeyError(f"unknown refund {refund_id!r}")

    def rest_order(self, order_id: str) -> dict:
        order = self.orders[order_id]
        totals = self._totals(order)
        status = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(
            self._fulfillment_status(order)
        )
        customer = None
        if order["customerId"]:
            customer = self.rest_customer(order["customerId"])
            customer.pop("addresses")
        return {
            "id": gid_number(order_id),
            "admin_graphql_api_id": order_id,
            "name": order["name"],
            "number": order["number"] - 1000,
            "order_number": order["number"],
            "email": order["email"],
            "phone": order["phone"],
            "created_at": self._rest_time(order["createdAt"]),
            "updated_at": self._rest_time(order["updatedAt"]),
            "cancelled_at": self._rest_time(order["cancelledAt"]),
            "cancel_reason": (order["cancelReason"] or "").lower() or None,
            "closed_at": self._rest_time(order["closedAt"]),
            "currency": order["currency"],
            "financial_status": order["financialStatus"].lower(),
            "fulfillment_status": status,
            "confirmed": True,
            "test": order.get("test", False),
            "taxes_included": order["taxesIncluded"],
            "total_line_items_price": fmt(totals["line_items"]),
            "subtotal_price": fmt(totals["subtotal"]),
            "total_discounts": fmt(totals["discounts"]),
            "total_tax": fmt(totals["tax"]),
            "total_price": fmt(totals["total"]),
            "current_total_price": fmt(totals["current_total"]),
            "total_weight": 0,
            "gateway": order["gateway"],
            "payment_gateway_names": [order["gateway"]]
            if order["transactions"]
            else [],
            "source_name": order.get("sourceName", "web"),
            "tags": ", ".join(order["tags"]),
            "note": order["note"],
            "note_attributes": [],
            "discount_codes": [
                {
                    "code": app["code"],
                    "amount": fmt(
                        sum(
                            (
                                a["amount"]
                                for line in [
                                    *order["lineItems"],
                                    *order["shippingLines"],
                                ]
                                for a in line.get("allocations") or ()
                                if a["index"] == app["index"]
                            ),
                            Decimal(0),
                        )
                    ),
                    "type": "percentage"
                    if "percentage" in app["value"]
                    else "fixed_amount",
                }
                for app in order.get("discountApplications") or []
                if app["type"] == "code"
            ],
            "tax_lines": self._rest_tax_lines(self._order_tax_lines(order)),
            "line_items": [self._rest_line(line) for line in order["lineItems"]],
            "shipping_lines": [
                {
                    "title": s["title"],
                    "code": s["code"],
                    "source": s["source"],
                    "price": fmt(s["price"]),
                    "tax_lines": self._rest_tax_lines(s["taxLines"]),
                }
                for s in order["shippingLines"]
            ],
            "shipping_address": self._rest_address(order["shippingAddress"]),
            "billing_address": self._rest_address(order["billingAddress"]),
            "customer": customer,
            "fulfillments": [self.rest_fulfillment(f) for f in order["fulfillments"]],
            "refunds": [self.rest_refund(r["id"]) for r in order["refunds"]],
        }

    @staticmethod
    def _order_tax_lines(order: dict) -> list[dict]:
        grouped: dict[tuple, Decimal] = {}
        lines = [*order["lineItems"], *order["shippingLines"]]
        for tax in (t for line in lines for t in line["taxLines"]):
            key = (tax["title"], tax["rate"])
            grouped[key] = grouped.get(key, Decimal(0)) + tax["price"]
        return [
            {"title": title, "rate": rate, "price": price}
            for (title, rate), price in grouped.items()
        ]

    def _bag(self, amount: Decimal, order: dict | None = None) -> dict:
        return _bag(amount, self.currency, order)

    def _order_of_line(self, line_id: str) -> dict | None:
        owner = self._line_items.get(line_id, (None, None))[0]
        return self.orders.get(owner)

    def _v_tax(self, tax: dict, order: dict | None = None) -> dict:
        rate = tax["rate"]
        return {
            "title": tax["title"],
            "rate": rate,
            "ratePercentage": None if rate is None else round(rate * 100, 4),
            "priceSet": self._bag(tax["price"], order),
        }

    def _v_order(self, order: dict | None) -> dict | None:
        if order is None:
            return None
        totals = self._totals(order)
        fulfillment_orders = [
            self.fulfillment_orders[f] for f in order["fulfillmentOrders"]
        ]
        transactions = {t["id"]: t for t in order["transactions"]}
        applications = order.get("discountApplications") or []
        return {
            "__typename": "Order",
            "id": order["id"],
            "legacyResourceId": str(gid_number(order["id"])),
            "name": order["name"],
            "createdAt": gql_time(order["createdAt"]),
            "updatedAt": gql_time(order["updatedAt"]),
            "cancelledAt": gql_time(order["cancelledAt"]),
            "cancelReason": order["cancelReason"],
            "closed": order["closedAt"] is not None,
            "displayFinancialStatus": order["financialStatus"],
            "displayFulfillmentStatus": self._fulfillment_status(order),
            "currencyCode": order["currency"],
            "presentmentCurrencyCode": order["presentmentCurrency"],
            "taxesIncluded": order["taxesIncluded"],
            "currentSubtotalPriceSet": self._bag(totals["current_subtotal"], order),
            "currentTotalPriceSet": self._bag(totals["current_total"], order),
            "subtotalPriceSet": self._bag(totals["subtotal"], order),
            "totalPriceSet": self._bag(totals["total"], order),
            "totalShippingPriceSet": self._bag(totals["shipping"], order),
            "totalTaxSet": self._bag(totals["tax"], order),
            "totalDiscountsSet": self._bag(totals["discounts"], order),
            "cartDiscountAmountSet": self._bag(
                sum(
                    (
                        disc.total(line, applications, "ORDER")
                        for line in order["lineItems"]
                    ),
                    Decimal(0),
                ),
                order,
            ),
            "discountCodes": disc.codes(applications),
            "discountApplications": lambda info, **a: self._page(
                info,
                applications,
                a,
                self._v_discount_application,
                keyfn=lambda app: (app["index"],),
            ),
            "totalRefundedSet": self._bag(totals["refunded"], order),
            "taxLines": [self._v_tax(t, order) for t in self._order_tax_lines(order)],
            "customer": lambda info: self._v_customer(
                self.customers.get(order["customerId"])
            ),
            "email": order["email"],
            "phone": order["phone"],
            "shippingAddress": self._v_address(order["shippingAddress"]),
            "billingAddress": self._v_address(order["billingAddress"]),
            "shippingLines": lambda info, **a: self._page(
                info,
                order["shippingLines"],
                a,
                functools.partial(self._v_shipping_line, order=order),
            ),
            "lineItems": lambda info, **a: self._page(
                info, order["lineItems"], a, self._v_line
            ),
            "refunds": lambda info, first=None: [
                self._v_refund(order, r) for r in order["refunds"][:first]
            ],
            "fulfillmentOrders": lambda info, **a: self._page(
                info, fulfillment_orders, a, self._v_fulfillment_order
            ),
            "fulfillments": lambda info, first=None: [
                self._v_fulfillment(self.fulfillments[f])
                for f in order["fulfillments"][:first]
            ],
            "returns": lambda info, **a: self._page(
                info, self._returns_of(order), a, self._v_return
            ),
            "transactions": lambda info, first=None: [
                self._v_transaction(t, transactions, order)
                for t in order["transactions"][:first]
            ],
            "paymentGatewayNames": list(
                dict.fromkeys(t["gateway"] for t in order["transactions"])
            ),
            "totalTipReceivedSet": self._bag(totals["tips"], order),
            "test": order.get("test", False),
            "sourceName": order.get("sourceName", "web"),
            "currentTotalDutiesSet": self._bag(totals["duties"], order)
            if totals["duties"]
            else None,
            "originalTotalDutiesSet": self._bag(totals["duties"], order)
            if totals["duties"]
            else None,
            "tags": list(order["tags"]),
            "note": order["note"],
        }

    def _v_shipping_line(self, line: dict, order: dict | None = None) -> dict:
        return {
            "id": line["id"],
            "title": line["title"],
            "code": line["code"],
            "source": line["source"],
            "originalPriceSet": self._bag(line["price"], order),
            # free shipping and other shipping discounts included (2024-07+)
            "discountedPriceSet": self._bag(disc.net(line), order),
            "discountAllocations": self._v_allocations(line, order),
            "taxLines": [self._v_tax(t, order) for t in line["taxLines"]],
        }

    def _v_allocations(self, line: dict, order: dict | None) -> list[dict]:
        applications = (order or {}).get("discountApplications") or []
        return [
            {
                "allocatedAmountSet": self._bag(a["amount"], order),
                "discountApplication": self._v_discount_application(
                    applications[a["index"]]
                ),
            }
            for a in line.get("allocations") or ()
        ]

    def _v_discount_application(self, app: dict) -> dict:
        value = app["value"]
        if "amount" in value:
            value = {
                "__typename": "MoneyV2",
                "amount": fmt(value["amount"]),
                "currencyCode": self.currency,
            }
        else:
            value = {"__typename": "PricingPercentageValue", **value}
        view = {
            "__typename": disc.TYPES[app["type"]],
            "index": app["index"],
            "allocationMethod": app["allocationMethod"],
            "targetSelection": app["targetSelection"],
            "targetType": app["targetType"],
            "value": value,
            "code": app["code"],
            "title": app["title"],
            "description": app["description"],
        }
        return view

    def _v_line(self, line: dict) -> dict:
        quantity, current = line["quantity"], _current(line)
        order = self._order_of_line(line["id"])
        # order-level discounts are only in discountAllocations
        line_level = disc.total(
            line, (order or {}).get("discountApplications") or [], "LINE"
        )
        unit_discount = line_level / quantity
        title = line["title"]
        return {
            "__typename": "LineItem",
            "id": line["id"],
            "sku": line["sku"],
            "title": title,
            "name": f"{title} - {line['variantTitle']}"
            if line["variantTitle"]
            else title,
            "variantTitle": line["variantTitle"],
            "quantity": quantity,
            "currentQuantity": current,
            "refundableQuantity": current,
            "unfulfilledQuantity": self._unfulfilled(line["id"]),
            "originalUnitPriceSet": self._bag(line["price"], order),
            "discountedUnitPriceSet": self._bag(
                money(line["price"] - unit_discount), order
            ),
            "totalDiscountSet": self._bag(line_level, order),
            "isGiftCard": line.get("giftCard", False),
            # "refunded, or not something that can be fulfilled, like a tip"
            "nonFulfillableQuantity": (current if line.get("tip") else 0)
            + line["refunded"]
            + line.get("removed", 0),
            "duties": [
                {
                    "id": duty["id"],
                    "price": self._bag(duty["price"], order),
                    "taxLines": [self._v_tax(t, order) for t in duty["taxLines"]],
                }
                for duty in line.get("duties") or ()
            ],
            "discountAllocations": self._v_allocations(line, order),
            "taxLines": lambda info, first=None: [
                self._v_tax(t, order) for t in line["taxLines"][:first]
            ],
            "variant": lambda info: self._v_variant(
                self.variants.get(line["variantId"])
            ),
            "product": lambda info: self._v_product(
                self.products.get(line["productId"])
            ),
        }

    def _v_transaction(
        self, transaction: dict, by_id: dict, order: dict | None = None
    ) -> dict:
        return {
            "__typename": "OrderTransaction",
            "id": transaction["id"],
            "kind": transaction["kind"],
            "status": transaction["status"],
            "gateway": transaction["gateway"],
            "amountSet": self._bag(transaction["amount"], order),
            "createdAt": gql_time(transaction["createdAt"]),
            "processedAt": gql_time(transaction["createdAt"]),
            "parentTransaction": lambda info: (
                self._v_transaction(by_id[transaction["parentId"]], by_id, order)
                if transaction["parentId"] in by_id
                else None
            ),
        }

    def _v_refund(self, order: dict, refund: dict) -> dict:
        by_id = {t["id"]: t for t in order["transactions"]}
        transactions = [by_id[t] for t in refund["transactions"]]
        return {
            "__typename": "Refund",
            "id": refund["id"],
            "legacyResourceId": str(gid_number(refund["id"])),
            "createdAt": gql_time(refund["createdAt"]),
            "updatedAt": gql_time(refund["updatedAt"]),
            "note": refund["note"],
            "order": lambda info: self._v_order(order),
            "return": lambda info: self._v_return(
                self.returns.get(refund.get("returnId"))
            ),
            "totalRefundedSet": lambda info, **a: self._bag(refund["amount"], order),
            "refundLineItems": lambda info, **a: self._page(
                info, refund["lines"], a, self._v_refund_line
            ),
            "transactions": lambda info, **a: self._page(
                info,
                transactions,
                a,
                functools.partial(self._v_transaction, by_id=by_id, order=order),
            ),
        }

    def _v_refund_line(self, refund_line: dict) -> dict:
        _, line = self._line_items[refund_line["lineItemId"]]
        order = self._order_of_line(line["id"])
        return {
            "id": refund_line["id"],
            "quantity": refund_line["quantity"],
            "restockType": refund_line["restockType"],
            "restocked": refund_line["restockType"] != "NO_RESTOCK",
            "location": lambda info: self._v_location(
                self.locations.get(refund_line["locationId"])
            ),
            "lineItem": lambda info: self._v_line(line),
            "priceSet": self._bag(line["price"], order),
            "subtotalSet": self._bag(refund_line["subtotal"], order),
            "totalTaxSet": self._bag(refund_line["tax"], order),
        }

    def _order_readable(self, order: dict | None) -> bool:
        """Inside the 60-day window, or the app holds read_all_orders."""
        if order is None:
            return False
        if "read_all_orders" in self.scope.split(","):
            return True
        window = self.clock.now() - ORDER_WINDOW_DAYS * 86400
        return order["createdAt"] >= math.floor(window * 1000)

    def gql_order(self, info, id):
        order = self.orders.get(id)
        return self._v_order(order) if self._order_readable(order) else None

    def _order_search(self, order: dict) -> dict:
        status = "cancelled" if order["cancelledAt"] else "open"
        fulfillment = {"FULFILLED": "shipped", "PARTIALLY_FULFILLED": "partial"}.get(
            self._fulfillment_status(order), "unshipped"
        )
        return {
            None: [order["name"], order["email"]],
            "updated_at": ("time", order["updatedAt"]),
            "created_at": ("time", order["createdAt"]),
            "id": ("id", gid_number(order["id"])),
            "name": ("text", [order["name"], order["name"].lstrip("#")]),
            "email": ("text", order["email"]),
            "financial_status": ("text", order["financialStatus"].lower()),
            "fulfillment_status": ("text", fulfillment),
            "status": ("text", status),
            "tag": ("text", order["tags"]),
            "sku": ("text", [line["sku"] for line in order["lineItems"]]),
            "customer_id": ("id", gid_number(order["customerId"])),
        }

    def gql_orders(self, info, **args):
        known = set(
            "updated_at created_at id name email financial_status "
            "fulfillment_status status tag sku customer_id".split()
        )
        readable = [o for o in self.orders.values() if self._order_readable(o)]
        records = self._filter(
            info, readable, args.get("query"), self._order_search, known
        )
        keyfn = self._sort_key(
            args.get("sortKey"),
            # PROCESSED_AT is the default (QueryRoot.orders in the official
            # schema); a sandbox order is processed when it is created
            {
                "ID": None,
                "CREATED_AT": "createdAt",
                "PROCESSED_AT": "createdAt",
                "UPDATED_AT": "updatedAt",
            },
        )
        return self._page(info, records, args, self._v_order, keyfn)
