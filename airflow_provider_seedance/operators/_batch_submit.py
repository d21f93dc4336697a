"""A batch's creates, concurrently under a bound on the hook's async client, each accepted id put in the batch
record at once and the record written to the task state store by one writer (a write never waits behind
another; a kill loses at most the ids accepted during the write in flight, which EvoLink's key replays).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_provider_seedance.contract._status import is_permanent_failure
from airflow_provider_seedance.contract.batch import BATCH_STATE_KEY, UNCERTAIN, BatchRecord
from airflow_provider_seedance.exceptions import SeedanceError, SeedanceSubmitUncertainError, failure_reason
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.operators._batch_items import BatchItem

#: Keys that may replay an earlier try's failed task in a row, per item, before giving up (EvoLink, no store).
MAX_REPLAYED_FAILURES = 8
KeyOf = Callable[[BatchItem, int], str]


@dataclass(frozen=True)
class Refused:
    """An item whose create was not accepted: why, and whether a retry may send it again."""

    reason: str
    retryable: bool


class RecordWriter:
    """Writes the record to the store whenever it changed, one write at a time, in a thread (the store's
    calls block on the supervisor; the event loop keeps submitting meanwhile)."""

    def __init__(self, record: BatchRecord, store: Any) -> None:
        self.record, self.store = record, store
        self.writes = 0
        self._dirty = asyncio.Event()
        self._closing = False

    def changed(self) -> None:
        self._dirty.set()

    async def run(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if self.store is not None:
                await asyncio.to_thread(self.store.set, BATCH_STATE_KEY, self.record.dump())
                self.writes += 1
            if self._closing and not self._dirty.is_set():
                return

    def close(self) -> None:
        self._closing = True
        self._dirty.set()


async def submit_all(
    hook: SeedanceHook, items: list[BatchItem], record: BatchRecord, store: Any, *, key_of: KeyOf, concurrency: int
) -> tuple[dict[int, Refused], list[float]]:
    """Create every item of ``items`` (at most ``concurrency`` at a time); the refused ones by index, and the
    render estimates the accepted ones came back with."""
    await hook.aget_settings()  # once, before the creates: the connection is read a single time
    writer = RecordWriter(record, store)
    writing = asyncio.ensure_future(writer.run())
    gate = asyncio.Semaphore(max(1, concurrency))
    refused: dict[int, Refused] = {}
    estimates: list[float] = []

    async def one(item: BatchItem) -> None:
        async with gate:
            outcome = await _create(hook, item, record, key_of)
        if isinstance(outcome, Refused):
            refused[item.index] = outcome
        elif outcome.estimated_time_s:
            estimates.append(outcome.estimated_time_s)
        writer.changed()

    try:
        await asyncio.gather(*(one(item) for item in items))
    finally:
        writer.close()
        await writing
    return refused, estimates


async def _create(hook: SeedanceHook, item: BatchItem, record: BatchRecord, key_of: KeyOf) -> Refused | Generation:
    """One item's create, as the single operator's ``_submit``: a key that replays an earlier try's failed task
    (EvoLink without a state store) moves on to the next key."""
    slot = str(item.index)
    generation: Generation | None = None
    for _ in range(MAX_REPLAYED_FAILURES):
        record.submissions[slot] = record.submissions.get(slot, 0) + 1
        try:
            generation = await hook.asubmit(
                item.request, idempotency_key=key_of(item, record.submissions[slot]), validate=False
            )
        except SeedanceSubmitUncertainError as exc:
            record.accept(item.index, item.digest, UNCERTAIN)
            return Refused(f"uncertain create: {failure_reason(exc)}", retryable=False)
        except SeedanceError as exc:
            return Refused(failure_reason(exc), retryable=exc.retryable)
        ended = generation.is_terminal and generation.state != "succeeded"
        if not (ended and hook.backend.supports_idempotency) or is_permanent_failure(generation):
            break
    assert generation is not None
    record.accept(item.index, item.digest, generation.id)
    return generation
