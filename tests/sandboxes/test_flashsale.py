"""The flash sale generator's own arithmetic (no Odoo): the arrivals ramp to
the peak, the oversell window and the backlog's drain time are measured as
the README says. The scenario itself runs in
tests/addons/retail_connect_test_flashsale."""

from sandboxes.flashsale import Options
from sandboxes.flashsale.checks import drain_time, offered_timeline, oversell_windows
from sandboxes.flashsale.options import arrivals, rate


def test_arrivals_ramp_to_the_peak_and_number_as_the_rate_says():
    options = Options(duration=600, orders_per_minute=60)
    times = arrivals(options)
    # a quarter ramping (half the peak on average), half at the peak, a
    # quarter going down to a third of it (two thirds on average)
    expected = 60 * 10 * (0.25 * 0.5 + 0.5 + 0.25 * 2 / 3)
    assert abs(len(times) - expected) <= 1
    assert times == sorted(times)
    assert rate(options, 10) < rate(options, 100) < rate(options, 300)
    per_minute = [
        sum(1 for t in times if m * 60 <= t < (m + 1) * 60) for m in range(10)
    ]
    assert max(per_minute) == per_minute[4] == 60
    assert per_minute[0] < per_minute[2] < per_minute[4]


def test_oversell_window_is_the_longest_stretch_above_the_allowance():
    history = [
        {"time": 0, "sku": "A", "where": "loc1", "quantity": 10},
        {"time": 0, "sku": "A", "where": "loc2", "quantity": 0},
        {"time": 40, "sku": "A", "where": "loc1", "quantity": 6},  # pushed
        {"time": 50, "sku": "A", "where": "loc2", "quantity": 2},
        {"time": 70, "sku": "A", "where": "loc2", "quantity": 0},
    ]
    offered = offered_timeline(history)
    assert offered["A"][-1] == (70, 6)
    # Odoo: 10 free, then another channel sold 4 at t=10
    allowed = {"A": [(0, 10), (10, 6), (100, 6)]}
    windows, still = oversell_windows(offered, allowed, 0, 100)
    # too much from 10 to 40 (10 > 6), then from 50 to 70 (8 > 6)
    assert windows == {"A": 30}
    assert not still


def test_an_offer_never_corrected_is_open_at_the_end():
    offered = {"A": [(0, 5)]}
    windows, still = oversell_windows(offered, {"A": [(0, 5), (20, 1)]}, 0, 50)
    assert windows == {"A": 30}
    assert still == {"A"}


def test_drain_time_runs_from_the_peak_to_the_first_empty_sample():
    backlog = [(0, 0), (10, 5), (20, 12), (30, 12), (40, 3), (55, 0), (60, 4)]
    assert drain_time(backlog) == (12, 35)
    assert drain_time([(0, 0), (5, 3)]) == (3, None)
    assert drain_time([(0, 0), (5, 0)]) == (0, 0.0)
