"""Stripe webhook verification.

``Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>...]``: each ``v1`` is
hex(HMAC-SHA256(endpoint secret, "{t}.{raw body}")); any ``v1`` made with any
of our secrets (the current one, and the previous one during a roll) is
accepted; other schemes (the ``v0`` of test events) are ignored, "to prevent
downgrade attacks" (https://docs.stripe.com/webhooks#verify-manually). The
timestamp is the delivery's: the base refuses it past the replay window
(Stripe's SDKs use 300 s), so a captured delivery cannot be replayed later.
A retried delivery is signed anew, with a fresh ``t``.

Deduplication uses the event id (the same on every delivery and in
``GET /v1/events``); the event's ``created`` orders changes of one object.
"""

import hashlib
import hmac
from datetime import datetime, timezone

from odoo.addons.retail_connect_base.lib.errors import WebhookRejected
from odoo.addons.retail_connect_base.lib.webhook import (
    Delivery,
    Verifier,
    parse_json,
    parse_timestamp,
)

# The event types the addon handles (RetailBackend._process_event); others
# are parked by the base. The webhook endpoint subscribes to these.
# Not subscribed, on purpose: charge.captured (capturing an authorized
# payment makes its PaymentIntent succeed, and payment_intent.succeeded
# registers it: the capture adds nothing to book) and refund.created /
# refund.updated (the same refunds as charge.refunded and
# charge.refund.updated, which are handled).
TOPICS = frozenset(
    {
        "payment_intent.succeeded",
        "charge.succeeded",
        "charge.refunded",
        "charge.refund.updated",
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
        "charge.dispute.closed",
        "payout.paid",
        "payout.reconciliation_completed",
    }
)


def subject_of(topic, obj):
    """The remote object an event is about: payments by PaymentIntent."""
    kind = obj.get("object")
    if kind == "payment_intent":
        return f"payment:{obj.get('id')}"
    if kind == "charge":
        if topic == "charge.refunded":
            return f"charge:{obj.get('id')}"
        return f"payment:{obj.get('payment_intent') or obj.get('id')}"
    return f"{kind}:{obj.get('id')}" if kind else None


def delivery_of(event, payload, occurred_at=None):
    """The inbox delivery of a Stripe event (webhook or polled)."""
    obj = (event.get("data") or {}).get("object") or {}
    created = event.get("created")
    return Delivery(
        topic=event.get("type"),
        dedup_key=event.get("id"),
        payload=payload,
        occurred_at=occurred_at,
        subject_key=subject_of(event.get("type"), obj),
        remote_updated_at=(
            datetime.fromtimestamp(created, tz=timezone.utc)
            if isinstance(created, int)
            else None
        ),
        correlation_id=((event.get("request") or {}).get("id")) or None,
        meta={"api_version": event.get("api_version")},
    )


def parse_header(header):
    """``(t, [v1 signatures])`` of a ``Stripe-Signature`` header."""
    stamp, signatures = None, []
    for part in (header or "").split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and stamp is None:
            stamp = value
        elif key == "v1" and value:
            signatures.append(value)
    return stamp, signatures


class StripeVerifier(Verifier):
    timestamp_required = True
    topics = TOPICS

    def verify(self, headers, raw_body):
        header = headers.get("Stripe-Signature")
        if not header:
            raise WebhookRejected(401, "missing Stripe-Signature")
        stamp, signatures = parse_header(header)
        if not stamp or not signatures:
            raise WebhookRejected(401, "Stripe-Signature without t= or v1=")
        signed = stamp.encode() + b"." + raw_body
        ok = False
        for secret in self.secrets:
            expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
            for signature in signatures:
                ok |= hmac.compare_digest(expected.encode(), signature.encode())
        if not ok:
            raise WebhookRejected(401, "invalid signature")
        event = parse_json(raw_body)
        if event.get("object") != "event":
            raise WebhookRejected(400, "body is not a Stripe event")
        return delivery_of(event, raw_body, parse_timestamp(stamp, "t"))
