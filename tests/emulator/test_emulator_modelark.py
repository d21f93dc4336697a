"""BytePlus ModelArk dialect over real HTTP: both route prefixes, lifecycle, last frame, list,
cancel, error format and validation."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from emulator_support import FakeClock, finish, probe_mp4
from PIL import Image

TASKS = "/api/v3/contents/generations/tasks"
MODEL = "dreamina-seedance-2-0-260128"
TEXT = [{"type": "text", "text": "A red fox runs through snow"}]


def _create(client: httpx.Client, path: str = TASKS, **body: Any) -> str:
    payload = {"model": MODEL, "content": TEXT, **body}
    response = client.post(path, json=payload)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"id"}
    task_id: str = response.json()["id"]
    return task_id


def test_happy_path_with_last_frame(client: httpx.Client, clock: FakeClock) -> None:
    task_id = _create(
        client,
        ratio="1:1",
        duration=4,
        resolution="480p",
        seed=11,
        return_last_frame=True,
        generate_audio=False,
        service_tier="flex",
        execution_expires_after=3600,
    )
    assert task_id.startswith("cgt-")
    queued = client.get(f"{TASKS}/{task_id}").json()
    assert queued["status"] == "queued"
    assert "content" not in queued
    assert queued["usage"] == {"completion_tokens": 0, "total_tokens": 0}
    clock.advance(3)
    assert client.get(f"{TASKS}/{task_id}").json()["status"] == "running"
    finish(clock)
    task = client.get(f"{TASKS}/{task_id}").json()
    assert task["status"] == "succeeded"
    assert task["model"] == MODEL
    assert task["seed"] == 11
    assert (task["ratio"], task["resolution"], task["duration"], task["framespersecond"]) == ("1:1", "480p", 4, 24)
    assert task["usage"]["completion_tokens"] == 640 * 640 * 24 * 4 // 1024
    assert task["updated_at"] >= task["created_at"]
    assert task["service_tier"] == "flex"
    info = probe_mp4(httpx.get(task["content"]["video_url"]).content)
    assert (info["width"], info["height"]) == (320, 320)
    assert abs(info["duration"] - 4) <= 0.2
    assert info["streams"] == ["video"]
    png = httpx.get(task["content"]["last_frame_url"])
    assert png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (320, 320)


def test_routes_without_prefix(client: httpx.Client, clock: FakeClock) -> None:
    task_id = _create(client, path="/contents/generations/tasks", model="seedance-1-0-pro-fast-251015")
    finish(clock)
    task = client.get(f"/contents/generations/tasks/{task_id}").json()
    assert task["status"] == "succeeded"
    assert task["resolution"] == "1080p"
    assert "last_frame_url" not in task["content"]
    assert client.get(f"{TASKS}/{task_id}").json()["id"] == task_id


@pytest.mark.parametrize(
    "model",
    [
        "seedance-1-0-lite-i2v-250428",
        "bytedance-seedance-1-0-pro-250528",
        "doubao-seedance-1-5-pro-251215",
        "dreamina-seedance-2-0-fast-260128",
    ],
)
def test_model_families(client: httpx.Client, model: str) -> None:
    _create(client, model=model, content=[*TEXT, {"type": "image_url", "image_url": {"url": "https://e.com/a.png"}}])


def test_failed_and_expired(client: httpx.Client, clock: FakeClock) -> None:
    failed_id = _create(client, content=[{"type": "text", "text": "x [fail:OutputVideoSensitiveContentDetected]"}])
    expired_id = _create(client, content=[{"type": "text", "text": "x [expire]"}])
    finish(clock)
    failed = client.get(f"{TASKS}/{failed_id}").json()
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "OutputVideoSensitiveContentDetected"
    assert "content" not in failed
    expired = client.get(f"{TASKS}/{expired_id}").json()
    assert expired["status"] == "expired"


def test_list_filters_and_pages(client: httpx.Client, clock: FakeClock) -> None:
    old = [_create(client) for _ in range(3)]
    finish(clock)
    new = [_create(client) for _ in range(2)]
    listing = client.get(TASKS, params={"page_size": 10}).json()
    assert listing["total"] == 5
    assert [item["id"] for item in listing["items"]] == [*reversed(new), *reversed(old)]
    queued = client.get(TASKS, params={"filter.status": "queued"}).json()
    assert queued["total"] == 2
    assert {item["id"] for item in queued["items"]} == set(new)
    page2 = client.get(TASKS, params={"page_num": 2, "page_size": 2, "filter.status": "succeeded"}).json()
    assert page2["total"] == 3
    assert [item["id"] for item in page2["items"]] == [old[0]]
    by_id = client.get(TASKS, params=[("filter.task_ids", old[1]), ("filter.task_ids", new[0])]).json()
    assert by_id["total"] == 2
    bad = client.get(TASKS, params={"filter.status": "done"})
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "filter.status"
    assert client.get("/contents/generations/tasks").json()["total"] == 5


def test_cancel(emu: Any, client: httpx.Client, clock: FakeClock) -> None:
    queued_id = _create(client)
    response = client.delete(f"{TASKS}/{queued_id}")
    assert response.status_code == 200
    assert client.get(f"{TASKS}/{queued_id}").json()["status"] == "cancelled"
    again = client.delete(f"{TASKS}/{queued_id}")
    assert again.status_code == 409

    running_id = _create(client)
    clock.advance(3)
    refused = client.delete(f"{TASKS}/{running_id}")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert set(error) == {"code", "message", "param", "type"}
    assert "running" in error["message"]
    finish(clock)
    assert client.delete(f"{TASKS}/{running_id}").status_code == 409
    assert client.delete(f"{TASKS}/cgt-nope").status_code == 404
    stats = emu.stats()
    assert stats["cancels"] == 5
    assert stats["by_status"] == {"cancelled": 1, "succeeded": 1}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Token abc"}])
def test_auth(emu: Any, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=emu.url, headers=headers) as anonymous:
        for response in (
            anonymous.post(TASKS, json={"model": MODEL, "content": TEXT}),
            anonymous.get(f"{TASKS}/cgt-x"),
            anonymous.get(TASKS),
            anonymous.delete(f"{TASKS}/cgt-x"),
        ):
            assert response.status_code == 401
            error = response.json()["error"]
            assert error["code"] == "AuthenticationError"
            assert set(error) == {"code", "message", "param", "type"}
            assert "wrong" not in error["message"]


IMG = {"type": "image_url", "image_url": {"url": "https://e.com/a.png"}}
VID = {"type": "video_url", "video_url": {"url": "https://e.com/v.mp4"}, "role": "reference_video"}
AUD = {"type": "audio_url", "audio_url": {"url": "https://e.com/a.mp3"}, "role": "reference_audio"}
REF = {**IMG, "role": "reference_image"}


@pytest.mark.parametrize(
    ("body", "param", "needle"),
    [
        ({"model": "gpt-4o"}, "model", "does not exist"),
        ({"model": None}, "model", "model is required"),
        ({"content": []}, "content", "non-empty array"),
        ({"content": "hello"}, "content", "non-empty array"),
        ({"content": [{"type": "html"}]}, "content[0].type", "must be text"),
        ({"content": [*TEXT, *TEXT]}, "content", "at most one text"),
        ({"content": [{**IMG, "role": "last_frame"}]}, "content", "requires a first_frame"),
        ({"content": [IMG, IMG]}, "content", "role is required"),
        ({"content": [{**IMG, "role": "first_frame"}, REF]}, "content", "cannot be combined"),
        ({"content": [*TEXT, *[REF] * 10]}, "content", "at most 9"),
        ({"content": [*TEXT, REF, *[VID] * 4]}, "content", "at most 9 reference images, 3"),
        ({"content": [*TEXT, AUD]}, "content", "cannot be given alone"),
        ({"content": [*TEXT, {**IMG, "role": "hero"}]}, "content[1].role", "role must be one of"),
        (
            {"content": [*TEXT, {"type": "image_url", "image_url": "https://e.com/a.png"}]},
            "content[1].image_url",
            "must be an object",
        ),
        (
            {"model": "seedance-1-0-pro-fast-251015", "content": [*TEXT, VID]},
            "content",
            "only supported by Seedance 2.0",
        ),
        ({"duration": 16}, "duration", "between 4 and 15"),
        # Other vendors' ids are not ModelArk models: refused, as ModelArk refuses them
        ({"model": "seedance-2.0-fast-text-to-video"}, "model", "does not exist"),
        ({"model": "bytedance/seedance-1-0-pro-fast"}, "model", "does not exist"),
        ({"model": "seedance-1-0-pro-fast"}, "model", "end with a version date"),
        ({"model": "seedance-1-0-pro-fast-251015", "duration": 13}, "duration", "between 2 and 12"),
        ({"resolution": "2k"}, "resolution", "must be one of"),
        ({"model": "dreamina-seedance-2-0-fast-260128", "resolution": "1080p"}, "resolution", "fast model"),
        ({"ratio": "5:4"}, "ratio", "must be one of"),
        ({"seed": 2**32}, "seed", "between -1 and"),
        ({"camera_fixed": "yes"}, "camera_fixed", "boolean"),
        ({"model": "seedance-1-0-pro-fast-251015", "generate_audio": True}, "generate_audio", "not supported"),
        ({"callback_url": "http://hooks.example.com"}, "callback_url", "https"),
        ({"callback_url": "https://169.254.169.254/latest"}, "callback_url", "private"),
        ({"service_tier": "priority"}, "service_tier", "must be one of"),
        ({"execution_expires_after": 60}, "execution_expires_after", "between 3600 and 259200"),
    ],
)
def test_validation(emu: Any, client: httpx.Client, body: dict[str, Any], param: str, needle: str) -> None:
    payload = {k: v for k, v in {"model": MODEL, "content": TEXT, **body}.items() if v is not None}
    response = client.post(TASKS, json=payload)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "InvalidParameter"
    assert error["type"] == "BadRequest"
    assert error["param"] == param
    assert needle in error["message"]
    assert emu.stats()["creates_total"] == 0


def test_unknown_task_404(client: httpx.Client) -> None:
    response = client.get(f"{TASKS}/cgt-20250101000000-xxxxx")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ResourceNotFound"
