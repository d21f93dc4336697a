"""A batch's creates, concurrently under a bound on the hooks' async clients, each accepted id put in the batch
record at once and the record written to the task state store by one writer (a write never waits behind
another; a kill loses at most the ids accepted during the write in flight, which EvoLink's key replays). A
create refused for sure (``failover.refusal``) goes to the next connection the ``FailoverGate`` leaves open, and
the item's new connection is in the store before that create is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_provider_seedance.contract._status import is_permanent_failure
from airflow_provider_seedance.contract.batch import UNCERTAIN, BatchRecord
from airflow_provider_seedance.contract.failover import refusal
from airflow_provider_seedance.exceptions import SeedanceError, SeedanceSubmitUncertainError, failure_reason
from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.operators._batch_items import BatchItem
from airflow_provider_seedance.operators._batch_routes import BatchConnections, FailoverGate

#: Keys that may replay an earlier try's failed task in a row, per item, before giving up (EvoLink, no store).
MAX_REPLAYED_FAILURES = 8
#: An item's idempotency key from the item, the place of the connection it is sent to, and its create number.
KeyOf = Callable[[BatchItem, int, int], str]


#: Asked before an item's create: a reason skips the item (nothing is sent), None creates it.
SpendCheck = Callable[[BatchItem], "str | None"]


@dataclass(frozen=True)
class Refused:
    """An item whose create was not accepted (or not sent: ``skipped``): why, whether a retry may send it, and
    the place of the connection that refused it last (None: nothing was sent)."""

    reason: str
    retryable: bool
    status: str = "error"
    conn_index: int | None = None


@dataclass(frozen=True)
class _SureRefusal:
    """A create that surely created nothing: the next connection may be asked."""

    error: SeedanceError
    reason: str


class RecordWriter:
    """Writes the record's changed shards to the store whenever it changed, one write at a time, in a thread (the
    store's calls block on the supervisor; the event loop keeps submitting meanwhile)."""

    def __init__(self, record: BatchRecord, store: Any) -> None:
        self.record, self.store = record, store
        self._dirty = asyncio.Event()
        self._closing = False
        self._waiting: list[asyncio.Future[None]] = []

    def changed(self) -> None:
        self._dirty.set()

    async def flush(self) -> None:
        """Return once a write taken after this call has reached the store (the items moved to another
        connection meanwhile share it): what must be stored before a create is sent."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.append(done)
        self._dirty.set()
        await done

    async def run(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            waiting, self._waiting = self._waiting, []
            writes = self.record.pending_writes()  # taken here: the creates change the record meanwhile
            try:
                for key, value in writes if self.store is not None else ():
                    await asyncio.to_thread(self.store.set, key, value)
            except BaseException as exc:
                for done in waiting:
                    if not done.done():
                        done.set_exception(exc)
                raise
            for done in waiting:
                if not done.done():
                    done.set_result(None)
            if self._closing and not self._dirty.is_set():
                return

    def close(self) -> None:
        self._closing = True
        self._dirty.set()


async def submit_all(
    connections: BatchConnections,
    items: list[BatchItem],
    record: BatchRecord,
    store: Any,
    *,
    key_of: KeyOf,
    concurrency: int,
    spend_check: SpendCheck | None = None,
    log: Any = None,
) -> tuple[dict[int, Refused], list[float]]:
    """Create every item of ``items`` (at most ``concurrency`` at a time), each on the first connection that
    accepts it; the refused ones by index, and the render estimates the accepted ones came back with.
    ``spend_check`` is asked right before each item's first create (in a thread, one item at a time: it may
    read XComs), in item order as the gate lets them through."""
    for hook in connections.listed_hooks:
        await hook.aget_settings()  # once, before the creates: each connection is read a single time
    writer = RecordWriter(record, store)
    writing = asyncio.ensure_future(writer.run())
    gate = asyncio.Semaphore(max(1, concurrency))
    failover = FailoverGate(connections, log or logging.getLogger(__name__))
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
                else await _create(connections, item, record, key_of, failover, writer)
            )
        if isinstance(outcome, Refused):
            refused[item.index] = outcome
        elif outcome.estimated_time_s:
            estimates.append(outcome.estimated_time_s)
        writer.changed()

    creates = [asyncio.ensure_future(one(item)) for item in items]
    try:
        await asyncio.gather(*creates)
    finally:
        # on an error, the items still in flight stop before the last write: what they recorded is in it, and
        # none of them sends a create whose connection would not be stored first
        for create in creates:
            create.cancel()
        await asyncio.gather(*creates, return_exceptions=True)
        writer.close()
        await writing
    return refused, estimates


async def _create(
    connections: BatchConnections,
    item: BatchItem,
    record: BatchRecord,
    key_of: KeyOf,
    failover: FailoverGate,
    writer: RecordWriter,
) -> Refused | Generation:
    """One item's creates, connection after connection while they refuse for sure. An item an earlier try sent
    a create for that was never answered goes first to that create's connection, with its key (a replay, not a
    second charge), or, when that connection is no longer listed, is not sent again (it may have been billed);
    the others start at the first connection this try has not seen refuse."""
    legs = item.legs
    sent = record.conn_of(item.index)
    tried = bool(record.submissions.get(str(item.index))) and not record.surely_refused(item.index)
    # accepted before (its render failed, or the API forgot it): that create was answered, a new one is no replay
    if tried and str(item.index) not in record.items and sent >= len(legs):
        where = connections.conn_ids[sent] if sent < len(connections.hooks) else "?"
        reason = f"uncertain create: an earlier try's create on {where!r}, no longer listed, was never answered"
        return Refused(reason, retryable=False, conn_index=sent)
    conn_index = sent if tried and sent < len(legs) else failover.first_open(0, legs)
    transient = False  # whether any of the item's sure refusals may pass (a 429, a connection down)
    while conn_index is not None:
        outcome = await _create_on(connections, conn_index, item, record, key_of, writer)
        if not isinstance(outcome, _SureRefusal):
            return outcome
        transient = transient or outcome.error.retryable
        following = failover.refused(conn_index, legs, outcome.error, outcome.reason)
        if following is None:
            return Refused(failure_reason(outcome.error), transient, conn_index=conn_index)
        conn_index = following
    reason, retryable = failover.why_closed()
    return Refused(reason, retryable or transient)


async def _create_on(
    connections: BatchConnections,
    conn_index: int,
    item: BatchItem,
    record: BatchRecord,
    key_of: KeyOf,
    writer: RecordWriter,
) -> Refused | Generation | _SureRefusal:
    """The item's create on one connection, as the single operator's ``_submit``: the key of the item's last
    create again, and a key that replays a failed task (an earlier try's render that failed) moves on to the
    next key. The number is kept from one connection to the next (their keys differ by the connection's
    request digest, and are another account's anyway), so that an item's key on a fallback is the same
    whether this try asked the connections before it or went straight there."""
    hook, (request, _) = connections.hooks[conn_index], item.legs[conn_index]
    if record.sending(item.index, conn_index):
        # stored before the create is sent: a try killed while it is in flight leaves its connection, so the
        # retry replays it there with its key instead of creating it again on the task's own connection
        await writer.flush()
    generation: Generation | None = None
    for attempt in range(MAX_REPLAYED_FAILURES):
        # the first create of a try reuses the last key sent: a try killed after sending it (its answer, or its
        # id, never recorded) may have been billed, and the same key replays that task instead of paying again
        submissions = record.count_submission(item.index, reuse=attempt == 0)
        try:
            key = key_of(item, conn_index, submissions)
            generation = await hook.asubmit(request, idempotency_key=key, validate=False)
        except SeedanceSubmitUncertainError as exc:
            record.accept(item.index, item.digest, UNCERTAIN)
            return Refused(f"uncertain create: {failure_reason(exc)}", retryable=False, conn_index=conn_index)
        except SeedanceError as exc:
            sure = refusal(exc, [(await hook.aget_settings()).api_key]) if len(item.legs) > 1 else None
            if sure is not None:  # with fallbacks only: without, every item is asked as before
                return _SureRefusal(exc, sure)
            return Refused(failure_reason(exc), retryable=exc.retryable, conn_index=conn_index)
        ended = generation.is_terminal and generation.state != "succeeded"
        if not (ended and hook.backend.supports_idempotency) or is_permanent_failure(generation):
            break
    assert generation is not None
    record.accept(item.index, item.digest, generation.id)
    return generation
