"""A new user's first hour, in real DAG runs against the emulator: no paid render lost to a destination that
cannot be written, no mapped renders overwriting each other, honest create retries, other backends' model
ids refused, errors that say what to do, quiet logs. Wherever money is involved the emulator's create count
is asserted."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.integration.conftest import API_KEY, load_dags, mp4_facts, task_state, xcom

pytestmark = pytest.mark.usefixtures("airflow_db", "connections")


@pytest.fixture(scope="module")
def dags():
    return load_dags("seedance_first_hour.py")


def creates(emulator) -> int:
    return emulator.stats()["creates_total"]


def connection(monkeypatch, conn_id: str, host: str, backend: str, **extra) -> None:
    conn = {"conn_type": "seedance", "password": API_KEY, "host": host, "extra": {"backend": backend, **extra}}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


@pytest.mark.usefixtures("s3fs_missing")
def test_an_output_path_whose_filesystem_is_missing_is_refused_before_any_create(emulator, dags, captured):
    before = creates(emulator)
    run = dags["seedance_output_unwritable"].test()
    log = captured()
    # Refused for good on the first try (a retry cannot install s3fs), and nothing was paid for.
    assert task_state(run, "s3_without_s3fs") == ("failed", 1), log[-3000:]
    assert creates(emulator) == before
    assert "Invalid output_path='s3://seedance-test-bucket/" in log
    assert "in task 's3_without_s3fs'" in log
    assert "install 'apache-airflow-providers-amazon[s3fs]'" in log
    # Airflow asks the extra link for its URL as the task ends: none yet is not an error
    assert "XCom not found" not in log


def test_mapped_renders_that_would_share_one_file_are_refused_before_any_create(emulator, dags, captured):
    before = creates(emulator)
    run = dags["seedance_mapped_one_file"].test()
    log = captured()
    for index in range(3):
        assert task_state(run, "same_path", map_index=index) == ("failed", 1), log[-3000:]
    for index in range(2):
        assert task_state(run, "same_item_paths", map_index=index) == ("failed", 1)
    assert creates(emulator) == before
    assert "every mapped instance of this task would save to this one file" in log
    assert "{{ ti.map_index }}" in log
    assert "several mapped items save to" in log


def test_a_different_existing_file_is_kept_unless_replace_is_set(emulator, dags, output_dir, captured):
    folder = output_dir / "existing"
    folder.mkdir(parents=True, exist_ok=True)
    other = b"\x00\x00\x00\x18ftypmp42" + b"another generation's video" * 10
    (folder / "keep.mp4").write_bytes(other)
    (folder / "replace.mp4").write_bytes(other)
    before = creates(emulator)
    run = dags["seedance_existing_file"].test()
    log = captured()
    # keep: rendered once, not saved over the other file; its id and link stay in XCom for a person
    assert task_state(run, "keep") == ("failed", 1), log[-3000:]
    assert (folder / "keep.mp4").read_bytes() == other
    unsaved = xcom(run, "keep", key="seedance_unsaved_result")
    assert unsaved["generation_id"] and unsaved["video_url"].startswith(emulator.url)
    assert "already holds a different video" in log and "replace=True" in log
    # replace=True: the other file is replaced by a playable video
    assert task_state(run, "replace") == ("success", 1)
    assert mp4_facts(folder / "replace.mp4")["codec"] == "h264"
    assert creates(emulator) - before == 2
    assert sorted(p.name for p in folder.iterdir()) == ["keep.mp4", "replace.mp4"]  # no part files left
    assert "Deferring to the triggerer (no worker slot held) for generation" in log
    assert "if this task stays deferred, start one (`airflow triggerer`)" in log  # issue 20: the hint, each time
    assert "XCom not found" not in log


def test_a_create_that_hangs_is_resent_under_its_key_with_a_log_line_each_time(emulator, dags, monkeypatch, captured):
    connection(monkeypatch, "seedance_evolink_hang", emulator.base_url("evolink"), "evolink", create_timeout=1)
    emulator.set_faults({"create": {"slow": 1.0, "limit": 2}, "slow_seconds": 3})
    before = creates(emulator)
    try:
        run = dags["seedance_create_hangs"].test()
    finally:
        emulator.set_faults({})
    log = captured()
    assert task_state(run, "generate") == ("success", 1), log[-3000:]
    assert creates(emulator) - before == 1  # three sends, one key, one generation
    retries = re.findall(
        r"POST \S+/v1/videos/generations: ReadTimeout.*sending it again in .* \(send (\d) of at most 5", log
    )
    assert retries == ["2", "3"], log[-3000:]
    assert log.count("safe: Idempotency-Key airflow-") >= 2


def test_a_create_that_never_answers_says_how_often_it_was_sent_and_under_which_key(
    emulator, dags, monkeypatch, captured
):
    connection(
        monkeypatch, "seedance_evolink_hang", emulator.base_url("evolink"), "evolink", create_timeout=1, max_retries=1
    )
    emulator.set_faults({"create": {"slow": 1.0}, "slow_seconds": 3})
    try:
        run = dags["seedance_create_hangs"].test()
    finally:
        emulator.set_faults({})
    log = captured()
    assert task_state(run, "generate") == ("failed", 1), log[-3000:]
    message = re.search(r"ReadTimeout[^\n]*\(sent 2 times, every time under Idempotency-Key airflow-\w+: [^\n]*", log)
    assert message, log[-3000:]
    assert "picks it up" in message.group(0)
    assert "was not resent" not in log


def test_another_backends_model_id_is_refused_and_an_unknown_one_warned_once(emulator, dags, captured):
    before = emulator.stats()["creates"]
    run = dags["seedance_model_ids"].test()
    log = captured()
    assert task_state(run, "evolink_id_on_aimlapi") == ("failed", 1), log[-3000:]
    assert "'seedance-2.0-fast-text-to-video' is an EvoLink model id, but this connection's backend is aimlapi" in log
    assert "bytedance/seedance-1-0-pro-fast" in log  # what to use instead
    assert task_state(run, "unknown_model") == ("success", 1)
    assert log.count("'dreamina-seedance-2-0-lite-260301' is not in this provider's limits table") == 1
    after = emulator.stats()["creates"]
    assert after["aimlapi"] == before["aimlapi"]
    assert after["modelark"] - before["modelark"] == 1


def test_connection_mistakes_get_errors_that_say_what_to_do(emulator, dags, monkeypatch, captured):
    connection(monkeypatch, "seedance_wrong_path", emulator.url + "/api/v3", "evolink")
    connection(monkeypatch, "seedance_https_to_http", emulator.url.replace("http://", "https://"), "modelark")
    before = creates(emulator)
    run = dags["seedance_connection_mistakes"].test()
    log = captured()
    assert task_state(run, "wrong_base_url")[0] == "failed", log[-3000:]
    assert re.search(
        r"HTTP 404.*\(POST http://127\.0\.0\.1:\d+/api/v3/v1/videos/generations on connection 'seedance_wrong_path'\): "
        r"check the connection's Base URL and that its Backend field \(evolink\) matches",
        log,
    ), log[-3000:]
    assert task_state(run, "https_to_plain_http")[0] == "failed"
    assert "does not speak TLS: if it is plain HTTP, give the connection's Base URL with http://" in log
    assert creates(emulator) == before
    assert API_KEY not in log


def test_the_connection_id_is_templated(emulator, dags, captured):
    before = emulator.stats()["creates"]
    run = dags["seedance_templated_connection"].test()
    assert task_state(run, "generate") == ("success", 1), captured()[-3000:]
    after = emulator.stats()["creates"]
    assert after["modelark"] - before["modelark"] == 1
    assert xcom(run, "generate")["backend"] == "modelark"


def test_the_first_hour_dags_leave_no_part_files(output_dir: Path):
    assert not list(output_dir.rglob("*.part")), "a half-written file was left behind"
