"""A batch task's results on the Seedance tab: counts per status and one page of items, from one XCom. Pure.

``SeedanceBatchGenerateVideosOperator`` returns a list with one result per item (``contract.batch.
BatchItemResult``), or leaves it in ``seedance_batch_results`` when its failure policy failed the task. Such a
list can hold thousands of items, so it is read in one pass that keeps only the counts, the spend and the page
asked for (:class:`Selection`): what a page holds is bounded whatever the batch's size. Every entry is as
untrusted as a single result: type-checked, its texts bounded, an entry of another shape dropped (counted).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_seedance.plugin.renders import (
    RESULT_KEY,
    Render,
    XComRow,
    bounded_text,
    finite_number,
    saved_path,
    whole_number,
)

#: The XCom the batch operator leaves its results in when its failure policy fails the task.
BATCH_RESULTS_KEY = "seedance_batch_results"
#: An item's status words (``contract.batch.ItemStatus``), in the order the counts show them.
STATUSES = ("succeeded", "failed", "timeout", "error", "skipped")
#: Items per page of a batch task's tab, and shown of each batch on a run's tab (the rest one link away).
PAGE_SIZE = 24
RUN_PREVIEW = 6
#: The most items a page may ask for (``per_page``).
MAX_PAGE_SIZE = 96
#: Batches of a run whose first items its tab shows (a mapped batch task has one per map index); the others
#: show their counts and a link.
RUN_PREVIEW_BATCHES = 10
#: The backend the page across runs counts an item under that names none: nothing was sent (``skipped``, or
#: every connection had refused the try's other items).
NOT_SENT = "not sent"
#: Entries of one batch list read at most; the rest of a longer list is left out (and said to be).
MAX_ITEMS = 100_000
_NAME = 120


@dataclass(frozen=True)
class Selection:
    """Which items of a batch a page shows: one status (or all), one page of ``size`` items (from 1)."""

    status: str | None = None
    page: int = 1
    size: int = PAGE_SIZE

    @classmethod
    def of(cls, status: str | None, page: str | None = None, per_page: str | None = None) -> Selection:
        """From a page's query: an unknown status means all of them, a page that is not a number the first,
        ``per_page`` from 1 to :data:`MAX_PAGE_SIZE` (else :data:`PAGE_SIZE`)."""
        number = int(page) if page and re.fullmatch(r"[0-9]{1,7}", page) else 1
        size = int(per_page) if per_page and re.fullmatch(r"[0-9]{1,3}", per_page) else PAGE_SIZE
        return cls(
            status if status in STATUSES else None, max(number, 1), size if 1 <= size <= MAX_PAGE_SIZE else PAGE_SIZE
        )


@dataclass
class Batch:
    """One batch task instance's results, summed up, with the items of one page as renders."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    run_after: str = ""
    #: The results came from ``seedance_batch_results``: the failure policy failed the task.
    task_failed: bool = False
    selection: Selection = field(default_factory=Selection)
    #: Items per status (only the statuses some item has, in :data:`STATUSES` order).
    counts: dict[str, int] = field(default_factory=dict)
    #: Entries left out: not of an item's shape, or past :data:`MAX_ITEMS`.
    dropped: int = 0
    #: Items of the selected status (all items when none is selected); the page's ones as renders.
    matching: int = 0
    items: list[Render] = field(default_factory=list)
    #: (backend, outcome) -> items, as the page across runs counts them; credits of the succeeded ones.
    outcomes: dict[tuple[str, str], int] = field(default_factory=dict)
    credits: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def pages(self) -> int:
        size = max(self.selection.size, 1)
        return max((self.matching + size - 1) // size, 1)

    @property
    def last_shown(self) -> int:
        return self.first_shown + len(self.items) - 1 if self.items else 0

    @property
    def first_shown(self) -> int:
        """The place (from 1) of the page's first item among the matching ones; 0 when the page is empty."""
        return (self.selection.page - 1) * self.selection.size + 1 if self.items else 0


def _item_index(entry: Any) -> int | None:
    if not isinstance(entry, Mapping):
        return None
    index = whole_number(entry.get("item_index"))
    return index if index is not None and 0 <= index < 10**9 and entry.get("status") in STATUSES else None


def is_batch_result(value: Any) -> bool:
    """Whether an XCom value has the shape of a batch's results: a list whose first entry is an item's
    (a whole ``item_index`` and a status word); the other entries are checked as they are read."""
    return isinstance(value, list) and bool(value) and _item_index(value[0]) is not None


def outcome_of(status: str, reason: str | None) -> str:
    """What the page across runs counts an item as: ``rendered``, ``skipped``, or its reason."""
    if status == "succeeded":
        return "rendered"
    return "skipped" if status == "skipped" else reason or status


def item_render(row: XComRow, entry: Mapping[str, Any]) -> Render:
    """One item of a batch (an entry :func:`is_batch_result` accepts) as a render its tab shows."""
    status = str(entry.get("status"))
    reason = bounded_text(entry.get("reason"))
    return Render(
        dag_id=row.dag_id,
        run_id=row.run_id,
        task_id=row.task_id,
        map_index=row.map_index,
        item_index=_item_index(entry),
        name=bounded_text(entry.get("name"), _NAME),
        generation_id=bounded_text(entry.get("generation_id")),
        backend=bounded_text(entry.get("backend")),
        seedance_conn_id=bounded_text(entry.get("conn_id")),
        status=status,
        credits=finite_number(entry.get("credits")),
        output_path=saved_path(entry.get("output_path")) if status == "succeeded" else None,
        size_bytes=whole_number(entry.get("size_bytes")),
        failure=None if status in ("succeeded", "skipped") else reason or status,
        reason=reason,
        run_after=row.run_after,
    )


def read_batch(row: XComRow, selection: Selection | None = None) -> Batch | None:
    """The batch ``row`` holds (None when it holds none), read in one pass: counts, outcomes and credits of every
    item, renders for the items of the page ``selection`` asks for (the first page of all, by default)."""
    if row.key not in (RESULT_KEY, BATCH_RESULTS_KEY) or not is_batch_result(row.value):
        return None
    chosen = selection or Selection()
    batch = Batch(row.dag_id, row.run_id, row.task_id, row.map_index, row.run_after, row.key == BATCH_RESULTS_KEY)
    batch.selection = chosen
    counts: dict[str, int] = defaultdict(int)
    outcomes: dict[tuple[str, str], int] = defaultdict(int)
    start = (chosen.page - 1) * chosen.size
    for place, entry in enumerate(row.value):
        if place >= MAX_ITEMS or _item_index(entry) is None:
            batch.dropped += 1
            continue
        status = entry["status"]
        counts[status] += 1
        backend = bounded_text(entry.get("backend")) or NOT_SENT
        outcomes[(backend, outcome_of(status, bounded_text(entry.get("reason"))))] += 1
        if status == "succeeded":
            batch.credits += finite_number(entry.get("credits")) or 0.0
        if chosen.status in (None, status):
            if start <= batch.matching < start + chosen.size:
                batch.items.append(item_render(row, entry))
            batch.matching += 1
    batch.counts = {status: counts[status] for status in STATUSES if counts[status]}
    batch.outcomes = dict(outcomes)
    return batch


def batches_of(batches: Iterable[Batch]) -> list[Batch]:
    """One batch per task instance (its return value over the failing task's results), in task order."""
    found: dict[tuple[str, str, str, int], Batch] = {}
    for batch in batches:
        ident = (batch.dag_id, batch.run_id, batch.task_id, batch.map_index)
        if ident not in found or found[ident].task_failed:
            found[ident] = batch
    return sorted(found.values(), key=lambda b: (b.dag_id, b.run_id, b.task_id, b.map_index))


def split_rows(
    rows: Iterable[XComRow], selection: Selection | None = None, max_items: int | None = None
) -> tuple[list[XComRow], list[Batch], bool]:
    """The rows that are not batches, and the batches read from the others (each reduced to its counts and
    page as it comes, so a long list is never kept). With ``max_items``, reading stops at the row that brings
    the batch items read to that many; the flag says whether it stopped before the rows ended."""
    plain: list[XComRow] = []
    batches: list[Batch] = []
    items = 0
    iterator: Iterator[XComRow] = iter(rows)
    for row in iterator:
        batch = read_batch(row, selection)
        if batch is None:
            if row.key != BATCH_RESULTS_KEY:
                plain.append(row)
            continue
        batches.append(batch)
        items += batch.total + batch.dropped
        if max_items is not None and items >= max_items:
            return plain, batches, next(iterator, None) is not None
    return plain, batches, False


def find_item(row: XComRow, item_index: int) -> Render | None:
    """The item ``item_index`` of the batch ``row`` holds, or None (no batch there, no such item)."""
    if not is_batch_result(row.value):
        return None
    entries: list[Any] = row.value[:MAX_ITEMS]
    if item_index < len(entries) and _item_index(entries[item_index]) == item_index:  # the operator's order
        return item_render(row, entries[item_index])
    found = next((entry for entry in entries if _item_index(entry) == item_index), None)
    return None if found is None else item_render(row, found)


def batch_item(rows: Iterable[XComRow], task_id: str, map_index: int, item_index: int) -> Render | None:
    """Item ``item_index`` of the batch of task instance (``task_id``, ``map_index``) among ``rows``: from its
    return value, else from the failing task's results; None when it has no batch or the batch no such item."""
    found: dict[str, XComRow] = {}
    for row in rows:
        if row.task_id == task_id and row.map_index == map_index and row.key in (RESULT_KEY, BATCH_RESULTS_KEY):
            found.setdefault(row.key, row)
    returned = found.get(RESULT_KEY)
    chosen = returned if returned is not None and is_batch_result(returned.value) else found.get(BATCH_RESULTS_KEY)
    return None if chosen is None else find_item(chosen, item_index)


def previewed(batches: list[Batch], limit: int = RUN_PREVIEW_BATCHES) -> list[Batch]:
    """``batches`` with the items of all but the first ``limit`` left out (a run's tab shows their counts)."""
    for batch in batches[limit:]:
        batch.items = []
    return batches
