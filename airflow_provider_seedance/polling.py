"""Adaptive polling as a pure function: first poll at 3/4 of the API's estimate, then bounded back-off.

A render's remaining time is estimated from the API's ``estimated_time`` or, once it reports progress,
from the rate of progress. Polls aim just past the predicted end; once overdue, they come every
max(2 s, 5% of the elapsed time) growing by half each poll, capped at ``max_interval``.

When the API gives neither (AIML API, ModelArk), a remembered typical render time of the same spec
(``render_memory``) stands in: the first poll at 92% of it (at most ``4 * max_interval`` apart on the
way), then every max(2 s, 5% of the elapsed time), so completion is seen within that margin, until 5/4
of it; then a back-off by half each poll, as past an API estimate.
With nothing remembered, the first poll comes after 5 s and the back-off starts at once (the trigger
cuts such a nap short once renders of its spec have ended in the process).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_INTERVAL = 2.0
DEFAULT_FIRST_POLL = 5.0
MAX_INTERVAL = 30.0
FIRST_POLL_FRACTION = 0.75
#: A remembered time is a median over renders that vary: look a little before it ...
REMEMBERED_FIRST_FRACTION = 0.92
#: ... and keep looking every max(2 s, 5%) until this multiple of it.
REMEMBERED_SPAN = 1.25


@dataclass(frozen=True)
class PollState:
    """What is known when deciding the next poll."""

    elapsed: float
    polls: int
    estimated_time: float | None = None
    progress: int | None = None
    #: Polls made past the API's estimate, or (without one) past REMEMBERED_SPAN x the remembered time.
    overdue_polls: int = 0
    #: How long renders of the same spec took lately (``render_memory``); used only without an API estimate.
    remembered_time: float | None = None


def next_poll_delay(
    state: PollState, *, fixed_interval: float | None = None, max_interval: float = MAX_INTERVAL
) -> float:
    """Seconds until the next status request."""
    if fixed_interval is not None:
        return max(0.1, fixed_interval)
    floor = max(MIN_INTERVAL, 0.05 * state.elapsed)
    remaining = predicted_remaining(state)
    if remaining is None:
        if state.remembered_time and not state.estimated_time:
            return _remembered_delay(state, state.remembered_time, floor, max_interval)
        if state.polls == 0:
            return DEFAULT_FIRST_POLL
        # Past the estimate, or with no estimate at all: back off by half each poll.
        steps = state.overdue_polls if state.estimated_time else state.polls - 1
        return min(max_interval, floor * (1.5**steps))
    if state.polls == 0:
        # The estimate may be high: look at 3/4 of it, then let the reported progress refine the guess.
        return min(max_interval * 4, max(MIN_INTERVAL, remaining * FIRST_POLL_FRACTION))
    # Aim slightly past the predicted end so the first poll after it usually sees the result.
    return min(max_interval, max(floor, remaining * 1.02 + 0.25))


def learns_from_memory(state: PollState, *, fixed_interval: float | None = None) -> bool:
    """Whether a remembered render time, learned before the next poll, would change this state's delay: no
    fixed interval, no API estimate, no progress to predict from, and nothing remembered yet."""
    return (
        fixed_interval is None
        and state.remembered_time is None
        and not state.estimated_time
        and predicted_remaining(state) is None
    )


def _remembered_delay(state: PollState, typical: float, floor: float, max_interval: float) -> float:
    aim = typical * REMEMBERED_FIRST_FRACTION
    if aim - state.elapsed > MIN_INTERVAL:
        # Head for the aim; on the way a long render is still looked at now and then (a failure shows).
        return min(max_interval * 4, aim - state.elapsed)
    if state.elapsed < typical * REMEMBERED_SPAN:
        return min(max_interval, floor)
    # Later than renders of this spec usually take: back off by half each poll past that point
    # (``overdue_polls`` counts them), as past an API estimate.
    return min(max_interval, floor * (1.5**state.overdue_polls))


def predicted_remaining(state: PollState) -> float | None:
    """Seconds the render should still take, from its progress rate and the estimate; None without either."""
    if state.progress is not None and 5 <= state.progress < 100 and state.elapsed > 0:
        rate = state.progress / state.elapsed
        by_progress = (100 - state.progress) / rate
        if state.estimated_time and state.elapsed < state.estimated_time:
            return min(by_progress, state.estimated_time - state.elapsed)
        return by_progress
    if state.estimated_time and state.elapsed < state.estimated_time:
        return state.estimated_time - state.elapsed
    return None
