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

Notifications API v1 (``notifications.json``): destinations are grantless
(``createDestination`` {``name``, ``resourceSpecification`` {``sqs``
{``arn``} | ``eventBridge`` {``region``, ``accountId``}}}, ``getDestinations``,
``getDestination``, ``deleteDestination``: a token of the client-credentials
grant with scope ``sellingpartnerapi::notifications``); a subscription is
the seller's (``createSubscription`` {``payloadVersion``, ``destinationId``,
``processingDirective``}, a second one for the same type: 409;
``getSubscription``), read or deleted by id grantless. Answers wrap their
data in ``payload``.

Amazon sends a notification only to an application that subscribed the
seller to its type: "Instead of polling for information, your application
can receive information directly from Amazon when an event activates a
notification to which you are subscribed"
(https://developer-docs.amazon.com/sp-api/docs/subscribe-to-mfn-notifications,
https://developer-docs.amazon.com/sp-api/docs/notifications-api-v1-use-case-guide).
So an ORDER_CHANGE is queued only for a seller with an ORDER_CHANGE
subscription (the sandbox has one application), carrying that
subscription's id, and only if the subscription's
``processingDirective.eventFilter`` lets it through (``notifications.json``
``EventFilter``: ``eventFilterType`` required, "ORDER_CHANGE" here;
``orderChangeTypes`` "To receive notifications of all change types, do not
provide this list"; ``marketplaceIds`` "To receive notifications in every
marketplace, do not provide this list"; ``eventFilter`` and
``filterExpression`` "are mutually exclusive"). The sandbox does not
evaluate CEL ``filterExpression``s: it refuses them (400) rather than
ignore them; ``aggregationSettings`` is accepted and has no effect (ORDER_CHANGE
is not aggregated). The notifications wait in a queue (what the SQS queue would
hold) that a test reads with ``GET|POST /__sandbox__/notifications/...``
or posts, as the message bodies, to a URL (what an SQS consumer would hand
on). Consuming SQS itself is left to the connector's transport.
"""

from __future__ import annotations

import uuid

from ..toolkit import ApiError, WebhookSender, utc_iso

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
    sb.notification_queue = []
    sb.destinations = {}
    sb.subscriptions = {}  # (seller, type) -> subscription
    sb.book.listeners.append(
        lambda order, change, when: _changed(sb, order, change, when)
    )


def tick(sb) -> None:
    pass


def _changed(sb, order, change, when) -> None:
    reason = "NewOrder" if change == "NewOrder" else STATUS_NAMES[order.status]
    publish(sb, order, "OrderStatusChange", reason, when)


def envelope(
    sb, order, change_type: str, reason: str, when: float, subscription_id=None
) -> dict:
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
            "SubscriptionId": subscription_id,
            "PublishTime": utc_iso(now),
            "NotificationId": str(uuid.uuid4()),
        },
    }


def publish(sb, order, change_type, reason, when=None, duplicates: int = 0):
    """Queue a notification (and ``duplicates`` copies of it, same id) if the
    seller's ORDER_CHANGE subscription wants it; return it, or None when
    nobody subscribed or its event filter leaves it out."""
    if change_type not in CHANGE_TYPES:
        raise ValueError(f"OrderChangeType must be one of {CHANGE_TYPES}")
    found = sb.subscriptions.get((order.seller_id, "ORDER_CHANGE"))
    if found is None or not _wanted(found, order, change_type):
        return None
    when = sb.clock.now() if when is None else when
    event = envelope(sb, order, change_type, reason, when, found["subscriptionId"])
    for _ in range(1 + duplicates):
        sb.notification_queue.append(event)
    return event


def _wanted(subscription: dict, order, change_type: str) -> bool:
    directive = subscription.get("processingDirective") or {}
    event_filter = directive.get("eventFilter") or {}
    types = event_filter.get("orderChangeTypes")
    if types and change_type not in types:
        return False
    marketplaces = event_filter.get("marketplaceIds")
    return not marketplaces or order.marketplace_id in marketplaces


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


# ------------------------------------------------------- Notifications API
def create_destination(sb, body) -> dict:
    name = body.get("name")
    spec = body.get("resourceSpecification")
    if not isinstance(name, str) or not isinstance(spec, dict) or len(spec) != 1:
        raise ApiError(
            400, "InvalidInput", "name and one resourceSpecification are required."
        )
    if "sqs" in spec:
        arn = (spec["sqs"] or {}).get("arn", "")
        if not isinstance(arn, str) or not arn.startswith("arn:aws:sqs:"):
            raise ApiError(400, "InvalidInput", "Invalid SQS arn.")
        resource = {"sqs": {"arn": arn}}
    elif "eventBridge" in spec:
        bridge = spec["eventBridge"] or {}
        if not bridge.get("region") or not bridge.get("accountId"):
            raise ApiError(
                400, "InvalidInput", "eventBridge needs region and accountId."
            )
        resource = {
            "eventBridge": {
                "name": "aws.partner/sellingpartnerapi.amazon.com/"
                f"{bridge['accountId']}/{uuid.uuid4()}",
                "region": bridge["region"],
                "accountId": bridge["accountId"],
            }
        }
    else:
        raise ApiError(
            400, "InvalidInput", "resourceSpecification needs sqs or eventBridge."
        )
    destination = {
        "destinationId": str(uuid.uuid4()),
        "name": name,
        "resource": resource,
    }
    sb.destinations[destination["destinationId"]] = destination
    return {"payload": destination}


def destination(sb, destination_id, delete=False) -> dict:
    if destination_id not in sb.destinations:
        raise ApiError(404, "NotFound", f"Destination {destination_id} not found.")
    if delete:
        if any(s["destinationId"] == destination_id for s in sb.subscriptions.values()):
            raise ApiError(409, "Conflict", "The destination has subscriptions.")
        del sb.destinations[destination_id]
        return {}
    return {"payload": sb.destinations[destination_id]}


def create_subscription(sb, seller, notification_type, body) -> dict:
    if notification_type != "ORDER_CHANGE":
        raise ApiError(
            400, "InvalidInput", f"Unsupported notificationType {notification_type}."
        )
    destination_id = body.get("destinationId")
    if body.get("payloadVersion") != "1.0" or destination_id not in sb.destinations:
        raise ApiError(400, "InvalidInput", "Invalid payloadVersion or destinationId.")
    key = (seller.seller_id, notification_type)
    if key in sb.subscriptions:
        raise ApiError(
            409, "Conflict", "A subscription for this notificationType already exists."
        )
    subscription = {
        "subscriptionId": str(uuid.uuid4()),
        "payloadVersion": "1.0",
        "destinationId": destination_id,
    }
    directive = body.get("processingDirective")
    if directive is not None:
        subscription["processingDirective"] = _checked_directive(directive)
    sb.subscriptions[key] = subscription
    return {"payload": subscription}


def subscription(sb, seller, notification_type) -> dict:
    found = sb.subscriptions.get((seller.seller_id, notification_type))
    if found is None:
        raise ApiError(404, "NotFound", f"No subscription for {notification_type}.")
    return {"payload": found}


def subscription_by_id(sb, notification_type, subscription_id, delete=False) -> dict:
    for key, found in list(sb.subscriptions.items()):
        if key[1] == notification_type and found["subscriptionId"] == subscription_id:
            if delete:
                del sb.subscriptions[key]
                return {}
            return {"payload": found}
    raise ApiError(404, "NotFound", f"Subscription {subscription_id} not found.")


def _checked_directive(directive) -> dict:
    """``ProcessingDirective`` of ``notifications.json`` for ORDER_CHANGE."""

    def invalid(message):
        return ApiError(400, "InvalidInput", message)

    if not isinstance(directive, dict):
        raise invalid("processingDirective must be an object.")
    event_filter = directive.get("eventFilter")
    if event_filter is not None and directive.get("filterExpression") is not None:
        raise invalid("eventFilter and filterExpression are mutually exclusive.")
    if directive.get("filterExpression") is not None:
        raise invalid("The sandbox does not evaluate filterExpression.")
    if event_filter is None:
        return directive
    if not isinstance(event_filter, dict):
        raise invalid("eventFilter must be an object.")
    if event_filter.get("eventFilterType") != "ORDER_CHANGE":
        raise invalid("eventFilter.eventFilterType must be ORDER_CHANGE.")
    types = event_filter.get("orderChangeTypes")
    if types is not None and (
        not isinstance(types, list) or any(t not in CHANGE_TYPES for t in types)
    ):
        raise invalid(f"orderChangeTypes must be a list of {', '.join(CHANGE_TYPES)}.")
    marketplaces = event_filter.get("marketplaceIds")
    if marketplaces is not None and (
        not isinstance(marketplaces, list)
        or not all(isinstance(m, str) for m in marketplaces)
    ):
        raise invalid("marketplaceIds must be a list of marketplace ids.")
    return directive
