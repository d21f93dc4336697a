"""OpenLineage in a real DAG run: the OpenLineage provider's listener, its file transport, our facets.

``dag.test()`` runs each task through the task runner in process, which calls the listeners Airflow's plugins
registered, so the OpenLineage provider emits its START/COMPLETE events as on a worker. The provider reads
its configuration once per process (its plugin registers the listener only when a transport is configured,
and ``openlineage.conf`` caches), and this session has loaded the plugins long before, without one. So the
DAG runs in a child process started with ``AIRFLOW__OPENLINEAGE__TRANSPORT`` set to the file transport, on
the same metadata database and against the session's emulator; the test reads the events it wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from base64 import b64decode
from typing import Any

import pytest

from tests.integration.conftest import API_KEY, DAGS

pytest.importorskip("airflow.providers.openlineage")

# A hang guard, not a time target: the module's DAG run happens in a child process with a 420 s guard of its own.
pytestmark = [pytest.mark.usefixtures("airflow_db", "connections"), pytest.mark.timeout(600)]

RUN_DAG = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("seedance_lineage_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from tests.in_process_api import cache_in_process_api_server
cache_in_process_api_server()
run = module.dag.test()
print("DAG RUN STATE:", run.state)
"""


@pytest.fixture(scope="module")
def lineage_run(tmp_path_factory: pytest.TempPathFactory, connections: None) -> dict[str, Any]:
    """Run tests/dags/seedance_lineage.py once with the file transport; its events, log and output folder."""
    folder = tmp_path_factory.mktemp("lineage")
    events_file = folder / "events.jsonl"
    env = {
        **os.environ,
        "SEEDANCE_TEST_OUTPUT": str(folder / "out"),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "seedance-tests",
    }
    done = subprocess.run(
        [sys.executable, "-c", RUN_DAG, str(DAGS / "seedance_lineage.py")],
        cwd=DAGS.parents[1],  # the checkout: the child imports tests.in_process_api
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    log = done.stdout + done.stderr
    assert "DAG RUN STATE: success" in log, log[-6000:]
    text = events_file.read_text()
    events = [json.loads(line) for line in text.splitlines() if line.strip()]
    return {"events": events, "text": text, "log": log, "out": folder / "out"}


def _events(run: dict[str, Any], task_id: str, event_type: str) -> list[dict[str, Any]]:
    name = f"seedance_lineage.{task_id}"
    return [e for e in run["events"] if e["job"]["name"] == name and e["eventType"] == event_type]


def _names(datasets: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(d["namespace"], d["name"]) for d in datasets]


def _data_image_name() -> tuple[str, str]:
    from tests.dags.seedance_lineage import DATA_IMAGE

    payload = b64decode(DATA_IMAGE.split(",", 1)[1])
    return "data", f"image/png;sha256={hashlib.sha256(payload).hexdigest()}"


def test_the_operator_reports_media_in_video_out_and_the_generation(lineage_run):
    (complete,) = _events(lineage_run, "generate", "COMPLETE")
    assert _names(complete["inputs"]) == [
        ("https://cdn.example.com", "/refs/first.png"),
        _data_image_name(),
        ("https://cdn.example.com", "/refs/motion.mp4"),
        ("https://media.example.com:8443", "/bgm.mp3"),
    ]
    video = lineage_run["out"] / "lineage" / "generate.mp4"
    assert video.is_file()
    assert _names(complete["outputs"]) == [("file", str(video))]
    facet = complete["run"]["facets"]["seedance"]
    assert facet["backend"] == "evolink"
    assert facet["model"] == "seedance-2.0-reference-to-video"
    assert facet["generationId"].startswith("task-unified-")
    assert facet["status"] == "succeeded"
    assert facet["credits"] > 0
    assert facet["renderTimeS"] > 0
    # The deferred task came back on a fresh operator instance: its facets are still there, and its START
    # events (one per resume) already name the inputs.
    starts = _events(lineage_run, "generate", "START")
    assert len(starts) == 2
    assert all(_names(start["inputs"]) == _names(complete["inputs"]) for start in starts)


def test_without_an_output_path_the_output_is_the_result_link_without_its_signature(lineage_run):
    (complete,) = _events(lineage_run, "link_only", "COMPLETE")
    assert _names(complete["inputs"]) == [("https://cdn.example.com", "/refs/first.png")]
    ((namespace, name),) = _names(complete["outputs"])
    assert namespace.startswith("http://127.0.0.1:")
    assert name.startswith("/files/") and name.endswith(".mp4")
    facet = complete["run"]["facets"]["seedance"]
    assert facet["backend"] == "modelark"
    assert facet["model"] == "seedance-1-0-pro-250528"
    assert facet["generationId"] in name
    assert facet["renderTimeS"] > 0


def test_the_sensor_reports_the_saved_video_and_the_generation_the_operator_submitted(lineage_run):
    (submitted,) = _events(lineage_run, "submit", "COMPLETE")
    assert submitted["run"]["facets"]["seedance"]["status"] == "queued"
    generation_id = submitted["run"]["facets"]["seedance"]["generationId"]
    (complete,) = _events(lineage_run, "wait", "COMPLETE")
    assert complete["inputs"] == []
    video = lineage_run["out"] / "lineage" / "wait.mp4"
    assert _names(complete["outputs"]) == [("file", str(video))]
    facet = complete["run"]["facets"]["seedance"]
    assert facet["backend"] == "aimlapi"
    assert facet["generationId"] == generation_id
    assert facet["status"] == "succeeded"
    assert facet["credits"] > 0
    assert facet["renderTimeS"] >= 0


def test_the_batch_reports_every_items_media_each_saved_video_and_a_batch_facet(lineage_run):
    (complete,) = _events(lineage_run, "catalog", "COMPLETE")
    assert _names(complete["inputs"]) == [("https://cdn.example.com", "/refs/first.png"), _data_image_name()]
    folder = lineage_run["out"] / "lineage" / "batch"
    assert _names(complete["outputs"]) == [("file", str(folder / "mug.mp4")), ("file", str(folder / "cup.mp4"))]
    assert all(path.is_file() for path in folder.iterdir())
    facet = complete["run"]["facets"]["seedanceBatch"]
    assert (facet["backend"], facet["items"], facet["statuses"]) == ("evolink", 2, {"succeeded": 2})
    assert facet["credits"] > 0 and (facet["inputsOmitted"], facet["outputsOmitted"]) == (0, 0)
    (start, *_) = _events(lineage_run, "catalog", "START")
    assert _names(start["inputs"]) == _names(complete["inputs"])


def test_no_event_carries_the_key_a_signed_query_string_or_an_inline_payload(lineage_run):
    from tests.dags.seedance_lineage import DATA_IMAGE

    text = lineage_run["text"]
    assert len(lineage_run["events"]) >= 8
    assert API_KEY not in text
    for secret in ("SIGNED-QUERY-SECRET", "sig=", "expires=", "X-Amz-Expires", "user:pass", "#t=2"):
        assert secret not in text, secret
    assert DATA_IMAGE.split(",", 1)[1][:40] not in text
    assert API_KEY not in lineage_run["log"]
