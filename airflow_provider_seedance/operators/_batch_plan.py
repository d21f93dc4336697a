"""What a batch try does with each item, from the record earlier tries left: create it, wait for the generation
already accepted for it, or settle it at once (saved before, a final failure, a create that may have landed);
and each item's result once the trigger has spoken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_provider_seedance.contract.batch import (
    UNCERTAIN,
    UNKNOWN_GENERATION,
    BatchEvent,
    BatchItemResult,
    BatchRecord,
)
from airflow_provider_seedance.operators._batch_items import BatchItem
from airflow_provider_seedance.operators._batch_routes import BatchConnections
from airflow_provider_seedance.operators._batch_submit import Refused
from airflow_provider_seedance.runtime.storage import to_object_path

#: A settled item (nothing to wait for), as the record keeps it: ``[status, reason, retryable, conn_index]``, the
#: last the place of the connection of its last create (None, or absent in older records: nothing known).
Settled = list[Any]
KEPT = "kept"
#: An item that has no generation and no note of why (the note was lost): its create was refused (the deferring
#: try's log says why); a retry creates it.
NOT_CREATED: Settled = ["error", "not created (see the log of the try that submitted)", True]


@dataclass
class TryPlan:
    """This try's items by what happens to them; ``settled`` by item index (as text, as JSON carries it)."""

    create: list[BatchItem] = field(default_factory=list)
    wait: list[BatchItem] = field(default_factory=list)
    settled: dict[str, Settled] = field(default_factory=dict)


def plan_try(items: list[BatchItem], record: BatchRecord) -> TryPlan:
    """Every item placed: one create per item across tries, unless its render failed transiently."""
    plan = TryPlan()
    for item in items:
        generation_id = record.accepted(item.index, item.digest)
        if generation_id is None or record.verdict(item.index) == "retry":
            plan.create.append(item)
        elif (settled := settled_by_record(item, record)) is not None:
            plan.settled[str(item.index)] = settled
        else:
            plan.wait.append(item)
    return plan


def settled_by_record(item: BatchItem, record: BatchRecord) -> Settled | None:
    """How an item with nothing to wait for ended, as the record says; None when its generation is awaited."""
    slot, conn_index = str(item.index), record.conn_of(item.index)
    generation_id = record.accepted(item.index, item.digest)
    if generation_id is None or record.verdict(item.index) == "retry":
        return record.refused.get(slot)
    if generation_id == UNCERTAIN:
        return ["error", "uncertain create: not sent again (it may have been billed)", False, conn_index]
    if record.verdict(item.index) == "final":
        return ["failed", f"{record.ended[slot][1]} (in an earlier try; not created again)", False, conn_index]
    if slot in record.saved and _still_saved(item, record.saved[slot]):
        return [KEPT, None, False, conn_index]
    return None


def _still_saved(item: BatchItem, saved: list[float | None]) -> bool:
    """The file an earlier try saved is still there, of the size it had (else it is saved again, not created)."""
    if item.output_path is None:
        return False
    try:
        return bool(to_object_path(item.output_path).stat().st_size == saved[0])
    except (OSError, ValueError, TypeError):
        return False


def add_refusals(plan: TryPlan, record: BatchRecord, refused: dict[int, Refused]) -> None:
    """The creates refused (for sure, or possibly landed) settle their items, in the plan and the record."""
    for index, refusal in refused.items():
        plan.settled[str(index)] = settled = [refusal.status, refusal.reason, refusal.retryable, refusal.conn_index]
        record.refuse(index, settled)


def ids_to_wait_for(items: list[BatchItem], plan: TryPlan, record: BatchRecord) -> list[str]:
    """One id per item, in item order: the accepted generation, "" for a settled item."""
    return ["" if str(item.index) in plan.settled else record.items[str(item.index)][0] for item in items]


def settled_result(
    item: BatchItem, settled: Settled, record: BatchRecord, connections: BatchConnections
) -> BatchItemResult:
    status, reason, retryable = settled[:3]
    where = connections.facts(settled[3] if len(settled) > 3 else None)
    entry = record.items.get(str(item.index))
    generation_id = entry[0] if entry and entry[0] != UNCERTAIN else None
    if status == KEPT:
        size, credits = (record.saved.get(str(item.index)) or [None, None])[:2]
        return BatchItemResult(
            item_index=item.index,
            name=item.name,
            status="succeeded",
            generation_id=generation_id,
            credits=credits,
            output_path=item.output_path,
            size_bytes=int(size) if size is not None else None,
            **where,
        )
    return BatchItemResult(
        item_index=item.index,
        name=item.name,
        status=status,
        reason=reason,
        generation_id=generation_id,
        retryable=bool(retryable),
        **where,
    )


def polled_result(item: BatchItem, event: BatchEvent, connections: BatchConnections) -> BatchItemResult | None:
    """The result of an item the trigger polled, unless it succeeded (then its video is saved first)."""
    status = event.statuses[item.index]
    if status == "succeeded":
        return None
    reason = event.reasons.get(str(item.index)) or status
    return BatchItemResult(
        **connections.facts(event.conn_indexes.get(str(item.index), 0)),
        item_index=item.index,
        name=item.name,
        status=status or "error",
        reason=reason,
        generation_id=event.generation_ids[item.index] or None,
        # a failed render is created again unless its failure is final; a timeout or a failed poll is waited
        # for again (the generation may have finished meanwhile), never created again
        retryable=status in ("timeout", "error") or (status == "failed" and item.index not in event.final),
    )


def record_outcomes(record: BatchRecord, results: list[BatchItemResult]) -> None:
    """What the next try needs from this one: saved files, renders that ended without a video."""
    for result in results:
        slot = str(result.item_index)
        if result.status == "succeeded" and result.size_bytes is not None:
            record.keep_saved(result.item_index, float(result.size_bytes), result.credits)
        elif result.status == "failed" and slot in record.items and record.items[slot][0] != UNCERTAIN:
            record.end(result.item_index, "retry" if result.retryable else "final", result.reason or "failed")
        elif result.reason == UNKNOWN_GENERATION and slot in record.items:
            record.end(result.item_index, "retry", UNKNOWN_GENERATION)
