"""The emulator's ModelArk dialect honours the newer create fields: a task past ``execution_expires_after``
expires, a higher ``priority`` leaves the queue sooner, drafts (Seedance 1.5 pro, 480p) and finals from a
``draft_task`` behave as the vendor documents."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emulator_support import FakeClock, finish

TASKS = "/api/v3/contents/generations/tasks"
PRO_15 = "seedance-1-5-pro-251215"
PRO_10 = "seedance-1-0-pro-250528"


def create(client: httpx.Client, model: str = PRO_15, text: str = "A red fox runs through snow", **body: Any) -> str:
    payload = {"model": model, "content": [{"type": "text", "text": text}], **body}
    response = client.post(TASKS, json=payload)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def task(client: httpx.Client, task_id: str) -> dict[str, Any]:
    return dict(client.get(f"{TASKS}/{task_id}").json())


def refused(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(TASKS, json=body)
    assert response.status_code == 400, response.text
    return dict(response.json()["error"])


def test_a_task_unfinished_at_its_expiry_expires(client: httpx.Client, clock: FakeClock) -> None:
    slow = create(client, text="A slow render [render:7200]", execution_expires_after=3600)
    quick = create(client, execution_expires_after=3600)
    clock.advance(3599)
    assert task(client, slow)["status"] == "running"
    assert task(client, quick)["status"] == "succeeded"  # done long before its expiry
    clock.advance(1)
    expired = task(client, slow)
    assert expired["status"] == "expired"
    assert expired["execution_expires_after"] == 3600
    assert "content" not in expired
    assert task(client, quick)["status"] == "succeeded"


def test_a_higher_priority_leaves_the_queue_sooner(client: httpx.Client, clock: FakeClock) -> None:
    plain = create(client)
    urgent = create(client, priority=4)
    clock.advance(0.5)  # the queue takes a tenth of the render (1 s); a fifth of that at priority 4
    assert (task(client, plain)["status"], task(client, urgent)["status"]) == ("queued", "running")
    assert (task(client, plain)["priority"], task(client, urgent)["priority"]) == (0, 4)


def test_a_draft_renders_at_480p_and_a_final_reuses_it(client: httpx.Client, clock: FakeClock) -> None:
    draft = create(client, draft=True, duration=6, seed=5, ratio="9:16")
    before = task(client, draft)
    assert (before["draft"], before["resolution"]) == (True, "480p")
    finish(clock)
    final_body = {"model": PRO_15, "content": [{"type": "draft_task", "draft_task": {"id": draft}}]}
    response = client.post(TASKS, json={**final_body, "resolution": "1080p"})
    assert response.status_code == 200, response.text
    final = task(client, response.json()["id"])
    assert (final["draft"], final["draft_task_id"], final["resolution"]) == (False, draft, "1080p")
    assert (final["duration"], final["seed"], final["ratio"]) == (6, 5, "9:16")  # taken from the draft
    finish(clock)
    assert task(client, final["id"])["status"] == "succeeded"


@pytest.mark.parametrize(
    ("body", "param", "text"),
    [
        ({"model": PRO_10, "draft": True}, "draft", "only supported by Seedance 1.5 pro"),
        ({"draft": True, "resolution": "720p"}, "resolution", "480p only"),
        ({"draft": True, "return_last_frame": True}, "return_last_frame", "no last frame"),
        ({"draft": True, "service_tier": "flex"}, "service_tier", "flex tier"),
        ({"execution_expires_after": 3599}, "execution_expires_after", "between 3600 and 259200"),
        ({"model": PRO_10, "frames": 30}, "frames", "25 + 4n"),
        ({"model": PRO_10, "frames": 293}, "frames", "between 29 and 289"),
        ({"frames": 29}, "frames", "not supported"),
        ({"priority": "high"}, "priority", "integer"),
        ({"safety_identifier": ""}, "safety_identifier", "non-empty"),
    ],
)
def test_out_of_bounds_fields_are_refused(client: httpx.Client, body: dict[str, Any], param: str, text: str) -> None:
    payload = {"model": PRO_15, "content": [{"type": "text", "text": "x"}], **body}
    error = refused(client, payload)
    assert error["param"] == param and text in error["message"]


def test_a_final_needs_a_succeeded_draft_of_the_same_model(client: httpx.Client, clock: FakeClock) -> None:
    item = {"type": "draft_task", "draft_task": {"id": "cgt-unknown"}}
    assert "not found" in refused(client, {"model": PRO_15, "content": [item]})["message"]
    not_a_draft = create(client)
    item = {"type": "draft_task", "draft_task": {"id": not_a_draft}}
    assert "not found" in refused(client, {"model": PRO_15, "content": [item]})["message"]
    draft = create(client, draft=True)
    item = {"type": "draft_task", "draft_task": {"id": draft}}
    assert "only a succeeded draft" in refused(client, {"model": PRO_15, "content": [item]})["message"]
    finish(clock)
    assert "was made with" in refused(client, {"model": "seedance-1-5-pro-260101", "content": [item]})["message"]
    assert "taken from the draft" in refused(client, {"model": PRO_15, "content": [item], "seed": 2})["message"]
    extra = [item, {"type": "text", "text": "x"}]
    assert "only content item" in refused(client, {"model": PRO_15, "content": extra})["message"]


def test_frames_set_the_length_on_seedance_1_0(client: httpx.Client) -> None:
    task_id = create(client, model=PRO_10, frames=121, safety_identifier="user-1", output_format="mp4")
    body = task(client, task_id)
    assert (body["duration"], body["frames"], body["safety_identifier"]) == (5, 121, "user-1")
