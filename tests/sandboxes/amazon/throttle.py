"""Per-operation token buckets, as SP-API keeps them.

"SP-API uses a token bucket algorithm ... each operation has its own usage
plan (rate, burst) applied per selling partner and application pair"; every
answer carries ``x-amzn-RateLimit-Limit`` (the rate, a decimal string, "when
available") and a request over the plan gets 429 with the error
``QuotaExceeded`` (https://developer-docs.amazon.com/sp-api/docs/usage-plans-and-rate-limits;
the 429 of every operation in the models). The buckets run on the sandbox
clock, so a test advances the clock instead of sleeping.
"""

from __future__ import annotations

from ..toolkit import TokenBucket
from .catalog import USAGE_PLANS

QUOTA_MESSAGE = "You exceeded your quota for the requested resource."


def rate_header(rate: float) -> str:
    """The rate as SP-API writes it: ``0.0056``, ``2.0``, ``5.0``."""
    return repr(float(rate))


class Buckets:
    """One :class:`TokenBucket` per (operation, seller, app)."""

    def __init__(self, clock, plans: dict | None = None):
        self.clock = clock
        self.plans = dict(plans or USAGE_PLANS)
        self._buckets: dict[tuple, TokenBucket] = {}

    def bucket(self, operation: str, seller: str | None, client_id: str):
        key = (operation, seller, client_id)
        bucket = self._buckets.get(key)
        if bucket is None:
            rate, burst = self.plans[operation]
            bucket = self._buckets[key] = TokenBucket(burst, rate, self.clock)
        return bucket

    def take(self, operation: str, seller: str | None, client_id: str):
        """``(ok, wait_seconds)`` for one call of ``operation``."""
        if operation not in self.plans:
            return True, 0.0
        ok, wait, _ = self.bucket(operation, seller, client_id).try_take()
        return ok, wait

    def drain(self, operation: str) -> int:
        """Empty every bucket of ``operation`` (and those made later stay
        full: only existing ones); return how many."""
        count = 0
        for key, bucket in self._buckets.items():
            if key[0] == operation:
                bucket.drain()
                count += 1
        return count
