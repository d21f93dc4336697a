"""A batch's saves in the triggerer (``save_in_triggerer``) in real DAG runs against the emulator: the resumed
worker step downloads nothing and returns the results the worker-side saves return; a trigger killed after a
few saves and run again keeps what was saved, saves the rest, and leaves no half-written file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.integration.conftest import API_KEY, load_dags, mp4_facts, sha256_file, task_state, xcom

pytestmark = pytest.mark.usefixtures("airflow_db", "connections")
#: What differs between two renders of the same item: its generation and where it was saved.
RUN_SPECIFIC = {"generation_id", "video_url", "output_path", "size_bytes", "credits"}


@pytest.fixture(scope="module")
def dags():
    return load_dags("seedance_batch_saves.py")


def downloads(emulator) -> int:
    return int(emulator.stats()["downloads"])


def test_the_trigger_saves_every_video_and_the_resumed_step_downloads_nothing(emulator, dags, output_dir, captured):
    before = downloads(emulator)
    run = dags["seedance_batch_saves_in_trigger"].test()
    log = captured()
    assert task_state(run, "render") == ("success", 1)
    assert xcom(run, "render", key="downloads_on_resume") == 0
    assert downloads(emulator) - before == 5  # five renders succeeded, each downloaded once, by the trigger
    assert "Saved 5 videos in the triggerer (0 kept from an earlier run)" in log
    assert "Saving 5 videos" not in log  # the worker's save step did not run
    results = xcom(run, "render")
    assert [r["status"] for r in results] == ["succeeded"] * 4 + ["failed", "succeeded"]
    assert results[4]["reason"].startswith("failed: content_policy_violation") and not results[4]["retryable"]
    folder = output_dir / "batch" / "saves" / "in_trigger"
    assert sorted(p.name for p in folder.iterdir()) == ["0.mp4", "1.mp4", "2.mp4", "3.mp4", "5.mp4"]
    for result in results[:4] + results[5:]:
        path = Path(result["output_path"].removeprefix("file://"))
        assert path.parent == folder and path.stat().st_size == result["size_bytes"] and result["credits"]
        assert result["video_url"] and result["conn_id"] == "seedance_evolink" and result["backend"] == "evolink"
        assert mp4_facts(path)["codec"] == "h264"
    plan = xcom(run, "render", key="seedance_batch_save_plan")
    assert sorted(plan["paths"]) == ["0", "1", "2", "3", "4", "5"]
    ledger = xcom(run, "render", key="seedance_batch_saves.0")
    assert sorted(ledger["items"]) == ["0", "1", "2", "3", "5"]  # outcomes in XCom, per item
    assert xcom(run, "render", key="seedance_batch_saves")["shards"] == [0]  # the shards written, for readers
    assert "XCom not found" not in log  # the trigger reads only what is there
    assert API_KEY not in log and API_KEY not in json.dumps([plan, ledger, results])


def test_the_results_are_those_of_the_worker_side_saves(emulator, dags, output_dir):
    shutil.rmtree(output_dir / "batch" / "saves", ignore_errors=True)  # another run's videos are not replaced
    in_trigger = xcom(dags["seedance_batch_saves_in_trigger"].test(), "render")
    run = dags["seedance_batch_saves_on_worker"].test()
    on_worker = xcom(run, "render")
    assert xcom(run, "render", key="downloads_on_resume") == 5  # the counter sees the worker's downloads
    assert xcom(run, "render", key="seedance_batch_saves.0") is None
    for ours, theirs in zip(in_trigger, on_worker, strict=True):
        assert ours.keys() == theirs.keys()
        assert {k: v for k, v in ours.items() if k not in RUN_SPECIFIC} == {
            k: v for k, v in theirs.items() if k not in RUN_SPECIFIC
        }
        assert (ours["size_bytes"] is None) == (theirs["size_bytes"] is None)


def test_a_trigger_run_again_after_a_kill_saves_only_what_is_missing(emulator, dags, output_dir):
    before = downloads(emulator)
    run = dags["seedance_batch_saves_killed"].test()
    assert task_state(run, "render") == ("success", 1)
    folder = output_dir / "batch" / "killed"
    probe = json.loads((folder / "probe.json").read_text())
    assert len(probe["recorded"]) == 2  # recorded in XCom before the kill
    first_run = probe["downloads"] - before
    assert first_run == 3  # the two recorded and one saved but not recorded
    # the second run downloads every item not recorded (the unrecorded one again: an identical file, kept as it is)
    assert downloads(emulator) - probe["downloads"] == 6 - 2
    assert xcom(run, "render", key="downloads_on_resume") == 0
    unrecorded = folder / f"{probe['unrecorded']}.mp4"
    assert unrecorded.stat().st_ino == probe["unrecorded_inode"]  # not rewritten
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["probe.json"] + [f"{n}.mp4" for n in range(6)]
    )  # no .part
    results = xcom(run, "render")
    assert [r["status"] for r in results] == ["succeeded"] * 6
    for result in results:
        path = Path(result["output_path"].removeprefix("file://"))
        assert path.stat().st_size == result["size_bytes"] and mp4_facts(path)["codec"] == "h264"
    assert len({sha256_file(folder / f"{n}.mp4") for n in range(6)}) == 6


def test_a_mapped_batch_reads_its_own_ledger_and_the_resumed_steps_download_nothing(emulator, dags, output_dir):
    before = downloads(emulator)
    run = dags["seedance_batch_saves_mapped"].test()
    assert downloads(emulator) - before == 4  # two items per map index, each downloaded once, by its trigger
    for map_index in (0, 1):
        assert task_state(run, "render", map_index) == ("success", 1)
        assert xcom(run, "render", key="downloads_on_resume", map_index=map_index) == 0
        results = xcom(run, "render", map_index=map_index)
        assert [r["status"] for r in results] == ["succeeded"] * 2
        for result in results:
            path = Path(result["output_path"].removeprefix("file://"))
            assert path.parent == output_dir / "batch" / "saves" / "mapped" / str(map_index)
            assert path.stat().st_size == result["size_bytes"]
