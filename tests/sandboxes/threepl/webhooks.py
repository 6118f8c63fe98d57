"""Webhook subscriptions, Standard Webhooks signatures and deliveries.

Documentation followed:

- Subscriptions: ``POST /2026-07/webhook`` with ``topics`` (list, required),
  ``url`` (required), ``description``; topics ``order.shipped``,
  ``order.delivered``, ``order.shipment.delivered``,
  ``order.shipment.exception``, ``order.shipment.on_hold``,
  ``order.shipment.cancelled``, ``order.shipment.tracking.updated``, ...,
  ``return.created``, ``return.updated``, ``return.completed``
  (https://developer.shipbob.com/2026-07/api/webhooks/create-subscription);
  list and delete (https://developer.shipbob.com/2026-01/api/webhooks/llms.txt:
  Get Subscriptions, Delete Subscription). The 2025-07 version of the page
  documents an optional ``secret`` in the request and a ``secret`` in the
  answer (https://developer.shipbob.com/api/2025-07/webhooks/create-subscription);
  the sandbox generates one when none is given.
- Signature: "Each webhook call includes three headers used for
  verification" (``webhook-id``, ``webhook-timestamp``,
  ``webhook-signature``); "The content to sign is composed by concatenating
  the id, timestamp and payload, separated by the full-stop character";
  "ShipBob uses HMAC with SHA-256"; the key is "the base64-decoded bytes" of
  the part of the secret after ``whsec_``; "The webhook-signature header is
  composed of a list of space-delimited signatures and their corresponding
  version identifiers" (https://developer.shipbob.com/experimental/webhooks),
  exactly the Standard Webhooks 1.0 scheme (``v1,<base64>``, Unix seconds,
  the id stable across retries: https://github.com/standard-webhooks/
  standard-webhooks/blob/main/spec/standard-webhooks.md, www.standardwebhooks.com).
- The topic travels in ``x-webhook-topic`` (secondary source: the hookdeck
  "shipbob-webhooks" skill, cited in PLATFORMS.md §4).
- Delivery: "If no 2XX response is received, ShipBob retries delivery using
  an exponential backoff strategy" (https://developer.shipbob.com/2026-07/webhooks).
  "ShipBob uses exponential backoff to retry webhook delivery for up to 24
  hours, but cannot guarantee events arrive in the original sequence"
  (https://developer.shipbob.com/2026-07/guides/tracking). The schedule
  (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) and the 15 s answer
  timeout come from a secondary source (ShipBob's AsyncAPI description on
  asyncapi.apis.io); a retry that would fall more than 24 hours after the
  first attempt is not made. The retries run on the sandbox clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets as _secrets
import threading
import uuid
from dataclasses import dataclass

from ..toolkit import WebhookSender, utc_iso

TOPICS = (
    "order.shipped",
    "order.delivered",
    "order.shipment.delivered",
    "order.shipment.exception",
    "order.shipment.on_hold",
    "order.shipment.cancelled",
    "order.shipment.tracking.updated",
    "order.shipment.address.updated",
    "order.shipment.line_item.added",
    "order.shipment.line_item.removed",
    "order.shipment.line_item.updated",
    "order.shipment.shipping_service.updated",
    "return.created",
    "return.updated",
    "return.completed",
)
RETRY_DELAYS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
TIMEOUT = 15.0
RETRY_WINDOW = 24 * 3600
TOLERANCE = 5 * 60


def new_secret() -> str:
    return "whsec_" + base64.b64encode(_secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith("whsec_"):
        raise ValueError("a signing secret starts with whsec_")
    return base64.b64decode(secret[len("whsec_") :])


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, headers, body: bytes, now: float, tolerance=TOLERANCE) -> bool:
    """What a Standard Webhooks receiver does (used by the tests)."""
    headers = {k.lower(): v for k, v in dict(headers).items()}
    msg_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not msg_id or not stamp.isdigit() or abs(now - int(stamp)) > tolerance:
        return False
    expected = sign(secret, msg_id, int(stamp), body)
    return any(hmac.compare_digest(expected, sig) for sig in signatures.split())


@dataclass
class Attempt:
    msg_id: str
    subscription_id: int
    topic: str
    attempt: int
    time: float
    status: int | None
    body: str
    duplicate: bool
    timestamp: int


class WebhookHub:
    """Subscriptions and the delivery queue (delivered by :meth:`flush`)."""

    def __init__(self, clock):
        self.clock = clock
        self.sender = WebhookSender(
            self._headers, serialize=lambda item: item["raw"], timeout=TIMEOUT
        )
        # guards the queue; never held while posting (a receiver may call
        # the API back before it answers)
        self._lock = threading.Lock()
        self.reset(0)

    def reset(self, id_base: int) -> None:
        self.subscriptions: dict[int, dict] = {}
        self.queue: list[dict] = []
        self.attempts: list[Attempt] = []
        self.failed: list[dict] = []
        self.messages: dict[str, dict] = {}
        self._next = id_base + 1
        self.sender.clear()

    # ------------------------------------------------------- subscriptions
    def subscribe(self, data: dict) -> dict:
        topics = data.get("topics")
        url = data.get("url")
        errors = {}
        if not isinstance(topics, list) or not topics:
            errors["topics"] = ["The topics field is required."]
        else:
            unknown = [t for t in topics if t not in TOPICS]
            if unknown:
                errors["topics"] = [f"Unknown topic(s): {', '.join(map(str, unknown))}"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            errors["url"] = ["The url field must be an absolute URL."]
        secret = data.get("secret") or new_secret()
        try:
            _key(secret)
        except ValueError:
            errors["secret"] = ["The secret must be whsec_ followed by base64."]
        if errors:
            return {"errors": errors}
        subscription = {
            "id": self._next,
            "topics": list(topics),
            "url": url,
            "description": data.get("description"),
            "created_at": utc_iso(self.clock.now()),
            "secret": secret,
        }
        self._next += 1
        self.subscriptions[subscription["id"]] = subscription
        return subscription

    def public(self, subscription: dict, with_secret: bool = False) -> dict:
        # WebhookViewModel (https://developer.shipbob.com/2026-01/api/webhooks/
        # get-subscriptions; the 2025-07 create-subscription answer shows
        # "id": "12345"): id a string, created_at, description, enabled,
        # topics, url
        shown = dict(subscription, id=str(subscription["id"]), enabled=True)
        if not with_secret:
            shown.pop("secret")
        return shown

    # ------------------------------------------------------------ delivery
    def publish(self, topic: str, payload: dict) -> list[str]:
        """Queue ``payload`` for every subscription to ``topic``; return the
        message ids (one per subscription, stable across retries)."""
        ids = []
        for subscription in self.subscriptions.values():
            if topic not in subscription["topics"]:
                continue
            msg_id = "msg_" + uuid.uuid4().hex
            raw = json.dumps(payload).encode()
            self.messages[msg_id] = {"topic": topic, "raw": raw}
            self._enqueue(
                {
                    "msg_id": msg_id,
                    "subscription_id": subscription["id"],
                    "topic": topic,
                    "attempt": 1,
                    "due": self.clock.now(),
                }
            )
            ids.append(msg_id)
        return ids

    def _enqueue(self, item: dict) -> None:
        with self._lock:
            self.queue.append(item)

    def _headers(self, raw: bytes, item: dict) -> dict:
        return {
            "Content-Type": "application/json",
            "webhook-id": item["msg_id"],
            "webhook-timestamp": str(item["timestamp"]),
            "webhook-signature": sign(
                item["secret"], item["msg_id"], item["timestamp"], raw
            ),
            "x-webhook-topic": item["topic"],
            "User-Agent": "ShipBob-Sandbox-Webhooks/1.0",
        }

    def due(self) -> list[dict]:
        now = self.clock.now()
        return [item for item in self.queue if item["due"] <= now]

    def flush(
        self,
        *,
        order: str = "fifo",
        duplicate_every: int | None = None,
        seed: int | None = None,
        signature_age: float = 0,
        only: list[str] | None = None,
    ) -> list[Attempt]:
        """POST the due deliveries (``only``: just these message ids);
        failures are queued again per :data:`RETRY_DELAYS` on the clock.

        ``order`` ``reverse``/``shuffle`` delivers out of order (an older fact
        arriving after a newer one: late), ``duplicate_every`` posts every
        n-th delivery twice, ``signature_age`` signs with an old timestamp.
        """
        if order not in ("fifo", "reverse", "shuffle"):
            raise ValueError(f"unknown order {order!r}")
        with self._lock:
            batch = [i for i in self.due() if only is None or i["msg_id"] in only]
            self.queue = [item for item in self.queue if item not in batch]
        if order == "reverse":
            batch.reverse()
        elif order == "shuffle":
            random.Random(seed).shuffle(batch)
        done = []
        for index, item in enumerate(batch, 1):
            subscription = self.subscriptions.get(item["subscription_id"])
            if subscription is None:
                continue  # deleted: no more deliveries
            duplicate = bool(duplicate_every) and index % duplicate_every == 0
            timestamp = int(self.clock.now() - signature_age)
            post = {
                "url": subscription["url"],
                "raw": self.messages[item["msg_id"]]["raw"],
                "msg_id": item["msg_id"],
                "topic": item["topic"],
                "secret": subscription["secret"],
                "timestamp": timestamp,
            }
            answers = self.sender.deliver(post, duplicate=duplicate)
            for number, (status, body) in enumerate(answers):
                attempt = Attempt(
                    item["msg_id"],
                    subscription["id"],
                    item["topic"],
                    item["attempt"],
                    self.clock.now(),
                    status,
                    body,
                    number > 0,
                    timestamp,
                )
                self.attempts.append(attempt)
                done.append(attempt)
            if any(s is not None and 200 <= s < 300 for s, _ in answers):
                continue
            first = item.get("first", self.clock.now())
            delay = (
                RETRY_DELAYS[item["attempt"] - 1]
                if item["attempt"] <= len(RETRY_DELAYS)
                else None
            )
            if delay is not None and self.clock.now() + delay - first <= RETRY_WINDOW:
                self._enqueue(
                    {
                        **item,
                        "first": first,
                        "attempt": item["attempt"] + 1,
                        "due": self.clock.now() + delay,
                    }
                )
            else:
                self.failed.append(item)
        return done
