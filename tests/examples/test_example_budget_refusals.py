"""The marketing pipeline example refused for budget before any create, under ``airflow dags test`` against the
emulator, and the refused run failed in the grid. (Split from ``test_example_dags_run.py``: see
``test_example_marketing_run.py``.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.examples.conftest import AIRFLOW, airflow_env, dags_test, new_tasks

# A hang guard, not a time target: a test here may start the review api-server (its fixture) and then run
# ``airflow dags test`` (420 s guard of its own); with both cores busy the two together can pass 300 s.
pytestmark = pytest.mark.timeout(600)


def test_marketing_pipeline_refuses_a_run_over_budget_before_submitting_anything(examples_home, emulator, output):
    """No history, a per-second rate: 9 renders x 5 s x 2 credits/s = 90 credits > 50: zero creates."""
    before = set(emulator.emulator.store.tasks)
    conf = {"max_credits": 50, "credits_per_second": 2}
    result = dags_test(examples_home, emulator, output, "example_seedance_marketing_pipeline", conf=conf)
    text = result.stdout + result.stderr
    assert new_tasks(emulator, before) == []
    assert "estimated 90 credits for 9 renders exceeds the budget of 50 credits" in text, text[-4000:]
    assert "the given per-second rate" in text
    assert not list(output.glob("ready_to_publish/*/*/manifest.json"))
    # issue 20: a refused run did not do its job, so it must not show green in the grid
    assert _last_run_state(examples_home, "example_seedance_marketing_pipeline") == "failed"
    assert "run refused for budget: estimated 90 credits" in text


def test_marketing_pipeline_with_a_budget_and_no_prices_refuses_before_the_first_render(
    examples_home, emulator, output
):
    """Issue 20: max_credits=10, no earlier runs, no credits_per_second: the estimate was 0 and the first render
    (50 credits) was paid. Now the run is refused before any create, saying what is missing."""
    before = set(emulator.emulator.store.tasks)
    result = dags_test(examples_home, emulator, output, "example_seedance_marketing_pipeline", conf={"max_credits": 10})
    text = result.stdout + result.stderr
    assert new_tasks(emulator, before) == []
    assert "renders have no known price" in text and "Give credits_per_second" in text, text[-4000:]
    assert _last_run_state(examples_home, "example_seedance_marketing_pipeline") == "failed"


def _last_run_state(home: Path, dag_id: str) -> str:
    """The state of the DAG's latest run, as the grid shows it (read through Airflow's own CLI)."""
    listed = subprocess.run(
        [str(AIRFLOW), "dags", "list-runs", dag_id, "-o", "json"],
        env=airflow_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    (runs,) = [json.loads(line) for line in listed.stdout.splitlines() if line.startswith("[{")]
    return str(max(runs, key=lambda run: run["start_date"] or "")["state"])
