"""Scenario 21 (Celery): a Celery worker SIGKILLed while it holds tasks, some right after submitting, some
while downloading the video. The scheduler's task-instance heartbeat timeout (30 s in this deployment)
fails them, the retries run on the other worker: exactly one create per generation on every backend, and
every video saved intact, nothing half-written left.

The tasks are held inside their windows by the crash DAG's operator (``pause_at``), as in a real crash that
hits them by chance: ``after_submit`` (EvoLink: created, id not persisted; the retry's create is answered
by the Idempotency-Key replay), ``before_defer`` (id persisted; the retry reattaches) and ``downloading``
(back from the triggerer, the temporary file half-written). worker-2 is stopped while the tasks start, so
worker-1 holds them all; it is back before worker-1 is killed.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.deployment.conftest import emulator_counts, fill_row, half_written, verify_video
from tests.deployment.harness import BACKENDS, Deployment, DeploymentError, RunWatch

pytestmark = pytest.mark.timeout(900)

VICTIM, SURVIVOR = "worker-1", "worker-2"
ITEMS = [
    {"backend": "evolink", "prompt": "[render:6] a heron at dusk, take 0", "pause_at": "after_submit"},
    *(
        {"backend": backend, "prompt": f"[render:6] a heron at dusk, take {1 + i}", "pause_at": "before_defer"}
        for i, backend in enumerate(BACKENDS)
    ),
    *(
        {"backend": backend, "prompt": f"[render:3] a heron at dusk, take {4 + i}", "pause_at": "downloading"}
        for i, backend in enumerate(BACKENDS)
    ),
]
DOWNLOADING = {4, 5, 6}


def _xcom_or_none(watch: RunWatch, map_index: int, key: str) -> Any:
    try:
        return watch.xcom(map_index, key=key)
    except DeploymentError:
        return None


def test_celery_worker_killed_holding_tasks(celery_deploy: Deployment, emulator: Any, celery_scenario: Any) -> None:
    deploy = celery_deploy
    row = celery_scenario("21 Celery worker SIGKILLed holding tasks")
    deploy.services[SURVIVOR].stop()  # warm shutdown: it holds nothing
    watch = RunWatch.trigger(deploy, "seedance_deploy_crash", ITEMS, "worker-kill")

    # every first try inside its window: the creates reached the API, the before_defer ones persisted
    # their id, the downloading ones have their temporary file open
    persisted: dict[int, str] = {}
    run_dir = deploy.output_dir / watch.run_id
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        deploy.check_services()
        for index in (1, 2, 3):
            if index not in persisted and (value := _xcom_or_none(watch, index, "seedance_generation_id")):
                persisted[index] = value
        parts = {int(p.name[1:4]) for p in half_written(run_dir)} if run_dir.exists() else set()
        if len(persisted) == 3 and emulator.stats()["creates_total"] == len(ITEMS) and parts >= DOWNLOADING:
            break
        time.sleep(0.5)
    else:
        raise DeploymentError(f"the first tries did not reach their windows: {persisted}, {emulator.stats()}")
    first_creates = [r for r in emulator.requests() if r["kind"] == "create"]
    time.sleep(1.0)  # the after_submit try is now sleeping right after the create answer
    held = watch.generate_tis()
    assert all(ti["state"] == "running" and ti["try_number"] == 1 for ti in held), held
    assert {ti["hostname"] for ti in held} == {VICTIM}, [(ti["map_index"], ti["hostname"]) for ti in held]

    deploy.restart(SURVIVOR)
    deploy.wait_worker_ready(SURVIVOR)
    killed_at = time.time()
    deploy.services[VICTIM].sigkill()
    stale_parts = len(half_written(run_dir))

    run = watch.wait(timeout=600)
    tis = watch.generate_tis()
    counts = emulator_counts(emulator)
    fill_row(row, tis, counts, run)
    row.deferred = len(watch.deferred_indexes())
    row.notes = (
        f"killed {VICTIM} holding {len(held)} tasks (1 after submit, 3 before defer, 3 downloading); "
        f"retried on {SURVIVOR} {row.seconds - (killed_at - watch.started):.0f}s before the run ended; "
        f"{counts['replayed']} create replayed; {stale_parts} half-written files removed by the retries"
    )

    deploy.restart(VICTIM)  # two workers again for the next scenarios
    deploy.wait_worker_ready(VICTIM)

    assert run["state"] == "success", [(ti["map_index"], ti["state"], ti["try_number"]) for ti in tis]
    assert all(ti["state"] == "success" and ti["try_number"] == 2 for ti in tis), tis
    assert {ti["hostname"] for ti in tis} == {SURVIVOR}
    created_ids = {r["task_id"] for r in first_creates}
    for index in range(len(ITEMS)):
        result = watch.xcom(index)
        verify_video(result)
        assert result["generation_id"] in created_ids, (index, result, created_ids)
        if index in persisted:
            assert result["generation_id"] == persisted[index]
            assert f"Reattaching to generation {persisted[index]}" in watch.log(index, 2)
    for index in DOWNLOADING:
        assert "holding" in watch.log(index, 1), "the first try was not killed while downloading"
    # exactly one create per generation, on every backend
    assert counts["creates"] == len(ITEMS), counts["stats"]
    assert counts["stats"]["creates"] == {"evolink": 3, "aimlapi": 2, "modelark": 2}
    assert counts["create_posts"] == len(ITEMS) + 1 and counts["replayed"] == 1
    assert stale_parts >= len(DOWNLOADING)
    assert half_written(deploy.output_dir) == [], "a killed download's temporary file was left behind"
