"""The operator in real DAG runs (``dag.test()``) against the emulator: every backend x mode x wait mode."""

from __future__ import annotations

import pytest

from tests.integration.conftest import API_KEY, asset_event_extras, load_dags, mp4_facts, sha256_file, task_state, xcom

pytestmark = pytest.mark.usefixtures("airflow_db", "connections")

CASES = [
    (backend, mode, wait)
    for backend, modes in {
        "evolink": ("text", "image", "reference"),
        "aimlapi": ("text", "image"),
        "modelark": ("text", "image", "reference"),
    }.items()
    for mode in modes
    for wait in ("deferred", "polling")
]
EXPECTED_SHAPE = {"9:16": (9, 16), "1:1": (1, 1)}


@pytest.mark.parametrize(("backend", "mode", "wait"), CASES, ids=["-".join(c) for c in CASES])
def test_generation_end_to_end(emulator, output_dir, captured, backend, mode, wait):
    dag = load_dags("seedance_matrix.py")[f"seedance_{backend}_{mode}_{wait}"]
    creates_before = emulator.stats()["creates"][backend]

    run = dag.test()

    log = captured()
    assert task_state(run, "generate") == ("success", 1), log[-4000:]
    result = xcom(run, "generate")
    video = output_dir / dag.dag_id / "video.mp4"
    assert result["status"] == "succeeded"
    assert result["backend"] == backend
    assert result["generation_id"]
    assert result["video_url"].startswith(emulator.url)
    assert result["output_path"] == f"file://{video}"
    assert result["size_bytes"] == video.stat().st_size
    assert result["sha256"] == sha256_file(video)
    assert result["credits"] is None or result["credits"] > 0
    assert result["elapsed_s"] > 0
    assert result["prompt"].startswith(dag.dag_id)
    facts = mp4_facts(video)
    assert facts["codec"] == "h264"
    assert facts["frames"] > 10
    task = dag.get_task("generate")
    assert abs(facts["duration"] - task.duration) < 0.5
    if task.aspect_ratio in EXPECTED_SHAPE:
        w, h = EXPECTED_SHAPE[task.aspect_ratio]
        assert abs(facts["width"] / facts["height"] - w / h) < 0.05
    assert emulator.stats()["creates"][backend] - creates_before == 1
    # dag.test() runs a deferred task's trigger inline and says so; a task polling on the worker never defers.
    deferred = "running trigger in line" in log and "Trigger completed" in log
    assert deferred is (wait == "deferred")
    assert API_KEY not in log
    assert xcom(run, "generate", key="seedance_video_link") == result["video_url"]
    extras = asset_event_extras(f"seedance://test/{dag.dag_id}")
    assert extras[-1]["generation_id"] == result["generation_id"]
    assert extras[-1]["sha256"] == result["sha256"]
    assert extras[-1]["output_path"] == result["output_path"]
