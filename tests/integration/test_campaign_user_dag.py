"""The README's campaign DAG (``example_dags/example_seedance_campaign.py``, compiled as it is from the test dags
folder) run with ``dag.test()`` on BytePlus ModelArk in the emulator, on Airflow 3.1 and 3.3: drafts are
rendered, the gallery and manifest are written, the reviews (answered by nobody here: ``dag.test()`` has no
reviewer) time out after the review's hours, and the release gives every clip its fate; over its budget, the run
is refused before any create. The reviewer's re-render with a note is ``tests/examples/test_campaign_example.py``
(an api-server answering).

Each run is a child process, as ``airflow dags test`` is: a run that waits for a review polls the database
for the sweep's answer, and in a pytest worker that has run other DAGs the session can keep an old view of it
(seen in CI: a review resolved in the database, the run waiting on for ever)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.standard.version_compat import AIRFLOW_V_3_3_PLUS

from tests.airflow_db import own_database
from tests.integration.conftest import DAGS

# A hang guard, not a time target: the module's DAG run happens in a child process with a 420 s guard of its own.
pytestmark = [pytest.mark.usefixtures("connections"), pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
RUN_CAMPAIGN = """
import json, sys
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow < 3.2
    from airflow.models.dagbag import DagBag
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session

dag = DagBag(sys.argv[1]).dags["example_seedance_campaign"]
options = dag.get_task("campaign.plan").op_kwargs["options"]
for group, values in json.loads(sys.argv[2]).items():
    options[group].update(values)
from tests.in_process_api import cache_in_process_api_server
cache_in_process_api_server()
run = dag.test()

def state(task_id):
    value = run.get_task_instance(task_id).state
    return getattr(value, "value", value)

with create_session() as session:
    row = session.scalars(XComModel.get_many(run_id=run.run_id, key="return_value", dag_ids=run.dag_id,
                                             task_ids="campaign.release", map_indexes=-1)).first()
    released = None if row is None else XComModel.deserialize_value(row)
result = {"state": getattr(run.state, "value", run.state), "plan": state("campaign.plan"),
          "release": state("campaign.release"), "released": released}
print("CAMPAIGN RUN: " + json.dumps(result))
"""


def _run_campaign(root: Path, options: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The DAG file as it is, on the emulator's ModelArk, writing under ``root``, with ``options`` changed."""
    env = {
        **os.environ,
        **own_database(root / "airflow-home"),
        "AIRFLOW_CONN_SEEDANCE_DEFAULT": os.environ["AIRFLOW_CONN_SEEDANCE_MODELARK"],
        "AIRFLOW_VAR_SEEDANCE_OUTPUT_ROOT": str(root),
    }
    command = [sys.executable, "-c", RUN_CAMPAIGN, str(DAGS / "seedance_campaign_user.py"), json.dumps(options)]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=420, check=False)
    log = done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("CAMPAIGN RUN: ")]
    assert lines, log[-6000:]
    return json.loads(lines[-1].removeprefix("CAMPAIGN RUN: ")), log


def test_the_readme_campaign_renders_drafts_reviews_and_releases_with_fates(emulator, output_dir):
    root = Path(output_dir) / "campaign-user"
    before = emulator.stats()["creates_total"]
    # Nobody answers under dag.test(): the review waits 2 seconds instead of the DAG's 24 hours, then Reject.
    run, log = _run_campaign(root, {"review": {"hours": 2 / 3600}})
    assert run["release"] == "success", log[-5000:]
    assert emulator.stats()["creates_total"] == before + 2  # two drafts; nothing approved, no final
    (path,) = root.glob("campaigns/spring-launch/*/manifest.json")
    manifest = json.loads(path.read_text())
    clips = {c["name"]: c for c in manifest["videos"]}
    # Airflow 3.1/3.2's dag.test() cannot hold a review (its deferred HITL task fails): "review failed or never
    # answered"; in a deployment it times out as on 3.3 (deployment scenario 9). Unpublished either way.
    unanswered = "timed_out" if AIRFLOW_V_3_3_PLUS else "no_answer"
    assert {n: c["status"] for n, c in clips.items()} == {"flask": unanswered, "pack": unanswered}
    assert all(c["draft"] and c["quality"] == "480p" and c["fate"].endswith("not published") for c in clips.values())
    assert (path.parent / "index.html").read_text().count("<video") == 2
    assert all((path.parent / c["file"]).stat().st_size > 0 for c in clips.values())
    assert run["released"] == []
    assert manifest["fates"] == {unanswered: 2} and manifest["budget"]["max_credits"] == 250_000


def test_the_readme_campaign_over_its_budget_is_refused_before_any_render_and_fails(emulator, output_dir):
    """The same DAG with a budget its two drafts pass (2 x 5 s at 10,000 credits a second, against 1,000)."""
    root = Path(output_dir) / "campaign-user-refused"
    before = emulator.stats()["creates_total"]
    run, log = _run_campaign(root, {"budget": {"max_credits": 1_000}})
    assert emulator.stats()["creates_total"] == before, "a refused campaign sent a create"
    assert (run["plan"], run["release"], run["state"]) == ("failed", "failed", "failed"), log[-5000:]
    assert "run refused for budget" in log and "1000" in log.replace(",", ""), log[-3000:]
    assert not list(root.glob("campaigns/spring-launch/*/*.mp4"))
