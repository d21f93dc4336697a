"""Adaptive polling: few requests per render, completion seen soon after it happens."""

from __future__ import annotations

import pytest

from airflow_provider_seedance.polling import MIN_INTERVAL, PollState, next_poll_delay


def simulate(render: float, estimate: float | None, *, fixed: float | None = None) -> tuple[int, float]:
    """Polls needed and how late completion is seen, for a render of ``render`` seconds."""
    t, polls, overdue = 0.0, 0, 0
    progress: int | None = None
    while True:
        t += next_poll_delay(PollState(t, polls, estimate, progress, overdue), fixed_interval=fixed)
        polls += 1
        if t >= render:
            return polls, t - render
        progress = int(99 * t / render)
        if estimate is not None and t >= estimate:
            overdue += 1


@pytest.mark.parametrize("render", [20.0, 45.0, 90.0, 180.0])
@pytest.mark.parametrize("estimate_error", [0.8, 1.0, 1.25])
def test_adaptive_polling_is_cheap_and_prompt(render, estimate_error):
    polls, late = simulate(render, render * estimate_error)
    assert polls <= 6
    assert late <= max(MIN_INTERVAL, 0.05 * render) + 1.0


def test_fixed_interval_is_respected():
    assert next_poll_delay(PollState(10, 3), fixed_interval=15) == 15


def test_without_estimate_first_poll_is_soon_then_backs_off_within_bounds():
    first = next_poll_delay(PollState(0, 0))
    later = [next_poll_delay(PollState(100, n, None, None, n)) for n in range(1, 12)]
    assert first <= 5
    assert later == sorted(later)
    assert max(later) <= 30
