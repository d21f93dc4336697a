"""Scenario 1: a mapped DAG of 20 generations across the three backends, in a real deployment."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deployment.conftest import PARALLELISM, emulator_counts, fill_row, max_in_flight, verify_video
from tests.deployment.harness import BACKENDS, Deployment, RunWatch

pytestmark = pytest.mark.timeout(900)

GENERATIONS = 20


def test_mapped_generations_across_backends(deploy: Deployment, emulator: Any, scenario: Any) -> None:
    row = scenario("1 happy path (mapped x20)")
    items = [
        {"backend": BACKENDS[i % 3], "prompt": f"[render:{20 + i % 5}] a paper boat on a lake, take {i}"}
        for i in range(GENERATIONS)
    ]
    watch = RunWatch.trigger(deploy, "seedance_deploy_batch", items, "happy")
    run = watch.wait(timeout=420)
    tis = watch.generate_tis()
    counts = emulator_counts(emulator)
    fill_row(row, tis, counts, run)
    row.deferred = len(watch.deferred_indexes())
    in_flight = max_in_flight(counts["log"])
    triggerers = sorted({h for hosts in watch.triggerers_seen.values() for h in hosts})
    row.notes = (
        f"max {in_flight} renders in flight on {PARALLELISM} worker slots; triggerers used: {', '.join(triggerers)}"
    )

    assert run["state"] == "success", f"run ended {run['state']}: {[(ti['map_index'], ti['state']) for ti in tis]}"
    assert len(tis) == GENERATIONS
    assert row.succeeded == GENERATIONS
    for ti in tis:
        result = watch.xcom(ti["map_index"])
        assert result["status"] == "succeeded"
        assert result["backend"] == items[ti["map_index"]]["backend"]
        verify_video(result)
    assert counts["creates"] == GENERATIONS, counts["stats"]
    assert counts["create_posts"] == GENERATIONS
    assert counts["stats"]["creates"] == {"evolink": 7, "aimlapi": 7, "modelark": 6}
    assert row.retries == 0, "no generation should have needed an Airflow retry"
    # Deferred: every task was seen in the deferred state through the REST API, its trigger ran in a
    # triggerer, and more renders were in flight at once than there are worker slots.
    assert watch.deferred_indexes() == set(range(GENERATIONS)), watch.states_seen
    assert triggerers and set(triggerers) <= {"triggerer-1", "triggerer-2"}
    assert in_flight > PARALLELISM, f"only {in_flight} renders overlapped; worker slots: {PARALLELISM}"
    trigger_logs = [p for p in deploy.task_log_files() if watch.run_id in str(p) and ".trigger." in p.name]
    assert len(trigger_logs) >= GENERATIONS, "every generation should have a triggerer log part"
