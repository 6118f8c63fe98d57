"""The webhook verifier contract.

A platform addon gives the base one ``Verifier`` per backend. The base controller
reads the raw body (bounded), then calls ``verify``: it must check the signature in
constant time against every accepted secret and return a ``Delivery``, or raise
``WebhookRejected``. The base does the rest (replay window, dedup, store, enqueue).
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime

from .errors import WebhookRejected


@dataclass
class Delivery:
    topic: str
    dedup_key: str
    payload: bytes
    occurred_at: datetime | None = None
    subject_key: str | None = None
    remote_updated_at: datetime | None = None
    correlation_id: str | None = None
    meta: dict = field(default_factory=dict)

    def json(self):
        return json.loads(self.payload)


def hmac_sha256(secret, message):
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def matches_any(expected_for, received, secrets):
    """True when ``received`` equals the signature made with any secret.

    ``expected_for(secret)`` returns the expected signature (str or bytes). Every
    secret is compared, in constant time, so timing tells nothing about which one
    (or whether any) matched.
    """
    if not received:
        return False
    received_b = received.encode() if isinstance(received, str) else received
    ok = False
    for secret in secrets:
        if not secret:
            continue
        expected = expected_for(secret)
        expected_b = expected.encode() if isinstance(expected, str) else expected
        ok |= hmac.compare_digest(expected_b, received_b)
    return ok


def b64_hmac(secret, message):
    return base64.b64encode(hmac_sha256(secret, message)).decode()


def parse_json(raw):
    try:
        data = json.loads(raw)
    except ValueError as err:
        raise WebhookRejected(400, f"body is not JSON: {err}") from err
    if not isinstance(data, dict):
        raise WebhookRejected(400, "body is not a JSON object")
    return data


class Verifier:
    """Base class; platforms implement ``verify``."""

    def __init__(self, secrets):
        self.secrets = [s for s in secrets if s]

    def verify(self, headers, raw_body):  # pragma: no cover - abstract
        raise NotImplementedError
