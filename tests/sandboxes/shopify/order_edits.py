"""Editing an order after it was placed: the sandbox's edits and the orderEdit*
mutations."""

from __future__ import annotations

from decimal import Decimal

from .. import shopify_discounts as disc
from .schema import (
    _current,
    _user_error,
    gid,
    gid_kind,
    gid_number,
)


class ShopifyOrderEditsMixin:
    """Editing an order after it was placed: the sandbox's edits and the orderEdit*
    mutations."""

    # ------------------------------------------------------------ order edits
    # Editing an order after it was placed ("Edit existing orders",
    # https://shopify.dev/docs/apps/build/orders-fulfillment/order-management-apps/edit-orders):
    # orderEditBegin opens a CalculatedOrder, orderEditAddVariant adds a
    # variant as a new line item (OrderStagedChangeAddVariant),
    # orderEditSetQuantity changes a line's quantity (an increment or a
    # decrement of that line, OrderStagedChangeIncrementItem /
    # OrderStagedChangeDecrementItem; 0 removes it; ``restock`` "Whether or not
    # to restock the line item when the updated quantity is less than the
    # original quantity"), orderEditCommit applies them all at once
    # (https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderEditBegin,
    # .../orderEditAddVariant, .../orderEditSetQuantity, .../orderEditCommit).
    # "You can only edit unfulfilled line items" (orderEditCommit). A removed
    # unit stays in LineItem.quantity ("including refunded and removed units")
    # and leaves currentQuantity ("excluding refunded and removed units";
    # removed line items have a zero currentQuantity, 2026-10 schema). An
    # increment grows the line's quantity (assumption: the schema documents
    # the staged change, not how the committed line records it). The commit
    # sends ``orders/edited`` (changelog "New order/edited webhook and order
    # editing API capabilities": "describes what's changed during an order
    # edit", body ``{"order_edit": {id, app_id, created_at, notify_customer,
    # order_id, staff_note, user_id, line_items: {additions: [{id, delta}],
    # removals: [{id, delta}]}, discounts, shipping_lines}}``) and, the order
    # having changed, ``orders/updated``. "If an edit changes the total order
    # value, then the customer might need to pay a balance or receive a
    # refund" (orderEditCommit): a paid order that now costs more is
    # PARTIALLY_PAID (assumption), one that costs less keeps its payment
    # until the merchant refunds it. The shipping address is not an order
    # edit: it changes with orderUpdate (``update_order``, orders/updated).
    def edit_order(
        self,
        order_id: str,
        *,
        add: list[dict] | tuple = (),
        quantities: dict[str, int] | None = None,
        restock: bool = True,
        staff_note: str | None = None,
        emit: bool = False,
    ) -> dict:
        """Edit and commit: ``add`` variants (``[{"sku", "quantity", "price",
        "location"}]``, new line items, taxed like the order's lines) and set
        ``quantities`` (``{line_item_gid: quantity}``, 0 removes the line).
        Returns the ``order_edit`` of the ``orders/edited`` body."""
        order_edit = self._edit_order(order_id, add, quantities, restock, staff_note)
        if emit:
            self.emit("orders/edited", order_id, payload={"order_edit": order_edit})
            self.emit("orders/updated", order_id)
        return order_edit

    def _edit_order(self, order_id, add, quantities, restock, staff_note) -> dict:
        """Apply an edit (see ``edit_order``; ``restock`` a bool, or one per
        line item id); ValueError, and nothing changed, when it can't be."""
        with self.lock:
            order = self._get(self.orders, order_id, "order")
            if order["cancelledAt"] is not None:
                raise ValueError(f"order {order_id} is cancelled: it can't be edited")
            by_id = {line["id"]: line for line in order["lineItems"]}
            self._check_edit(order, by_id, add, quantities or {})
            taxes = self._order_taxes(order)
            included = order["taxesIncluded"]
            additions, removals = [], []
            for line_id, wanted in (quantities or {}).items():
                line = by_id[line_id]
                wanted, current = int(wanted), _current(line)
                delta = wanted - current
                if delta > 0:
                    line["quantity"] += delta
                    self._commit_line(order, line, delta)
                    additions.append({"id": gid_number(line_id), "delta": delta})
                elif delta < 0:
                    line["removed"] = line.get("removed", 0) + -delta
                    back = (
                        restock.get(line_id, True)
                        if isinstance(restock, dict)
                        else restock
                    )
                    self._uncommit_line(order, line, -delta, back)
                    removals.append({"id": gid_number(line_id), "delta": -delta})
                if delta and line.get("taxable", True):
                    line["taxLines"] = self._tax_lines(disc.net(line), taxes, included)
            for spec in add:
                line = self._new_line(spec, taxes, included)
                order["lineItems"].append(line)
                self._line_items[line["id"]] = (order["id"], line)
                self._commit_line(order, line, line["quantity"])
                additions.append(
                    {"id": gid_number(line["id"]), "delta": line["quantity"]}
                )
            ms = self._touch(order)
            totals = self._totals(order)
            if (
                order["financialStatus"] == "PAID"
                and totals["paid"] - totals["refunded"] < totals["current_total"]
            ):
                order["financialStatus"] = "PARTIALLY_PAID"
            self._edit_number += 1
            order_edit = {
                "id": self._edit_number,
                "app_id": None,
                "created_at": self._rest_time(ms),
                "notify_customer": False,
                "order_id": gid_number(order_id),
                "staff_note": staff_note or "",
                "user_id": None,
                "line_items": {"additions": additions, "removals": removals},
                "discounts": {"additions": [], "removals": []},
                "shipping_lines": {"additions": [], "removals": []},
            }
        return order_edit

    def _check_edit(self, order, by_id, add, quantities) -> None:
        """Refuse an edit before anything changes (ValueError)."""
        for line_id, wanted in quantities.items():
            line = by_id.get(line_id)
            if line is None:
                raise ValueError(f"line item {line_id} is not in {order['id']}")
            fulfilled = _current(line) - self._unfulfilled(line_id)
            if int(wanted) < 0:
                raise ValueError("The quantity can't be negative.")
            if int(wanted) < fulfilled:
                raise ValueError(
                    f"{line_id}: only unfulfilled units can be edited "
                    f"({fulfilled} fulfilled)"
                )
        for spec in add:
            if not spec.get("sku") or not any(
                v["sku"] == spec["sku"] for v in self.variants.values()
            ):
                raise ValueError(f"no variant with SKU {spec.get('sku')!r}")
            if int(spec.get("quantity", 1)) < 1:
                raise ValueError("The quantity must be positive.")
            if spec.get("location") and spec["location"] not in self.locations:
                raise ValueError(f"unknown location {spec['location']!r}")
        changed = any(int(q) != _current(by_id[i]) for i, q in quantities.items())
        if not add and not changed:
            raise ValueError("an order edit needs a change")

    def _order_taxes(self, order: dict) -> list[dict]:
        """The order's tax rates (``[{"title", "rate"}]``), from its lines."""
        for line in order["lineItems"]:
            if line["taxLines"]:
                return [
                    {"title": t["title"], "rate": Decimal(str(t["rate"]))}
                    for t in line["taxLines"]
                ]
        return []

    def _commit_line(self, order: dict, line: dict, quantity: int) -> None:
        """``quantity`` more units of ``line`` to fulfil: its open fulfillment
        order at its location (or a new one) grows; the stock is committed."""
        item_id = self._item_of_line(line["id"])
        where = line["locationId"] or self._pick_location(item_id, quantity)
        line["locationId"] = where
        fulfillment_order = next(
            (
                self.fulfillment_orders[f]
                for f in order["fulfillmentOrders"]
                if self.fulfillment_orders[f]["locationId"] == where
                and self.fulfillment_orders[f]["status"] != "CLOSED"
            ),
            None,
        )
        ms = self._now_ms()
        if fulfillment_order is None:
            fulfillment_order = {
                "id": self._next("FulfillmentOrder"),
                "orderId": order["id"],
                "locationId": where,
                "status": "OPEN",
                "lines": [],
                "createdAt": ms,
                "updatedAt": ms,
            }
            self.fulfillment_orders[fulfillment_order["id"]] = fulfillment_order
            order["fulfillmentOrders"].append(fulfillment_order["id"])
        fo_line = next(
            (x for x in fulfillment_order["lines"] if x["lineItemId"] == line["id"]),
            None,
        )
        if fo_line is None:
            fo_line = {
                "id": self._next("FulfillmentOrderLineItem"),
                "lineItemId": line["id"],
                "total": 0,
                "remaining": 0,
            }
            fulfillment_order["lines"].append(fo_line)
            self._fo_lines[fo_line["id"]] = (fulfillment_order["id"], fo_line)
        fo_line["total"] += quantity
        fo_line["remaining"] += quantity
        fulfillment_order["updatedAt"] = ms
        if item_id:
            self._level(item_id, where, create=True)
            self._move(item_id, where, available=-quantity, committed=quantity)

    def _uncommit_line(self, order, line, quantity: int, restock: bool) -> None:
        """``quantity`` unfulfilled units of ``line`` removed: they leave its
        fulfillment orders and their committed stock (back to available when
        ``restock``)."""
        item_id = self._item_of_line(line["id"])
        left = quantity
        for fo_id in order["fulfillmentOrders"]:
            fulfillment_order = self.fulfillment_orders[fo_id]
            for fo_line in fulfillment_order["lines"]:
                if fo_line["lineItemId"] != line["id"] or not left:
                    continue
                taken = min(left, fo_line["remaining"])
                fo_line["remaining"] -= taken
                fo_line["total"] -= taken
                left -= taken
                if taken and item_id:
                    self._move(
                        item_id,
                        fulfillment_order["locationId"],
                        available=taken if restock else 0,
                        committed=-taken,
                    )
            if all(not fo_line["remaining"] for fo_line in fulfillment_order["lines"]):
                fulfillment_order["status"] = "CLOSED"

    # ------------------------------------------------------------ order edits
    # The GraphQL order edit (see ``edit_order`` for the documents): a
    # session stages changes on a CalculatedOrder; orderEditSetQuantity takes
    # the id of a CalculatedLineItem (an existing line item's keeps its
    # number, assumption); orderEditCommit applies them all or none.
    def _v_calculated(self, session: dict) -> dict:
        order = self.orders[session["orderId"]]

        def line_view(line, quantity, added):
            fulfilled = 0 if added else _current(line) - self._unfulfilled(line["id"])
            return {
                "id": line["calcId"]
                if added
                else gid("CalculatedLineItem", gid_number(line["id"])),
                "sku": line.get("sku"),
                "title": line["title"],
                "quantity": quantity,
                "editableQuantity": quantity - fulfilled,
                "variant": lambda info: self._v_variant(
                    self.variants.get(line.get("variantId"))
                ),
            }

        existing = [
            line_view(
                line, session["quantities"].get(line["id"], _current(line)), False
            )
            for line in order["lineItems"]
            if _current(line) > 0
        ]
        added = [
            line_view(
                {
                    "calcId": spec["calcId"],
                    "sku": spec["sku"],
                    "title": self.products[
                        self.variants[spec["variantId"]]["productId"]
                    ]["title"],
                    "variantId": spec["variantId"],
                },
                spec["quantity"],
                True,
            )
            for spec in session["add"]
        ]
        return {
            "__typename": "CalculatedOrder",
            "id": session["id"],
            "originalOrder": lambda info: self._v_order(order),
            "lineItems": lambda info, **a: self._page(info, existing, a, lambda x: x),
            "addedLineItems": lambda info, **a: self._page(info, added, a, lambda x: x),
        }

    def _edit_payload(self, session, line=None, errors=None) -> dict:
        if errors:
            return {
                "calculatedOrder": None,
                "orderEditSession": None,
                "calculatedLineItem": None,
                "userErrors": errors,
            }
        calculated = self._v_calculated(session)
        return {
            "calculatedOrder": calculated,
            "orderEditSession": {"id": session["sessionId"]},
            "calculatedLineItem": line,
            "userErrors": [],
        }

    def _edit_session(self, id_) -> dict | None:
        session = self.order_edits.get(id_) or next(
            (s for s in self.order_edits.values() if s["sessionId"] == id_), None
        )
        return None if session is None or session["committed"] else session

    def gql_orderEditBegin(self, info, id):
        order = self.orders.get(id)
        if order is None or not self._order_readable(order):
            return self._edit_payload(
                None, errors=[_user_error("The order does not exist.", ["id"])]
            )
        if order["cancelledAt"] is not None:
            return self._edit_payload(
                None, errors=[_user_error("A cancelled order can't be edited.", ["id"])]
            )
        number = gid_number(self._next("CalculatedOrder"))
        session = {
            "id": gid("CalculatedOrder", number),
            "sessionId": gid("OrderEditSession", number),
            "orderId": id,
            "add": [],
            "quantities": {},
            "restock": {},
            "committed": False,
        }
        self.order_edits[session["id"]] = session
        return self._edit_payload(session)

    def gql_orderEditAddVariant(
        self, info, id, variantId, quantity, locationId=None, allowDuplicates=False
    ):
        session = self._edit_session(id)
        if session is None:
            return self._edit_payload(
                None, errors=[_user_error("The order edit does not exist.", ["id"])]
            )
        variant = self.variants.get(variantId)
        if variant is None:
            return self._edit_payload(
                None, errors=[_user_error("The variant does not exist.", ["variantId"])]
            )
        if quantity < 1:
            return self._edit_payload(
                None,
                errors=[_user_error("The quantity must be positive.", ["quantity"])],
            )
        if locationId is not None and locationId not in self.locations:
            return self._edit_payload(
                None,
                errors=[_user_error("The location does not exist.", ["locationId"])],
            )
        order = self.orders[session["orderId"]]
        on_order = any(
            line["variantId"] == variantId and _current(line)
            for line in order["lineItems"]
        ) or any(spec["variantId"] == variantId for spec in session["add"])
        if on_order and not allowDuplicates:
            # allowDuplicates: "Whether the mutation can create a line item
            # for a variant that's already on the calculated order"
            return self._edit_payload(
                None,
                errors=[
                    _user_error("The variant is already on the order.", ["variantId"])
                ],
            )
        spec = {
            "calcId": self._next("CalculatedLineItem"),
            "variantId": variantId,
            "sku": variant["sku"],
            "quantity": quantity,
            "location": locationId,
        }
        session["add"].append(spec)
        calculated = self._v_calculated(session)
        added = calculated["addedLineItems"](info, first=250)["nodes"][-1]
        return self._edit_payload(session, line=added)

    def gql_orderEditSetQuantity(self, info, id, lineItemId, quantity, restock=None):
        session = self._edit_session(id)
        if session is None:
            return self._edit_payload(
                None, errors=[_user_error("The order edit does not exist.", ["id"])]
            )
        if quantity < 0:
            return self._edit_payload(
                None,
                errors=[_user_error("The quantity can't be negative.", ["quantity"])],
            )
        added = next((s for s in session["add"] if s["calcId"] == lineItemId), None)
        if added is not None:
            if quantity == 0:
                session["add"].remove(added)
            else:
                added["quantity"] = quantity
        else:
            line_id = gid("LineItem", gid_number(lineItemId) or 0)
            owner, line = self._line_items.get(line_id, (None, None))
            if (
                owner != session["orderId"]
                or gid_kind(lineItemId) != "CalculatedLineItem"
            ):
                return self._edit_payload(
                    None,
                    errors=[
                        _user_error("The line item does not exist.", ["lineItemId"])
                    ],
                )
            fulfilled = _current(line) - self._unfulfilled(line_id)
            if quantity < fulfilled:
                # "You can only edit unfulfilled line items" (orderEditCommit)
                return self._edit_payload(
                    None,
                    errors=[
                        _user_error(
                            "Only unfulfilled quantities can be edited.", ["quantity"]
                        )
                    ],
                )
            session["quantities"][line_id] = quantity
            session["restock"][line_id] = True if restock is None else bool(restock)
        nodes = [
            *self._v_calculated(session)["lineItems"](info, first=250)["nodes"],
            *self._v_calculated(session)["addedLineItems"](info, first=250)["nodes"],
        ]
        line_view = next((n for n in nodes if n["id"] == lineItemId), None)
        return self._edit_payload(session, line=line_view)

    def gql_orderEditCommit(self, info, id, notifyCustomer=None, staffNote=None):
        session = self._edit_session(id)
        if session is None:
            return {
                "order": None,
                "successMessages": None,
                "userErrors": [_user_error("The order edit does not exist.", ["id"])],
            }
        add = [
            {"sku": s["sku"], "quantity": s["quantity"], "location": s["location"]}
            for s in session["add"]
        ]
        try:
            order_edit = self._edit_order(
                session["orderId"],
                add,
                session["quantities"],
                session["restock"],
                staffNote,
            )
        except ValueError as error:
            return {
                "order": None,
                "successMessages": None,
                "userErrors": [_user_error(str(error), ["id"])],
            }
        session["committed"] = True
        order_edit["notify_customer"] = bool(notifyCustomer)
        # the commit's webhooks (edit_order); API writes emit with auto_webhooks
        self._auto(
            info, "orders/edited", session["orderId"], {"order_edit": order_edit}
        )
        self._auto(info, "orders/updated", session["orderId"])
        return {
            "order": self._v_order(self.orders[session["orderId"]]),
            "successMessages": ["Order updated"],
            "userErrors": [],
        }
