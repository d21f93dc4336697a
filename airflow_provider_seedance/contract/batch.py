"""A batch of renders as typed boundaries: the versioned record kept in the task state store (item index ->
generation id and the connection that accepted it, written as each create is accepted), the batch trigger's one
event, each item's result, and the failure policy as a pure function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from airflow_provider_seedance.contract.submission import request_hash
from airflow_provider_seedance.models import VideoRequest

#: The task state store keys of a batch's record: ``seedance_batch.0``, ``seedance_batch.1``, ... one per
#: ``SHARD_SIZE`` items (item ``i`` in shard ``i // SHARD_SIZE``), so that each value stays well under the store's
#: ``max_value_storage_bytes`` (64 KB by default) and a write carries only the shards that changed.
BATCH_STATE_KEY = "seedance_batch"
#: Items per shard: about 125 bytes an item (a 40-character id, digest, submissions, size): 25 KB a shard.
SHARD_SIZE = 200
#: An item whose create may have reached an API without an idempotency key, with no usable answer: never
#: created again (it may have been billed), reported as failed.
UNCERTAIN = ""
#: How a polled generation ended, position by position in the trigger's ``generation_ids`` ("" : not polled).
PollStatus = Literal["succeeded", "failed", "timeout", "error", ""]
#: An item's end: rendered and saved; the render failed; our deadline passed; anything else (a create refused,
#: a create that may have landed, a poll that failed for good, a save that failed); or not created because the
#: ``spend_check`` said so (a budget: not a failure).
ItemStatus = Literal["succeeded", "failed", "timeout", "error", "skipped"]
#: The statuses the failure policy does not count as failed.
NOT_FAILED = ("succeeded", "skipped")
FailurePolicy = str | float
#: The reason of an item whose generation the API no longer knows (404 on its polls): a retry creates it again,
#: as the single operator submits again for a stored id the API does not know.
UNKNOWN_GENERATION = "unknown generation (HTTP 404)"


class BatchRecord(BaseModel):
    """What one batch task instance has submitted, for every later try to reattach instead of paying again.

    ``items`` maps an item's index (as text: JSON keys) to ``[generation_id, item_digest]``; a changed item (a new
    prompt after clearing) has another digest and is created anew. ``ended`` marks the items whose render ended
    without a video: ``[verdict, reason]``, the verdict ``retry`` (transient: a retry creates it again) or ``final``
    (a retry would pay for the same refusal). ``saved`` holds ``[size_bytes, credits]`` of the items whose video
    was saved, ``refused`` the items whose create was refused.

    With ``fallback_conn_ids``, ``conn_index`` maps an item's index to the place, in ``connections`` (the task's
    own connection, then its fallbacks), of the connection its last create was sent to (the one that accepted
    it, once accepted); an item absent from it was sent to the list's first connection (index 0), as every
    item of a record written before failover was to the task's own. Each shard keeps the list its indexes
    point into (always, once written with one), and ``load`` translates every item, those absent from it too,
    to the current list by connection id (a connection no longer listed is added at the end: its items are
    still polled there, never created there again).

    It is stored in shards of ``SHARD_SIZE`` items (``shard_key``); every change goes through a method that marks
    its shard, and ``save`` writes only the shards marked since the last one (``pending_writes``)."""

    model_config = ConfigDict(extra="ignore")

    version: Literal[2] = 2
    items: dict[str, list[str]] = {}
    ended: dict[str, list[str]] = {}
    saved: dict[str, list[float | None]] = {}
    #: Creates made per item index across tries (part of EvoLink's idempotency key).
    submissions: dict[str, int] = {}
    #: The items whose create this try was refused: ``[status, reason, retryable, connection index or None]``.
    refused: dict[str, list[Any]] = {}
    #: The connection ids ``conn_index`` points into: ``seedance_conn_id``, then ``fallback_conn_ids``.
    connections: list[str] = []
    #: Item index -> the place in ``connections`` of the connection of its last create; absent: 0 (the first).
    conn_index: dict[str, int] = {}
    _dirty: set[int] = PrivateAttr(default_factory=set)

    @classmethod
    def load(cls, store: Any, size: int, connections: Sequence[str] = ()) -> BatchRecord:
        """The stored record of a batch of ``size`` items, or an empty one (no store before Airflow 3.3, no
        record); a shard that is unreadable, or of another version, reads as empty. ``connections``: the task's
        connection ids now (its own first), which the record's connection indexes are translated to."""
        record = cls(connections=list(connections))
        if store is None:
            return record
        for shard in range(-(-size // SHARD_SIZE)):
            raw = store.get(shard_key(shard))
            try:
                part = cls.model_validate(raw) if isinstance(raw, dict) else None
            except ValueError:
                part = None
            if part is not None:
                part.conn_index = record._translated(part)
                for name in _FIELDS:
                    getattr(record, name).update(getattr(part, name))
        return record

    def _translated(self, part: BatchRecord) -> dict[str, int]:
        """``part``'s connection indexes as places in this record's ``connections`` (a shard written with
        another list of fallbacks names its connections in its own order; an item of it with no entry is on
        that list's first connection)."""
        if not self.connections:
            self.connections = list(part.connections)
        if not part.connections or part.connections == self.connections:
            return part.conn_index
        slots = set(part.items) | set(part.submissions) | set(part.refused) | set(part.conn_index)
        translated = {}
        for slot in slots:
            index = part.conn_index.get(slot, 0)
            if 0 <= index < len(part.connections):
                conn_id = part.connections[index]
                if conn_id not in self.connections:
                    self.connections.append(conn_id)
                if place := self.connections.index(conn_id):
                    translated[slot] = place
        return translated

    def save(self, store: Any) -> int:
        """Write the shards changed since the last save; how many were written."""
        writes = self.pending_writes()
        if store is not None:
            for key, value in writes:
                store.set(key, value)
        return len(writes)

    def pending_writes(self) -> list[tuple[str, dict[str, Any]]]:
        """The changed shards as ``(key, value)``, taken now (the record may change while they are written)."""
        dirty, self._dirty = sorted(self._dirty), set()
        return [(shard_key(shard), self._shard(shard)) for shard in dirty]

    def _shard(self, shard: int) -> dict[str, Any]:
        # the shard's own slots looked up, not every entry scanned: a write per accepted create stays O(shard)
        slots = [str(index) for index in range(shard * SHARD_SIZE, (shard + 1) * SHARD_SIZE)]
        part: dict[str, Any] = {"version": self.version}
        if self.connections:  # always: an item with no conn_index entry is on this list's first connection
            part["connections"] = self.connections
        for name in _FIELDS:
            entries = getattr(self, name)
            part[name] = {slot: entries[slot] for slot in slots if slot in entries}
        return part

    def _touch(self, index: int) -> str:
        self._dirty.add(index // SHARD_SIZE)
        return str(index)

    def accepted(self, index: int, digest: str) -> str | None:
        """The generation id recorded for this item and digest (``UNCERTAIN`` for a create that may have
        landed), or None: nothing recorded for this request."""
        entry = self.items.get(str(index))
        if not entry or entry[1] != digest:
            return None
        return entry[0]

    def verdict(self, index: int) -> str | None:
        """``retry`` or ``final`` for an item whose render ended without a video, else None."""
        ended = self.ended.get(str(index))
        return ended[0] if ended else None

    def accept(self, index: int, digest: str, generation_id: str) -> None:
        slot = self._touch(index)
        self.items[slot] = [generation_id, digest]
        self.ended.pop(slot, None)
        self.saved.pop(slot, None)
        self.refused.pop(slot, None)

    def send_to(self, index: int, conn_index: int) -> bool:
        """The item's next create goes to connection ``conn_index``; whether that changed the record."""
        if conn_index == self.conn_of(index):
            return False
        slot = self._touch(index)
        if conn_index:
            self.conn_index[slot] = conn_index
        else:
            self.conn_index.pop(slot, None)
        return True

    def sending(self, index: int, conn_index: int) -> bool:
        """A create of the item is about to be sent to ``conn_index``: its connection recorded, and an earlier
        try's refusal of it dropped (this create is not answered yet). True when the store must be written
        before it is sent: else a kill while it is in flight leaves a record that points a retry elsewhere."""
        dropped = self.refused.pop(str(index), None) is not None
        if dropped:
            self._touch(index)
        return self.send_to(index, conn_index) or dropped

    def surely_refused(self, index: int) -> bool:
        """Whether the item's last create was answered with a refusal (so nothing of it may have been billed)."""
        entry = self.refused.get(str(index)) or []
        if str(index) in self.items or len(entry) < 2:
            return False
        return entry[0] == "error" and not str(entry[1]).startswith("uncertain create")

    def conn_of(self, index: int) -> int:
        """The place in ``connections`` of the connection of the item's last create (0: the task's own)."""
        return self.conn_index.get(str(index), 0)

    def count_submission(self, index: int, *, reuse: bool = False) -> int:
        """The number of the item's next create (part of EvoLink's idempotency key): one more than the last,
        or with ``reuse`` the last one again (1 for the first)."""
        last = self.submissions.get(str(index), 0)
        if reuse and last:
            return last
        self.submissions[self._touch(index)] = last + 1
        return last + 1

    def refuse(self, index: int, settled: list[Any]) -> None:
        self.refused[self._touch(index)] = settled

    def end(self, index: int, verdict: str, reason: str) -> None:
        """The item's render ended without a video: ``retry`` (created again) or ``final``."""
        self.ended[self._touch(index)] = [verdict, reason]

    def keep_saved(self, index: int, size_bytes: float, credits: float | None) -> None:
        self.saved[self._touch(index)] = [size_bytes, credits]


_FIELDS = ("items", "ended", "saved", "submissions", "refused", "conn_index")


def shard_key(shard: int) -> str:
    """The task state store key of a batch record's shard."""
    return f"{BATCH_STATE_KEY}.{shard}"


def item_digest(backend: str, request: VideoRequest) -> str:
    """The item's request digest (``submission.request_hash``), shortened: the record stays small."""
    return request_hash(backend, request)[:16]


class BatchEvent(BaseModel):
    """The one event a ``SeedanceBatchTrigger`` yields: its ids and a status word per position, a short reason
    for each one that did not succeed, and the counts. No video link, no prompt."""

    model_config = ConfigDict(extra="ignore")

    #: The trigger's ``generation_ids``, as given: one per item, "" where nothing was polled.
    generation_ids: list[str]
    statuses: list[PollStatus]
    #: Position (as text) -> a few words: ``failed: content_policy_violation``, ``timeout``, ``HTTP 404``.
    reasons: dict[str, str] = {}
    counts: dict[str, int] = {}
    #: Positions whose render failed for a reason no retry can fix (a content policy, an invalid input).
    final: list[int] = []
    polls: int = 0
    deadline: float | None = None
    #: The trigger's connections (``seedance_conn_id`` first) and, by position, the place in that list of the
    #: connection each generation was polled on, where not the first: the worker saves each video there.
    connections: list[str] = []
    conn_indexes: dict[str, int] = {}
    #: With ``save_in_triggerer``: how many items the trigger saved (their outcomes are in XCom, not here).
    saved: int = 0


class BatchItemResult(BaseModel):
    """One item of the list a ``SeedanceBatchGenerateVideosOperator`` returns (in the order of ``requests``)."""

    model_config = ConfigDict(extra="forbid")

    item_index: int
    name: str | None = None
    status: ItemStatus
    #: Why it did not succeed, in a few words (``exceptions.failure_reason``); None on success.
    reason: str | None = None
    generation_id: str | None = None
    credits: float | None = None
    output_path: str | None = None
    size_bytes: int | None = None
    #: The API's result link (valid 24 hours): what a batch without ``output_path`` keeps.
    video_url: str | None = None
    #: Whether an Airflow retry renders (or saves) it again: False for a final refusal or a possible charge.
    retryable: bool = False
    #: The connection (and its backend) of the item's last create: the one that rendered it, or that refused it
    #: last; None when nothing was sent (``skipped``, or every connection had refused other items for sure).
    conn_id: str | None = None
    backend: str | None = None

    def to_xcom(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def check_failure_policy(policy: Any) -> FailurePolicy:
    """``"any"`` (fail the task when any item failed), ``"never"``, or the largest share of items that may fail
    (a number from 0 to 1: 0.1 fails the task when more than 10% failed); anything else raises naming it."""
    if policy in ("any", "never"):
        return str(policy)
    if isinstance(policy, (int, float)) and not isinstance(policy, bool) and 0 <= policy <= 1:
        return float(policy)
    raise ValueError(
        f"failure_policy={policy!r} is not 'any', 'never' or a share of items from 0 to 1 (e.g. 0.1 fails the "
        "task when more than 10% of its items failed)"
    )


def policy_verdict(policy: FailurePolicy, failed: int, total: int) -> str | None:
    """Why the task fails under ``policy`` with ``failed`` of ``total`` items failed; None when it succeeds."""
    if failed == 0 or policy == "never":
        return None
    if policy == "any":
        return f"{failed} of {total} items failed (failure_policy='any')"
    share = failed / total if total else 0.0
    if isinstance(policy, float) and share > policy:
        return f"{failed} of {total} items failed ({share:.1%}), more than failure_policy={policy:g} allows"
    return None


def counts_of(statuses: list[str]) -> dict[str, int]:
    """How many of each status word (the empty word, "not polled", is left out)."""
    counts: dict[str, int] = {}
    for status in statuses:
        if status:
            counts[status] = counts.get(status, 0) + 1
    return counts
