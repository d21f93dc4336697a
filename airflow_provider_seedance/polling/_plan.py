"""Adaptive polling as a pure function: first poll at 3/4 of the API's estimate, then bounded back-off.

A render's remaining time is estimated from the API's ``estimated_time`` or, once it reports progress,
from the rate of progress. Polls aim just past the predicted end; once overdue, they come every
max(2 s, 5% of the elapsed time) growing by half each poll, capped at ``max_interval``.

When the API gives neither (AIML API, ModelArk), a remembered typical render time of the same spec
(``_render_memory``) stands in: the first poll at 92% of it (at most ``4 * max_interval`` apart on the
way), then every max(2 s, 5% of the elapsed time), so completion is seen within that margin, until 5/4
of it; then a back-off by half each poll, as past an API estimate.
With nothing remembered, the first poll comes after 5 s and the back-off starts at once (the trigger
cuts such a nap short once renders of its spec have ended in the process).

``PollPlan`` is the one polling engine: the trigger and the worker-side wait (``SeedanceHook.wait_for_generation``)
are thin drivers that feed it answers and errors and do the waiting and the I/O it asks for.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.wire._rules import RetryPolicy, backoff

MIN_INTERVAL = 2.0
DEFAULT_FIRST_POLL = 5.0
MAX_INTERVAL = 30.0
FIRST_POLL_FRACTION = 0.75
#: A remembered time is a median over renders that vary: look a little before it ...
REMEMBERED_FIRST_FRACTION = 0.92
#: ... and keep looking every max(2 s, 5%) until this multiple of it.
REMEMBERED_SPAN = 1.25
#: Seconds before the deadline that count as "at the deadline" (a sleep may wake a hair early).
DEADLINE_SLACK = 0.01
#: After failed polls: the transport's jittered back-off, up to 2 s x 2**(errors in a row), at most
#: ``MAX_INTERVAL`` ...
ERROR_BACKOFF = RetryPolicy(backoff_base=2.0, backoff_max=MAX_INTERVAL)
#: ... and never sooner than this.
ERROR_BACKOFF_FLOOR = 0.5

#: How a wait ends: the render succeeded, ended otherwise, the deadline passed, or polling itself failed.
Outcome = Literal["success", "failed", "timeout", "error"]


@dataclass(frozen=True)
class PollState:
    """What is known when deciding the next poll."""

    elapsed: float
    polls: int
    estimated_time: float | None = None
    progress: int | None = None
    #: Polls made past the API's estimate, or (without one) past REMEMBERED_SPAN x the remembered time.
    overdue_polls: int = 0
    #: How long renders of the same spec took lately (``_render_memory``); used only without an API estimate.
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


@dataclass(frozen=True)
class Nap:
    """What to do before the next poll."""

    #: How long to wait first (never past the deadline).
    seconds: float
    #: The next poll is the last one, at the deadline (nothing to wait for).
    final: bool = False
    #: A scheduled blind nap (nothing known about the render): worth cutting short once the process learns
    #: a typical render time for its spec. An error's back-off (a Retry-After) is waited out in full.
    learns: bool = False


class PollPlan:
    """One generation's polling, as a pure object: fed the clock, answers and errors, it says how long to
    wait next (``nap``), whether that poll is the final one, and how the wait ends (``answer``, ``error``).

    ``started_at`` and ``deadline`` are on the caller's clock (``now`` arguments use the same one). No I/O, no
    event loop: the caller sleeps, polls, logs and keeps the render-time memory.
    """

    def __init__(
        self,
        *,
        started_at: float,
        deadline: float,
        poll_interval: float | None = None,
        estimated_time: float | None = None,
        rand: random.Random | None = None,
    ) -> None:
        self.started_at = started_at
        self.deadline = deadline
        self.poll_interval = poll_interval
        #: The API's latest estimate (from the submit answer, then from each poll's).
        self.estimated_time = estimated_time
        self.rand = rand or random.Random()
        self.polls = 0
        #: Failed polls in a row.
        self.errors = 0
        #: The back-off before the next poll after a failed one (None: schedule as usual).
        self.retry_in: float | None = None
        #: The remembered typical render time of the spec, as last given to ``nap``.
        self.remembered: float | None = None
        #: On success: how long the render took (the midpoint between the last two polls).
        self.took: float | None = None
        self._progress: int | None = None
        self._overdue = 0
        self._last_running: float | None = None
        self._final = False

    @property
    def expected_time(self) -> float | None:
        """The render time to show an ETA against: the API's estimate, else the remembered one."""
        return self.estimated_time or self.remembered

    def state(self, now: float) -> PollState:
        return PollState(
            now - self.started_at, self.polls, self.estimated_time, self._progress, self._overdue, self.remembered
        )

    def nap(self, now: float, remembered: float | None = None) -> Nap:
        """Before each poll. ``remembered``: the typical render time of the spec known now (read afresh before
        every poll: renders of the same spec that end meanwhile inform the rest)."""
        self._final = now >= self.deadline - DEADLINE_SLACK
        if self._final:
            return Nap(0.0, final=True)  # one last poll at the deadline: a render that just finished is delivered
        if self.retry_in is not None:
            delay, learns = self.retry_in, False
        else:
            self.remembered = remembered
            state = self.state(now)
            delay = next_poll_delay(state, fixed_interval=self.poll_interval)
            learns = learns_from_memory(state, fixed_interval=self.poll_interval)
        self.retry_in = None
        return Nap(max(0.0, min(delay, self.deadline - now)), learns=learns)

    def answer(self, generation: Generation, now: float) -> Outcome | None:
        """A poll answered at ``now``: how the wait ends, or None to poll again."""
        self.polls += 1
        self.errors = 0
        elapsed = now - self.started_at
        if generation.is_terminal:
            if generation.state != "succeeded":
                return "failed"
            # it ended between the last two polls
            self.took = elapsed if self._last_running is None else (self._last_running + elapsed) / 2
            return "success"
        if self._final or now >= self.deadline:
            return "timeout"
        self._last_running = elapsed
        self._progress = generation.progress
        self.estimated_time = generation.estimated_time_s or self.estimated_time
        # past the API's estimate, or past the window around the remembered time: back off from here
        late_after = self.estimated_time
        if late_after is None and self.remembered:
            late_after = self.remembered * REMEMBERED_SPAN
        if late_after and elapsed >= late_after:
            self._overdue += 1
        return None

    def error(self, now: float, *, retryable: bool, retry_after: float | None = None) -> Outcome | None:
        """A poll failed at ``now`` (``retry_after``: the server's hint, seconds): how the wait ends, or None
        to poll again after ``retry_in``: the transport's jittered back-off, or the hint if longer."""
        self.polls += 1
        if not retryable:
            return "error"
        if self._final or now >= self.deadline:
            return "timeout"  # what was seen earlier may be stale: the caller polls again to decide a cancel
        self.errors += 1
        jitter = max(ERROR_BACKOFF_FLOOR, backoff(ERROR_BACKOFF, min(self.errors, 10), self.rand))
        self.retry_in = max(retry_after or 0.0, jitter)
        return None
