"""Standard Webhooks verification, as ShipBob signs its webhooks.

Three headers (https://www.standardwebhooks.com, spec "Verifying webhook
authenticity"; ShipBob's webhooks use this scheme,
https://developer.shipbob.com/2026-07/webhooks and PLATFORMS.md §4):

- ``webhook-id``: the message id, the same on every retry of one message:
  the inbox's dedup key;
- ``webhook-timestamp``: epoch seconds of this attempt (the base refuses it
  past the replay window);
- ``webhook-signature``: space-separated ``v1,<base64>`` signatures, each
  base64(HMAC-SHA256(key, "{id}.{timestamp}.{raw body}")), where the key is
  the secret's base64 part after ``whsec_``. Any ``v1`` made with any of our
  secrets (the current one, the previous one during a rotation) is accepted;
  other versions (``v1a``, asymmetric) are ignored.

The topic travels in ``x-webhook-topic`` (``order.shipped``...).
"""

import base64
import binascii
import hashlib
import hmac

from odoo.addons.retail_connect_base.lib.errors import WebhookRejected
from odoo.addons.retail_connect_base.lib.webhook import (
    Delivery,
    Verifier,
    parse_json,
    parse_timestamp,
)

# a shipment shipped, or the part of an order that will not ship: both close
# the order, whose shipping advice the connector reads again
SHIPPED_TOPICS = frozenset({"order.shipped", "order.shipment.cancelled"})
# a return received and processed at the 3PL (the return advice, ≈180)
RETURN_TOPICS = frozenset({"return.completed"})
TOPICS = SHIPPED_TOPICS | RETURN_TOPICS


def signing_key(secret):
    """The HMAC key of a Standard Webhooks secret (``whsec_<base64>``)."""
    text = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return secret.encode()


def sign(secret, msg_id, stamp, raw_body):
    """``v1,<base64>`` of one delivery (the sandbox signs the same way)."""
    signed = f"{msg_id}.{stamp}.".encode() + raw_body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def subject_of(data):
    """The shipping order a delivery is about: ``order:<order_ref>``."""
    ref = data.get("reference_id") or data.get("order_ref")
    if not ref and isinstance(data.get("order"), dict):
        ref = data["order"].get("reference_id")
    return f"order:{ref}" if ref else None


class StandardWebhooksVerifier(Verifier):
    timestamp_required = True
    topics = TOPICS

    def verify(self, headers, raw_body):
        msg_id = headers.get("webhook-id")
        stamp = headers.get("webhook-timestamp")
        header = headers.get("webhook-signature")
        if not (msg_id and stamp and header):
            raise WebhookRejected(401, "missing webhook-id/-timestamp/-signature")
        received = [
            part.partition(",")[2] for part in header.split() if part.startswith("v1,")
        ]
        if not received:
            raise WebhookRejected(401, "no v1 signature")
        ok = False
        for secret in self.secrets:
            expected = sign(secret, msg_id, stamp, raw_body).partition(",")[2]
            for signature in received:
                ok |= hmac.compare_digest(expected.encode(), signature.encode())
        if not ok:
            raise WebhookRejected(401, "invalid signature")
        data = parse_json(raw_body)
        topic = headers.get("x-webhook-topic") or data.get("topic")
        return Delivery(
            topic=topic,
            dedup_key=msg_id,
            payload=raw_body,
            occurred_at=parse_timestamp(stamp, "webhook-timestamp"),
            subject_key=subject_of(data),
        )
