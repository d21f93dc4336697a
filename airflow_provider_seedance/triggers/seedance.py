"""SeedanceGenerationTrigger: waits for a generation in the triggerer, on a shared async client.

Kwargs hold only ids, the connection id, a wall-clock deadline and polling settings: never the API key,
never the prompt. Polls never block the loop, transient errors are tolerated until the deadline, and
exactly one ``GenerationEvent`` is yielded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_seedance.contract.events import EventStatus, GenerationEvent
from airflow_provider_seedance.exceptions import SeedanceConnectionError, SeedanceError
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.polling._plan import Nap, Outcome, PollPlan
from airflow_provider_seedance.polling._poll_steps import poll_answered, poll_failed
from airflow_provider_seedance.polling._render_memory import RENDER_MEMORY, RenderKey, render_key
from airflow_provider_seedance.runtime import _metrics as metrics

#: The last poll, at the deadline, may still take this long.
FINAL_POLL_BUDGET = 30.0


class SeedanceGenerationTrigger(BaseTrigger):
    """Polls one Seedance generation until it ends or ``deadline`` (Unix time) passes.

    :param generation_id: the id the API returned on submit.
    :param seedance_conn_id: connection of type ``seedance``; read with ``aget_connection`` in the loop.
    :param deadline: wall-clock Unix time of the last poll: a render finished by then is delivered;
        otherwise the generation is cancelled where the backend can (ModelArk, while queued) and a
        ``timeout`` event is sent. Carried in the kwargs, so a triggerer restart keeps it. No poll runs
        past it (each is bounded by the time left).
    :param started_at: Unix time of the submission, for elapsed time and adaptive polling.
    :param poll_interval: fixed seconds between polls; None polls adaptively around the API's estimate.
    :param estimated_time: the API's render estimate in seconds, if it gave one.
    :param cancel_on_kill: cancel the remote generation when a user kills the task (Airflow 3.3+).
    :param backend: the backend the generation was submitted to; if the connection has since been
        pointed at another one, the trigger fails at once instead of polling the wrong API.
    :param render_spec: what the render time depends on (``render_memory.render_spec(request)``:
        model, duration, quality, service tier; never the prompt). Renders of one spec and backend teach
        this process a typical render time, which stands in when the API gives no estimate; a trigger
        still polling blind is woken as soon as its spec has one.
    :param typical_time: the typical render time of this spec read by the operator from earlier runs of its
        task (``_run_history``), so the trigger starts warm on any triggerer, after any restart; used until
        this process has its own. A number, never the request.
    :param typical_samples: how many earlier renders ``typical_time`` rests on (for the log).
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
        backend: str | None = None,
        render_spec: dict[str, Any] | None = None,
        typical_time: float | None = None,
        typical_samples: int = 0,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.generation_id = generation_id
        self.deadline = float(deadline)
        self.seedance_conn_id = seedance_conn_id
        self.started_at = float(started_at) if started_at is not None else time.time()
        self.poll_interval = poll_interval
        self.estimated_time = estimated_time
        self.cancel_on_kill = cancel_on_kill
        self.backend = backend
        self.render_spec = render_spec
        self.typical_time = float(typical_time) if typical_time else None
        self.typical_samples = int(typical_samples)
        # Injection points for tests: the wall clock and the sleep the loop waits on.
        self.clock: Callable[[], float] = time.time
        self.sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep
        self._plan: PollPlan | None = None

    @property
    def polls(self) -> int:
        """Status requests made so far by ``run``."""
        return self._plan.polls if self._plan else 0

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
                "backend": self.backend,
                # Only when given, so triggers serialized without it read back the same.
                **({"render_spec": self.render_spec} if self.render_spec else {}),
                **(
                    {"typical_time": self.typical_time, "typical_samples": self.typical_samples}
                    if self.typical_time
                    else {}
                ),
            },
        )

    def _hook(self) -> SeedanceHook:
        return SeedanceHook(self.seedance_conn_id)

    def _event(
        self,
        status: EventStatus,
        message: str,
        generation: Generation | None = None,
        *,
        retryable: bool | None = None,
    ) -> TriggerEvent:
        event = GenerationEvent(
            status=status,
            generation_id=self.generation_id,
            message=message,
            generation=generation.model_copy(update={"raw": {}}) if generation else None,
            polls=self.polls,
            elapsed_s=round(self.clock() - self.started_at, 3),
            render_s=round(self._plan.took, 3) if status == "success" and self._plan and self._plan.took else None,
            retryable=retryable,
            deadline=self.deadline,
        )
        return TriggerEvent(event.model_dump(mode="json"))  # type: ignore[no-untyped-call]

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self._hook()
        moved = await self._backend_moved(hook)
        if moved:
            yield self._event("error", moved, retryable=False)
            return
        plan = self._plan = PollPlan(
            started_at=self.started_at,
            deadline=self.deadline,
            poll_interval=self.poll_interval,
            estimated_time=self.estimated_time,
        )
        key = render_key(self.backend or self.seedance_conn_id, self.render_spec) if self.render_spec else None
        while True:
            if await self._nap(plan.nap(self.clock(), self._typical(key)), key):
                continue  # renders of this spec ended meanwhile: plan the next poll with their time
            generation: Generation | None = None
            failure: SeedanceError | None = None
            try:
                generation = await self._poll(hook)
            except SeedanceError as exc:
                failure, outcome = exc, poll_failed(self.log, plan, exc, self.clock(), self.generation_id)
            else:
                outcome = poll_answered(self.log, plan, generation, self.clock(), RENDER_MEMORY, key)
            if outcome:
                yield await self._end(hook, outcome, generation, failure)
                return

    def _typical(self, key: RenderKey | None) -> float | None:
        """The spec's typical render time: this process's own, else the one earlier runs left."""
        return (RENDER_MEMORY.typical(key) if key else None) or self.typical_time

    async def _end(
        self, hook: SeedanceHook, outcome: Outcome, generation: Generation | None, failure: SeedanceError | None
    ) -> TriggerEvent:
        """The one event that ends ``run``."""
        if outcome == "timeout":
            return await self._timeout(hook, generation)
        if generation is None:
            return self._event("error", f"polling generation {self.generation_id} failed: {failure}", retryable=False)
        if outcome == "success":
            metrics.rendered(
                generation.backend, generation.model, self._plan.took if self._plan else None, generation.credits
            )
            return self._event("success", f"generation {generation.id} succeeded", generation)
        return self._event("failed", generation.describe(), generation)

    async def _nap(self, nap: Nap, key: RenderKey | None) -> bool:
        """Wait as ``nap`` says; True when the wait was cut short because this process learned a typical
        render time for ``key`` meanwhile."""
        if nap.final:
            return False
        if nap.learns and key:
            return await self._nap_or_learn(nap.seconds, key)
        await self.sleep(nap.seconds)
        return False

    async def _nap_or_learn(self, seconds: float, key: RenderKey) -> bool:
        """Sleep ``seconds``, or less if this process learns a typical render time for ``key`` meanwhile
        (True then)."""
        nap = asyncio.ensure_future(self.sleep(seconds))
        news = asyncio.ensure_future(RENDER_MEMORY.learned(key))
        try:
            done, _ = await asyncio.wait((nap, news), return_when=asyncio.FIRST_COMPLETED)
        finally:
            nap.cancel()
            news.cancel()
        return nap not in done

    async def _backend_moved(self, hook: SeedanceHook) -> str | None:
        if self.backend is None:
            return None
        try:
            now = (await hook.aget_settings()).backend_name
        except SeedanceError:
            return None  # the first poll reports what is wrong with the connection
        if now == self.backend:
            return None
        return (
            f"connection {self.seedance_conn_id!r} now points at backend {now!r}, but generation "
            f"{self.generation_id} was submitted to {self.backend!r}: restore the connection to wait for it"
        )

    async def _poll(self, hook: SeedanceHook) -> Generation:
        """One status request, bounded by the deadline: the client's own retries (429 waits, timeouts)
        can never carry a poll far past it."""
        budget = max(self.deadline - self.clock(), FINAL_POLL_BUDGET)
        model = self.render_spec.get("model") if self.render_spec else None
        try:
            return await asyncio.wait_for(hook.aget_generation(self.generation_id, model=model), timeout=budget)
        except asyncio.TimeoutError:
            exc = SeedanceConnectionError(f"polling generation {self.generation_id} took over {budget:.0f} s")
            metrics.poll_failed(self.backend or "unknown", model, exc)  # the hook saw only its cancellation
            raise exc from None

    async def _timeout(self, hook: SeedanceHook, last_seen: Generation | None) -> TriggerEvent:
        """``last_seen``: the final poll's answer (None when it failed: the cancel step polls itself)."""
        outcome = await hook.acancel_if_queued(self.generation_id, last_seen)
        self.log.info("%s", outcome)
        message = f"generation {self.generation_id} did not finish before its deadline; {outcome}"
        return self._event("timeout", message, last_seen)

    async def on_kill(self) -> None:
        """A user marked the task failed/success or cleared it: cancel the render where the API can."""
        if self.cancel_on_kill:
            self.log.info("%s", await self._hook().acancel_if_queued(self.generation_id))
