"""Scenario 5: a permanent failure (content policy) fails fast with the API's code and message in the
task log and is not retried; a deadline that passes cancels the generation where the backend can cancel."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.deployment.conftest import emulator_counts, fill_row
from tests.deployment.harness import Deployment, RunWatch

pytestmark = pytest.mark.timeout(900)

# each backend's own failure code, and the message its API sends with it
POLICY = [
    ("evolink", "content_policy_violation", "The generated content was flagged by the content safety system"),
    ("aimlapi", "content_policy_violation", "Video generation failed: content_policy_violation"),
    (
        "modelark",
        "OutputVideoSensitiveContentDetected",
        "The generation task failed: OutputVideoSensitiveContentDetected",
    ),
]
DEADLINE_TIMEOUT_S = 12


def _seconds(ti: dict[str, Any]) -> float:
    parse = datetime.fromisoformat
    return (
        parse(ti["end_date"].replace("Z", "+00:00")) - parse(ti["start_date"].replace("Z", "+00:00"))
    ).total_seconds()


def test_permanent_failure_and_deadline(deploy: Deployment, emulator: Any, scenario: Any) -> None:
    policy_row = scenario("5a content policy (retries=2)")
    deadline_row = scenario("5b deadline passes (ModelArk)")
    policy = RunWatch.trigger(
        deploy,
        "seedance_deploy_batch",
        # duration 10: a spec no earlier scenario rendered, so no triggerer remembers a typical render time
        # for it and the first look comes after 5 s (with a remembered time it would come at 92% of it)
        [
            {"backend": b, "prompt": f"[render:3][fail:{code}] a heist, backend {b}", "duration": 10}
            for b, code, _ in POLICY
        ],
        "policy",
    )
    timed = RunWatch.trigger(
        deploy,
        "seedance_deploy_no_retry",
        [{"backend": "modelark", "prompt": "[render:600][stuck] a glacier", "timeout": DEADLINE_TIMEOUT_S}],
        "deadline",
    )
    policy_run = policy.wait(timeout=300)
    timed_run = timed.wait(timeout=300)
    time.sleep(3)  # a retry, if one were scheduled, would have submitted by now (retry_delay is 1s)
    policy_tis, timed_ti = policy.generate_tis(), timed.generate_tis()[0]
    counts = emulator_counts(emulator)
    policy_ids = {policy.xcom(ti["map_index"], key="seedance_generation_id") for ti in policy_tis}
    stuck_id = timed.xcom(0, key="seedance_generation_id")
    policy_log = [r for r in counts["log"] if r.get("task_id") in policy_ids or any(i in r["path"] for i in policy_ids)]
    policy_counts = {
        "log": policy_log,
        "create_posts": sum(r["kind"] == "create" for r in policy_log),
        "creates": len(policy_ids),
        "polls": sum(r["kind"] == "poll" for r in policy_log),
        "cancels": sum(r["kind"] == "cancel" for r in policy_log),
        "faults": 0,
    }
    fill_row(policy_row, policy_tis, policy_counts, policy_run)
    policy_row.deferred = len(policy.deferred_indexes())
    policy_row.notes = "failed in " + ", ".join(f"{_seconds(ti):.0f}s" for ti in policy_tis) + " (render 3s)"
    timed_counts = {
        "create_posts": counts["create_posts"] - policy_counts["create_posts"],
        "creates": counts["creates"] - policy_counts["creates"],
        "polls": counts["polls"] - policy_counts["polls"],
        "cancels": counts["cancels"],
        "faults": 0,
    }
    fill_row(deadline_row, [timed_ti], timed_counts, timed_run)
    deadline_row.deferred = len(timed.deferred_indexes())
    state = httpx.get(f"{emulator.url}/_emulator/tasks/{stuck_id}", timeout=10).json()
    deadline_row.notes = (
        f"timeout={DEADLINE_TIMEOUT_S}s; task failed after {_seconds(timed_ti):.0f}s; backend phase {state['phase']}"
    )

    # 5a: failed on the first try, no second submission, the API's code and message in the task log
    assert policy_run["state"] == "failed"
    for ti, (backend, code, message) in zip(policy_tis, POLICY, strict=True):
        assert ti["state"] == "failed" and ti["try_number"] == 1 and ti["max_tries"] == 2, ti
        assert _seconds(ti) < 45, f"{backend}: took {_seconds(ti):.0f}s to fail"
        log = policy.log(ti["map_index"], 1)
        assert code in log and message in log, f"{backend}: code/message missing from the task log:\n{log[-4000:]}"
    assert policy_counts["creates"] == len(POLICY)
    assert policy_counts["create_posts"] == len(POLICY)
    assert counts["creates"] == len(POLICY) + 1, counts["stats"]

    # 5b: the deadline passed, the generation was cancelled on ModelArk, the task failed
    assert timed_run["state"] == "failed" and timed_ti["state"] == "failed"
    assert counts["cancels"] == 1 and state["phase"] == "cancelled", (counts["stats"], state)
    log = timed.log(0, 1)
    assert "did not finish before its deadline" in log, log[-3000:]
    assert "was cancelled on modelark while still queued" in log, log[-3000:]
