"""A batch of renders as typed boundaries: the versioned record kept in the task state store (item index ->
generation id, written as each create is accepted), the batch trigger's one event, each item's result, and the
failure policy as a pure function.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from airflow_provider_seedance.contract.submission import request_hash
from airflow_provider_seedance.models import VideoRequest

#: The task state store key of a batch's record (one record per batch task instance).
BATCH_STATE_KEY = "seedance_batch"
#: An item whose create may have reached an API without an idempotency key, with no usable answer: never
#: created again (it may have been billed), reported as failed.
UNCERTAIN = ""
#: How a polled generation ended, position by position in the trigger's ``generation_ids`` ("" : not polled).
PollStatus = Literal["succeeded", "failed", "timeout", "error", ""]
#: An item's end: rendered and saved; the render failed; our deadline passed; anything else (a create refused,
#: a create that may have landed, a poll that failed for good, a save that failed).
ItemStatus = Literal["succeeded", "failed", "timeout", "error"]
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
    was saved, ``refused`` the items whose create was refused."""

    model_config = ConfigDict(extra="ignore")

    version: Literal[1] = 1
    items: dict[str, list[str]] = {}
    ended: dict[str, list[str]] = {}
    saved: dict[str, list[float | None]] = {}
    #: Creates made per item index across tries (part of EvoLink's idempotency key).
    submissions: dict[str, int] = {}
    #: The items whose create this try was refused: ``[status, reason, retryable]``.
    refused: dict[str, list[Any]] = {}

    @classmethod
    def load(cls, store: Any) -> BatchRecord:
        """The stored record, or an empty one (no store before Airflow 3.3, no record, an unreadable one)."""
        raw = store.get(BATCH_STATE_KEY) if store is not None else None
        if not isinstance(raw, dict):
            return cls()
        try:
            return cls.model_validate(raw)
        except ValueError:
            return cls()

    def save(self, store: Any) -> None:
        if store is not None:
            store.set(BATCH_STATE_KEY, self.dump())

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

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
        self.items[str(index)] = [generation_id, digest]
        self.ended.pop(str(index), None)
        self.saved.pop(str(index), None)
        self.refused.pop(str(index), None)


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
