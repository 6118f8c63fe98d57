"""What a flash sale looks like: its options and the arrival times of its
orders (a ramp to the peak, the peak, the tail)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Options:
    duration: float = 600.0  # seconds of sale
    orders_per_minute: float = 60.0  # at the peak
    shopify_share: float = 0.7  # of the orders; the rest are Amazon MFN orders
    duplicate_rate: float = 0.2  # share of webhooks delivered twice
    reorder_rate: float = 0.3  # share of deliveries shuffled
    late_rate: float = 0.15  # share of deliveries held back to a later round
    fault_rate: float = 0.05  # API faults (5xx, 429, timeouts) per order
    # a timeout fault answers this late (the platform still does the work);
    # longer than the client waits, the client times out and retries
    slow_seconds: float = 2.0
    outage_start: float = 0.4  # the 3PL's outage, as a share of the duration
    outage_seconds: float = 60.0  # 0: no outage
    unknown_skus: int = 1  # Shopify orders of a SKU Odoo does not sell
    disputes: int = 1  # Stripe payments the cardholder disputes
    short_shipments: int = 1  # 3PL shipments short of a unit
    seed: int = 0
    skus: dict = field(
        default_factory=lambda: {
            "FS-TEE": "25.00",
            "FS-HOODIE": "55.00",
            "FS-CAP": "18.00",
            "FS-MUG": "12.00",
        }
    )
    stock: int = 0  # per SKU at the 3PL; 0: enough for the sale
    shopify_safety: int = 2
    amazon_safety: int = 3
    realtime: bool = True  # wait for each arrival; False: as fast as Odoo goes
    round_seconds: float = 5.0  # one round of traffic covers this much time

    def stock_per_sku(self) -> int:
        if self.stock:
            return self.stock
        # the busiest SKU sells about a third of the units; keep some over
        return max(40, math.ceil(self.expected_orders() * 1.5))

    def expected_orders(self) -> int:
        return len(arrivals(self))


def rate(options: Options, t: float) -> float:
    """Orders per second at ``t``: a ramp over the first quarter, the peak
    over the middle half, down to a third of the peak at the end."""
    peak = options.orders_per_minute / 60.0
    share = t / options.duration
    if share < 0.25:
        return peak * share / 0.25
    if share < 0.75:
        return peak
    return peak * (1 - (share - 0.75) / 0.25 * (2 / 3))


def arrivals(options: Options) -> list[float]:
    """The arrival times (seconds from the start): evenly spaced in the
    integral of :func:`rate` (deterministic; the seed picks the rest)."""
    times, total, step, t = [], 0.0, 0.1, 0.0
    while t < options.duration:
        total += rate(options, t) * step
        while total >= len(times) + 0.5:
            times.append(round(t, 2))
        t += step
    return times
