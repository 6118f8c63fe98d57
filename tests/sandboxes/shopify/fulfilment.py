"""Fulfillment orders and fulfilments: seeding, payloads, views and mutations."""

from __future__ import annotations

import copy

from .schema import (
    _user_error,
    gid_number,
    gql_time,
)


class ShopifyFulfilmentMixin:
    """Fulfillment orders and fulfilments: seeding, payloads, views and mutations."""

    def _open_fulfillment_orders(self, order, location, ms) -> None:
        by_location: dict[str, list[dict]] = {}
        for line in order["lineItems"]:
            if line.get("tip"):
                continue  # nothing to fulfil
            variant = self.variants.get(line["variantId"])
            item_id = variant["inventoryItemId"] if variant else None
            where = (
                line["locationId"]
                or location
                or self._pick_location(item_id, line["quantity"])
            )
            line["locationId"] = where
            by_location.setdefault(where, []).append(line)
            if item_id:
                quantity = line["quantity"]
                self._move(item_id, where, available=-quantity, committed=quantity)
        for location_id, location_lines in by_location.items():
            fulfillment_order = {
                "id": self._next("FulfillmentOrder"),
                "orderId": order["id"],
                "locationId": location_id,
                "status": "OPEN",
                "lines": [],
                "createdAt": ms,
                "updatedAt": ms,
            }
            for line in location_lines:
                fo_line = {
                    "id": self._next("FulfillmentOrderLineItem"),
                    "lineItemId": line["id"],
                    "total": line["quantity"],
                    "remaining": line["quantity"],
                }
                fulfillment_order["lines"].append(fo_line)
                self._fo_lines[fo_line["id"]] = (fulfillment_order["id"], fo_line)
            self.fulfillment_orders[fulfillment_order["id"]] = fulfillment_order
            order["fulfillmentOrders"].append(fulfillment_order["id"])
        for line in order["lineItems"]:
            self._line_items[line["id"]] = (order["id"], line)

    def _fulfillment_status(self, order: dict) -> str:
        fulfilled = sum(
            quantity
            for fulfillment_id in order["fulfillments"]
            for _, quantity in self.fulfillments[fulfillment_id]["lines"]
        )
        remaining = sum(
            line["remaining"]
            for fo in order["fulfillmentOrders"]
            for line in (fo if isinstance(fo, dict) else self.fulfillment_orders[fo])[
                "lines"
            ]
        )
        if not fulfilled:
            return "UNFULFILLED"
        return "FULFILLED" if remaining == 0 else "PARTIALLY_FULFILLED"

    def fulfill(
        self,
        order_id: str,
        tracking: dict | None = None,
        *,
        emit: bool = False,
    ) -> dict:
        """Fulfil everything left in the order's open fulfillment orders: one
        fulfillment per assigned location; return the last one."""
        with self.lock:
            order = self._get(self.orders, order_id, "order")
            by_location: dict[str, list] = {}
            for fo_id in order["fulfillmentOrders"]:
                fulfillment_order = self.fulfillment_orders[fo_id]
                if fulfillment_order["status"] in ("OPEN", "IN_PROGRESS"):
                    by_location.setdefault(fulfillment_order["locationId"], []).append(
                        (fulfillment_order, None)
                    )
            made = []
            for requests_ in by_location.values() or [[]]:
                fulfillment, errors = self._fulfill(requests_, tracking or {})
                if errors:
                    raise ValueError(errors[0]["message"])
                made.append(fulfillment)
        if emit:
            for fulfillment in made:
                self.emit("fulfillments/create", fulfillment["id"])
        return copy.deepcopy(made[-1])

    def _fulfill(self, requests_, tracking) -> tuple[dict | None, list[dict]]:
        """Fulfil ``[(fulfillment order, [(fo line, quantity)] | None)]``."""
        errors = []
        plan = []
        orders = {fo["orderId"] for fo, _ in requests_}
        if len(orders) != 1:
            errors.append(
                _user_error("All fulfillment orders must belong to the same order.")
            )
            return None, errors
        # fulfillmentCreate: "Creates a fulfillment for one or many fulfillment
        # orders. The fulfillment orders are associated with the same order and
        # are assigned to the same location."
        # (https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentCreate);
        # the message and the field of the refusal are assumptions
        if len({fo["locationId"] for fo, _ in requests_}) > 1:
            errors.append(
                _user_error(
                    "All fulfillment orders must be assigned to the same location.",
                    ["fulfillment", "lineItemsByFulfillmentOrder"],
                )
            )
            return None, errors
        for index, (fulfillment_order, wanted) in enumerate(requests_):
            path = ["fulfillment", "lineItemsByFulfillmentOrder", str(index)]
            if fulfillment_order["status"] not in ("OPEN", "IN_PROGRESS"):
                status = fulfillment_order["status"].lower()
                errors.append(
                    _user_error(
                        f"Fulfillment order {fulfillment_order['id']} has an "
                        f"unfulfillable status= {status}.",
                        path,
                    )
                )
                continue
            if wanted is None:
                wanted = [
                    (fo_line, fo_line["remaining"])
                    for fo_line in fulfillment_order["lines"]
                ]
            for fo_line, quantity in wanted:
                if fo_line is None or not 0 < quantity <= fo_line["remaining"]:
                    errors.append(
                        _user_error(
                            "Invalid fulfillment order line item quantity requested.",
                            path,
                        )
                    )
                elif quantity:
                    plan.append((fulfillment_order, fo_line, quantity))
        if not errors and not plan:
            errors.append(_user_error("No line items to fulfill."))
        if errors:
            return None, errors
        order = self.orders[orders.pop()]
        ms = self._touch(order)
        fulfillment = {
            "id": self._next("Fulfillment"),
            "orderId": order["id"],
            "name": f"{order['name']}-F{len(order['fulfillments']) + 1}",
            "status": "SUCCESS",
            "locationId": plan[0][0]["locationId"],
            "tracking": [self._tracking(tracking)] if any(tracking.values()) else [],
            "lines": [],
            "createdAt": ms,
            "updatedAt": ms,
        }
        for fulfillment_order, fo_line, quantity in plan:
            fo_line["remaining"] -= quantity
            fulfillment["lines"].append((fo_line["id"], quantity))
            self._record_fulfillment_line(fulfillment, fo_line, quantity)
            item_id = self._item_of_line(fo_line["lineItemId"])
            if item_id:
                self._move(
                    item_id, fulfillment_order["locationId"], committed=-quantity
                )
            done = all(not line["remaining"] for line in fulfillment_order["lines"])
            fulfillment_order["status"] = "CLOSED" if done else "IN_PROGRESS"
            fulfillment_order["updatedAt"] = ms
        self.fulfillments[fulfillment["id"]] = fulfillment
        order["fulfillments"].append(fulfillment["id"])
        return fulfillment, []

    @staticmethod
    def _tracking(data: dict | None) -> dict:
        data = data or {}
        return {key: data.get(key) for key in ("company", "number", "url")}

    def _unfulfilled(self, line_item_id: str) -> int:
        order_id, _ = self._line_items[line_item_id]
        return sum(
            fo_line["remaining"]
            for fo_id in self.orders[order_id]["fulfillmentOrders"]
            for fo_line in self.fulfillment_orders[fo_id]["lines"]
            if fo_line["lineItemId"] == line_item_id
        )

    def rest_fulfillment(self, fulfillment_id: str) -> dict:
        fulfillment = self.fulfillments[fulfillment_id]
        tracking = fulfillment["tracking"]
        lines = []
        for fo_line_id, quantity in fulfillment["lines"]:
            _, fo_line = self._fo_lines[fo_line_id]
            _, line = self._line_items[fo_line["lineItemId"]]
            lines.append({**self._rest_line(line), "quantity": quantity})
        return {
            "id": gid_number(fulfillment_id),
            "admin_graphql_api_id": fulfillment_id,
            "order_id": gid_number(fulfillment["orderId"]),
            "name": fulfillment["name"],
            "status": fulfillment["status"].lower(),
            "service": "manual",
            "location_id": gid_number(fulfillment["locationId"]),
            "created_at": self._rest_time(fulfillment["createdAt"]),
            "updated_at": self._rest_time(fulfillment["updatedAt"]),
            "tracking_company": tracking[0]["company"] if tracking else None,
            "tracking_number": tracking[0]["number"] if tracking else None,
            "tracking_numbers": [t["number"] for t in tracking if t["number"]],
            "tracking_url": tracking[0]["url"] if tracking else None,
            "tracking_urls": [t["url"] for t in tracking if t["url"]],
            "line_items": lines,
        }

    def _v_fulfillment_order(self, fulfillment_order: dict | None) -> dict | None:
        if fulfillment_order is None:
            return None
        location = self.locations.get(fulfillment_order["locationId"])
        return {
            "__typename": "FulfillmentOrder",
            "id": fulfillment_order["id"],
            "status": fulfillment_order["status"],
            "createdAt": gql_time(fulfillment_order["createdAt"]),
            "updatedAt": gql_time(fulfillment_order["updatedAt"]),
            "order": lambda info: self._v_order(
                self.orders[fulfillment_order["orderId"]]
            ),
            "assignedLocation": {
                "location": self._v_location(location),
                "name": location["name"] if location else "",
            },
            "lineItems": lambda info, **a: self._page(
                info, fulfillment_order["lines"], a, self._v_fulfillment_order_line
            ),
        }

    def _v_fulfillment_order_line(self, fo_line: dict) -> dict:
        _, line = self._line_items[fo_line["lineItemId"]]
        return {
            "__typename": "FulfillmentOrderLineItem",
            "id": fo_line["id"],
            "sku": line["sku"],
            "inventoryItemId": self._item_of_line(line["id"]),
            "remainingQuantity": fo_line["remaining"],
            "totalQuantity": fo_line["total"],
            "lineItem": lambda info: self._v_line(line),
        }

    def _v_fulfillment(self, fulfillment: dict | None) -> dict | None:
        if fulfillment is None:
            return None
        return {
            "__typename": "Fulfillment",
            "id": fulfillment["id"],
            "legacyResourceId": str(gid_number(fulfillment["id"])),
            "name": fulfillment["name"],
            "status": fulfillment["status"],
            "createdAt": gql_time(fulfillment["createdAt"]),
            "updatedAt": gql_time(fulfillment["updatedAt"]),
            "location": lambda info: self._v_location(
                self.locations.get(fulfillment["locationId"])
            ),
            "order": lambda info: self._v_order(self.orders[fulfillment["orderId"]]),
            "trackingInfo": lambda info, first=None: [
                dict(t) for t in fulfillment["tracking"][:first]
            ],
            "fulfillmentLineItems": lambda info, **a: self._page(
                info, fulfillment.get("lineItems", []), a, self._v_fulfillment_line
            ),
        }

    def gql_fulfillmentOrder(self, info, id):
        return self._v_fulfillment_order(self.fulfillment_orders.get(id))

    def gql_fulfillmentCreate(self, info, fulfillment, message=None):
        return self._idempotent(
            info,
            {"fulfillment": fulfillment, "message": message},
            lambda: self._fulfillment_create(info, fulfillment),
        )

    def _fulfillment_create(self, info, data: dict) -> dict:
        requests_, errors = [], []
        for index, group in enumerate(data["lineItemsByFulfillmentOrder"]):
            fulfillment_order = self.fulfillment_orders.get(group["fulfillmentOrderId"])
            if fulfillment_order is None:
                path = [
                    "fulfillment",
                    "lineItemsByFulfillmentOrder",
                    str(index),
                    "fulfillmentOrderId",
                ]
                errors.append(_user_error("Fulfillment order does not exist.", path))
                continue
            wanted = None
            if group.get("fulfillmentOrderLineItems") is not None:
                wanted = []
                for line in group["fulfillmentOrderLineItems"]:
                    owner, fo_line = self._fo_lines.get(line["id"], (None, None))
                    if owner != fulfillment_order["id"]:
                        fo_line = None
                    wanted.append((fo_line, line["quantity"]))
            requests_.append((fulfillment_order, wanted))
        if not errors and not requests_:
            errors.append(_user_error("No fulfillment orders given."))
        fulfillment = None
        if not errors:
            fulfillment, errors = self._fulfill(
                requests_, data.get("trackingInfo") or {}
            )
        if errors:
            return {"fulfillment": None, "userErrors": errors}
        self._auto(info, "fulfillments/create", fulfillment["id"])
        self._auto(info, "orders/updated", fulfillment["orderId"])
        return {"fulfillment": self._v_fulfillment(fulfillment), "userErrors": []}

    def gql_fulfillmentTrackingInfoUpdate(
        self, info, fulfillmentId, trackingInfoInput, notifyCustomer=None
    ):
        """ "Updates tracking information for a fulfillment, including the carrier
        name, tracking numbers, and tracking URLs" (https://shopify.dev/docs/
        api/admin-graphql/latest/mutations/fulfillmentTrackingInfoUpdate): the
        new tracking replaces the old one; fulfillments/update follows."""

        def apply():
            fulfillment = self.fulfillments.get(fulfillmentId)
            if fulfillment is None:
                error = _user_error("Fulfillment does not exist.", ["fulfillmentId"])
                return {"fulfillment": None, "userErrors": [error]}
            fulfillment["tracking"] = [self._tracking(trackingInfoInput)]
            self._touch(fulfillment)
            self._auto(info, "fulfillments/update", fulfillment["id"])
            return {"fulfillment": self._v_fulfillment(fulfillment), "userErrors": []}

        args = {"fulfillmentId": fulfillmentId, "trackingInfoInput": trackingInfoInput}
        return self._idempotent(info, args, apply)
