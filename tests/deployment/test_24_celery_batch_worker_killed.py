"""Scenario 24 (Celery): the Celery worker running a batch task SIGKILLed halfway through its creates.

One ``SeedanceBatchGenerateVideosOperator`` task renders 30 items on EvoLink, two creates at a time, each
create answered after a second (the emulator's ``slow`` fault), so the submissions take about 15 s. While
they go on, the worker holding the task is killed: by then some ids are in the task state store, some creates
were sent and not answered, the rest not sent. The scheduler's heartbeat timeout fails the try; the retry, on
the other worker, reattaches to every recorded id, sends again the creates whose answers were lost (the same
Idempotency-Key: EvoLink replays the task) and creates only the rest: one create per item, every video saved,
nothing half-written.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.deployment.conftest import emulator_counts, fill_row, half_written
from tests.deployment.harness import Deployment, DeploymentError, RunWatch

pytestmark = pytest.mark.timeout(900)

ITEMS = [{"prompt": f"[render:4] a desk lamp on a white table, take {n}"} for n in range(30)]
SLOW_CREATES = {"slow_seconds": 1.0, "create": {"slow": 1.0}}
PLAN = re.compile(r"Batch of (\d+) items: (\d+) to create, (\d+) to reattach to, (\d+) settled by earlier tries")


def recorded_ids(deploy: Deployment, run_id: str) -> dict[str, str]:
    """Item index -> generation id, as the batch's shards in the task state store hold them now."""
    rows = deploy.query(
        "SELECT value FROM task_state_store WHERE dag_id = %s AND run_id = %s AND key LIKE %s",
        ("seedance_deploy_catalog", run_id, "seedance_batch.%"),
    )
    ids: dict[str, str] = {}
    for (value,) in rows:
        for slot, (generation_id, _digest) in json.loads(value).get("items", {}).items():
            ids[slot] = generation_id
    return ids


def test_celery_worker_killed_halfway_through_a_batch(
    celery_deploy: Deployment, emulator: Any, celery_scenario: Any
) -> None:
    deploy = celery_deploy
    row = celery_scenario("24 Celery worker SIGKILLed halfway through a batch's creates")
    emulator.set_faults(SLOW_CREATES)
    watch = RunWatch.trigger(deploy, "seedance_deploy_catalog", ITEMS, "batch-kill")

    # halfway: some ids recorded, creates still to come
    deadline, recorded, holder = time.monotonic() + 300, {}, None
    while time.monotonic() < deadline:
        deploy.check_services()
        held = watch.generate_tis()
        if held and held[0]["state"] == "running":
            holder = held[0]["hostname"]
            recorded = recorded_ids(deploy, watch.run_id)
            if len(recorded) >= 6:
                break
        time.sleep(0.3)
    else:
        raise DeploymentError(f"the batch did not record 6 ids while running: {recorded}, {emulator.stats()}")
    assert holder in deploy.workers, holder
    deploy.services[holder].sigkill()
    killed_at = time.time()
    created_before_kill = emulator.stats()["creates_total"]
    recorded = recorded_ids(deploy, watch.run_id)  # what the killed try left (it can write no more)
    assert created_before_kill < len(ITEMS), "the creates were over before the kill: nothing was tested"
    emulator.set_faults({})

    run = watch.wait(timeout=600)
    tis = watch.generate_tis()
    counts = emulator_counts(emulator)
    fill_row(row, tis, counts, run)
    row.generations, row.deferred = len(ITEMS), len(watch.deferred_indexes())
    deploy.restart(holder)  # two workers again for the next scenarios
    deploy.wait_worker_ready(holder)

    assert run["state"] == "success", tis
    (ti,) = tis
    assert ti["state"] == "success" and ti["try_number"] == 2 and ti["hostname"] != holder, ti
    planned = PLAN.search(watch.log(-1, 2))
    assert planned, "the retry did not log its plan"
    total, to_create, reattached, settled = map(int, planned.groups())
    assert (total, settled) == (len(ITEMS), 0) and to_create + reattached == len(ITEMS)
    assert reattached >= len(recorded), (reattached, len(recorded))
    row.notes = (
        f"killed {holder} after {created_before_kill} of {len(ITEMS)} creates ({len(recorded)} ids recorded); "
        f"the retry reattached to {reattached}, sent {to_create} creates ({counts['replayed']} replayed); "
        f"run ended {time.time() - killed_at:.0f}s after the kill"
    )

    # one create per item: the lost answers replayed by their key, nothing paid twice
    assert counts["creates"] == len(ITEMS), counts["stats"]
    # every POST created, or was replayed, or was one of the two in flight (held by the slow fault) when the
    # worker died: the emulator never created those
    in_flight = counts["create_posts"] - len(ITEMS) - counts["replayed"]
    assert 0 <= in_flight <= 2, counts["stats"]
    results = watch.xcom(-1)
    assert [r["item_index"] for r in results] == list(range(len(ITEMS)))
    assert {r["status"] for r in results} == {"succeeded"}, [r for r in results if r["status"] != "succeeded"]
    assert len({r["generation_id"] for r in results}) == len(ITEMS)
    for slot, generation_id in recorded.items():
        assert results[int(slot)]["generation_id"] == generation_id, (slot, results[int(slot)])
    run_dir = deploy.output_dir / watch.run_id
    for result in results:
        path = Path(result["output_path"].removeprefix("file://"))
        data = path.read_bytes()
        assert path.parent == run_dir and data[4:8] == b"ftyp" and len(data) == result["size_bytes"], result
    assert half_written(deploy.output_dir) == []
