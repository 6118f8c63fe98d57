"""Webhook subscriptions, deliveries and the mandatory compliance webhooks."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ..toolkit import (
    WebhookSender,
    utc_iso,
)
from .schema import (
    COMPLIANCE_TOPICS,
    SHOP_ID,
    WEBHOOK_RETRY_DELAYS,
    WEBHOOK_TIMEOUT,
    _topic_enum,
    _user_error,
    gid_number,
    gql_time,
    sign,
)

if TYPE_CHECKING:
    from .sandbox import ShopifySandbox


class _ShopifyWebhookSender(WebhookSender):
    """Shopify's delivery rules on top of the toolkit's sender (see
    ``WEBHOOK_RETRY_DELAYS``): failed deliveries wait for their retry on the
    sandbox clock (:meth:`deliver_due`), and a subscription whose deliveries
    keep failing is deleted."""

    def __init__(self, sandbox: ShopifySandbox, *args: Any, **kwargs: Any):
        super().__init__(*args, timeout=WEBHOOK_TIMEOUT, **kwargs)
        self.sandbox = sandbox
        self.retries: list[dict] = []
        self._failures: dict[str, int] = {}  # subscription id -> consecutive

    def deliver(self, event: dict, duplicate: bool = False, delay: float = 0):
        answers = super().deliver(event, duplicate=duplicate, delay=delay)
        self._after_attempt(event, answers[0][0], attempt=0)
        return answers

    def deliver_due(self) -> list[tuple[int | None, str]]:
        """Post the retries that are due on the sandbox clock, oldest first."""
        now = self.sandbox.clock.now()
        with self._lock:
            due = sorted(
                (r for r in self.retries if r["due"] <= now), key=lambda r: r["due"]
            )
            self.retries = [r for r in self.retries if r["due"] > now]
        answers = []
        for retry in due:
            event = retry["event"]
            status, body = self._post(self.serialize(event), event, duplicate=False)
            answers.append((status, body))
            self._after_attempt(event, status, attempt=retry["attempt"])
        return answers

    def _after_attempt(self, event: dict, status: int | None, attempt: int) -> None:
        subscription = event.get("subscription_id")
        if status is not None and 200 <= status < 300:
            if subscription:
                with self._lock:
                    self._failures.pop(subscription, None)
            return
        with self._lock:
            if subscription:
                self._failures[subscription] = self._failures.get(subscription, 0) + 1
            failures = self._failures.get(subscription, 0)
            if attempt < len(WEBHOOK_RETRY_DELAYS):
                self.retries.append(
                    {
                        "due": self.sandbox.clock.now() + WEBHOOK_RETRY_DELAYS[attempt],
                        "attempt": attempt + 1,
                        "event": event,
                    }
                )
                return
        if subscription and failures > len(WEBHOOK_RETRY_DELAYS):
            self.sandbox.drop_failing_subscription(subscription)

    def clear(self) -> None:
        super().clear()
        with self._lock:
            self.retries.clear()
            self._failures.clear()


class ShopifyWebhooksMixin:
    """Webhook subscriptions, deliveries and the mandatory compliance webhooks."""

    # ----------------------------------------------------------- webhooks
    def payload(self, topic: str, ref: Any) -> dict:
        """The REST body Shopify sends for ``topic`` about ``ref`` (a GID; for
        ``inventory_levels/update`` an ``(item_gid, location_gid)`` pair)."""
        resource = topic.partition("/")[0]
        with self.lock:
            if resource == "orders":
                return self.rest_order(ref)
            if resource == "refunds":
                return self.rest_refund(ref)
            if resource == "customers":
                return self.rest_customer(ref)
            if resource == "products":
                return self.rest_product(ref)
            if resource == "fulfillments":
                return self.rest_fulfillment(ref)
            if resource == "inventory_levels":
                return self.rest_inventory_level(*ref)
            if resource == "bulk_operations":
                return self.rest_bulk_operation(ref)
            if resource == "returns":
                return self.rest_return(ref)
            if resource == "reverse_fulfillment_orders":
                return self.rest_reverse_fulfillment_order(ref)
        raise ValueError(f"no payload for topic {topic!r}")

    def targets(self, topic: str) -> list[tuple[str, dict | None]]:
        """``(url, subscription)`` to deliver ``topic`` to."""
        if topic in COMPLIANCE_TOPICS:
            if not self.compliance_url:
                raise ValueError(
                    f"{topic} goes to the app's compliance URL: set compliance_url"
                )
            return [(self.compliance_url, None)]
        wanted = _topic_enum(topic)
        with self.lock:
            found = [
                (sub["uri"], sub)
                for sub in self.subscriptions.values()
                if sub["topic"] == wanted
            ]
        if not found and self.webhook_url:
            found = [(self.webhook_url, None)]
        return found

    def _sign_delivery(self, raw_body: bytes, event: dict) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": event["topic"],
            "X-Shopify-Hmac-Sha256": sign(raw_body, self.webhook_secret),
            "X-Shopify-Shop-Domain": self.shop,
            "X-Shopify-API-Version": event["api_version"],
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": event["id"],
            "X-Shopify-Triggered-At": event["triggered_at"],
        }

    def emit(
        self,
        topic: str,
        ref: Any = None,
        *,
        payload: dict | None = None,
        deliver: bool | None = None,
    ) -> list[dict]:
        """Build ``topic``'s payload (or send ``payload``) to every target.

        Without a target the event is queued (delivered by a later flush to
        ``webhook_url``). ``deliver``: None follows ``webhook_mode``, True posts
        now, False queues. Return the events (one per target, sharing their
        ``X-Shopify-Event-Id``); delivery answers are in ``webhooks.history``.
        """
        body = self.payload(topic, ref) if payload is None else payload
        event_id = str(uuid.uuid4())
        base = {
            "id": event_id,
            "topic": topic,
            "triggered_at": utc_iso(self.clock.now()),
            "api_version": self.api_version,
        }
        events = []
        for url, subscription in self.targets(topic) or [(None, None)]:
            shaped = body
            if subscription and subscription["includeFields"]:
                keep = set(subscription["includeFields"])
                shaped = {k: v for k, v in body.items() if k in keep}
            events.append(
                {
                    **base,
                    "url": url,
                    "subscription_id": subscription["id"] if subscription else None,
                    "payload": shaped,
                }
            )
        mode = "sync" if deliver else "queue"
        if deliver is None:
            mode = self.webhook_mode if events[0]["url"] else "queue"
        for event in events:
            self.webhooks.send(event, mode)
        return events

    def _emit_pending(self, events: list[tuple]) -> None:
        """Emit the webhooks of an API write (outside the state lock):
        ``(topic, ref)`` or ``(topic, ref, payload)``."""
        for topic, ref, *payload in events:
            if self.targets(topic):
                self.emit(topic, ref, payload=payload[0] if payload else None)

    # -------------------------------------------------- compliance webhooks
    def _compliance_customer(self, customer_id: str) -> dict:
        """``customer {id, email, phone}`` of a compliance body (numeric id)."""
        with self.lock:
            customer = self._get(self.customers, customer_id, "customer")
            return {
                "id": gid_number(customer["id"]),
                "email": customer["email"],
                "phone": customer["phone"],
            }

    def _customer_orders(self, customer_id: str, orders) -> list[int]:
        """Numeric ids of ``orders`` (GIDs), by default all the customer's."""
        with self.lock:
            if orders is None:
                orders = [
                    o["id"]
                    for o in self.orders.values()
                    if o["customerId"] == customer_id
                ]
            return [gid_number(order, "Order") for order in orders]

    def request_customer_data(
        self, customer_id: str, orders: list[str] | None = None
    ) -> dict:
        """A customer asked the merchant for their data: send
        ``customers/data_request`` (its body as documented on
        https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance
        #customers-data_request); return the event."""
        with self.lock:
            self._last += 1
            request_id = self._last
        body = {
            "shop_id": SHOP_ID,
            "shop_domain": self.shop,
            "orders_requested": self._customer_orders(customer_id, orders),
            "customer": self._compliance_customer(customer_id),
            "data_request": {"id": request_id},
        }
        return self.emit("customers/data_request", payload=body)[0]

    def redact_customer(self, customer_id: str, orders: list[str] | None = None):
        """The merchant asked to erase a customer: send ``customers/redact``
        (body as on the privacy-law-compliance page, #customers-redact;
        ``orders_to_redact`` by default all the customer's orders); return the
        event."""
        body = {
            "shop_id": SHOP_ID,
            "shop_domain": self.shop,
            "customer": self._compliance_customer(customer_id),
            "orders_to_redact": self._customer_orders(customer_id, orders),
        }
        return self.emit("customers/redact", payload=body)[0]

    def redact_shop(self) -> dict:
        """48 hours after the shop uninstalled the app: send ``shop/redact``
        (``{"shop_id", "shop_domain"}``, privacy-law-compliance page,
        #shop-redact); return the event."""
        body = {"shop_id": SHOP_ID, "shop_domain": self.shop}
        return self.emit("shop/redact", payload=body)[0]

    def _v_subscription(self, subscription: dict | None) -> dict | None:
        if subscription is None:
            return None
        return {
            "__typename": "WebhookSubscription",
            "id": subscription["id"],
            "topic": subscription["topic"],
            "format": subscription["format"],
            "uri": subscription["uri"],
            "callbackUrl": subscription["uri"],
            "filter": subscription["filter"],
            "includeFields": list(subscription["includeFields"]),
            "apiVersion": {
                "handle": self.api_version,
                "displayName": self.api_version,
                "supported": True,
            },
            "createdAt": gql_time(subscription["createdAt"]),
            "updatedAt": gql_time(subscription["updatedAt"]),
        }

    def gql_webhookSubscription(self, info, id):
        return self._v_subscription(self.subscriptions.get(id))

    def gql_webhookSubscriptions(self, info, **args):
        records = [
            sub
            for sub in self.subscriptions.values()
            if (not args.get("topics") or sub["topic"] in args["topics"])
            and (not args.get("format") or sub["format"] == args["format"])
            and (not args.get("uri") or sub["uri"] == args["uri"])
        ]
        keyfn = self._sort_key(
            args.get("sortKey"), {"ID": None, "CREATED_AT": "createdAt"}
        )
        return self._page(info, records, args, self._v_subscription, keyfn)

    def gql_webhookSubscriptionCreate(self, info, topic, webhookSubscription):
        def apply():
            data = webhookSubscription
            uri = data.get("uri") or data.get("callbackUrl")
            if not uri:
                error = _user_error(
                    "Address can't be blank", ["webhookSubscription", "callbackUrl"]
                )
                return {"webhookSubscription": None, "userErrors": [error]}
            for sub in self.subscriptions.values():
                if sub["topic"] == topic and sub["uri"] == uri:
                    error = _user_error(
                        "Address for this topic has already been taken",
                        ["webhookSubscription", "callbackUrl"],
                    )
                    return {"webhookSubscription": None, "userErrors": [error]}
            ms = self._now_ms()
            subscription = {
                "id": self._next("WebhookSubscription"),
                "topic": topic,
                "uri": uri,
                "format": data.get("format") or "JSON",
                "filter": data.get("filter"),
                "includeFields": list(data.get("includeFields") or ()),
                "createdAt": ms,
                "updatedAt": ms,
            }
            self.subscriptions[subscription["id"]] = subscription
            return {
                "webhookSubscription": self._v_subscription(subscription),
                "userErrors": [],
            }

        args = {"topic": topic, "webhookSubscription": webhookSubscription}
        return self._idempotent(info, args, apply)

    def gql_webhookSubscriptionDelete(self, info, id):
        if self.subscriptions.pop(id, None) is None:
            error = _user_error("Webhook subscription does not exist", ["id"])
            return {"deletedWebhookSubscriptionId": None, "userErrors": [error]}
        return {"deletedWebhookSubscriptionId": id, "userErrors": []}

    def drop_failing_subscription(self, subscription_id: str) -> None:
        """Delete a subscription whose deliveries failed 8 times in a row
        (see ``WEBHOOK_RETRY_DELAYS``); its pending retries go with it."""
        with self.lock:
            self.subscriptions.pop(subscription_id, None)
        with self.webhooks._lock:
            self.webhooks.retries = [
                r
                for r in self.webhooks.retries
                if r["event"].get("subscription_id") != subscription_id
            ]
