"""The marketing pipeline's review in a real deployment: start a run, wait for its review tasks, check what
was published. Shared by the REST API and the Chromium reviewer of ``test_09_review.py``."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

from airflow_provider_seedance.review_client import PARKED
from tests.deployment.harness import ADMIN_PASSWORD, ADMIN_USER, Deployment, DeploymentError, tail

DAG_ID = "example_seedance_marketing_pipeline"
PUBLISH_DAG_ID = "example_seedance_publish"
#: The first three slots of the brief: one product on the three channels.
SHORTS, YOUTUBE, FEED = "trail-runner-shorts", "trail-runner-youtube", "trail-runner-feed"


def start_run(deploy: Deployment, label: str, **params: Any) -> tuple[str, Path]:
    """The pool, publish unpaused (it runs on the release's Asset event), then a run of three slots (or what
    ``params`` say), one re-render round."""
    body = {"name": "seedance_renders", "slots": 8, "include_deferred": True}
    deploy.api("POST", "/api/v2/pools", json=body, ok=(200, 201, 409))
    deploy.wait_for_dag(PUBLISH_DAG_ID)
    deploy.unpause(PUBLISH_DAG_ID)
    root = deploy.output_dir / label
    conf = {"seedance_conn_id": "seedance_evolink", "output_root": str(root), "max_videos": 3, "duration": 4}
    run_id = deploy.trigger(DAG_ID, {**conf, "max_rerenders": 1, **params}, f"{label}-{secrets.token_hex(3)}")
    return run_id, root


def open_reviews(deploy: Deployment, run_id: str, count: int, timeout: float = 300.0) -> list[dict[str, Any]]:
    """The run's unanswered reviews once there are ``count`` of them, in subject order."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deploy.check_services()
        body = deploy.api(
            "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/hitlDetails", params={"response_received": False}
        )
        details = [d for d in body["hitl_details"] if d["task_instance"]["state"] in PARKED]
        if len(details) >= count and all(parked(deploy, run_id, d["task_instance"]) for d in details):
            return sorted(details, key=lambda d: d["subject"])
        if deploy.dag_run(DAG_ID, run_id)["state"] in ("success", "failed"):
            break
        time.sleep(1)
    tis = deploy.task_instances(DAG_ID, run_id)
    states = sorted((t["task_id"], t["map_index"], t["state"]) for t in tis)
    why = [failed_log(deploy, run_id, t) for t in tis if t["state"] in ("failed", "up_for_retry")]
    raise DeploymentError(f"{count} open reviews expected in {run_id}; tasks: {states}\n" + "\n".join(why))


def failed_log(deploy: Deployment, run_id: str, ti: dict[str, Any]) -> str:
    """The end of a failed task's log (as the UI shows it), for the error that says the run went wrong."""
    where = f"{ti['task_id']}[{ti['map_index']}] try {ti['try_number']}"
    try:
        text = deploy.task_log(DAG_ID, run_id, ti["task_id"], ti["try_number"], ti["map_index"])
    except Exception as exc:  # the diagnosis must not hide the failure
        return f"--- {where}: no log ({exc}) ---"
    return f"--- the end of {where}'s log ---\n{tail(text, 30)}"


def parked(deploy: Deployment, run_id: str, ti: dict[str, Any]) -> bool:
    """Whether the scheduler has seen the worker exit that parked this review task. Airflow 3.3.2 fails a
    HITL task answered before that (the late executor "success" meets a task already queued again, and
    only a task back in ``scheduled`` is recognised as resumed); a person never answers that fast, a test
    does. On 3.1 the task defers, the same exit event, so the same wait."""
    key = f"task_id='{ti['task_id']}', run_id='{run_id}', try_number={ti['try_number']}, map_index={ti['map_index']})"
    log = deploy.services["scheduler"].log_text()
    return any("Received executor event with state success" in line and key in line for line in log.splitlines())


def answer(deploy: Deployment, run_id: str, detail: dict[str, Any], option: str, note: str = "") -> None:
    """One review answered through the REST API by the provider's own client (``seedance-review``'s
    ``ReviewClient``), as any client (a chat bot, a script) would."""
    from airflow_provider_seedance.review_client import ReviewClient

    assert detail["task_instance"]["dag_run_id"] == run_id, detail
    with ReviewClient(deploy.api_url, username=ADMIN_USER, password=ADMIN_PASSWORD) as client:
        if not client.answer(detail, option, note):
            raise DeploymentError(f"the api-server did not take {option!r} for {detail['subject']!r}")


def prompts_sent(emulator: Any) -> list[str]:
    """The prompt of every create the emulator received (its request log, then each task's state)."""
    creates = [r for r in emulator.requests() if r["kind"] == "create" and r.get("task_id")]
    return [emulator._control("GET", f"tasks/{r['task_id']}")["prompt"] for r in creates]


def published(root: Path, timeout: float = 180.0) -> dict[str, Any]:
    """The manifest the publish DAG wrote under ``ready_to_publish/`` (it runs on the Asset event)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(root.glob("ready_to_publish/*/*/manifest.json"))
        if found:
            return dict(json.loads(found[0].read_text()))
        time.sleep(1)
    raise DeploymentError(f"nothing was published under {root} within {timeout:.0f}s")


def fates(root: Path) -> dict[str, str]:
    (manifest,) = root.glob("marketing/*/*/manifest.json")
    return {v["name"]: v["status"] for v in json.loads(manifest.read_text())["videos"]}


EXPECTED_FATES = {SHORTS: "approved", YOUTUBE: "rejected", FEED: "rerendered", f"{FEED}-r1": "approved"}
