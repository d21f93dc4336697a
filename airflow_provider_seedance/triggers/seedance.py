"""SeedanceGenerationTrigger: waits for a generation in the triggerer, on a shared async client.

Kwargs hold only ids, the connection id, a wall-clock deadline and polling settings: never the API key,
never the prompt. Polls never block the loop, transient errors are tolerated until the deadline, and
exactly one ``GenerationEvent`` is yielded.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_seedance.events import EventStatus, GenerationEvent
from airflow_provider_seedance.exceptions import SeedanceError, SeedanceRateLimitError
from airflow_provider_seedance.hooks.seedance import SeedanceHook, progress_line
from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.polling import MAX_INTERVAL, PollState, next_poll_delay


class SeedanceGenerationTrigger(BaseTrigger):
    """Polls one Seedance generation until it ends or ``deadline`` (Unix time) passes.

    :param generation_id: the id the API returned on submit.
    :param seedance_conn_id: connection of type ``seedance``; read with ``aget_connection`` in the loop.
    :param deadline: wall-clock Unix time after which the generation is cancelled (where the backend can)
        and a ``timeout`` event is sent. Carried in the kwargs, so a triggerer restart keeps it.
    :param started_at: Unix time of the submission, for elapsed time and adaptive polling.
    :param poll_interval: fixed seconds between polls; None polls adaptively around the API's estimate.
    :param estimated_time: the API's render estimate in seconds, if it gave one.
    :param cancel_on_kill: cancel the remote generation when a user kills the task (Airflow 3.3+).
    """

    def __init__(
        self,
        *,
        generation_id: str,
        deadline: float,
        seedance_conn_id: str = "seedance_default",
        started_at: float | None = None,
        poll_interval: float | None = None,
        estimated_time: float | None = None,
        cancel_on_kill: bool = True,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.generation_id = generation_id
        self.deadline = float(deadline)
        self.seedance_conn_id = seedance_conn_id
        self.started_at = float(started_at) if started_at is not None else time.time()
        self.poll_interval = poll_interval
        self.estimated_time = estimated_time
        self.cancel_on_kill = cancel_on_kill
        # Injection points for tests: the wall clock and the sleep the loop waits on.
        self.clock: Callable[[], float] = time.time
        self.sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep
        self.polls = 0

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "generation_id": self.generation_id,
                "deadline": self.deadline,
                "seedance_conn_id": self.seedance_conn_id,
                "started_at": self.started_at,
                "poll_interval": self.poll_interval,
                "estimated_time": self.estimated_time,
                "cancel_on_kill": self.cancel_on_kill,
            },
        )

    def _hook(self) -> SeedanceHook:
        return SeedanceHook(self.seedance_conn_id)

    def _event(self, status: EventStatus, message: str, generation: Generation | None = None) -> TriggerEvent:
        event = GenerationEvent(
            status=status,
            generation_id=self.generation_id,
            message=message,
            generation=generation.model_copy(update={"raw": {}}) if generation else None,
            polls=self.polls,
            elapsed_s=round(self.clock() - self.started_at, 3),
        )
        return TriggerEvent(event.model_dump(mode="json"))  # type: ignore[no-untyped-call]

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self._hook()
        overdue = errors = 0
        progress: int | None = None
        estimated = self.estimated_time
        rand = random.Random()
        delay: float | None = None
        while True:
            now = self.clock()
            if now >= self.deadline:
                yield await self._timeout(hook)
                return
            if delay is None:
                state = PollState(now - self.started_at, self.polls, estimated, progress, overdue)
                delay = next_poll_delay(state, fixed_interval=self.poll_interval)
            await self.sleep(max(0.0, min(delay, self.deadline - now)))
            delay = None
            if self.clock() >= self.deadline:
                continue
            self.polls += 1
            try:
                generation = await hook.aget_generation(self.generation_id)
            except SeedanceError as exc:
                if not exc.retryable:
                    yield self._event("error", f"polling generation {self.generation_id} failed: {exc}")
                    return
                errors += 1
                hinted = exc.retry_after if isinstance(exc, SeedanceRateLimitError) else None
                delay = max(hinted or 0.0, rand.uniform(0.5, min(MAX_INTERVAL, 2.0 * 2 ** min(errors, 4))))
                self.log.warning(
                    "Poll %d of %s failed (%d in a row), retrying in %.1fs: %s",
                    self.polls,
                    self.generation_id,
                    errors,
                    delay,
                    exc,
                )
                continue
            errors = 0
            elapsed = self.clock() - self.started_at
            self.log.info("%s", progress_line(generation, elapsed))
            if generation.is_terminal:
                if generation.state == "succeeded":
                    yield self._event("success", f"generation {generation.id} succeeded", generation)
                else:
                    yield self._event("failed", generation.describe(), generation)
                return
            progress = generation.progress
            estimated = generation.estimated_time_s or estimated
            if estimated is not None and elapsed >= estimated:
                overdue += 1

    async def _timeout(self, hook: SeedanceHook) -> TriggerEvent:
        message = f"generation {self.generation_id} did not finish before its deadline"
        cancelled = await self._cancel(hook)
        if cancelled:
            message += "; it was cancelled on the backend"
        return self._event("timeout", message)

    async def _cancel(self, hook: SeedanceHook) -> bool:
        try:
            settings = await hook.aget_settings()
            if not settings.backend.supports_cancel:
                self.log.info(
                    "%s cannot cancel generations; %s keeps running there", settings.backend_name, self.generation_id
                )
                return False
            await hook.acancel_generation(self.generation_id)
        except SeedanceError as exc:
            self.log.warning("Could not cancel generation %s: %s", self.generation_id, exc)
            return False
        self.log.info("Cancelled generation %s", self.generation_id)
        return True

    async def on_kill(self) -> None:
        """A user marked the task failed/success or cleared it: cancel the render where the API can."""
        if self.cancel_on_kill:
            await self._cancel(self._hook())
