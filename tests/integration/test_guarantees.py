"""The operator's guarantees in real DAG runs: never pay twice, never lose a video, fail fast when final."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import airflow
import httpx
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


def test_unsaved_video_keeps_its_link_in_xcom_and_a_refused_key_fails_fast(emulator, dags, output_dir, monkeypatch):
    bad = {"conn_type": "seedance", "password": "sk-wrong", "host": emulator.base_url("evolink")}
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_BAD_KEY", json.dumps(bad))
    emulator.set_faults({"download": {"truncate": 1.0, "limit": 1}})
    before = emulator.stats()["creates"]
    try:
        run = dags["seedance_unsaved_and_refused"].test()
    finally:
        emulator.set_faults({})
    # The render succeeded but the download was cut: the id and the link stay in XCom for a person
    assert task_state(run, "unsaved") == ("failed", 1)
    unsaved = xcom(run, "unsaved", key="seedance_unsaved_result")
    assert unsaved["generation_id"] and unsaved["video_url"].startswith(emulator.url)
    folder = output_dir / "unsaved"
    leftovers = list(folder.iterdir()) if folder.exists() else []  # iterdir: the .part temporaries too
    assert unsaved["output_path"] is None and leftovers == []
    # and the Seedance tab's failure record says why, with the generation
    failure = xcom(run, "unsaved", key="seedance_failure")
    assert failure["reason"] == "not saved" and failure["generation_id"] == unsaved["generation_id"], failure
    # A key the API refuses (401): failed on the first try, retries=3 unused, nothing created
    assert task_state(run, "bad_key") == ("failed", 1)
    assert emulator.stats()["creates"]["evolink"] == before["evolink"]


def test_content_policy_failure_fails_fast_without_retries(emulator, dags, captured):
    before = creates(emulator)
    run = dags["seedance_policy_failure"].test()
    log = captured()
    assert task_state(run, "generate") == ("failed", 1)
    assert creates(emulator) - before == 1
    assert "content_policy_violation" in log


def test_transient_generation_failure_resubmits_on_retry(emulator, dags, captured):
    """ModelArk and EvoLink: the retry creates a new generation. Without a state store (Airflow < 3.3) EvoLink
    first replays the failed task under the try's first Idempotency-Key, and the operator moves on to the next."""
    before = creates(emulator)
    run = dags["seedance_failed_resubmits"].test()
    log = captured()
    assert task_state(run, "modelark") == ("failed", 2) and task_state(run, "evolink") == ("failed", 2)
    assert creates(emulator) - before == 4
    assert ("submitting again" in log) is HAS_STATE_STORE
    assert ("replayed an earlier try's" in log) is not HAS_STATE_STORE


def test_a_create_that_may_have_landed_is_not_resubmitted_without_a_key(emulator, dags, captured):
    """AIML API: the create reached the API but its answer was a 500. Retrying could bill twice: fail, once."""
    before = creates(emulator)
    emulator.set_faults({"create": {"500_after_create": 1.0, "limit": 1}})
    try:
        run = dags["seedance_uncertain_create"].test()
    finally:
        emulator.set_faults(None)
    log = captured()
    assert task_state(run, "generate") == ("failed", 1)  # retries=2 unused
    assert creates(emulator) - before == 1
    assert "No idempotency key protects this create call on aimlapi" in log and API_KEY not in log


def test_deadline_cancels_only_queued_renders_names_the_generation_and_is_final(emulator, dags, captured):
    cancels, before = emulator.stats()["cancels"], creates(emulator)
    run = dags["seedance_deadline"].test()
    log = captured()
    phases = {}
    for task_id in ("queued", "running", "queued_on_worker"):
        assert task_state(run, task_id) == ("failed", 1)  # retries=2 unused: a retry would pay again
        generation_id = xcom(run, task_id, key="seedance_generation_id")
        assert generation_id and f"generation {generation_id} did not finish before its deadline" in log
        phases[task_id] = httpx.get(f"{emulator.url}/_emulator/tasks/{generation_id}", timeout=10).json()["phase"]
    # A DELETE only for the queued ones: ModelArk cancels queued tasks only, a running one renders on
    assert phases == {"queued": "cancelled", "running": "running", "queued_on_worker": "cancelled"}
    assert (emulator.stats()["cancels"] - cancels, creates(emulator) - before) == (2, 3)
    assert "cancels only queued generations, so it finishes (and is billed) there" in log


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
    for index, prompt in enumerate(["a red kite", "a blue kite"]):
        assert task_state(run, "by_prompt", index)[0] == "success"
        result = xcom(run, "by_prompt", map_index=index)
        assert (result["prompt"], result["backend"]) == (prompt, "aimlapi")
        assert result["output_path"].endswith(f"/mapped/by_prompt_{index}.mp4")
        # The "Seedance video" extra link, as Airflow stored it for the UI once the task finished
        assert xcom(run, "by_prompt", key="_link_SeedanceVideoLink", map_index=index) == result["video_url"]
    assert creates(emulator) - before == 5


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
