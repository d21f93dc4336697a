"""Render times that outlive a triggerer: read back from the XCom results earlier runs of the same task left.

A triggerer's render-time memory (``_render_memory``) dies with it and is not shared with another triggerer,
so a scheduled pipeline's next run would start polling blind. Each result the operator returns carries its
spec, its own render time (``render_s``) and the times it started from (``render_history``). Before waiting,
the operator reads its task's results in the previous DAG run (``ti.get_previous_dagrun()``, then
``ti.xcom_pull(task_ids=..., run_id=...)``: every map index in one read, the same on Airflow 3.1 and 3.3) and
derives one typical time by the memory's rule; the trigger gets that number and its sample count, never a
prompt. No Airflow import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_seedance.polling._render_memory import (
    HISTORY_FIELD,
    RENDER_FIELD,
    render_spec,
    samples_from_results,
    typical_time,
)


@dataclass(frozen=True)
class WarmStart:
    """What earlier runs say about this render: the render times read (oldest first) and their typical one."""

    samples: tuple[float, ...] = ()

    @property
    def typical(self) -> float | None:
        return typical_time(self.samples)

    def trigger_kwargs(self) -> dict[str, Any]:
        """The trigger's ``typical_time`` and ``typical_samples``: two numbers, nothing of the request."""
        typical = self.typical
        return {"typical_time": typical, "typical_samples": len(self.samples) if typical else 0}

    def result_fields(self, render_s: float | None) -> dict[str, Any]:
        """The XCom result's ``render_s`` (this render's time as polling saw it) and ``render_history``."""
        return {
            RENDER_FIELD: round(render_s, 3) if render_s else None,
            HISTORY_FIELD: [round(s, 3) for s in self.samples],
        }


def warm_start(context: Any, backend: str, request: Any, log: Any) -> WarmStart:
    """The render times of ``backend`` and ``request``'s spec that earlier results of this task carry. Empty
    when there are none, or when Airflow cannot say (logged: a polling hint never fails a task)."""
    ti = context.get("ti") if hasattr(context, "get") else None
    if ti is None:
        return WarmStart()
    try:
        results = latest_results(ti)
    except Exception as exc:  # any XCom backend, any API error: poll as before
        log.warning("Earlier render times of %s unreadable, polling without them: %s", ti.task_id, exc)
        return WarmStart()
    return WarmStart(tuple(samples_from_results(results, backend, render_spec(request))))


def latest_results(ti: Any) -> list[Any]:
    """Every result of ``ti``'s task in the previous DAG run (all map indexes): one read, of the kind that
    answers an empty list rather than logging "XCom not found" for a run or an index without one. A run
    without a logical date has no previous run: it starts cold."""
    previous = ti.get_previous_dagrun()
    if previous is None:
        return []
    results = ti.xcom_pull(task_ids=ti.task_id, run_id=previous.run_id)
    if results is None:
        return []
    return results if isinstance(results, list) else [results]  # an unmapped task's one result
