"""Render times that outlive a triggerer, in real DAG runs against the emulator: a scheduled pipeline's second
run reads what its first returned (``_run_history``) and starts polling warm, after every triggerer restarted
(the process's render-time memory emptied between the runs)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.integration.conftest import load_dags, xcom

pytestmark = pytest.mark.usefixtures("airflow_db", "connections")

#: As in tests/dags/seedance_run_history.py: three mapped renders of 12 s each.
MAPPED, RENDER_S = 3, 12


@pytest.fixture(scope="module")
def dag():
    return load_dags("seedance_run_history.py")["seedance_run_history"]


def status_polls(emulator, generation_id: str) -> int:
    return sum(1 for r in emulator.requests() if r["kind"] == "poll" and r["task_id"] == generation_id)


def run(dag, emulator, day: int) -> list[tuple[dict, int]]:
    """One scheduled run on a freshly started triggerer: each mapped result and the status polls it cost."""
    from airflow_provider_seedance.polling._render_memory import RENDER_MEMORY

    RENDER_MEMORY.clear()  # dag.test() runs the triggers in this process: empty, as after a restart
    dag_run = dag.test(logical_date=datetime(2026, 3, day, tzinfo=timezone.utc))
    results = [xcom(dag_run, "render", map_index=i) for i in range(MAPPED)]
    assert all(r and r["status"] == "succeeded" for r in results), results
    return [(r, status_polls(emulator, r["generation_id"])) for r in results]


def test_a_scheduled_pipelines_second_run_starts_from_the_first_ones_render_times(emulator, dag, captured):
    first = run(dag, emulator, 1)
    # Cold: no earlier run, so blind polling (5 s, then a back-off); each result keeps its render time.
    assert all(r["render_history"] == [] for r, _ in first), first
    assert all(abs(r["render_s"] - RENDER_S) <= 4 for r, _ in first), first
    captured()

    second = run(dag, emulator, 2)
    log = captured()
    # Every instance read the first run's three results and handed the trigger their typical time.
    assert all(len(r["render_history"]) == MAPPED for r, _ in second), second
    assert log.count("(earlier runs: typically ") >= MAPPED, log[-3000:]
    polls_first, polls_second = sum(p for _, p in first), sum(p for _, p in second)
    assert polls_second < polls_first, (first, second)
    assert all(p <= 2 for _, p in second), second
