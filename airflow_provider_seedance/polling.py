"""Adaptive polling as a pure function: first poll at 3/4 of the API's estimate, then bounded back-off.

A render's remaining time is estimated from the API's ``estimated_time`` or, once it reports progress,
from the rate of progress. Polls aim just past the predicted end; once overdue, they come every
max(2 s, 5% of the elapsed time) growing by half each poll, capped at ``max_interval``.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_INTERVAL = 2.0
DEFAULT_FIRST_POLL = 5.0
MAX_INTERVAL = 30.0
FIRST_POLL_FRACTION = 0.75


@dataclass(frozen=True)
class PollState:
    """What is known when deciding the next poll."""

    elapsed: float
    polls: int
    estimated_time: float | None = None
    progress: int | None = None
    overdue_polls: int = 0


def next_poll_delay(
    state: PollState, *, fixed_interval: float | None = None, max_interval: float = MAX_INTERVAL
) -> float:
    """Seconds until the next status request."""
    if fixed_interval is not None:
        return max(0.1, fixed_interval)
    floor = max(MIN_INTERVAL, 0.05 * state.elapsed)
    remaining = _predicted_remaining(state)
    if remaining is None:
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


def _predicted_remaining(state: PollState) -> float | None:
    if state.progress is not None and 5 <= state.progress < 100 and state.elapsed > 0:
        rate = state.progress / state.elapsed
        by_progress = (100 - state.progress) / rate
        if state.estimated_time and state.elapsed < state.estimated_time:
            return min(by_progress, state.estimated_time - state.elapsed)
        return by_progress
    if state.estimated_time and state.elapsed < state.estimated_time:
        return state.estimated_time - state.elapsed
    return None
