"""The README's 25-line campaign DAG (``example_dags/example_seedance_campaign.py``) reviewed by a person
through Airflow's REST API (``airflow dags test`` beside an api-server, on the emulator's ModelArk): a re-render
asked with a note renders the take again with the note in its prompt and comes back for review; approved drafts
get their finals. ``tests/integration/test_campaign_user_dag.py`` runs the same file unanswered and over budget."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from airflow_provider_seedance.review_client import ReviewClient
from tests.examples.conftest import dags_test, demo_script

DAG_ID = "example_seedance_campaign"
NOTE = "CAMPAIGN-NOTE: slower steam, end on the logo"


def test_the_readme_campaign_rerenders_with_the_reviewers_note_and_finals_the_approved_drafts(
    examples_home, emulator, tmp_path, review_api
):
    asked: Counter[str] = Counter()

    def choose(detail: dict[str, Any]) -> tuple[str, str]:
        asked[detail["subject"]] += 1
        if detail["subject"] == "Review flask" and asked["Review flask"] == 1:
            return "Re-render", NOTE
        return "Approve", ""

    stop, answered = threading.Event(), []

    def reviewer() -> None:
        review_api.wait_healthy()
        user, password = demo_script().REVIEWER, review_api.password
        with ReviewClient(review_api.url, username=user, password=password) as client:
            for detail, option in client.answer_open(choose, dag_id=DAG_ID, stop=stop):
                answered.append((detail["subject"], option))

    before = set(emulator.emulator.store.tasks)
    thread = threading.Thread(target=reviewer, daemon=True)
    thread.start()
    output = tmp_path / "out"
    try:
        result = dags_test(examples_home, emulator, output, DAG_ID, backend="modelark", api=review_api)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    assert sorted(answered) == [("Review flask", "Approve"), ("Review flask", "Re-render"), ("Review pack", "Approve")]

    created = [task for task_id, task in emulator.emulator.store.tasks.items() if task_id not in before]
    prompts = [task.spec.prompt for task in created]
    (manifest_path,) = Path(output).glob("campaigns/spring-launch/*/manifest.json")
    manifest = json.loads(manifest_path.read_text())
    clips = {c["name"]: c for c in manifest["videos"]}
    # Two drafts (the emulator's ModelArk bills 50,220 each); the flask draft again, with the note; then the
    # finals of the two approved drafts, admitted against the 250,000 budget at their estimate (50,000 each):
    # 150,660 spent + 2 x 50,000 passes it, so one final is rendered and the other skipped for budget.
    assert {n: c["status"] for n, c in clips.items()} == {
        "flask": "rerendered",
        "pack": "draft_approved",
        "flask-r1": "draft_approved",
        "pack-final": "approved",
        "flask-r1-final": "skipped_budget",
    }
    assert len(created) == 4, prompts
    assert [NOTE in p for p in prompts].count(True) == 1 and clips["flask-r1"]["draft"], prompts
    assert clips["flask-r1-final"]["fate"] == "skipped for budget: not rendered, not published"
    final = clips["pack-final"]
    assert not final["draft"] and (manifest_path.parent / final["file"]).stat().st_size > 0
    assert manifest["rounds"] == {"0": ["flask", "pack"], "1": ["flask"]}
