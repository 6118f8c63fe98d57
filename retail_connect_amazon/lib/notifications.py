"""ORDER_CHANGE notifications: the inbound verifier and the grantless token.

Amazon delivers notifications to an Amazon SQS queue or an Amazon
EventBridge bus of the developer, never to an HTTP endpoint
(https://developer-docs.amazon.com/sp-api/docs/notifications-api-v1-use-case-guide).
A relay the seller runs forwards each message to the backend's webhook URL,
``POST /retail_connect/webhook/<backend id>``, with the backend's webhook
secret in the header ``X-Retail-Connect-Key`` (an EventBridge API destination
does this with an "API key" connection; an SQS consumer adds the header). The
body is the notification envelope (``OrderChangeNotification.json``) or the
EventBridge event wrapping it in ``detail``.

The secret is compared in constant time with the current and the previous
(rotation grace) secret; a notification of another seller is refused like a
wrong secret. Its ``NotificationId`` is the event id: a duplicate delivery
("you might receive duplicate notifications") is stored once by the inbox.
"""

from odoo.addons.retail_connect_base.lib.errors import WebhookRejected
from odoo.addons.retail_connect_base.lib.webhook import (
    Delivery,
    Verifier,
    matches_any,
    parse_json,
)

KEY_HEADER = "X-Retail-Connect-Key"
TOPIC = "order/notification"
NOTIFICATION_TYPE = "ORDER_CHANGE"
EVENTBRIDGE_SOURCE = "aws.partner/sellingpartnerapi.amazon.com"
GRANTLESS_SCOPE = "sellingpartnerapi::notifications"


def unwrap(data):
    """The notification envelope of a body (EventBridge wraps it)."""
    if EVENTBRIDGE_SOURCE in str(data.get("source") or "") and isinstance(
        data.get("detail"), dict
    ):
        return data["detail"]
    return data


def order_change(data):
    """``OrderChangeNotification`` of an envelope (or {})."""
    payload = unwrap(data).get("Payload")
    found = (
        payload.get("OrderChangeNotification") if isinstance(payload, dict) else None
    )
    return found if isinstance(found, dict) else {}


class AmazonNotificationVerifier(Verifier):
    topics = (TOPIC,)
    # the key binds no time: a replay window would prove nothing, and SQS
    # keeps messages for days when the relay is down
    timestamp_required = False

    def __init__(self, secrets, seller_id):
        super().__init__(secrets)
        self.seller_id = (seller_id or "").strip().upper()

    def verify(self, headers, raw_body):
        given = headers.get(KEY_HEADER)
        if not matches_any(lambda secret: secret, given, self.secrets):
            raise WebhookRejected(401, f"no or a wrong {KEY_HEADER}")
        data = unwrap(parse_json(raw_body))
        metadata = data.get("NotificationMetadata")
        payload = order_change(data)
        if not isinstance(metadata, dict) or not payload:
            raise WebhookRejected(400, "not an SP-API notification envelope")
        if str(payload.get("SellerId") or "").upper() != self.seller_id:
            raise WebhookRejected(401, "a notification of another seller")
        if not metadata.get("NotificationId"):
            raise WebhookRejected(400, "a notification without NotificationId")
        order_id = payload.get("AmazonOrderId")
        if data.get("NotificationType") != NOTIFICATION_TYPE or not order_id:
            topic = f"order/{data.get('NotificationType') or 'unknown'}"
        else:
            topic = TOPIC
        return Delivery(
            topic=topic,
            dedup_key=f"notification:{metadata.get('NotificationId') or ''}",
            payload=raw_body,
            subject_key=f"order:{order_id}" if order_id else None,
        )
