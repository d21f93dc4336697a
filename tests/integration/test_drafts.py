"""A draft, then the final render from the draft's generation id, in a real DAG run against the emulator: the
request log shows exactly two creates, the final one a ``draft_task`` of the draft, and the XCom results say
which was the draft."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import API_KEY, load_dags, mp4_facts, task_state, xcom

pytestmark = pytest.mark.usefixtures("airflow_db", "connections")


def test_a_final_render_from_a_reviewed_draft(emulator, output_dir, captured):
    before = len([r for r in emulator.requests() if r["kind"] == "create"])
    run = load_dags("seedance_drafts.py")["seedance_draft_then_final"].test()
    log = captured()
    assert task_state(run, "draft") == ("success", 1), log[-3000:]
    assert task_state(run, "final") == ("success", 1), log[-3000:]
    draft, final = xcom(run, "draft"), xcom(run, "final")
    assert (draft["draft"], final["draft"]) == (True, False)
    assert draft["generation_id"] != final["generation_id"]
    creates = [r for r in emulator.requests() if r["kind"] == "create"][before:]
    assert [(r["dialect"], r["status"], r["task_id"]) for r in creates] == [
        ("modelark", 200, draft["generation_id"]),
        ("modelark", 200, final["generation_id"]),
    ]
    tasks = emulator.base_url("modelark") + "/contents/generations/tasks/"
    auth = {"Authorization": f"Bearer {API_KEY}"}
    draft_task = httpx.get(tasks + draft["generation_id"], headers=auth).json()
    final_task = httpx.get(tasks + final["generation_id"], headers=auth).json()
    assert (draft_task["draft"], draft_task["resolution"]) == (True, "480p")
    assert (final_task["draft_task_id"], final_task["resolution"]) == (draft["generation_id"], "1080p")
    assert final_task["duration"] == 5  # taken from the draft
    # The vendor's expiry follows each task's deadline: timeout 3600 (the default) and 7200.
    assert (draft_task["execution_expires_after"], final_task["execution_expires_after"]) == (3600, 7200)
    assert mp4_facts(output_dir / "drafts" / "final.mp4")["codec"] == "h264"
    assert API_KEY not in log
