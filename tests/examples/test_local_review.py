"""A review under ``airflow dags test`` as a user runs it locally: nobody answers and the run still ends at
the review's timeout; SIGTERM ends the command while it waits; ``seedance-review`` answers it from a shell.

Airflow 3.3 leaves a review's timeout to the scheduler, which ``dags test`` does not run, and the task runner
it runs in-process leaves a SIGTERM handler behind that only calls the last task's ``on_kill``: before the
provider's ``SeedanceReviewOperator``, an unanswered review printed "Waiting for Human-in-the-loop input"
for ever and ignored SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from airflow_provider_seedance.review_client import ReviewClient
from tests.airflow_db import migrated_database
from tests.examples.conftest import AIRFLOW, API_KEY, ROOT, airflow_env, dags_test

DAG_ID = "example_seedance_marketing_pipeline"
ONE_CLIP = {"max_videos": 1, "max_rerenders": 0, "duration": 4}
SEEDANCE_REVIEW = Path(sys.executable).parent / "seedance-review"


def _fates(output: Path) -> dict[str, str]:
    (manifest,) = output.glob("marketing/*/*/manifest.json")
    return {v["name"]: v["status"] for v in json.loads(manifest.read_text())["videos"]}


def test_an_unanswered_review_ends_the_run_at_its_timeout(examples_home, emulator, tmp_path):
    output = tmp_path / "out"
    conf = {**ONE_CLIP, "review_hours": 8 / 3600}  # 8 s
    result = dags_test(examples_home, emulator, output, DAG_ID, conf=conf)
    text = result.stdout + result.stderr
    assert result.returncode == 0, text[-6000:]
    assert "the provider applies this review's timeout itself" in text
    assert _fates(output) == {"trail-runner-shorts": "timed_out"}


def _dags_test_process(home: Path, emulator, output: Path, conf: dict, env_extra: dict | None = None):
    connection = {"conn_type": "seedance", "password": API_KEY, "host": emulator.base_url("evolink")}
    connection["extra"] = {"backend": "evolink"}
    env = airflow_env(
        home,
        AIRFLOW_CONN_SEEDANCE_DEFAULT=json.dumps(connection),
        AIRFLOW_VAR_SEEDANCE_OUTPUT_ROOT=output.as_uri(),
        **(env_extra or {}),
    )
    command = [str(AIRFLOW), "dags", "test", DAG_ID, "--conf", json.dumps(conf)]
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )


def _read_until(process: subprocess.Popen, needle: str, lines: list[str], timeout: float = 240.0) -> bool:
    """Collect the output in ``lines`` (on a thread, to the end); True once ``needle`` was printed."""
    seen = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if needle in line:
                seen.set()

    threading.Thread(target=read, daemon=True).start()
    return seen.wait(timeout)  # a hang guard


def test_sigterm_ends_a_run_waiting_for_its_review(emulator, tmp_path):
    # An Airflow home of its own: the killed run's review stays open, and other tests answer every open one.
    home = tmp_path / "airflow"
    migrated_database(home / "airflow.db")
    process = _dags_test_process(home, emulator, tmp_path / "out", ONE_CLIP)  # its review would wait 72 h
    lines: list[str] = []
    try:
        assert _read_until(process, "Waiting for Human-in-the-loop input", lines), "".join(lines)[-6000:]
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=120)  # a hang guard: before, SIGTERM was ignored
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert returncode == -signal.SIGTERM
    assert any("SIGTERM while a review was waiting" in line for line in lines)


def test_seedance_review_answers_a_local_run_from_the_shell(examples_home, emulator, tmp_path, review_api):
    output = tmp_path / "out"
    api_env = {k: v for k, v in review_api.runner.env.items() if k.startswith("AIRFLOW__")}
    process = _dags_test_process(examples_home, emulator, output, ONE_CLIP, api_env)
    lines: list[str] = []
    review_api.wait_healthy()
    with ReviewClient(review_api.url, username="demo-reviewer", password=review_api.password) as client:
        earlier = {d["task_instance"]["dag_run_id"] for d in client.open_reviews(DAG_ID)}  # other tests' runs
    env = {**os.environ, "SEEDANCE_REVIEW_PASSWORD": review_api.password}
    command = [str(SEEDANCE_REVIEW), "--url", review_api.url, "--username", "demo-reviewer", "--dag-id", DAG_ID]
    try:
        assert _read_until(process, "Waiting for Human-in-the-loop input", lines), "".join(lines)[-6000:]
        listed, run_ids = "", set()
        for _ in range(60):  # a hang guard: the task is parked once Airflow has recorded its exit
            listed = subprocess.run([*command, "list"], env=env, capture_output=True, text=True, timeout=60).stdout
            run_ids = {line.split()[1] for line in listed.splitlines() if line.startswith(DAG_ID)} - earlier
            if run_ids:
                break
            time.sleep(1)
        (run_id,) = run_ids
        assert f"{DAG_ID} {run_id} campaign.review_0[0]: 'Review trail-runner-shorts'" in listed, listed
        options = [*command, "--run-id", run_id, "answer", "Approve", "--task-id", "campaign.review_0"]
        answered = subprocess.run(options, env=env, capture_output=True, text=True, timeout=60).stdout
        assert "1 review(s) answered" in answered, answered
        assert process.wait(timeout=240) == 0, "".join(lines)[-6000:]  # a hang guard
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert _fates(output) == {"trail-runner-shorts": "approved"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["list"], "set SEEDANCE_REVIEW_PASSWORD"),
        (["--url", "http://127.0.0.1:9", "answer", "Approve"], "cannot reach the Airflow api-server"),
    ],
)
def test_seedance_review_says_what_is_missing(argv, message, monkeypatch):
    env = {k: v for k, v in os.environ.items() if k != "SEEDANCE_REVIEW_PASSWORD"}
    if "answer" in argv:
        env["SEEDANCE_REVIEW_PASSWORD"] = "x"
    result = subprocess.run(
        [str(SEEDANCE_REVIEW), *argv], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert message in result.stderr
