"""Scenario 20 (Celery): a campaign of 102 mapped renders across the three backends on two Celery workers,
in a pool sized like a vendor's concurrency limit (deferred renders count against it). (This replaced the
LocalExecutor happy path, scenario 1, which ran 20 renders.)"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.deployment.conftest import (
    CELERY_CONCURRENCY,
    emulator_counts,
    fill_row,
    half_written,
    max_in_flight,
    verify_video,
)
from tests.deployment.harness import BACKENDS, Deployment, RunWatch

pytestmark = pytest.mark.timeout(1200)

GENERATIONS = 102
POOL_SLOTS = 24  # more than the 16 worker slots (deferred renders hold none), fewer than the campaign


def ensure_pool(deploy: Deployment, name: str, slots: int) -> None:
    body = {"name": name, "slots": slots, "include_deferred": True, "description": "vendor concurrency limit"}
    created = deploy.api("POST", "/api/v2/pools", json=body, ok=(200, 201, 409))
    if isinstance(created, dict) and created.get("name") == name:
        return
    deploy.api("PATCH", f"/api/v2/pools/{name}", json=body)


def test_celery_campaign_in_a_pool(celery_deploy: Deployment, emulator: Any, celery_scenario: Any) -> None:
    deploy = celery_deploy
    row = celery_scenario(f"20 Celery campaign (mapped x{GENERATIONS}, pool {POOL_SLOTS})")
    ensure_pool(deploy, "seedance_vendor", POOL_SLOTS)
    items = [
        {"backend": BACKENDS[i % 3], "prompt": f"[render:{4 + i % 4}] a hot-air balloon at dawn, take {i}"}
        for i in range(GENERATIONS)
    ]
    watch = RunWatch.trigger(deploy, "seedance_deploy_pooled", items, "campaign")
    run = watch.wait(timeout=1100)
    tis = watch.generate_tis()
    counts = emulator_counts(emulator)
    fill_row(row, tis, counts, run)
    # deferred: each generation has a triggerer part in its task log (renders of 4-7 s can defer and
    # resume between two looks at the REST API, so the states seen are not the measure here)
    trigger_logs = [p for p in deploy.task_log_files() if watch.run_id in str(p) and ".trigger." in p.name]
    deferred = {int(p.parent.name.split("=")[1]) for p in trigger_logs}
    row.deferred = len(deferred)
    in_flight = max_in_flight(counts["log"])
    workers = Counter(str(ti.get("hostname")) for ti in tis)
    row.notes = (
        f"max {in_flight} renders in flight (pool {POOL_SLOTS}, {2 * CELERY_CONCURRENCY} worker slots); "
        f"finished on {dict(sorted(workers.items()))}"
    )

    assert run["state"] == "success", f"run ended {run['state']}: {[(ti['map_index'], ti['state']) for ti in tis]}"
    assert row.succeeded == GENERATIONS
    for ti in tis:
        result = watch.xcom(ti["map_index"])
        assert result["backend"] == items[ti["map_index"]]["backend"]
        verify_video(result)
    assert counts["creates"] == GENERATIONS == counts["create_posts"], counts["stats"]
    assert counts["stats"]["creates"] == {backend: GENERATIONS // 3 for backend in BACKENDS}
    assert row.retries == 0
    assert deferred == set(range(GENERATIONS)), sorted(set(range(GENERATIONS)) - deferred)
    # the pool held the vendor concurrency, and deferring freed the worker slots for more renders than slots
    assert in_flight <= POOL_SLOTS, f"{in_flight} renders in flight in a pool of {POOL_SLOTS}"
    assert in_flight > 2 * CELERY_CONCURRENCY, f"only {in_flight} renders overlapped"
    assert set(workers) == set(deploy.workers), f"both Celery workers should have run tasks: {workers}"
    assert half_written(deploy.output_dir) == []
