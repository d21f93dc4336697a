"""What either driver of a ``PollPlan`` (the trigger's ``run``, the hook's ``wait_for_generation``) does with
one poll: write its progress line, feed the plan the answer or the error, remember a success's render time.

Pure apart from logging through the ``log`` it is given: no I/O, no Airflow.
"""

from __future__ import annotations

from typing import Any, Protocol

from airflow_provider_seedance.exceptions import SeedanceError, SeedanceRateLimitError
from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.polling._plan import Outcome, PollPlan, PollState, predicted_remaining
from airflow_provider_seedance.polling._render_memory import RenderKey, RenderMemory


class PollLog(Protocol):
    """The two log methods polling uses (a hook's or a trigger's ``log``)."""

    def info(self, event: Any, /, *args: Any) -> Any: ...

    def warning(self, event: Any, /, *args: Any) -> Any: ...


def progress_line(generation: Generation, elapsed: float, *, estimated_time: float | None = None) -> str:
    """The render's progress bar in the task log, one line per poll, the same fields on every backend:
    ``Seedance <id>: running (processing), 62%, elapsed 41s, ETA 24s``.

    The ETA is the adaptive poller's own prediction (the API's estimate, or ``estimated_time`` from an
    earlier answer, refined by the reported progress). What is not known is left out: AIML API and ModelArk
    report neither progress nor an estimate, so there the line is ``Seedance <id>: running (running),
    elapsed 41s``.
    """
    parts = [f"Seedance {generation.id}: {generation.state} ({generation.status})"]
    if generation.progress is not None:
        parts.append(f"{generation.progress}%")
    parts.append(f"elapsed {elapsed:.0f}s")
    if not generation.is_terminal:
        state = PollState(elapsed, 0, generation.estimated_time_s or estimated_time, generation.progress)
        remaining = predicted_remaining(state)
        if remaining is not None:
            parts.append(f"ETA {remaining:.0f}s")
    return ", ".join(parts)


def poll_answered(
    log: PollLog,
    plan: PollPlan,
    generation: Generation,
    now: float,
    memory: RenderMemory,
    key: RenderKey | None,
) -> Outcome | None:
    """A poll's answer, for either driver of ``plan``: its progress line in the log, then the plan's verdict;
    a success's render time is remembered for ``key`` (the render's spec), if given."""
    log.info("%s", progress_line(generation, now - plan.started_at, estimated_time=plan.expected_time))
    outcome = plan.answer(generation, now)
    if outcome == "success" and key is not None and plan.took is not None:
        memory.record(key, plan.took)
    return outcome


def poll_failed(log: PollLog, plan: PollPlan, exc: SeedanceError, now: float, generation_id: str) -> Outcome | None:
    """A failed poll, for either driver of ``plan``: the plan's verdict, logged when polling goes on."""
    retry_after = exc.retry_after if isinstance(exc, SeedanceRateLimitError) else None
    outcome = plan.error(now, retryable=exc.retryable, retry_after=retry_after)
    if outcome is None:
        log.warning(
            "Poll %d of %s failed (%d in a row), retrying in %.1fs: %s",
            plan.polls,
            generation_id,
            plan.errors,
            plan.retry_in,
            exc,
        )
    return outcome
