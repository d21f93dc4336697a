"""Adaptive polling: few requests per render, completion seen soon after it happens."""

from __future__ import annotations

import random
from typing import Any

import pytest

from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.polling._plan import (
    ERROR_BACKOFF_FLOOR,
    MIN_INTERVAL,
    Nap,
    PollPlan,
    PollState,
    next_poll_delay,
)


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
    from airflow_provider_seedance.polling._plan import REMEMBERED_FIRST_FRACTION, REMEMBERED_SPAN

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
    from airflow_provider_seedance.polling._plan import learns_from_memory

    assert learns_from_memory(PollState(10, 1))
    assert not learns_from_memory(PollState(10, 1), fixed_interval=8)
    assert not learns_from_memory(PollState(10, 1, estimated_time=60))
    assert not learns_from_memory(PollState(10, 1, progress=40))  # progress predicts the end
    assert not learns_from_memory(PollState(10, 1, remembered_time=60))
    # and where it would, a remembered time does change the delay
    assert next_poll_delay(PollState(10, 1, remembered_time=60)) != next_poll_delay(PollState(10, 1))


# -- PollPlan: every polling rule of the trigger and the worker-side wait, on plain numbers -----------------


def _gen(state: str = "running", *, progress: int | None = None, estimate: float | None = None) -> Generation:
    return Generation(
        id="g", backend="evolink", state=state, status=state, progress=progress, estimated_time_s=estimate
    )


def _plan(**kw: Any) -> PollPlan:
    kw.setdefault("deadline", 600.0)
    return PollPlan(started_at=0.0, rand=random.Random(7), **kw)


def _play(plan: PollPlan, steps: list[tuple[Any, ...]]) -> list[Any]:
    """Feed ``plan`` the steps and collect what it says: ("nap", now[, remembered]) -> Nap,
    ("answer", now, generation) / ("error", now, retryable[, retry_after]) -> outcome."""
    said: list[Any] = []
    for kind, now, *rest in steps:
        if kind == "nap":
            said.append(plan.nap(now, *rest))
        elif kind == "answer":
            said.append(plan.answer(rest[0], now))
        else:
            said.append(plan.error(now, retryable=rest[0], retry_after=rest[1] if len(rest) > 1 else None))
    return said


RUNNING, DONE = _gen(), _gen("succeeded")
PLAN_RULES = [
    # (rule, plan kwargs, steps, what the plan says)
    ("first poll at 3/4 of the API estimate", {"estimated_time": 40}, [("nap", 0.0)], [Nap(30.0)]),
    (
        "fixed interval",
        {"poll_interval": 15},
        [("nap", 0.0), ("answer", 15.0, RUNNING), ("nap", 15.0)],
        [Nap(15.0), None, Nap(15.0)],
    ),
    ("blind first nap may learn", {}, [("nap", 0.0)], [Nap(5.0, learns=True)]),
    ("a remembered time steers a blind plan", {}, [("nap", 0.0, 60.0)], [Nap(pytest.approx(55.2))]),
    ("no nap past the deadline", {"deadline": 20.0, "estimated_time": 100}, [("nap", 0.0)], [Nap(20.0)]),
    ("the last poll is at the deadline", {"deadline": 20.0}, [("nap", 20.0)], [Nap(0.0, final=True)]),
    ("a sleep waking a hair early counts", {"deadline": 20.0}, [("nap", 19.995)], [Nap(0.0, final=True)]),
    (
        "running at the final poll: timeout",
        {"deadline": 20.0},
        [("nap", 20.0), ("answer", 20.0, RUNNING)],
        [Nap(0.0, final=True), "timeout"],
    ),
    ("running after the deadline: timeout", {"deadline": 20.0}, [("answer", 21.0, RUNNING)], ["timeout"]),
    (
        "done at the final poll is delivered",
        {"deadline": 20.0},
        [("nap", 20.0), ("answer", 20.0, DONE)],
        [Nap(0.0, final=True), "success"],
    ),
    ("failed", {}, [("answer", 5.0, _gen("failed"))], ["failed"]),
    ("cancelled", {}, [("answer", 5.0, _gen("cancelled"))], ["failed"]),
    ("still running: poll again", {}, [("answer", 5.0, RUNNING)], [None]),
    ("non-retryable error ends at once", {}, [("error", 5.0, False)], ["error"]),
    (
        "retryable error at the deadline: timeout",
        {"deadline": 20.0},
        [("nap", 20.0), ("error", 20.0, True)],
        [Nap(0.0, final=True), "timeout"],
    ),
    ("retryable error after the deadline: timeout", {"deadline": 20.0}, [("error", 25.0, True)], ["timeout"]),
    ("Retry-After is waited out in full", {}, [("error", 5.0, True, 20.0), ("nap", 5.0)], [None, Nap(20.0)]),
    (
        "Retry-After is cut at the deadline",
        {"deadline": 15.0},
        [("error", 5.0, True, 20.0), ("nap", 5.0)],
        [None, Nap(10.0)],
    ),
    ("a back-off is not cut by learning", {}, [("error", 5.0, True, 20.0), ("nap", 5.0, 30.0)], [None, Nap(20.0)]),
    (
        "after a back-off, the schedule again",
        {"poll_interval": 15},
        [("error", 5.0, True, 20.0), ("nap", 5.0), ("nap", 25.0)],
        [None, Nap(20.0), Nap(15.0)],
    ),
]


@pytest.mark.parametrize(("kw", "steps", "said"), [r[1:] for r in PLAN_RULES], ids=[r[0] for r in PLAN_RULES])
def test_poll_plan_rules(kw, steps, said):
    assert _play(_plan(**kw), steps) == said


@pytest.mark.parametrize(
    ("errors", "cap"), [(1, 4.0), (2, 8.0), (3, 16.0), (4, 30.0), (5, 30.0), (40, 30.0)], ids=lambda v: str(v)
)
def test_error_back_off_is_the_transports_jittered_one_within_bounds(errors, cap):
    """2 s x 2**(errors in a row), at most 30 s, never under 0.5 s; jittered, and seeded by the injected rand."""
    naps = []
    for seed in range(200):
        plan = PollPlan(started_at=0.0, deadline=1e6, rand=random.Random(seed))
        for _ in range(errors):
            assert plan.error(1.0, retryable=True) is None
        naps.append(plan.nap(1.0).seconds)
    assert all(ERROR_BACKOFF_FLOOR <= n <= cap for n in naps)
    assert max(naps) > 0.7 * cap and len(set(naps)) > 100  # spread over the range, not one value
    again = PollPlan(started_at=0.0, deadline=1e6, rand=random.Random(199))
    for _ in range(errors):
        again.error(1.0, retryable=True)
    assert again.nap(1.0).seconds == naps[-1]


def test_an_answer_resets_the_error_count_and_polls_count_both():
    plan = _plan()
    _play(plan, [("error", 1.0, True), ("error", 2.0, True)])
    assert (plan.polls, plan.errors) == (2, 2)
    plan.answer(RUNNING, 3.0)
    assert (plan.polls, plan.errors) == (3, 0)


@pytest.mark.parametrize(
    ("rule", "kw", "steps", "took"),
    [
        ("no poll saw it running", {}, [("answer", 40.0, DONE)], 40.0),
        ("ended between the last two polls", {}, [("answer", 30.0, RUNNING), ("answer", 40.0, DONE)], 35.0),
        ("not on failure", {}, [("answer", 30.0, RUNNING), ("answer", 40.0, _gen("failed"))], None),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_render_time_to_remember(rule, kw, steps, took):
    plan = _plan(**kw)
    _play(plan, steps)
    assert plan.took == took


@pytest.mark.parametrize(
    ("kw", "remembered", "answers", "overdue"),
    [
        # past the API's estimate
        ({"estimated_time": 10}, None, [(5.0, RUNNING), (12.0, RUNNING), (20.0, RUNNING)], 2),
        # an estimate given in an answer counts too
        ({}, None, [(5.0, _gen(estimate=8)), (12.0, RUNNING)], 1),
        # without an estimate: past REMEMBERED_SPAN x the remembered time (the worker-side wait too)
        ({}, 40.0, [(45.0, RUNNING), (50.0, RUNNING), (55.0, RUNNING)], 2),
        # nothing known: never overdue (the blind back-off counts polls instead)
        ({}, None, [(45.0, RUNNING), (500.0, RUNNING)], 0),
    ],
)
def test_overdue_polls_count_past_the_estimate_or_the_remembered_window(kw, remembered, answers, overdue):
    plan = _plan(**kw)
    plan.nap(0.0, remembered)
    for now, generation in answers:
        plan.answer(generation, now)
    assert plan.state(60.0).overdue_polls == overdue


@pytest.mark.parametrize(
    ("kw", "remembered", "answer", "expected"),
    [
        ({"estimated_time": 40}, 90.0, None, 40),
        ({}, 90.0, None, 90.0),
        ({}, None, _gen(estimate=70), 70),
        ({}, None, None, None),
    ],
)
def test_expected_time_for_the_progress_line(kw, remembered, answer, expected):
    plan = _plan(**kw)
    plan.nap(0.0, remembered)
    if answer is not None:
        plan.answer(answer, 5.0)
    assert plan.expected_time == expected


def test_a_plan_matches_the_pure_schedule_poll_by_poll():
    """The plan adds no rule of its own to ``next_poll_delay``: a render with progress, polled to the end."""
    plan, t = _plan(estimated_time=60), 0.0
    overdue = 0
    for polls in range(20):
        nap = plan.nap(t)
        assert nap.seconds == next_poll_delay(PollState(t, polls, 60, plan.state(t).progress, overdue))
        t += nap.seconds
        if plan.answer(_gen("succeeded" if t >= 70 else "running", progress=min(99, int(99 * t / 70))), t):
            break
        overdue += t >= 60
    assert plan.polls <= 6 and plan.took is not None
