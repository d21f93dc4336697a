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


def simulate_remembered(render: float, typical: float) -> tuple[int, float]:
    """Like ``simulate`` for an API with no estimate and no progress, with a remembered typical time."""
    t, polls = 0.0, 0
    while True:
        t += next_poll_delay(PollState(t, polls, remembered_time=typical))
        polls += 1
        if t >= render:
            return polls, t - render


@pytest.mark.parametrize("render", [20.0, 45.0, 90.0, 120.0])
@pytest.mark.parametrize("typical_error", [0.95, 1.0, 1.05])
def test_a_remembered_render_time_makes_polling_cheap_and_prompt_without_an_estimate(render, typical_error):
    polls, late = simulate_remembered(render, render * typical_error)
    assert polls <= 4  # from 92% of the typical time in 5% steps
    assert late <= max(MIN_INTERVAL, 0.05 * render)


def test_remembered_time_schedule_aims_just_before_it_then_steps_by_the_margin_then_backs_off():
    from airflow_provider_seedance.polling import REMEMBERED_FIRST_FRACTION, REMEMBERED_SPAN

    assert next_poll_delay(PollState(0, 0, remembered_time=60)) == pytest.approx(60 * REMEMBERED_FIRST_FRACTION)
    # Started late (a triggerer restart): only the rest of the way.
    assert next_poll_delay(PollState(20, 0, remembered_time=60)) == pytest.approx(60 * REMEMBERED_FIRST_FRACTION - 20)
    # A long render is still looked at every 4 * max_interval on the way to the aim.
    assert next_poll_delay(PollState(0, 0, remembered_time=600)) == 120
    # Around the typical time: every max(2 s, 5% of elapsed), so completion is seen within that.
    assert next_poll_delay(PollState(54, 1, remembered_time=60)) == pytest.approx(2.7)
    assert next_poll_delay(PollState(30, 1, remembered_time=30)) == pytest.approx(MIN_INTERVAL)
    # Past the window: back off by half each poll made past it (however many came before), at most
    # max_interval apart.
    late = [
        next_poll_delay(PollState(60 * REMEMBERED_SPAN + n, 6 + n, overdue_polls=n, remembered_time=60))
        for n in range(12)
    ]
    assert late[0] == pytest.approx(0.05 * 60 * REMEMBERED_SPAN)
    assert late == sorted(late) and late[-1] == 30


def test_the_api_estimate_and_a_fixed_interval_win_over_the_remembered_time():
    with_estimate = PollState(0, 0, estimated_time=40, remembered_time=100)
    assert next_poll_delay(with_estimate) == next_poll_delay(PollState(0, 0, estimated_time=40))
    assert next_poll_delay(PollState(0, 0, remembered_time=100), fixed_interval=8) == 8


def test_only_a_blind_schedule_would_change_with_a_remembered_time():
    from airflow_provider_seedance.polling import learns_from_memory

    assert learns_from_memory(PollState(10, 1))
    assert not learns_from_memory(PollState(10, 1), fixed_interval=8)
    assert not learns_from_memory(PollState(10, 1, estimated_time=60))
    assert not learns_from_memory(PollState(10, 1, progress=40))  # progress predicts the end
    assert not learns_from_memory(PollState(10, 1, remembered_time=60))
    # and where it would, a remembered time does change the delay
    assert next_poll_delay(PollState(10, 1, remembered_time=60)) != next_poll_delay(PollState(10, 1))
