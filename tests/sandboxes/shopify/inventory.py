"""Inventory levels and quantities: seeding, payloads, views, queries and the inventory
mutations."""

from __future__ import annotations

import re

from .schema import (
    ADJUSTABLE_NAMES,
    INVENTORY_REASONS,
    MAX_QUANTITY,
    QUANTITY_NAMES,
    STORED_STATES,
    UNAVAILABLE_STATES,
    _error,
    _user_error,
    gid,
    gid_number,
    gql_time,
)


class ShopifyInventoryMixin:
    """Inventory levels and quantities: seeding, payloads, views, queries and the
    inventory mutations."""

    # ---------------------------------------------------------- inventory
    def offered_stock(self) -> dict:
        """What buyers can order: the ``available`` quantity of each tracked
        SKU at each location (untracked items are never sold out)."""
        skus = {
            variant["inventoryItemId"]: variant["sku"]
            for variant in self.variants.values()
            if variant.get("sku")
        }
        return {
            (skus[item], location): level["available"]
            for (item, location), level in self.levels.items()
            if item in skus and self.items.get(item, {}).get("tracked", True)
        }

    def _level(self, item_id: str, location_id: str, *, create=False) -> dict | None:
        key = (item_id, location_id)
        level = self.levels.get(key)
        if level is None and create:
            ms = self._now_ms()
            level = dict.fromkeys(STORED_STATES, 0)
            level.update(createdAt=ms, updatedAt=ms)
            self.levels[key] = level
        return level

    def set_inventory(
        self,
        item_id: str,
        location_id: str,
        available: int | None = None,
        *,
        emit: bool = False,
        **states: int,
    ) -> dict:
        """Set ``available`` and/or the unavailable and ``incoming`` states, as a
        merchant does in the admin (stocking the item there if needed).

        ``committed`` is not settable: only orders and fulfilments move it.
        """
        unknown = set(states) - set(UNAVAILABLE_STATES) - {"incoming"}
        if unknown:
            raise ValueError(f"not a settable inventory state: {sorted(unknown)}")
        with self.lock:
            self._get(self.items, item_id, "inventory item")
            self._get(self.locations, location_id, "location")
            level = self._level(item_id, location_id, create=True)
            if available is not None:
                level["available"] = int(available)
            for name, quantity in states.items():
                level[name] = int(quantity)
            self._touch(level)
            snapshot = self._quantities(level)
        if emit:
            self.emit("inventory_levels/update", (item_id, location_id))
        return snapshot

    def inventory(self, item_id: str, location_id: str, name: str = "available"):
        """A quantity (any of ``QUANTITY_NAMES``), or None where not stocked."""
        with self.lock:
            level = self._level(item_id, location_id)
            return None if level is None else self._quantities(level)[name]

    @staticmethod
    def _quantities(level: dict) -> dict:
        values = {name: level[name] for name in STORED_STATES}
        values["on_hand"] = (
            level["available"]
            + level["committed"]
            + sum(level[name] for name in UNAVAILABLE_STATES)
        )
        return values

    def _move(self, item_id, location_id, *, available=0, committed=0) -> None:
        level = self._level(item_id, location_id)
        if level is None:
            return
        level["available"] += available
        level["committed"] += committed
        self._touch(level)

    def _total_available(self, item_id: str) -> int:
        return sum(
            level["available"]
            for (item, _), level in self.levels.items()
            if item == item_id
        )

    def rest_inventory_level(self, item_id: str, location_id: str) -> dict:
        level = self.levels[(item_id, location_id)]
        return {
            "inventory_item_id": gid_number(item_id),
            "location_id": gid_number(location_id),
            "available": level["available"],
            "updated_at": self._rest_time(level["updatedAt"]),
            "admin_graphql_api_id": self._level_gid(item_id, location_id),
        }

    @staticmethod
    def _level_gid(item_id: str, location_id: str) -> str:
        return (
            f"gid://shopify/InventoryLevel/{gid_number(location_id)}"
            f"?inventory_item_id={gid_number(item_id)}"
        )

    def _v_item(self, item: dict | None) -> dict | None:
        if item is None:
            return None
        variant = self.variants[item["variantId"]]
        levels = [
            {"id": self._level_gid(item["id"], location_id), "location": location_id}
            for (item_id, location_id) in self.levels
            if item_id == item["id"]
        ]
        return {
            "__typename": "InventoryItem",
            "id": item["id"],
            "legacyResourceId": str(gid_number(item["id"])),
            "sku": variant["sku"],
            "tracked": item["tracked"],
            "createdAt": gql_time(item["createdAt"]),
            "updatedAt": gql_time(item["updatedAt"]),
            "variant": lambda info: self._v_variant(variant),
            "inventoryLevel": lambda info, locationId: self._v_level(
                item["id"], locationId
            ),
            "inventoryLevels": lambda info, **a: self._page(
                info,
                levels,
                a,
                lambda row: self._v_level(item["id"], row["location"]),
            ),
        }

    def _v_level(self, item_id: str, location_id: str) -> dict | None:
        level = self.levels.get((item_id, location_id))
        if level is None:
            return None
        level_id = self._level_gid(item_id, location_id)

        def quantities(info, names):
            values = self._quantities(level)
            result = []
            for name in names:
                if name not in QUANTITY_NAMES:
                    raise _error(f"Invalid quantity name: {name}")
                result.append(
                    {
                        "__typename": "InventoryQuantity",
                        "id": f"{level_id.replace('Level', 'Quantity')}&name={name}",
                        "name": name,
                        "quantity": values.get(name, 0),
                        "updatedAt": gql_time(level["updatedAt"]),
                    }
                )
            return result

        return {
            "__typename": "InventoryLevel",
            "id": level_id,
            "createdAt": gql_time(level["createdAt"]),
            "updatedAt": gql_time(level["updatedAt"]),
            "item": lambda info: self._v_item(self.items.get(item_id)),
            "location": lambda info: self._v_location(self.locations.get(location_id)),
            "quantities": quantities,
        }

    def _v_group(self, group: dict) -> dict:
        def changes(info, inventoryItemIds=None, locationIds=None, quantityNames=None):
            return [
                {
                    "name": change["name"],
                    "delta": change["delta"],
                    "quantityAfterChange": change["quantityAfterChange"],
                    "ledgerDocumentUri": change["ledgerDocumentUri"],
                    "item": self._v_item(self.items.get(change["itemId"])),
                    "location": self._v_location(
                        self.locations.get(change["locationId"])
                    ),
                }
                for change in group["changes"]
                if (inventoryItemIds is None or change["itemId"] in inventoryItemIds)
                and (locationIds is None or change["locationId"] in locationIds)
                and (quantityNames is None or change["name"] in quantityNames)
            ]

        return {
            "__typename": "InventoryAdjustmentGroup",
            "id": group["id"],
            "createdAt": gql_time(group["createdAt"]),
            "reason": group["reason"],
            "referenceDocumentUri": group["referenceDocumentUri"],
            "changes": changes,
        }

    def gql_inventoryItem(self, info, id):
        return self._v_item(self.items.get(id))

    def gql_inventoryLevel(self, info, id):
        match = re.fullmatch(
            r"gid://shopify/InventoryLevel/(\d+)\?inventory_item_id=(\d+)", id or ""
        )
        if not match:
            return None
        location, item = int(match[1]), int(match[2])
        return self._v_level(gid("InventoryItem", item), gid("Location", location))

    def gql_inventorySetQuantities(self, info, input):
        return self._idempotent(
            info,
            {"input": input},
            lambda: self._change_quantities(info, input, adjust=False),
            required=True,
        )

    def gql_inventoryAdjustQuantities(self, info, input):
        return self._idempotent(
            info,
            {"input": input},
            lambda: self._change_quantities(info, input, adjust=True),
            required=True,
        )

    def _change_quantities(self, info, data: dict, *, adjust: bool) -> dict:
        """inventorySetQuantities / inventoryAdjustQuantities: all or nothing."""
        name, list_key = data["name"], "changes" if adjust else "quantities"
        errors = []
        if adjust and name not in ADJUSTABLE_NAMES:
            errors.append(
                _user_error(
                    "The specified quantity name is invalid.",
                    ["input", "name"],
                    "INVALID_QUANTITY_NAME",
                )
            )
        elif not adjust and name not in ("available", "on_hand"):
            errors.append(
                _user_error(
                    "The quantity name must be either 'available' or 'on_hand'.",
                    ["input", "name"],
                    "INVALID_NAME",
                )
            )
        if data["reason"] not in INVENTORY_REASONS:
            errors.append(
                _user_error(
                    "The specified reason is invalid.",
                    ["input", "reason"],
                    "INVALID_REASON",
                )
            )
        plan, seen = [], set()
        for index, row in enumerate(data[list_key]):
            path = ["input", list_key, str(index)]
            item_id, location_id = row["inventoryItemId"], row["locationId"]
            level = self._level(item_id, location_id)
            problem = None
            if item_id not in self.items:
                problem = (
                    "The specified inventory item could not be found.",
                    "inventoryItemId",
                    "INVALID_INVENTORY_ITEM",
                )
            elif location_id not in self.locations:
                problem = (
                    "The specified location could not be found.",
                    "locationId",
                    "INVALID_LOCATION",
                )
            elif level is None:
                problem = (
                    "The specified inventory item is not stocked at the location.",
                    "locationId",
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                )
            elif not adjust and (item_id, location_id) in seen:
                problem = (
                    "The combination of inventoryItemId and locationId must be unique.",
                    "locationId",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                )
            # InventoryAdjustQuantitiesUserErrorCode: INVALID_QUANTITY_DOCUMENT "A
            # ledger document URI is required except when adjusting available",
            # INVALID_AVAILABLE_DOCUMENT "... is not allowed when adjusting
            # available"
            elif adjust and name != "available" and not row.get("ledgerDocumentUri"):
                problem = (
                    "A ledger document URI is required except when adjusting "
                    "available.",
                    "ledgerDocumentUri",
                    "INVALID_QUANTITY_DOCUMENT",
                )
            elif adjust and name == "available" and row.get("ledgerDocumentUri"):
                problem = (
                    "A ledger document URI is not allowed when adjusting available.",
                    "ledgerDocumentUri",
                    "INVALID_AVAILABLE_DOCUMENT",
                )
            elif "changeFromQuantity" not in row:
                problem = (
                    "changeFromQuantity is required since 2026-04: pass the "
                    "quantity you expect, or null to skip the check.",
                    "changeFromQuantity",
                    None,
                )
            if problem:
                message, field_name, code = problem
                errors.append(_user_error(message, [*path, field_name], code))
                continue
            seen.add((item_id, location_id))
            current = self._quantities(level)[name]
            expected = row["changeFromQuantity"]
            if expected is not None and expected != current:
                errors.append(
                    _user_error(
                        "The changeFromQuantity value does not match the persisted "
                        "quantity.",
                        [*path, "changeFromQuantity"],
                        "CHANGE_FROM_QUANTITY_STALE",
                    )
                )
                continue
            target = current + row["delta"] if adjust else row["quantity"]
            quantity_field = "delta" if adjust else "quantity"
            if target > MAX_QUANTITY or target < -MAX_QUANTITY:
                code = (
                    "INVALID_QUANTITY_TOO_HIGH"
                    if target > 0
                    else "INVALID_QUANTITY_TOO_LOW"
                )
                errors.append(
                    _user_error(
                        f"The quantity can't be "
                        f"{'higher' if target > 0 else 'lower'} than "
                        f"{MAX_QUANTITY if target > 0 else -MAX_QUANTITY:,}.",
                        [*path, quantity_field],
                        code,
                    )
                )
                continue
            if not adjust and name == "on_hand" and target < 0:
                errors.append(
                    _user_error(
                        "The quantity can't be negative.",
                        [*path, quantity_field],
                        "INVALID_QUANTITY_NEGATIVE",
                    )
                )
                continue
            plan.append((item_id, location_id, level, target - current, row))
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        changes = []
        for item_id, location_id, level, delta, row in plan:
            if not delta:
                continue
            # on_hand moves available; another state moves itself (and on_hand
            # but for incoming, which on_hand does not count)
            state = "available" if name == "on_hand" else name
            level[state] += delta
            self._touch(level)
            after = self._quantities(level)
            names = [state] + (["on_hand"] if state != "incoming" else [])
            for quantity_name in names:
                changes.append(
                    {
                        "name": quantity_name,
                        "delta": delta,
                        "quantityAfterChange": after[quantity_name],
                        "ledgerDocumentUri": row.get("ledgerDocumentUri")
                        if quantity_name != "available"
                        else None,
                        "itemId": item_id,
                        "locationId": location_id,
                    }
                )
            self._auto(info, "inventory_levels/update", (item_id, location_id))
        group = {
            "id": self._next("InventoryAdjustmentGroup"),
            "createdAt": self._now_ms(),
            "reason": data["reason"],
            "referenceDocumentUri": data.get("referenceDocumentUri"),
            "changes": changes,
        }
        self.adjustment_groups[group["id"]] = group
        return {"inventoryAdjustmentGroup": self._v_group(group), "userErrors": []}
