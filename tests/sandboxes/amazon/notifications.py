"""``ORDER_CHANGE`` notifications in the official envelope.

``OrderChangeNotification.json`` (``shared/contracts/amazon``) gives the
envelope {``NotificationVersion``, ``NotificationType``: "ORDER_CHANGE",
``PayloadVersion``, ``EventTime``, ``Payload`` {``OrderChangeNotification``
{``NotificationLevel``, ``SellerId``, ``AmazonOrderId``,
``OrderChangeType`` (``OrderStatusChange``, ``BuyerRequestedChange``,
``DeliveryTipChange``), ``OrderChangeTrigger`` {``TimeOfOrderChange``,
``ChangeReason``}, ``Summary`` {``MarketplaceId``, ``OrderStatus``
(``Pending``, ``Unshipped``, ``PartiallyShipped``, ``Shipped``,
``Canceled``...), ``PurchaseDate``, ``DestinationPostalCode``,
``FulfillmentType`` (``MFN``/``AFN``), ``OrderType``, ``OrderItems``}}},
``NotificationMetadata`` {``ApplicationId``, ``SubscriptionId``,
``PublishTime``, ``NotificationId``}}. Amazon publishes one on each status
change of an order (including the new order's first status) and on a
buyer's cancellation request
(https://developer-docs.amazon.com/sp-api/docs/notification-type-values,
ORDER_CHANGE). Delivery is at least once: "you might receive duplicate
notifications" (https://developer-docs.amazon.com/sp-api/docs/notifications-api-v1-use-case-guide);
a duplicate carries the same ``NotificationId``.

The sandbox publishes as if the app had subscribed to ORDER_CHANGE: the
notifications wait in a queue (what the SQS queue would hold) that a test
reads with ``GET|POST /__sandbox__/notifications/...`` or posts, as the
message bodies, to a URL (what an SQS consumer would hand on). Consuming SQS
itself is left to the connector's transport.
"""

from __future__ import annotations

import uuid

from ..toolkit import WebhookSender, utc_iso

STATUS_NAMES = {
    "PENDING_AVAILABILITY": "PendingAvailability",
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
    "UNFULFILLABLE": "Unfulfillable",
}
CHANGE_TYPES = ("OrderStatusChange", "BuyerRequestedChange", "DeliveryTipChange")


def reset(sb) -> None:
    sb.application_id = (
        f"amzn1.sellerapps.app.{uuid.uuid5(uuid.NAMESPACE_URL, sb.client_id)}"
    )
    sb.subscription_id = str(uuid.uuid4())
    sb.notification_queue = []
    sb.book.listeners.append(
        lambda order, change, when: _changed(sb, order, change, when)
    )


def tick(sb) -> None:
    pass


def _changed(sb, order, change, when) -> None:
    reason = "NewOrder" if change == "NewOrder" else STATUS_NAMES[order.status]
    publish(sb, order, "OrderStatusChange", reason, when)


def envelope(sb, order, change_type: str, reason: str, when: float) -> dict:
    now = sb.clock.now()
    buyer_cancel = change_type == "BuyerRequestedChange"
    items = []
    for item in order.items:
        items.append(
            {
                "OrderItemId": item.order_item_id,
                "SellerSKU": item.sku,
                "SupplySourceId": None,
                "OrderItemStatus": "Shipped"
                if item.shipped >= item.quantity
                else "Unshipped",
                "Quantity": item.quantity,
                "QuantityShipped": item.shipped,
                "IsBuyerRequestedCancel": buyer_cancel,
            }
        )
    shipped = sum(item.shipped for item in order.items)
    ordered = sum(item.quantity for item in order.items)
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": utc_iso(now),
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": order.seller_id,
                "AmazonOrderId": order.order_id,
                "OrderChangeType": change_type,
                "OrderChangeTrigger": {
                    "TimeOfOrderChange": utc_iso(when),
                    "ChangeReason": reason,
                },
                "Summary": {
                    "MarketplaceId": order.marketplace_id,
                    "OrderStatus": STATUS_NAMES[order.status],
                    "PurchaseDate": utc_iso(order.created),
                    "DestinationPostalCode": order.address.get("postalCode"),
                    "FulfillmentType": "AFN"
                    if order.fulfilled_by == "AMAZON"
                    else "MFN",
                    "OrderType": "StandardOrder",
                    "NumberOfItemsShipped": shipped,
                    "NumberOfItemsUnshipped": 0
                    if order.status == "CANCELLED"
                    else ordered - shipped,
                    "OrderItems": items,
                },
            }
        },
        "NotificationMetadata": {
            "ApplicationId": sb.application_id,
            "SubscriptionId": sb.subscription_id,
            "PublishTime": utc_iso(now),
            "NotificationId": str(uuid.uuid4()),
        },
    }


def publish(sb, order, change_type, reason, when=None, duplicates: int = 0) -> dict:
    """Queue a notification (and ``duplicates`` copies of it, same id)."""
    if change_type not in CHANGE_TYPES:
        raise ValueError(f"OrderChangeType must be one of {CHANGE_TYPES}")
    when = sb.clock.now() if when is None else when
    event = envelope(sb, order, change_type, reason, when)
    for _ in range(1 + duplicates):
        sb.notification_queue.append(event)
    return event


def receive(sb, limit: int | None = None) -> list[dict]:
    """Take up to ``limit`` queued notifications, oldest first."""
    count = len(sb.notification_queue) if limit is None else limit
    taken, sb.notification_queue = (
        sb.notification_queue[:count],
        sb.notification_queue[count:],
    )
    return taken


def flush(sb, url=None, order="fifo", duplicate_every=None, seed=None) -> list:
    """POST every queued notification body to ``url`` (or
    ``sb.notification_url``), outside the sandbox lock; ``order``,
    ``duplicate_every`` and ``seed`` as :meth:`WebhookSender.flush`."""
    with sb.lock:
        events = receive(sb)
    sender = WebhookSender(
        lambda raw, event: {"Content-Type": "application/json"},
        url or sb.notification_url,
    )
    for event in events:
        sender.queue(event)
    return sender.flush(order=order, duplicate_every=duplicate_every, seed=seed)
