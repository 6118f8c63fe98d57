"""Shopify webhook verification.

``X-Shopify-Hmac-Sha256`` is base64(HMAC-SHA256(app client secret, raw body));
after a secret rotation Shopify may sign with the old one for up to an hour, so
both are tried. Deduplication uses ``X-Shopify-Event-Id`` (the same on every
delivery of one event), not the per-delivery ``X-Shopify-Webhook-Id``.

Shopify stamps every delivery with ``X-Shopify-Triggered-At`` (ISO 8601), so
one without it is refused. The signature covers the body only: the base also
deduplicates on the body's digest, so a captured body sent again under a new
event id and time is a duplicate.
"""

from odoo.addons.retail_connect_base.lib.errors import WebhookRejected
from odoo.addons.retail_connect_base.lib.webhook import (
    Delivery,
    Verifier,
    b64_hmac,
    matches_any,
    parse_json,
    parse_timestamp,
)

# Mandatory compliance webhooks (models/shopify_compliance.py): from the app's
# compliance URL, processed whatever the sync policies say.
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")
# The webhook topics the addon handles (RetailBackend._process_event); others
# are parked by the base. orders/paid is handled but not subscribed.
TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        # an order edited after it was placed: the body is the order_edit
        # (what changed), the order's id at order_edit.order_id
        "orders/edited",
        "orders/paid",
        "orders/cancelled",
        "refunds/create",
        "returns/request",
        "returns/approve",
        "returns/process",
        "returns/close",
        "returns/reopen",
        "returns/decline",
        "returns/cancel",
        "reverse_fulfillment_orders/dispose",
        "customers/create",
        "customers/update",
        "bulk_operations/finish",
        *COMPLIANCE_TOPICS,
    }
)


def subject_of(topic, data):
    """The remote object an event is about (``order:<numeric id>``)."""
    if topic in COMPLIANCE_TOPICS:
        customer = data.get("customer") or {}
        if customer.get("id"):
            return f"customer:{customer['id']}"
        return f"shop:{data.get('shop_id')}"
    if topic == "orders/edited":
        return f"order:{(data.get('order_edit') or {}).get('order_id')}"
    if topic.startswith("orders/"):
        return f"order:{data.get('id')}"
    if topic.startswith("refunds/"):
        return f"refund:{data.get('id')}"
    if topic.startswith("customers/"):
        return f"customer:{data.get('id')}"
    if topic.startswith("returns/"):
        return f"return:{data.get('id')}"
    if topic.startswith("reverse_fulfillment_orders/"):
        return f"reverse_fulfillment_order:{data.get('id')}"
    if topic.startswith("inventory_levels/"):
        return f"inventory:{data.get('inventory_item_id')}:{data.get('location_id')}"
    if topic.startswith("fulfillments/"):
        return f"fulfillment:{data.get('id')}"
    if topic.startswith("bulk_operations/"):
        return f"bulk:{data.get('admin_graphql_api_id') or data.get('id')}"
    return None


class ShopifyVerifier(Verifier):
    timestamp_required = True
    topics = TOPICS

    def __init__(self, secrets, shop_domain):
        super().__init__(secrets)
        self.shop_domain = (shop_domain or "").lower()

    def verify(self, headers, raw_body):
        signature = headers.get("X-Shopify-Hmac-Sha256")
        if not signature:
            raise WebhookRejected(401, "missing X-Shopify-Hmac-Sha256")
        if not matches_any(lambda s: b64_hmac(s, raw_body), signature, self.secrets):
            raise WebhookRejected(401, "invalid signature")
        shop = (headers.get("X-Shopify-Shop-Domain") or "").lower()
        if self.shop_domain and shop != self.shop_domain:
            raise WebhookRejected(401, f"delivery for another shop ({shop})")
        topic = headers.get("X-Shopify-Topic")
        event_id = headers.get("X-Shopify-Event-Id") or headers.get(
            "X-Shopify-Webhook-Id"
        )
        if not topic or not event_id:
            raise WebhookRejected(400, "missing X-Shopify-Topic or X-Shopify-Event-Id")
        data = parse_json(raw_body)
        return Delivery(
            topic=topic,
            dedup_key=event_id,
            payload=raw_body,
            occurred_at=parse_timestamp(
                headers.get("X-Shopify-Triggered-At"), "X-Shopify-Triggered-At"
            ),
            subject_key=subject_of(topic, data),
            remote_updated_at=parse_timestamp(data.get("updated_at"), "updated_at"),
            meta={"api_version": headers.get("X-Shopify-API-Version")},
        )
