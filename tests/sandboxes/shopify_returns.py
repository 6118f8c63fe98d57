"""Shopify returns: the ``Return`` object, reverse fulfillment orders and their
dispositions, for the Shopify sandbox (mixed into ``ShopifySandbox``).

Written from Shopify's documentation (each behaviour cites its page):

- A return holds return line items, each taken from a *fulfillment* line item
  ("returnCreate: Creates a return from an existing order that has at least one
  fulfilled line item that hasn't yet been refunded",
  https://shopify.dev/docs/api/admin-graphql/latest/mutations/returnCreate;
  ``ReturnLineItemInput.fulfillmentLineItemId``).
- ``returnRequest`` makes a return ``REQUESTED`` without a reverse fulfillment
  order (https://shopify.dev/docs/api/admin-graphql/latest/mutations/returnRequest:
  "sets the value of the Return.status field to REQUESTED");
  ``returnApproveRequest`` sets it ``OPEN`` ("If this mutation is successful,
  then the Return.status field of the approved return is set to OPEN",
  https://shopify.dev/docs/api/admin-graphql/latest/mutations/returnApproveRequest);
  ``returnCreate`` creates it ``OPEN`` at once ("assumes that the return
  request from the customer has already been approved"). "Creating a return or
  approving a return creates a reverse fulfillment order"
  (https://shopify.dev/docs/apps/build/orders-fulfillment/returns-apps/manage-reverse-fulfillment-orders).
- ``returnDeclineRequest`` (REQUESTED -> DECLINED; "each
  ReturnLineItem.fulfillmentLineItem can be associated to a new return"),
  ``returnCancel`` ("only available before any work has been done on the
  return (such as an inspection or refund)"), ``returnClose`` (OPEN ->
  CLOSED), ``returnReopen`` (CLOSED -> OPEN): the ReturnUserError list of
  mutations (https://shopify.dev/docs/api/admin-graphql/latest/objects/ReturnUserError).
- ``reverseFulfillmentOrderDispose`` records a disposition per reverse
  fulfillment order line item: ``RESTOCKED`` ("An item that was restocked",
  ``locationId`` "required when the disposition type is RESTOCKED") puts the
  units back to ``available`` at that location; ``NOT_RESTOCKED``, ``MISSING``
  and ``PROCESSING_REQUIRED`` move no stock
  (https://shopify.dev/docs/api/admin-graphql/latest/mutations/reverseFulfillmentOrderDispose,
  https://shopify.dev/docs/api/admin-graphql/latest/enums/ReverseFulfillmentOrderDispositionType).
  The sandbox refuses disposing more than a line's quantity not yet disposed
  (assumption: the refusal's wording is undocumented).
- A refund may be made for a return (``Refund.return``: "The return associated
  with the refund", ``Return.refunds``; ``returnProcess`` "optionally issuing
  refunds", with dispositions "such as restocking or disposal",
  https://shopify.dev/docs/api/admin-graphql/latest/mutations/returnProcess).
  :meth:`refund_return` with ``restock=True`` restocks the refunded units
  through the return (RESTOCKED dispositions at the line's location) and its
  refund line items say ``RETURN``; the stock moves once (assumption: how the
  admin labels such refund lines is not documented).
- Webhooks (``WebhookSubscriptionTopic``: RETURNS_REQUEST "Return.status is
  REQUESTED", RETURNS_APPROVE "Return.status is OPEN", RETURNS_DECLINE,
  RETURNS_CANCEL, RETURNS_CLOSE, RETURNS_REOPEN,
  REVERSE_FULFILLMENT_ORDERS_DISPOSE "whenever a disposition is made on a
  reverse fulfillment order"): ``returnCreate`` sends ``returns/approve``
  (assumption: the return is OPEN at once, which is what RETURNS_APPROVE
  announces). The payload carries the return's ``id``,
  ``admin_graphql_api_id``, ``status``, ``name`` and ``order`` (``id``,
  ``admin_graphql_api_id``); a dispose the reverse fulfillment order's ids,
  its ``order_id`` and the dispositions made (assumption: the exact webhook
  bodies are not in the contracts; a client reads the rest through GraphQL).
"""

from __future__ import annotations

import copy
from typing import Any

RETURN_STATUSES = ("REQUESTED", "OPEN", "CLOSED", "DECLINED", "CANCELED")
DISPOSITION_TYPES = ("RESTOCKED", "NOT_RESTOCKED", "MISSING", "PROCESSING_REQUIRED")


class ShopifyReturnsMixin:
    """Returns for :class:`~sandboxes.shopify.ShopifySandbox`."""

    def _reset_returns(self) -> None:
        self.returns: dict[str, dict] = {}
        self.reverse_fulfillment_orders: dict[str, dict] = {}
        self._fulfillment_line_items: dict[str, tuple[str, dict]] = {}
        self._rfo_lines: dict[str, tuple[str, dict]] = {}

    # ---------------------------------------------------------- fulfilment
    def _record_fulfillment_line(self, fulfillment, fo_line, quantity) -> None:
        """A FulfillmentLineItem: what a return line item comes from."""
        record = {
            "id": self._next("FulfillmentLineItem"),
            "lineItemId": fo_line["lineItemId"],
            "quantity": quantity,
        }
        fulfillment.setdefault("lineItems", []).append(record)
        self._fulfillment_line_items[record["id"]] = (fulfillment["id"], record)

    def _in_returns(self, fulfillment_line_id: str) -> int:
        """Units of a fulfillment line item in returns still alive (a declined
        or canceled return frees its units for a new return)."""
        return sum(
            line["quantity"]
            for ret in self.returns.values()
            if ret["status"] not in ("DECLINED", "CANCELED")
            for line in ret["lines"]
            if line["fulfillmentLineItemId"] == fulfillment_line_id
        )

    # ----------------------------------------------------------- Python API
    def request_return(self, order_id: str, lines, *, emit: bool = False) -> dict:
        """returnRequest: a REQUESTED return of ``[{"fulfillment_line_item_id"
        | "line_item_id", "quantity"}]`` (a line item's fulfilled units)."""
        return self._new_return(order_id, lines, "REQUESTED", emit)

    def create_return(self, order_id: str, lines, *, emit: bool = False) -> dict:
        """returnCreate: an OPEN return with its reverse fulfillment order."""
        return self._new_return(order_id, lines, "OPEN", emit)

    def _new_return(self, order_id, lines, status, emit) -> dict:
        with self.lock:
            order = self._get(self.orders, order_id, "order")
            ms = self._touch(order)
            number = sum(1 for r in self.returns.values() if r["orderId"] == order_id)
            ret = {
                "id": self._next("Return"),
                "orderId": order_id,
                "name": f"{order['name']}-R{number + 1}",
                "status": status,
                "lines": [],
                "rfos": [],
                "refunds": [],
                "createdAt": ms,
                "updatedAt": ms,
                "approvedAt": None,
                "closedAt": None,
            }
            for spec in lines:
                for fli_id, quantity in self._returnable(order, spec):
                    ret["lines"].append(
                        {
                            "id": self._next("ReturnLineItem"),
                            "fulfillmentLineItemId": fli_id,
                            "quantity": quantity,
                            "refunded": 0,
                        }
                    )
            if not ret["lines"]:
                raise ValueError("a return needs at least one line")
            self.returns[ret["id"]] = ret
            if status == "OPEN":
                self._open_return(ret, ms)
            snapshot = copy.deepcopy(ret)
        if emit:
            self.emit(
                "returns/request" if status == "REQUESTED" else "returns/approve",
                ret["id"],
            )
        return snapshot

    def _returnable(self, order, spec) -> list[tuple[str, int]]:
        quantity = int(spec["quantity"])
        if quantity <= 0:
            raise ValueError("a return line needs a positive quantity")
        if spec.get("fulfillment_line_item_id"):
            candidates = [spec["fulfillment_line_item_id"]]
        else:
            candidates = [
                fli["id"]
                for fulfillment_id in order["fulfillments"]
                for fli in self.fulfillments[fulfillment_id].get("lineItems", [])
                if fli["lineItemId"] == spec["line_item_id"]
            ]
        taken, left = [], quantity
        for fli_id in candidates:
            owner, fli = self._fulfillment_line_items.get(fli_id, (None, None))
            if owner is None or self.fulfillments[owner]["orderId"] != order["id"]:
                raise ValueError(f"fulfillment line item {fli_id} not in this order")
            free = fli["quantity"] - self._in_returns(fli_id)
            take = min(left, free)
            if take > 0:
                taken.append((fli_id, take))
                left -= take
        if left:
            # returnCreate: only fulfilled units that are not refunded or in
            # another return can be returned
            raise ValueError(f"only {quantity - left} fulfilled unit(s) can return")
        return taken

    def _open_return(self, ret, ms) -> None:
        ret["status"] = "OPEN"
        ret["approvedAt"] = ms
        rfo = {
            "id": self._next("ReverseFulfillmentOrder"),
            "returnId": ret["id"],
            "orderId": ret["orderId"],
            "status": "OPEN",
            "lines": [],
        }
        for line in ret["lines"]:
            rfo_line = {
                "id": self._next("ReverseFulfillmentOrderLineItem"),
                "returnLineItemId": line["id"],
                "fulfillmentLineItemId": line["fulfillmentLineItemId"],
                "totalQuantity": line["quantity"],
                "dispositions": [],
            }
            rfo["lines"].append(rfo_line)
            self._rfo_lines[rfo_line["id"]] = (rfo["id"], rfo_line)
        self.reverse_fulfillment_orders[rfo["id"]] = rfo
        ret["rfos"].append(rfo["id"])

    def _transition(self, return_id, allowed, topic, emit, apply) -> dict:
        with self.lock:
            ret = self._get(self.returns, return_id, "return")
            if ret["status"] not in allowed:
                raise ValueError(
                    f"return {return_id} is {ret['status']}, not {' or '.join(allowed)}"
                )
            ms = self._touch(ret)
            apply(ret, ms)
            snapshot = copy.deepcopy(ret)
        if emit:
            self.emit(topic, return_id)
        return snapshot

    def approve_return(self, return_id: str, *, emit: bool = False) -> dict:
        """returnApproveRequest: REQUESTED -> OPEN, with a reverse fulfillment order."""
        return self._transition(
            return_id, ("REQUESTED",), "returns/approve", emit, self._open_return
        )

    def decline_return(self, return_id: str, *, emit: bool = False) -> dict:
        """returnDeclineRequest: REQUESTED -> DECLINED (units free again)."""

        def apply(ret, ms):
            ret["status"] = "DECLINED"

        return self._transition(
            return_id, ("REQUESTED",), "returns/decline", emit, apply
        )

    def cancel_return(self, return_id: str, *, emit: bool = False) -> dict:
        """returnCancel: only before any work (no disposition, no refund)."""

        def apply(ret, ms):
            worked = ret["refunds"] or any(
                rfo_line["dispositions"]
                for rfo_id in ret["rfos"]
                for rfo_line in self.reverse_fulfillment_orders[rfo_id]["lines"]
            )
            if worked:
                raise ValueError("a return with work done on it cannot be canceled")
            ret["status"] = "CANCELED"
            for rfo_id in ret["rfos"]:
                self.reverse_fulfillment_orders[rfo_id]["status"] = "CANCELED"

        return self._transition(
            return_id, ("REQUESTED", "OPEN"), "returns/cancel", emit, apply
        )

    def close_return(self, return_id: str, *, emit: bool = False) -> dict:
        """returnClose: OPEN -> CLOSED."""

        def apply(ret, ms):
            ret["status"] = "CLOSED"
            ret["closedAt"] = ms
            for rfo_id in ret["rfos"]:
                self.reverse_fulfillment_orders[rfo_id]["status"] = "CLOSED"

        return self._transition(return_id, ("OPEN",), "returns/close", emit, apply)

    def reopen_return(self, return_id: str, *, emit: bool = False) -> dict:
        """returnReopen: CLOSED -> OPEN."""

        def apply(ret, ms):
            ret["status"] = "OPEN"
            ret["closedAt"] = None
            for rfo_id in ret["rfos"]:
                self.reverse_fulfillment_orders[rfo_id]["status"] = "OPEN"

        return self._transition(return_id, ("CLOSED",), "returns/reopen", emit, apply)

    def dispose_return(
        self,
        return_id: str,
        dispositions,
        *,
        emit: bool = False,
    ) -> list[dict]:
        """reverseFulfillmentOrderDispose of ``[{"line_item_id" |
        "reverse_fulfillment_order_line_item_id", "quantity", "type",
        "location_id"}]`` on an OPEN return; return the dispositions made."""
        with self.lock:
            ret = self._get(self.returns, return_id, "return")
            made, touched = self._dispose(ret, dispositions)
        if emit:
            for rfo_id in touched:
                self.emit("reverse_fulfillment_orders/dispose", rfo_id)
        return made

    def _dispose(self, ret, dispositions) -> tuple[list[dict], list[str]]:
        if ret["status"] != "OPEN":
            raise ValueError(f"return {ret['id']} is {ret['status']}, not OPEN")
        ms = self._touch(ret, self.orders[ret["orderId"]])
        made, touched = [], []
        for spec in dispositions:
            kind = spec.get("type", "RESTOCKED")
            if kind not in DISPOSITION_TYPES:
                raise ValueError(f"unknown disposition type {kind!r}")
            location_id = spec.get("location_id")
            if kind == "RESTOCKED" and not location_id:
                raise ValueError("locationId is required to restock")
            left = int(spec["quantity"])
            for rfo_id, rfo_line in self._rfo_lines_of(ret, spec):
                done = sum(d["quantity"] for d in rfo_line["dispositions"])
                take = min(left, rfo_line["totalQuantity"] - done)
                if take <= 0:
                    continue
                disposition = {
                    "id": self._next("ReverseFulfillmentOrderDisposition"),
                    "type": kind,
                    "quantity": take,
                    "locationId": location_id,
                    "createdAt": ms,
                }
                rfo_line["dispositions"].append(disposition)
                left -= take
                made.append(copy.deepcopy(disposition))
                if rfo_id not in touched:
                    touched.append(rfo_id)
                if kind == "RESTOCKED":
                    _, fli = self._fulfillment_line_items[
                        rfo_line["fulfillmentLineItemId"]
                    ]
                    item_id = self._item_of_line(fli["lineItemId"])
                    if item_id:
                        self._level(item_id, location_id, create=True)
                        self._move(item_id, location_id, available=take)
            if left:
                raise ValueError(f"{left} unit(s) more than the return holds")
        return made, touched

    def _rfo_lines_of(self, ret, spec) -> list[tuple[str, dict]]:
        found = []
        for rfo_id in ret["rfos"]:
            for rfo_line in self.reverse_fulfillment_orders[rfo_id]["lines"]:
                wanted = spec.get("reverse_fulfillment_order_line_item_id")
                if wanted:
                    if rfo_line["id"] == wanted:
                        found.append((rfo_id, rfo_line))
                    continue
                _, fli = self._fulfillment_line_items[rfo_line["fulfillmentLineItemId"]]
                if fli["lineItemId"] == spec["line_item_id"]:
                    found.append((rfo_id, rfo_line))
        if not found:
            raise ValueError("no reverse fulfillment order line item matches")
        return found

    def refund_return(
        self,
        return_id: str,
        lines=None,
        *,
        restock: bool = False,
        location_id: str | None = None,
        amount: Any = None,
        emit: bool = False,
    ) -> dict:
        """A refund for a return (``Refund.return``), of ``[{"line_item_id",
        "quantity"}]`` (default: every line of the return not yet refunded).
        ``restock``: the units are restocked through the return (RESTOCKED
        dispositions at ``location_id``, default the line's location) and the
        refund line items say ``RETURN``; else ``NO_RESTOCK``."""
        with self.lock:
            ret = self._get(self.returns, return_id, "return")
            if ret["status"] not in ("OPEN", "CLOSED"):
                # returnRefund: "Refunds a return when its status is OPEN or CLOSED"
                raise ValueError(f"return {return_id} is {ret['status']}")
            order = self.orders[ret["orderId"]]
            wanted: dict[str, int] = {}
            for line in ret["lines"]:
                _, fli = self._fulfillment_line_items[line["fulfillmentLineItemId"]]
                wanted.setdefault(fli["lineItemId"], 0)
                if lines is None:
                    wanted[fli["lineItemId"]] += line["quantity"] - line["refunded"]
            for spec in lines or []:
                if spec["line_item_id"] not in wanted:
                    raise ValueError(f"{spec['line_item_id']} is not in the return")
                wanted[spec["line_item_id"]] += int(spec["quantity"])
            specs, touched = [], []
            for line_item_id, quantity in wanted.items():
                if not quantity:
                    continue
                left = quantity
                for line in ret["lines"]:
                    _, fli = self._fulfillment_line_items[line["fulfillmentLineItemId"]]
                    if fli["lineItemId"] == line_item_id:
                        take = min(left, line["quantity"] - line["refunded"])
                        line["refunded"] += take
                        left -= take
                if left:
                    raise ValueError(f"{left} unit(s) more than the return holds")
                _, order_line = self._line_items[line_item_id]
                where = location_id or order_line["locationId"]
                if restock:
                    _, rfos = self._dispose(
                        ret,
                        [
                            {
                                "line_item_id": line_item_id,
                                "quantity": quantity,
                                "type": "RESTOCKED",
                                "location_id": where,
                            }
                        ],
                    )
                    touched += [r for r in rfos if r not in touched]
                specs.append(
                    {
                        "line_item_id": line_item_id,
                        "quantity": quantity,
                        "restock_type": "RETURN" if restock else "NO_RESTOCK",
                        "location_id": where,
                        # the stock moved with the disposition, not again
                        "moved": True,
                    }
                )
            if not specs:
                raise ValueError("nothing left to refund on this return")
            refund = self._refund(order, specs, amount, None)
            refund["returnId"] = ret["id"]
            ret["refunds"].append(refund["id"])
            snapshot = copy.deepcopy(refund)
        if emit:
            for rfo_id in touched:
                self.emit("reverse_fulfillment_orders/dispose", rfo_id)
            self.emit("refunds/create", refund["id"])
        return snapshot

    def return_(self, return_id: str) -> dict:
        """A deep copy of a return, with its reverse fulfillment orders."""
        with self.lock:
            ret = copy.deepcopy(self._get(self.returns, return_id, "return"))
            ret["reverseFulfillmentOrders"] = [
                copy.deepcopy(self.reverse_fulfillment_orders[r]) for r in ret["rfos"]
            ]
            return ret

    # ------------------------------------------------------------- payloads
    def _order_ref(self, order_id: str) -> dict:
        from .shopify import gid_number

        return {"id": gid_number(order_id), "admin_graphql_api_id": order_id}

    def rest_return(self, return_id: str) -> dict:
        from .shopify import gid_number

        ret = self.returns[return_id]
        return {
            "id": gid_number(return_id),
            "admin_graphql_api_id": return_id,
            "name": ret["name"],
            "status": ret["status"].lower(),
            "order": self._order_ref(ret["orderId"]),
            "total_return_line_items": len(ret["lines"]),
        }

    def rest_reverse_fulfillment_order(self, rfo_id: str) -> dict:
        from .shopify import gid_number

        rfo = self.reverse_fulfillment_orders[rfo_id]
        dispositions = [
            {
                "reverse_fulfillment_order_line_item": {
                    "id": gid_number(rfo_line["id"]),
                    "admin_graphql_api_id": rfo_line["id"],
                },
                "type": d["type"].lower(),
                "quantity": d["quantity"],
                "location": self._order_ref(d["locationId"])
                if d["locationId"]
                else None,
            }
            for rfo_line in rfo["lines"]
            for d in rfo_line["dispositions"]
        ]
        return {
            "id": gid_number(rfo_id),
            "admin_graphql_api_id": rfo_id,
            "order_id": gid_number(rfo["orderId"]),
            "dispositions": dispositions,
        }

    # -------------------------------------------------------------- GraphQL
    def _v_return(self, ret: dict | None) -> dict | None:
        from .shopify import gql_time

        if ret is None:
            return None
        order = self.orders[ret["orderId"]]
        rfos = [self.reverse_fulfillment_orders[r] for r in ret["rfos"]]
        refunds = [r for r in order["refunds"] if r["id"] in ret["refunds"]]
        return {
            "__typename": "Return",
            "id": ret["id"],
            "name": ret["name"],
            "status": ret["status"],
            "createdAt": gql_time(ret["createdAt"]),
            "requestApprovedAt": gql_time(ret["approvedAt"]),
            "closedAt": gql_time(ret["closedAt"]),
            "order": lambda info: self._v_order(order),
            "returnLineItems": lambda info, **a: self._page(
                info, ret["lines"], a, self._v_return_line
            ),
            "reverseFulfillmentOrders": lambda info, **a: self._page(
                info, rfos, a, self._v_rfo
            ),
            "refunds": lambda info, **a: self._page(
                info, refunds, a, lambda refund: self._v_refund(order, refund)
            ),
        }

    def _v_return_line(self, line: dict) -> dict:
        return {
            "__typename": "ReturnLineItem",
            "id": line["id"],
            "quantity": line["quantity"],
            "refundedQuantity": line["refunded"],
            "fulfillmentLineItem": lambda info: self._v_fulfillment_line(
                self._fulfillment_line_items[line["fulfillmentLineItemId"]][1]
            ),
        }

    def _v_fulfillment_line(self, fli: dict | None) -> dict | None:
        if fli is None:
            return None
        _, line = self._line_items[fli["lineItemId"]]
        return {
            "__typename": "FulfillmentLineItem",
            "id": fli["id"],
            "quantity": fli["quantity"],
            "lineItem": lambda info: self._v_line(line),
        }

    def _v_rfo(self, rfo: dict | None) -> dict | None:
        if rfo is None:
            return None
        return {
            "__typename": "ReverseFulfillmentOrder",
            "id": rfo["id"],
            "status": rfo["status"],
            "order": lambda info: self._v_order(self.orders[rfo["orderId"]]),
            "lineItems": lambda info, **a: self._page(
                info, rfo["lines"], a, self._v_rfo_line
            ),
        }

    def _v_rfo_line(self, rfo_line: dict) -> dict:
        from .shopify import gql_time

        return {
            "__typename": "ReverseFulfillmentOrderLineItem",
            "id": rfo_line["id"],
            "totalQuantity": rfo_line["totalQuantity"],
            "fulfillmentLineItem": lambda info: self._v_fulfillment_line(
                self._fulfillment_line_items[rfo_line["fulfillmentLineItemId"]][1]
            ),
            "dispositions": [
                {
                    "__typename": "ReverseFulfillmentOrderDisposition",
                    "id": d["id"],
                    "type": d["type"],
                    "quantity": d["quantity"],
                    "createdAt": gql_time(d["createdAt"]),
                    "location": self._v_location(self.locations.get(d["locationId"])),
                }
                for d in rfo_line["dispositions"]
            ],
        }

    def gql_return(self, info, id):
        return self._v_return(self.returns.get(id))

    def gql_reverseFulfillmentOrder(self, info, id):
        return self._v_rfo(self.reverse_fulfillment_orders.get(id))

    def _returns_of(self, order: dict) -> list[dict]:
        return [r for r in self.returns.values() if r["orderId"] == order["id"]]

    # --------------------------------------------------------------- admin
    def admin_returns(self, request, data: dict) -> Any:
        """``POST returns {"order": n, "lines", "request": bool, "emit"}``."""
        from .shopify import gid

        order_id = gid("Order", int(data.pop("order")))
        make = self.request_return if data.pop("request", False) else self.create_return
        return self._jsonable(make(order_id, **data))

    def admin_return(self, request, data: dict, number: int, action: str) -> Any:
        """``POST returns/<n>/<action>``: approve, decline, cancel, close,
        reopen, dispose ``{"dispositions"}``, refund ``{"lines", "restock"}``;
        ``GET returns/<n>/show``."""
        from .shopify import gid

        return_id = gid("Return", number)
        actions = {
            "approve": self.approve_return,
            "decline": self.decline_return,
            "cancel": self.cancel_return,
            "close": self.close_return,
            "reopen": self.reopen_return,
            "dispose": self.dispose_return,
            "refund": self.refund_return,
        }
        if action == "show" or request.method == "GET":
            return self._jsonable(self.return_(return_id))
        if action not in actions:
            raise ValueError(f"unknown return action {action!r}")
        return self._jsonable(actions[action](return_id, **data))
