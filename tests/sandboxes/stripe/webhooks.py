"""Webhook endpoints, signatures and deliveries (with retries) of the sandbox.

Documentation followed:

- Endpoint object and ``POST /v1/webhook_endpoints`` (``url``,
  ``enabled_events[]``, ``api_version``, ``description``, ``metadata``): "The
  endpoint's secret, used to generate webhook signatures. Only returned at
  creation." ``api_version``: "Events sent to this endpoint will be generated
  with this Stripe Version instead of your account's default Stripe Version"
  (https://docs.stripe.com/api/webhook_endpoints/create).
- Signature: ``Stripe-Signature: t=<timestamp>,v1=<hex>``, ``v1`` being
  HMAC-SHA256 with the endpoint secret of ``"{t}.{raw body}"``; "Stripe
  generates signatures using a hash-based message authentication code (HMAC)
  with SHA-256. To prevent downgrade attacks, ignore all schemes that aren't
  v1"; test events also carry a fake ``v0`` signature; when a secret is
  rolled the old one may stay valid up to 24 hours and each delivery then
  carries one ``v1`` per valid secret
  (https://docs.stripe.com/webhooks#verify-manually, "Roll endpoint secrets").
- Delivery: "In live mode, Stripe attempts to deliver a given event to your
  webhook endpoint for up to 3 days with an exponential back off. In a
  sandbox, Stripe retries three times over a few hours"; only a 2xx answer is
  a success; "Stripe doesn't guarantee delivery of events in the order in
  which they're generated"; "Webhook endpoints might occasionally receive the
  same event more than once" (https://docs.stripe.com/webhooks, "Retry
  behavior", "Event ordering", "Handle duplicate events"). Stripe does not
  publish the retry intervals; the sandbox uses :data:`SANDBOX_RETRY_DELAYS`
  and :data:`LIVE_RETRY_DELAYS` on its own clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets as _secrets
from dataclasses import dataclass

from ..toolkit import WebhookSender

# three retries "over a few hours" (sandbox), up to 3 days (live)
SANDBOX_RETRY_DELAYS = (3600, 2 * 3600, 3 * 3600)
LIVE_RETRY_DELAYS = (3600, 2 * 3600, 4 * 3600, 8 * 3600, 16 * 3600, 24 * 3600)
ROLL_MAX_OVERLAP = 24 * 3600


def compute_signature(secret: str, timestamp: int, raw_body: bytes) -> str:
    signed = f"{timestamp}.".encode() + raw_body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(
    raw_body: bytes, secrets: list[str], timestamp: int, *, livemode: bool = False
) -> str:
    parts = [f"t={timestamp}"]
    parts += [f"v1={compute_signature(s, timestamp, raw_body)}" for s in secrets]
    if not livemode:
        # "a fake v0 scheme, for test events" (never verifiable)
        parts.append(f"v0={hashlib.sha256(b'v0' + raw_body).hexdigest()}")
    return ",".join(parts)


def verify_header(
    raw_body: bytes, header: str, secret: str, now: float, tolerance: int = 300
) -> bool:
    """What Stripe's SDKs do: any ``v1`` matches and ``t`` is not too old."""
    items = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for key, value in items if key == "t"]
    if not stamps or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    expected = compute_signature(secret, timestamp, raw_body)
    ok = any(
        hmac.compare_digest(expected, value) for key, value in items if key == "v1"
    )
    return ok and now - timestamp <= tolerance


def new_secret() -> str:
    return "whsec_" + _secrets.token_hex(16)


@dataclass
class Attempt:
    """One POST of one event to one endpoint."""

    event_id: str
    endpoint_id: str
    type: str
    attempt: int
    time: float
    status: int | None
    body: str
    duplicate: bool
    timestamp: int


class WebhookHub:
    """Endpoints and the delivery queue; ``render(event_id, endpoint)`` gives
    the event as that endpoint receives it (its API version)."""

    def __init__(self, clock, render, *, livemode: bool = False):
        self.clock = clock
        self.render = render
        self.livemode = livemode
        self.sender = WebhookSender(
            self._sign, serialize=lambda item: item["raw"], timeout=10.0
        )
        self.reset()

    def reset(self) -> None:
        self.endpoints: dict[str, dict] = {}
        # endpoint id -> [(secret, expires_at or None)], newest first
        self.secrets: dict[str, list[tuple[str, float | None]]] = {}
        self.queue: list[dict] = []
        self.attempts: list[Attempt] = []
        self.failed: list[dict] = []
        self.sender.clear()

    # ------------------------------------------------------------ endpoints
    def valid_secrets(self, endpoint_id: str) -> list[str]:
        now = self.clock.now()
        return [
            secret
            for secret, expires in self.secrets.get(endpoint_id, [])
            if expires is None or now < expires
        ]

    def roll_secret(self, endpoint_id: str, expires_in: float = 0) -> str:
        """Dashboard "Roll secret": a new secret; the old one stays valid for
        ``expires_in`` seconds (at most 24 hours)."""
        if not 0 <= expires_in <= ROLL_MAX_OVERLAP:
            raise ValueError("expires_in must be between 0 and 24 hours")
        secret = new_secret()
        until = self.clock.now() + expires_in
        old = [
            (s, until if e is None else min(e, until))
            for s, e in self.secrets.get(endpoint_id, [])
        ]
        self.secrets[endpoint_id] = [(secret, None), *[o for o in old if expires_in]]
        return secret

    def targets(self, event_type: str) -> list[dict]:
        return [
            endpoint
            for endpoint in self.endpoints.values()
            if endpoint["status"] == "enabled"
            and (
                "*" in endpoint["enabled_events"]
                or event_type in endpoint["enabled_events"]
            )
        ]

    # ------------------------------------------------------------ delivery
    def enqueue(self, event: dict) -> int:
        """Queue the event for every endpoint listening to it; return how
        many (the event's ``pending_webhooks``)."""
        targets = self.targets(event["type"])
        for endpoint in targets:
            self.queue.append(
                {
                    "event_id": event["id"],
                    "endpoint_id": endpoint["id"],
                    "type": event["type"],
                    "attempt": 1,
                    "due": self.clock.now(),
                }
            )
        return len(targets)

    def _sign(self, raw: bytes, item: dict) -> dict:
        return {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature_header(
                raw, item["secrets"], item["timestamp"], livemode=self.livemode
            ),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
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
        on_done=None,
    ) -> list[Attempt]:
        """POST every due delivery; failures are queued again per the retry
        schedule (on the sandbox clock), or given up after the last one.

        ``order`` (``fifo``, ``reverse``, ``shuffle``) and ``duplicate_every``
        model Stripe's lack of ordering and its duplicates; ``signature_age``
        signs with a timestamp that many seconds old (a replayed delivery).
        ``on_done(event_id)`` is called when a delivery stops being pending.
        """
        if order not in ("fifo", "reverse", "shuffle"):
            raise ValueError(f"unknown order {order!r}")
        batch = self.due()
        self.queue = [item for item in self.queue if item not in batch]
        if order == "reverse":
            batch.reverse()
        elif order == "shuffle":
            random.Random(seed).shuffle(batch)
        delays = LIVE_RETRY_DELAYS if self.livemode else SANDBOX_RETRY_DELAYS
        done = []
        for index, item in enumerate(batch, 1):
            endpoint = self.endpoints.get(item["endpoint_id"])
            if endpoint is None or endpoint["status"] != "enabled":
                # "If you disable or delete a webhook endpoint while Stripe
                # is retrying, future retries of that event are prevented"
                continue
            duplicate = bool(duplicate_every) and index % duplicate_every == 0
            payload = self.render(item["event_id"], endpoint)
            timestamp = int(self.clock.now() - signature_age)
            raw = json.dumps(payload, indent=2).encode()
            post = {
                "url": endpoint["url"],
                "raw": raw,
                "secrets": self.valid_secrets(endpoint["id"]),
                "timestamp": timestamp,
            }
            answers = self.sender.deliver(post, duplicate=duplicate)
            for number, (status, body) in enumerate(answers):
                attempt = Attempt(
                    item["event_id"],
                    endpoint["id"],
                    item["type"],
                    item["attempt"],
                    self.clock.now(),
                    status,
                    body,
                    number > 0,
                    timestamp,
                )
                self.attempts.append(attempt)
                done.append(attempt)
            ok = any(
                status is not None and 200 <= status < 300 for status, _ in answers
            )
            if ok:
                if on_done:
                    on_done(item["event_id"])
            elif item["attempt"] <= len(delays):
                self.queue.append(
                    {
                        **item,
                        "attempt": item["attempt"] + 1,
                        "due": self.clock.now() + delays[item["attempt"] - 1],
                    }
                )
            else:
                self.failed.append(item)
                if on_done:
                    on_done(item["event_id"])
        return done
