"""The operator's guarantees in real DAG runs: never pay twice, never lose a video, fail fast when final."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import airflow
import pytest
from packaging.version import Version

from tests.integration.conftest import API_KEY, load_dags, mp4_facts, task_state, xcom

pytestmark = pytest.mark.usefixtures("airflow_db", "connections")
HAS_STATE_STORE = Version(airflow.__version__) >= Version("3.3")


@pytest.fixture(scope="module")
def dags():
    return load_dags("seedance_guarantees.py")


def creates(emulator) -> int:
    return emulator.stats()["creates_total"]


def test_retry_after_a_failed_save_reattaches_without_a_second_create(emulator, dags, output_dir, captured):
    emulator.set_faults({"download": {"truncate": 1.0, "limit": 1}})
    before = creates(emulator)
    try:
        run = dags["seedance_retry_reattach"].test()
    finally:
        emulator.set_faults({})
    log = captured()
    assert task_state(run, "generate") == ("success", 2), log[-3000:]
    assert creates(emulator) - before == 1
    if HAS_STATE_STORE:
        assert "Reattaching to generation" in log
    else:
        # Airflow < 3.3 has no task state store: the retry submits again with the same Idempotency-Key,
        # and EvoLink replays the original task instead of creating (and billing) a second one.
        assert any(r.get("idempotency_replayed") for r in emulator.requests())
    assert mp4_facts(output_dir / "reattach" / "video.mp4")["codec"] == "h264"
    assert [p.name for p in (output_dir / "reattach").iterdir()] == ["video.mp4"]


def test_content_policy_failure_fails_fast_without_retries(emulator, dags, captured):
    before = creates(emulator)
    run = dags["seedance_policy_failure"].test()
    log = captured()
    assert task_state(run, "generate") == ("failed", 1)
    assert creates(emulator) - before == 1
    assert "content_policy_violation" in log


def test_transient_generation_failure_resubmits_on_retry(emulator, dags, captured):
    before = creates(emulator)
    run = dags["seedance_failed_resubmits"].test()
    log = captured()
    assert task_state(run, "generate") == ("failed", 2)
    assert creates(emulator) - before == 2
    assert ("submitting again" in log) is HAS_STATE_STORE


def test_deadline_cancels_and_names_the_generation(emulator, dags, captured):
    cancels = emulator.stats()["cancels"]
    run = dags["seedance_deadline"].test()
    log = captured()
    assert task_state(run, "generate")[0] == "failed"
    assert emulator.stats()["cancels"] - cancels == 1
    generation_id = xcom(run, "generate", key="seedance_generation_id")
    assert generation_id and f"generation {generation_id} did not finish before its deadline" in log


def test_submit_without_waiting_then_sensors(emulator, dags, output_dir):
    run = dags["seedance_submit_then_sense"].test()
    submitted = xcom(run, "submit")
    assert submitted["status"] in ("queued", "running")
    for task_id in ("poke", "deferred"):
        assert task_state(run, task_id)[0] == "success"
        result = xcom(run, task_id)
        assert result["generation_id"] == submitted["generation_id"]
        assert Path(result["output_path"].removeprefix("file://")).stat().st_size == result["size_bytes"]
    assert task_state(run, "reschedule")[0] == "success"
    rescheduled = xcom(run, "reschedule")
    assert (rescheduled["generation_id"], rescheduled["output_path"]) == (submitted["generation_id"], None)


def test_mapped_generation_gives_one_video_per_map_index(emulator, dags, output_dir):
    before = creates(emulator)
    run = dags["seedance_mapped"].test()
    shapes = []
    for index in range(3):
        assert task_state(run, "generate", index)[0] == "success"
        result = xcom(run, "generate", map_index=index)
        assert result["output_path"].endswith(f"/mapped/{index}.mp4")
        facts = mp4_facts(output_dir / "mapped" / f"{index}.mp4")
        shapes.append(round(facts["width"] / facts["height"], 2))
    assert shapes == [round(9 / 16, 2), round(16 / 9, 2), 1.0]
    assert creates(emulator) - before == 3


def test_the_api_key_is_nowhere_in_the_metadata_database_or_logs(airflow_db):
    """Runs last in this module: every DAG above has written its XComs, rendered fields and logs."""
    database = airflow_db / "airflow.db"
    with sqlite3.connect(database) as db:
        tables = [row[0] for row in db.execute("select name from sqlite_master where type='table'")]
        assert {"xcom", "rendered_task_instance_fields", "trigger", "task_instance"} <= set(tables)
        for table in tables:
            for row in db.execute(f"select * from {table}"):
                assert API_KEY not in repr(row), f"API key found in table {table}"
    assert API_KEY.encode() not in database.read_bytes()
    for path in airflow_db.rglob("*.log"):
        assert API_KEY not in path.read_text(errors="replace"), path
