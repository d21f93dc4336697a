"""Scenario 9: the marketing pipeline's human review in a real deployment, answered through the REST API.

Three clips are rendered and reviewed: one approved, one rejected, one sent back with a note; the note
reaches the vendor (the emulator's log), the re-render is approved, and only the two approved clips land in
``ready_to_publish``. ``test_10_review_ui.py`` does the same in the Airflow UI with headless Chromium.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.deployment.harness import Deployment
from tests.deployment.review_flow import (
    DAG_ID,
    EXPECTED_FATES,
    FEED,
    SHORTS,
    YOUTUBE,
    answer,
    fates,
    open_reviews,
    prompts_sent,
    published,
    start_run,
)

pytestmark = pytest.mark.timeout(600)

NOTE = "REST-NOTE: slower camera, warmer light"


def test_review_through_the_rest_api(deploy: Deployment, emulator: Any, scenario: Any) -> None:
    row = scenario("9 review via REST API")
    started = time.monotonic()
    run_id, root = start_run(deploy, "review-rest")
    first = {d["subject"].removeprefix("Review "): d for d in open_reviews(deploy, run_id, 3)}
    assert set(first) == {SHORTS, YOUTUBE, FEED}
    assert "trail-runner" in first[FEED]["body"] and "Credits" in first[FEED]["body"]
    assert first[FEED]["options"] == ["Approve", "Reject", "Re-render"]
    answer(deploy, run_id, first[SHORTS], "Approve")
    answer(deploy, run_id, first[YOUTUBE], "Reject")
    answer(deploy, run_id, first[FEED], "Re-render", NOTE)
    (again,) = open_reviews(deploy, run_id, 1)
    assert again["subject"] == f"Review {FEED}" and NOTE in again["body"]
    answer(deploy, run_id, again, "Approve")
    run = deploy.wait_for_run(DAG_ID, run_id, timeout=300)
    row.seconds = time.monotonic() - started
    row.creates = sum(1 for p in prompts_sent(emulator))
    assert run["state"] == "success"
    assert [p for p in prompts_sent(emulator) if NOTE in p], "the reviewer's note never reached the vendor"
    assert row.creates == 4  # three clips, one re-render; nothing else was paid for
    assert fates(root) == EXPECTED_FATES
    ready = published(root)
    assert sorted(v["name"] for v in ready["videos"]) == sorted([SHORTS, f"{FEED}-r1"])
    folder = next(root.glob("ready_to_publish/*/*"))
    assert sorted(p.name for p in folder.glob("videos/*.mp4")) == sorted([f"{SHORTS}.mp4", f"{FEED}-r1.mp4"])
