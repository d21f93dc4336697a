"""What the Seedance tab shows: a run's renders read from its tasks' XComs. Pure.

A render is found wherever a task's ``return_value`` has the shape of a ``VideoResult`` (the operator's and
the sensor's result, in any DAG) or a task left a ``seedance_failure`` (the operator's last error, as a
reason word). Values are read defensively: an XCom is only as trusted as the task that wrote it, so every
field is type-checked and every text bounded before it reaches a page.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_seedance.contract._vendor_text import inert
from airflow_provider_seedance.plugin.addresses import task_instance_query

RESULT_KEY = "return_value"
FAILURE_KEY = "seedance_failure"
#: What a page shows of a prompt, a reason or a path at most.
MAX_TEXT = 600
MAX_PATH = 4096


@dataclass(frozen=True)
class XComRow:
    """One XCom of a run, as the API server read it."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    key: str
    value: Any
    run_after: str = ""


@dataclass
class Render:
    """One render of a run: what its task returned (or the reason it failed)."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    generation_id: str | None = None
    backend: str | None = None
    seedance_conn_id: str | None = None
    model: str | None = None
    status: str | None = None
    prompt: str | None = None
    duration: int | None = None
    quality: str | None = None
    aspect_ratio: str | None = None
    credits: float | None = None
    render_s: float | None = None
    output_path: str | None = None
    size_bytes: int | None = None
    draft: bool = False
    failure: str | None = None
    #: Filled in by the campaign's manifest when the run is a campaign's: the clip's status and fate.
    review: str | None = None
    fate: str | None = None
    review_task_id: str | None = None
    run_after: str = ""
    #: Whether the saved file is still there (None: not looked at).
    present: bool | None = None
    #: A batch's item (``plugin.batches``): its place in the batch, its name and the reason it did not succeed.
    item_index: int | None = None
    name: str | None = None
    reason: str | None = None

    @property
    def saved(self) -> bool:
        return bool(self.output_path)

    @property
    def shown_path(self) -> str:
        """Where the video was saved, as a page may show it: no user, password or query (a signature)."""
        return shown_address(self.output_path or "")

    @property
    def query(self) -> str:
        """The query string of this render's media and poster routes: its task instance (and a batch's item
        index), never a file path."""
        return task_instance_query(self.dag_id, self.run_id, self.task_id, self.map_index, self.item_index)


def shown_address(address: str) -> str:
    """``address`` without its userinfo, query and fragment, bounded."""
    parts = urlsplit(address)
    if parts.scheme and parts.netloc:
        address = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
    return inert(address, MAX_TEXT) or ""


def bounded_text(value: Any, limit: int = MAX_TEXT) -> str | None:
    """A text field of an XCom, control characters escaped and cut to ``limit``; None for anything else."""
    return inert(value, limit) if isinstance(value, str) and value else None


def saved_path(value: Any) -> str | None:
    """A saved video's location, kept whole (it is looked up, never shown unescaped); absurd ones dropped."""
    return value if isinstance(value, str) and 0 < len(value) <= MAX_PATH and "\x00" not in value else None


def finite_number(value: Any) -> float | None:
    """A price or a time: a finite number of at least 0 (never a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def whole_number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def is_video_result(value: Any) -> bool:
    """Whether an XCom value has the shape of a ``VideoResult`` (the three fields every result has)."""
    return isinstance(value, Mapping) and all(
        isinstance(value.get(name), str) and value.get(name) for name in ("generation_id", "backend", "status")
    )


def render_from_result(row: XComRow) -> Render:
    """A render from a ``VideoResult``-shaped ``return_value`` (see :func:`is_video_result`)."""
    value: Mapping[str, Any] = row.value
    return Render(
        dag_id=row.dag_id,
        run_id=row.run_id,
        task_id=row.task_id,
        map_index=row.map_index,
        generation_id=bounded_text(value.get("generation_id")),
        backend=bounded_text(value.get("backend")),
        seedance_conn_id=bounded_text(value.get("seedance_conn_id")),
        model=bounded_text(value.get("model")),
        status=bounded_text(value.get("status")),
        prompt=bounded_text(value.get("prompt")),
        duration=whole_number(value.get("duration")),
        quality=bounded_text(value.get("quality")),
        aspect_ratio=bounded_text(value.get("aspect_ratio")),
        credits=finite_number(value.get("credits")),
        render_s=finite_number(value.get("render_s")),
        output_path=saved_path(value.get("output_path")),
        size_bytes=whole_number(value.get("size_bytes")),
        draft=value.get("draft") is True,
        run_after=row.run_after,
    )


def renders_of(rows: Iterable[XComRow]) -> list[Render]:
    """Every render the rows name, one per task instance, in task and map-index order."""
    found: dict[tuple[str, str, str, int], Render] = {}
    failures: dict[tuple[str, str, str, int], Mapping[str, Any]] = {}
    for row in rows:
        ident = (row.dag_id, row.run_id, row.task_id, row.map_index)
        if row.key == RESULT_KEY and is_video_result(row.value):
            found[ident] = render_from_result(row)
        elif row.key == FAILURE_KEY and isinstance(row.value, Mapping):
            failures[ident] = row.value
            found.setdefault(ident, Render(*ident, run_after=row.run_after))
    for ident, failure in failures.items():
        render = found[ident]
        if render.status is None:  # the task ended without a result: it failed
            render.failure = bounded_text(failure.get("reason")) or "failed"
            render.backend = render.backend or bounded_text(failure.get("backend"))
            render.seedance_conn_id = render.seedance_conn_id or bounded_text(failure.get("seedance_conn_id"))
            render.generation_id = render.generation_id or bounded_text(failure.get("generation_id"))
            render.model = render.model or bounded_text(failure.get("model"))
    return sorted(found.values(), key=lambda r: (r.dag_id, r.run_id, r.task_id, r.map_index))


def find_render(renders: Iterable[Render], task_id: str, map_index: int) -> Render | None:
    return next((r for r in renders if r.task_id == task_id and r.map_index == map_index), None)
