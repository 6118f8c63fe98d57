"""Stripe's idempotency layer for API v1.

https://docs.stripe.com/api/idempotent_requests and
https://docs.stripe.com/error-low-level#idempotency:

- "Stripe saves the status code and body of the first request made with a
  given idempotency key after endpoint execution begins. Retries with the same
  key return the saved response, including 500 errors."
- "The idempotency layer compares incoming parameters to those of the original
  request and errors if they're not the same" (400, ``type
  idempotency_error``).
- "We save results only after the execution of an endpoint begins. If
  incoming parameters fail validation, or the request conflicts with another
  that's executing concurrently, no idempotent result is saved" (the
  concurrent request gets 409).
- "You can remove keys from the system automatically after they're at least
  24 hours old"; "Idempotency keys are up to 255 characters long".
- The rate limiter and authentication run before the idempotency layer, so a
  429 or 401 is never saved (error-low-level, "Content errors").

Keys are scoped to the account (one sandbox is one account) and expire on the
sandbox clock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

KEY_TTL = 24 * 3600
MAX_KEY_LENGTH = 255


@dataclass
class Saved:
    fingerprint: str
    created: float
    in_flight: bool = True
    status: int | None = None
    body: bytes = b""
    headers: dict = field(default_factory=dict)


class IdempotencyStore:
    def __init__(self, clock):
        self.clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, Saved] = {}

    def begin(self, key: str, fingerprint: str) -> tuple[str, Saved | None]:
        """``("new", None)``, ``("replay", saved)``, ``("mismatch", saved)`` or
        ``("busy", saved)``; "new" reserves the key until :meth:`finish`."""
        now = self.clock.now()
        with self._lock:
            saved = self._keys.get(key)
            if saved is not None and now - saved.created >= KEY_TTL:
                # pruned: "We generate a new request if a key is reused after
                # the original is pruned."
                del self._keys[key]
                saved = None
            if saved is None:
                self._keys[key] = Saved(fingerprint, now)
                return "new", None
            if saved.fingerprint != fingerprint:
                return "mismatch", saved
            if saved.in_flight:
                return "busy", saved
            return "replay", saved

    def finish(self, key: str, status: int, body: bytes, headers: dict) -> None:
        with self._lock:
            saved = self._keys.get(key)
            if saved is not None:
                saved.in_flight = False
                saved.status, saved.body, saved.headers = status, body, headers

    def release(self, key: str) -> None:
        """Forget a reserved key whose request never began executing."""
        with self._lock:
            saved = self._keys.get(key)
            if saved is not None and saved.in_flight:
                del self._keys[key]

    def get(self, key: str) -> Saved | None:
        with self._lock:
            return self._keys.get(key)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
