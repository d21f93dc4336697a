"""SeedanceBatchTrigger: waits for every generation of a batch in the triggerer, on the shared pooled client.

Kwargs hold the connection ids (the task's own, its fallbacks), the generation ids (in item order, "" for an
item with nothing to wait for), for the generations created on a fallback the place of its connection, the
deadline and polling settings: never the key, never a prompt. Each generation is polled on the client of the
connection that accepted it, driven by its own
``PollPlan`` (the single trigger's polling engine), polls are bounded in number at once, and exactly one
``BatchEvent`` is yielded: a status word per item, a short reason per item that did not succeed, the counts.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, cast

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_seedance.contract.batch import UNKNOWN_GENERATION, BatchEvent, PollStatus, counts_of
from airflow_provider_seedance.exceptions import (
    SeedanceConnectionError,
    SeedanceError,
    SeedanceGenerationError,
    SeedanceNotFoundError,
    failure_reason,
)
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.polling._plan import Outcome, PollPlan
from airflow_provider_seedance.polling._poll_steps import poll_answered, poll_failed
from airflow_provider_seedance.polling._render_memory import RENDER_MEMORY, render_key
from airflow_provider_seedance.runtime import _metrics as metrics
from airflow_provider_seedance.runtime._xcom import TaskInstanceKey
from airflow_provider_seedance.triggers._batch_saves import SavePlanError, TriggerSaver
from airflow_provider_seedance.wire.backends.base import Backend

#: The last poll, at the deadline, may still take this long.
FINAL_POLL_BUDGET = 30.0
#: Status requests in flight at once, by default (the pooled client's connections are shared with every trigger).
DEFAULT_POLL_CONCURRENCY = 16
#: Seconds between the batch's progress lines in the triggerer's log.
PROGRESS_EVERY = 30.0
#: How one generation's wait ended: its status word, a short reason, whether a retry could end it otherwise.
Ending = tuple[PollStatus, str, bool]


class _Quiet:
    """The ``PollLog`` a batch's polls write to: no progress line per poll (thousands of items), warnings kept."""

    def __init__(self, log: Any) -> None:
        self._log = log

    def info(self, event: Any, /, *args: Any) -> None:
        return None

    def warning(self, event: Any, /, *args: Any) -> None:
        self._log.warning(event, *args)


class SeedanceBatchTrigger(BaseTrigger):
    """Polls a batch's generations until each one ends or ``deadline`` (Unix time) passes.

    :param generation_ids: one per item, in item order; "" where the item has nothing to wait for.
    :param deadline: wall-clock Unix time of the last polls; carried in the kwargs, so a restart keeps it.
    :param seedance_conn_id: connection of type ``seedance``; read with ``aget_connection`` in the loop.
    :param started_at: Unix time of the submissions, for adaptive polling.
    :param poll_interval: fixed seconds between one generation's polls; None polls adaptively.
    :param estimated_time: the API's render estimate (the median of the creates' answers), if it gave one.
    :param render_spec: the spec every item shares (``render_memory.render_spec``), if they share one: renders
        of it that end teach the others a typical time.
    :param backend: the backend the generations were submitted to (the key of the render times it learns).
    :param poll_concurrency: status requests in flight at once.
    :param fallback_conn_ids: the batch's other connections, in order after ``seedance_conn_id`` (each read
        with ``aget_connection`` in the loop, as that one).
    :param conn_indexes: position (as text) -> the place of the connection its generation was created on in
        ``[seedance_conn_id, *fallback_conn_ids]``, for the positions not on ``seedance_conn_id``.
    :param save_to: with ``save_in_triggerer``, the deferred task instance's key (``dag_id``, ``task_id``,
        ``run_id``, ``map_index``): each succeeded video is saved here as soon as its render ends, where the
        task's XCom ``seedance_batch_save_plan`` says, and its outcome written to the XComs
        ``seedance_batch_saves.<shard>``; a run of this trigger again keeps what an earlier run saved.
    :param replace: with ``save_to``: replace a different file already at an item's path.
    :param max_download_mb: with ``save_to``: the largest video saved, in MiB (None: the connection's).
    :param download_timeout: with ``save_to``: seconds each save may take (None: until the deadline, at least
        60 s from its start).
    :param save_plan_sha256: with ``save_to``: the sha256 of the save plan's canonical JSON, as the worker wrote
        it; a plan in XCom with another digest (changed since) is refused, and nothing is saved here.
    :param cancel_on_kill: when a user kills the task (Airflow 3.3+), cancel every unfinished generation its
        API can still cancel (ModelArk, while queued).
    """

    def __init__(
        self,
        *,
        generation_ids: list[str],
        deadline: float,
        seedance_conn_id: str = "seedance_default",
        started_at: float | None = None,
        poll_interval: float | None = None,
        estimated_time: float | None = None,
        render_spec: dict[str, Any] | None = None,
        backend: str | None = None,
        poll_concurrency: int = DEFAULT_POLL_CONCURRENCY,
        fallback_conn_ids: list[str] | None = None,
        conn_indexes: dict[str, int] | None = None,
        save_to: dict[str, Any] | None = None,
        replace: bool = False,
        max_download_mb: float | None = None,
        download_timeout: float | None = None,
        save_plan_sha256: str | None = None,
        cancel_on_kill: bool = True,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.generation_ids = [str(gid) for gid in generation_ids]
        self.deadline = float(deadline)
        self.seedance_conn_id = seedance_conn_id
        self.started_at = float(started_at) if started_at is not None else time.time()
        self.poll_interval = poll_interval
        self.estimated_time = estimated_time
        self.render_spec = render_spec
        self.backend = backend
        self.poll_concurrency = max(1, int(poll_concurrency))
        self.fallback_conn_ids = [str(conn_id) for conn_id in fallback_conn_ids or []]
        self.conn_indexes = {str(position): int(index) for position, index in (conn_indexes or {}).items()}
        self.save_to = cast("TaskInstanceKey | None", save_to)
        self.replace, self.max_download_mb, self.download_timeout = replace, max_download_mb, download_timeout
        self.save_plan_sha256 = save_plan_sha256
        self.cancel_on_kill = bool(cancel_on_kill)
        self._statuses: list[PollStatus] | None = None  # each item's ending while ``watch_all`` runs
        # Injection points for tests: the wall clock and the sleep the loop waits on.
        self.clock: Callable[[], float] = time.time
        self.sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep
        self.polls = 0

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "generation_ids": self.generation_ids,
                "deadline": self.deadline,
                "seedance_conn_id": self.seedance_conn_id,
                "started_at": self.started_at,
                "poll_interval": self.poll_interval,
                "estimated_time": self.estimated_time,
                "render_spec": self.render_spec,
                "backend": self.backend,
                "poll_concurrency": self.poll_concurrency,
                "fallback_conn_ids": self.fallback_conn_ids,
                "conn_indexes": self.conn_indexes,
                "cancel_on_kill": self.cancel_on_kill,
                **self._save_kwargs(),
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        yield TriggerEvent((await self.watch_all()).model_dump(mode="json"))  # type: ignore[no-untyped-call]

    def _save_kwargs(self) -> dict[str, Any]:
        """The saves' kwargs, only when saving here (a trigger without them serializes as it did before)."""
        if self.save_to is None:
            return {}
        return {
            "save_to": self.save_to,
            "replace": self.replace,
            "max_download_mb": self.max_download_mb,
            "download_timeout": self.download_timeout,
            "save_plan_sha256": self.save_plan_sha256,
        }

    async def watch_all(self) -> BatchEvent:
        """Every generation watched to its end (and, with ``save_to``, saved); the one event (also what the
        worker-side wait uses)."""
        connections = [self.seedance_conn_id, *self.fallback_conn_ids]
        hooks = [SeedanceHook(conn_id) for conn_id in connections]
        gate = asyncio.Semaphore(self.poll_concurrency)
        statuses: list[PollStatus] = [""] * len(self.generation_ids)
        self._statuses = statuses
        reasons: dict[str, str] = {}
        final: list[int] = []
        saver = await self._saver()

        async def one(position: int, generation_id: str) -> None:
            if saver is not None and await saver.kept(position, generation_id):
                statuses[position] = "succeeded"  # saved by an earlier run of this trigger, and still there
                return
            conn_index = self.conn_indexes.get(str(position), 0)
            done = None if saver is None else functools.partial(saver.save, position, hooks[conn_index])
            status, reason, retryable = await self._watch(hooks[conn_index], gate, generation_id, conn_index == 0, done)
            statuses[position] = status
            if reason:
                reasons[str(position)] = reason
            if not retryable:
                final.append(position)

        watching = [one(i, gid) for i, gid in enumerate(self.generation_ids) if gid]
        progress = asyncio.ensure_future(self._progress(statuses, len(watching)))
        try:
            await asyncio.gather(*watching)
        finally:
            progress.cancel()
            if saver is not None:
                await saver.close()
        counts = counts_of(list(statuses))
        self.log.info("Batch of %d generations ended: %s (%d polls)", len(watching), counts, self.polls)
        ended: dict[str, Any] = {"statuses": statuses, "reasons": reasons, "counts": counts, "final": sorted(final)}
        return BatchEvent(**ended, **self._facts(connections), saved=self._saved_count(saver))

    def _facts(self, connections: list[str]) -> dict[str, Any]:
        """What the event repeats of the kwargs: the ids and connections, the deadline; and the polls made."""
        return {
            "generation_ids": self.generation_ids,
            "polls": self.polls,
            "deadline": self.deadline,
            "connections": connections,
            "conn_indexes": self.conn_indexes,
        }

    async def _saver(self) -> TriggerSaver | None:
        """The saves' state with ``save_to``: the plan and what earlier runs saved, read from XCom. When that
        cannot be read, nothing is saved here (logged): the worker saves every video, as without the option."""
        if self.save_to is None:
            return None
        saver = TriggerSaver(
            self.save_to,
            deadline=self.deadline,
            concurrency=self.poll_concurrency,
            replace=self.replace,
            max_download_mb=self.max_download_mb,
            download_timeout=self.download_timeout,
            plan_sha256=self.save_plan_sha256,
            log=self.log,
        )
        try:
            await saver.load()
        except SavePlanError as exc:
            self.log.warning("Not saving in the triggerer: %s; the worker saves every video", exc)
            return None
        except Exception as exc:
            self.log.warning("Cannot read the batch's save plan from XCom (%s): the worker saves", type(exc).__name__)
            return None
        return saver

    def _saved_count(self, saver: TriggerSaver | None) -> int:
        if saver is None:
            return 0
        kept = sum(1 for status in saver.ledger.items.values() if status.status == "succeeded") - saver.saved
        self.log.info("Saved %d videos in the triggerer (%d kept from an earlier run)", saver.saved, max(0, kept))
        return saver.saved + max(0, kept)

    async def _watch(
        self,
        hook: SeedanceHook,
        gate: asyncio.Semaphore,
        generation_id: str,
        own: bool,
        done: Callable[[Generation], Awaitable[None]] | None = None,
    ) -> Ending:
        """One generation polled as the single trigger polls it, to its status word, short reason, and whether
        a retry could end it otherwise. ``own``: on the task's own connection, whose renders share the spec
        (one created on a fallback renders another model: it learns no typical time). ``done`` is awaited
        with the generation once it succeeded (its save)."""
        plan = PollPlan(
            started_at=self.started_at,
            deadline=self.deadline,
            poll_interval=self.poll_interval,
            estimated_time=self.estimated_time,
        )
        shared = self.render_spec if own else None
        key = render_key(self.backend or self.seedance_conn_id, shared) if shared else None
        quiet = _Quiet(self.log)
        while True:
            nap = plan.nap(self.clock(), RENDER_MEMORY.typical(key) if key else None)
            if not nap.final:
                await self.sleep(nap.seconds)
            generation: Generation | None = None
            failure: SeedanceError | None = None
            try:
                async with gate:
                    generation = await self._poll(hook, generation_id)
            except SeedanceError as exc:
                failure = exc
                outcome = poll_failed(quiet, plan, exc, self.clock(), generation_id)
            else:
                outcome = poll_answered(quiet, plan, generation, self.clock(), RENDER_MEMORY, key)
            if outcome == "success" and generation is not None:
                metrics.rendered(generation.backend, generation.model, plan.took, generation.credits)
                if done is not None:
                    await done(generation)
            if outcome:
                return await self._ended(hook, outcome, generation_id, generation, failure)

    async def _ended(
        self,
        hook: SeedanceHook,
        outcome: Outcome,
        generation_id: str,
        generation: Generation | None,
        failure: SeedanceError | None,
    ) -> Ending:
        if outcome == "success":
            return "succeeded", "", True
        if outcome == "timeout":
            self.log.info("%s", await hook.acancel_if_queued(generation_id, generation))
            return "timeout", "timeout", True
        if outcome == "failed" and generation is not None:
            error = SeedanceGenerationError("", generation)
            return "failed", failure_reason(error), error.retryable
        if isinstance(failure, SeedanceNotFoundError):
            return "error", UNKNOWN_GENERATION, True
        return "error", failure_reason(failure) if failure else "error", True

    async def _poll(self, hook: SeedanceHook, generation_id: str) -> Generation:
        """One status request, bounded by the deadline (the client's own retries never carry it far past)."""
        self.polls += 1
        budget = max(self.deadline - self.clock(), FINAL_POLL_BUDGET)
        try:
            return await asyncio.wait_for(hook.aget_generation(generation_id), timeout=budget)
        except asyncio.TimeoutError:
            raise SeedanceConnectionError(f"polling generation {generation_id} took over {budget:.0f} s") from None

    async def on_kill(self) -> None:
        """A user marked the task failed or success, or cleared it (Airflow 3.3+ calls this in the triggerer):
        each generation not yet ended is cancelled where its API can (ModelArk, while queued),
        ``poll_concurrency`` at a time; the others go on rendering at the vendor's, billed, and are not saved.
        One line in the log counts what was cancelled; the triggerer bounds the whole (``[triggerer]
        on_kill_timeout``)."""
        if not self.cancel_on_kill:
            return
        statuses = self._statuses or [""] * len(self.generation_ids)
        unfinished: dict[int, list[str]] = {}
        for position, generation_id in enumerate(self.generation_ids):
            if generation_id and not statuses[position]:
                unfinished.setdefault(self.conn_indexes.get(str(position), 0), []).append(generation_id)
        connections = [self.seedance_conn_id, *self.fallback_conn_ids]
        gate = asyncio.Semaphore(self.poll_concurrency)
        for conn_index, generation_ids in sorted(unfinished.items()):
            hook = SeedanceHook(connections[conn_index])
            try:
                backend = (await hook.aget_settings()).backend
            except SeedanceError as exc:
                self.log.warning(
                    "Killed: %d generations on %s not cancelled: %s", len(generation_ids), connections[conn_index], exc
                )
                continue
            if not backend.supports_cancel:
                self.log.info(
                    "Killed: %s cannot cancel generations; %d unfinished keep rendering there",
                    backend.name,
                    len(generation_ids),
                )
                continue
            cancelling = (self._cancel_if_queued(hook, backend, gate, gid) for gid in generation_ids)
            cancelled = await asyncio.gather(*cancelling)
            self.log.info(
                "Killed: %d of %d unfinished generations on %s cancelled while queued; the rest keep rendering",
                sum(cancelled),
                len(generation_ids),
                backend.name,
            )

    @staticmethod
    async def _cancel_if_queued(
        hook: SeedanceHook, backend: Backend, gate: asyncio.Semaphore, generation_id: str
    ) -> bool:
        """Whether ``generation_id`` was cancelled: polled first, cancelled only while queued."""
        async with gate:
            try:
                generation = await hook.aget_generation(generation_id)
                cancel, _ = backend.cancel_decision(generation_id, generation)
                if cancel:
                    await hook.acancel_generation(generation_id)
            except SeedanceError:
                return False
        return cancel

    async def _progress(self, statuses: list[PollStatus], total: int) -> None:
        """A line every ``PROGRESS_EVERY`` seconds of real time (the injected sleep drives the polls only)."""
        while True:
            await asyncio.sleep(PROGRESS_EVERY)
            counts = counts_of(list(statuses))
            self.log.info("Batch: %d of %d generations ended %s", sum(counts.values()), total, counts)
