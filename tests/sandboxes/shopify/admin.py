"""The sandbox's own admin routes (/__sandbox__/...), used by tests and the demo."""

from __future__ import annotations

import copy
import json
from typing import Any

from werkzeug.wrappers import (
    Request,
    Response,
)

from ..toolkit import (
    ApiError,
    json_response,
    utc_iso,
)
from .schema import (
    COMPLIANCE_TOPICS,
    SCHEMA,
    UNAVAILABLE_STATES,
    WEBHOOK_MODES,
    gid,
)


class ShopifyAdminMixin:
    """The sandbox's own admin routes (/__sandbox__/...), used by tests and the demo."""

    # ---------------------------------------------------------- admin routes
    def admin_config(self, request: Request, data: dict) -> dict:
        if request.method == "POST":
            if "webhook_mode" in data:
                if data["webhook_mode"] not in WEBHOOK_MODES:
                    raise ValueError(f"webhook_mode must be one of {WEBHOOK_MODES}")
                self.webhook_mode = data["webhook_mode"]
            if "throttle_status_code" in data:
                if data["throttle_status_code"] not in (200, 429):
                    raise ValueError("throttle_status_code must be 200 or 429")
                self.throttle_status_code = data["throttle_status_code"]
            if "webhook_url" in data:
                self.webhook_url = data["webhook_url"]
            if "compliance_url" in data:
                self.compliance_url = data["compliance_url"]
            if "auto_webhooks" in data:
                self.auto_webhooks = bool(data["auto_webhooks"])
            if "bulk_seconds" in data:
                self.bulk_seconds = float(data["bulk_seconds"])
            if "currency" in data:
                # the store currency (Settings > General > Store currency),
                # which a merchant can change before the first sale
                # (help.shopify.com/en/manual/your-account/change-store-currency)
                currency = data["currency"]
                if currency not in SCHEMA.get_type("CurrencyCode").values:
                    raise ValueError(f"currency {currency!r} is not a CurrencyCode")
                with self.lock:
                    if self.orders:
                        raise ValueError("store currency cannot change after a sale")
                    self.currency = currency
        return {
            "shop": self.shop,
            "currency": self.currency,
            "api_version": self.api_version,
            "webhook_url": self.webhook_url,
            "compliance_url": self.compliance_url,
            "auto_webhooks": self.auto_webhooks,
            "webhook_mode": self.webhook_mode,
            "throttle_status_code": self.throttle_status_code,
            "bulk_seconds": self.bulk_seconds,
            "throttle_status": self._throttle_status(),
        }

    @staticmethod
    def _jsonable(value: Any) -> Any:
        return json.loads(json.dumps(value, default=str))

    def admin_locations(self, request: Request, data: dict) -> Any:
        if request.method == "POST":
            return json_response(self.add_location(**data), 201)
        with self.lock:
            return self._jsonable(list(self.locations.values()))

    def admin_products(self, request: Request, data: dict) -> Any:
        if request.method == "POST":
            return json_response(self._jsonable(self.add_product(**data)), 201)
        with self.lock:
            return self._jsonable(
                [self._product_snapshot(p) for p in self.products.values()]
            )

    def admin_customers(self, request: Request, data: dict) -> Any:
        if request.method == "POST":
            return json_response(self._jsonable(self.add_customer(**data)), 201)
        with self.lock:
            return self._jsonable(list(self.customers.values()))

    def admin_orders(self, request: Request, data: dict) -> Any:
        if request.method == "POST":
            return json_response(self._jsonable(self.add_order(**data)), 201)
        with self.lock:
            ids = list(self.orders)
        return self._jsonable([self.order(order_id) for order_id in ids])

    def admin_order(self, request: Request, data: dict, number: int) -> Any:
        order_id = gid("Order", number)
        if request.method == "POST":
            return self._jsonable(self.update_order(order_id, **data))
        view = self.order(order_id)
        with self.lock:
            # what the merchant sees of each fulfilment: its lines and tracking
            view["fulfillmentDetails"] = [
                copy.deepcopy(self.fulfillments[ident])
                for ident in view["fulfillments"]
            ]
        return self._jsonable(view)

    def admin_cancel(self, request: Request, data: dict, number: int) -> Any:
        return self._jsonable(self.cancel_order(gid("Order", number), **data))

    def admin_edit(self, request: Request, data: dict, number: int) -> Any:
        """``{"add", "quantities", "restock", "staff_note", "emit"}``: edit
        and commit (``edit_order``); answers the ``order_edit``."""
        return self._jsonable(self.edit_order(gid("Order", number), **data))

    def admin_refund(self, request: Request, data: dict, number: int) -> Any:
        return json_response(
            self._jsonable(self.refund_order(gid("Order", number), **data)), 201
        )

    def admin_inventory(self, request: Request, data: dict) -> Any:
        if request.method == "POST":
            settable = (*UNAVAILABLE_STATES, "incoming")
            states = {k: data[k] for k in settable if k in data}
            return self.set_inventory(
                data["inventory_item_id"],
                data["location_id"],
                data.get("available"),
                emit=bool(data.get("emit")),
                **states,
            )
        with self.lock:
            return [
                {
                    "inventory_item_id": item,
                    "location_id": loc,
                    **self._quantities(level),
                }
                for (item, loc), level in self.levels.items()
            ]

    def admin_emit(self, request: Request, data: dict) -> list:
        ref = data.get("id")
        if data["topic"] == "inventory_levels/update" and isinstance(ref, list):
            ref = tuple(ref)
        events = self.emit(
            data["topic"], ref, payload=data.get("payload"), deliver=data.get("deliver")
        )
        return [
            {"event_id": e["id"], "topic": e["topic"], "url": e["url"]} for e in events
        ]

    def admin_compliance(self, request: Request, data: dict) -> dict:
        """``{"topic", "customer_id", "orders"}``: send a compliance webhook."""
        topic = data.get("topic")
        if topic == "shop/redact":
            event = self.redact_shop()
        elif topic == "customers/redact":
            event = self.redact_customer(data["customer_id"], data.get("orders"))
        elif topic == "customers/data_request":
            event = self.request_customer_data(data["customer_id"], data.get("orders"))
        else:
            raise ValueError(f"topic must be one of {COMPLIANCE_TOPICS}")
        return {"event_id": event["id"], "topic": topic, "url": event["url"]}

    def admin_webhooks(self, request: Request, data: dict) -> dict:
        return {
            "pending": [
                {"event_id": e["id"], "topic": e["topic"], "url": e["url"]}
                for e in self.webhooks.pending
            ],
            "history": [
                {
                    "event_id": delivery.event.get("id"),
                    "topic": delivery.event.get("topic"),
                    "url": delivery.event.get("url"),
                    "status": delivery.status,
                    "body": delivery.body,
                    "duplicate": delivery.duplicate,
                }
                for delivery in self.webhooks.history
            ],
            "subscriptions": self._jsonable(list(self.subscriptions.values())),
            "retries": [
                {
                    "event_id": r["event"]["id"],
                    "topic": r["event"]["topic"],
                    "attempt": r["attempt"],
                    "due": utc_iso(r["due"]),
                }
                for r in self.webhooks.retries
            ],
        }

    def admin_retry(self, request: Request, data: dict) -> list:
        """Deliver the failed webhooks whose retry is due (move the clock first)."""
        return [
            {"status": status, "body": body}
            for status, body in self.webhooks.deliver_due()
        ]

    def admin_flush(self, request: Request, data: dict) -> list:
        answers = self.flush_webhooks(
            order=data.get("order", "fifo"),
            duplicate_every=data.get("duplicate_every"),
            seed=data.get("seed"),
        )
        return [{"status": status, "body": body} for status, body in answers]

    def admin_bulk_finish(self, request: Request, data: dict) -> dict:
        return self._jsonable(
            self.finish_bulk(
                data.get("id"),
                status=data.get("status", "COMPLETED"),
                error_code=data.get("error_code"),
                partial_objects=data.get("partial_objects"),
            )
        )

    def admin_bulk_file(self, request: Request, data: dict, number: int) -> Response:
        with self.lock:
            operation = self.bulk_operations.get(gid("BulkOperation", number))
            if operation is None or operation["status"] != "COMPLETED":
                raise ApiError(404, "not_found", "Not Found")
            body = operation["data"]
        return Response(body, content_type="application/jsonl")
