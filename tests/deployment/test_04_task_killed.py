"""Scenario 4: the task process is SIGKILLed after it submitted and before it deferred. The Airflow retry
reattaches to the same generation instead of paying for a second one.

A real crash hits a window of milliseconds; the crash DAG's operator holds its first try inside the window
(``pause_at``) and the suite kills the process from outside, found by its title ``airflow worker -- <ti id>``:
- ``before_defer``: the generation id is persisted (task state store); the retry reattaches through it.
- ``after_submit`` (EvoLink): the create call returned but nothing was persisted yet; the retry sends the
  same Idempotency-Key and the API answers with the same generation.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

from tests.deployment.conftest import emulator_counts, fill_row, verify_video
from tests.deployment.harness import Deployment, DeploymentError, RunWatch
from tests.deployment.processes import cmdline, descendants

pytestmark = pytest.mark.timeout(900)

ITEMS = [
    {"backend": "evolink", "prompt": "[render:8] a lantern in the fog, take 0", "pause_at": "before_defer"},
    {"backend": "aimlapi", "prompt": "[render:8] a lantern in the fog, take 1", "pause_at": "before_defer"},
    {"backend": "modelark", "prompt": "[render:8] a lantern in the fog, take 2", "pause_at": "before_defer"},
    {"backend": "evolink", "prompt": "[render:8] a lantern in the fog, take 3", "pause_at": "after_submit"},
]


def _xcom_or_none(watch: RunWatch, map_index: int, key: str) -> Any:
    try:
        return watch.xcom(map_index, key=key)
    except DeploymentError:
        return None


def test_task_killed_between_submit_and_defer(deploy: Deployment, emulator: Any, scenario: Any) -> None:
    row = scenario("4 task SIGKILLed after submit")
    watch = RunWatch.trigger(deploy, "seedance_deploy_crash", ITEMS, "crash")

    # Wait until every first try is inside its window: all four creates reached the API, and the
    # before_defer ones have persisted their id (the XCom is pushed right before defer()).
    persisted: dict[int, str] = {}
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        deploy.check_services()
        for index in (0, 1, 2):
            if index not in persisted and (value := _xcom_or_none(watch, index, "seedance_generation_id")):
                persisted[index] = value
        if len(persisted) == 3 and emulator.stats()["creates_total"] == len(ITEMS):
            break
        time.sleep(0.5)
    else:
        raise DeploymentError(f"the first tries did not reach their windows: {persisted}, {emulator.stats()}")
    first_creates = [r for r in emulator.requests() if r["kind"] == "create"]
    time.sleep(1.0)  # the after_submit try is now sleeping right after the create answer

    killed = {}
    for ti in watch.generate_tis():
        assert ti["state"] == "running" and ti["try_number"] == 1, ti
        pid = deploy.task_process(ti["id"])
        if pid is None:
            titles = [cmdline(p) for p in descendants(deploy.services["scheduler"].pid)]
            raise DeploymentError(f"no task process for {ti['id']}; processes: {titles}")
        os.kill(pid, signal.SIGKILL)
        killed[ti["map_index"]] = pid

    run = watch.wait(timeout=300)
    tis = watch.generate_tis()
    counts = emulator_counts(emulator)
    fill_row(row, tis, counts, run)
    row.deferred = len(watch.deferred_indexes())
    row.notes = (
        f"killed {len(killed)} task processes (3 after persisting the id, 1 before); "
        f"{counts['replayed']} create replayed by its Idempotency-Key"
    )

    assert run["state"] == "success", [(ti["map_index"], ti["state"], ti["try_number"]) for ti in tis]
    assert all(ti["state"] == "success" and ti["try_number"] == 2 for ti in tis), tis
    created_ids = {r["task_id"] for r in first_creates}
    results = {ti["map_index"]: watch.xcom(ti["map_index"]) for ti in tis}
    for index, result in results.items():
        verify_video(result)
        assert result["generation_id"] in created_ids, (index, result, created_ids)
    for index, generation_id in persisted.items():
        assert results[index]["generation_id"] == generation_id
        assert "holding" in watch.log(index, 1), "the first try was not killed inside its window"
        assert f"Reattaching to generation {generation_id}" in watch.log(index, 2)
    assert counts["creates"] == len(ITEMS), counts["stats"]
    assert counts["stats"]["creates"] == {"evolink": 2, "aimlapi": 1, "modelark": 1}
    # the EvoLink retry that had nothing persisted sent the create again, and the API replayed it
    assert counts["create_posts"] == len(ITEMS) + 1
    assert counts["replayed"] == 1
    replay = next(r for r in counts["log"] if r["kind"] == "create" and r.get("idempotency_replayed"))
    assert replay["task_id"] == results[3]["generation_id"]
