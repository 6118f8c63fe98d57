"""Token-bucket arithmetic for the per-backend limiter.

The state (tokens, last update) lives in PostgreSQL so every worker shares it;
this module only computes. ``take`` never sleeps: it says how long to wait; the
caller waits a short time in place and turns a longer wait into a rescheduled
job.
"""

from dataclasses import dataclass


@dataclass
class BucketState:
    capacity: float
    rate: float  # tokens restored per second
    tokens: float
    updated_at: float  # epoch seconds


def refill(state, now):
    elapsed = max(0.0, now - state.updated_at)
    tokens = min(state.capacity, state.tokens + elapsed * state.rate)
    return BucketState(state.capacity, state.rate, tokens, now)


def take(state, now, cost=1.0):
    """Return ``(new_state, wait_seconds)``; ``wait_seconds == 0`` means granted."""
    state = refill(state, now)
    if state.tokens >= cost:
        state.tokens -= cost
        return state, 0.0
    missing = cost - state.tokens
    wait = missing / state.rate if state.rate > 0 else 60.0
    return state, wait


def observe(state, now, available=None, capacity=None, rate=None):
    """Align the bucket with what the platform says it has left."""
    state = refill(state, now)
    if capacity:
        state.capacity = float(capacity)
    if rate:
        state.rate = float(rate)
    if available is not None:
        state.tokens = max(0.0, min(state.capacity, float(available)))
    return state
