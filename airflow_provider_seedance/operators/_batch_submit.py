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
from airflow_provider_seedance.contract.batch import UNCERTAIN, BatchRecord
from airflow_provider_seedance.exceptions import SeedanceError, SeedanceSubmitUncertainError, failure_reason
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.operators._batch_items import BatchItem

#: Keys that may replay an earlier try's failed task in a row, per item, before giving up (EvoLink, no store).
MAX_REPLAYED_FAILURES = 8
KeyOf = Callable[[BatchItem, int], str]


#: Asked before an item's create: a reason skips the item (nothing is sent), None creates it.
SpendCheck = Callable[[BatchItem], "str | None"]


@dataclass(frozen=True)
class Refused:
    """An item whose create was not accepted (or not sent: ``skipped``): why, and whether a retry may send it."""

    reason: str
    retryable: bool
    status: str = "error"


class RecordWriter:
    """Writes the record's changed shards to the store whenever it changed, one write at a time, in a thread (the
    store's calls block on the supervisor; the event loop keeps submitting meanwhile)."""

    def __init__(self, record: BatchRecord, store: Any) -> None:
        self.record, self.store = record, store
        self._dirty = asyncio.Event()
        self._closing = False

    def changed(self) -> None:
        self._dirty.set()

    async def run(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            writes = self.record.pending_writes()  # taken here: the creates change the record meanwhile
            for key, value in writes if self.store is not None else ():
                await asyncio.to_thread(self.store.set, key, value)
            if self._closing and not self._dirty.is_set():
                return

    def close(self) -> None:
        self._closing = True
        self._dirty.set()


async def submit_all(
    hook: SeedanceHook,
    items: list[BatchItem],
    record: BatchRecord,
    store: Any,
    *,
    key_of: KeyOf,
    concurrency: int,
    spend_check: SpendCheck | None = None,
) -> tuple[dict[int, Refused], list[float]]:
    """Create every item of ``items`` (at most ``concurrency`` at a time); the refused ones by index, and the
    render estimates the accepted ones came back with. ``spend_check`` is asked right before each create (in a
    thread, one item at a time: it may read XComs), in item order as the gate lets them through."""
    await hook.aget_settings()  # once, before the creates: the connection is read a single time
    writer = RecordWriter(record, store)
    writing = asyncio.ensure_future(writer.run())
    gate = asyncio.Semaphore(max(1, concurrency))
    refused: dict[int, Refused] = {}
    estimates: list[float] = []

    checking = asyncio.Lock()

    async def one(item: BatchItem) -> None:
        async with gate:
            reason = None
            if spend_check is not None:
                async with checking:
                    reason = await asyncio.to_thread(spend_check, item)
            outcome = (
                Refused(str(reason), retryable=False, status="skipped")
                if reason
                else await _create(hook, item, record, key_of)
            )
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
    """One item's create, as the single operator's ``_submit``: the key of the item's last create again, and a key
    that replays a failed task (an earlier try's render that failed) moves on to the next key."""
    generation: Generation | None = None
    for attempt in range(MAX_REPLAYED_FAILURES):
        # the first create of a try reuses the last key sent: a try killed after sending it (its answer, or its
        # id, never recorded) may have been billed, and the same key replays that task instead of paying again
        submissions = record.count_submission(item.index, reuse=attempt == 0)
        try:
            generation = await hook.asubmit(item.request, idempotency_key=key_of(item, submissions), validate=False)
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
