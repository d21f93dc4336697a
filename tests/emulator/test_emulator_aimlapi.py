"""AIML API dialect over real HTTP: lifecycle, success word option, error format, validation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emulator_support import FakeClock, finish, probe_mp4

from airflow_provider_seedance.emulator import EmulatorServer

MODEL = "bytedance/seedance-1-0-pro-fast"
PATH = "/v2/video/generations"


def _create(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post(PATH, json={"model": MODEL, "prompt": "Mona Lisa puts on glasses", **body})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _poll(client: httpx.Client, generation_id: str) -> dict[str, Any]:
    response = client.get(PATH, params={"generation_id": generation_id})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_happy_path(client: httpx.Client, clock: FakeClock) -> None:
    created = _create(
        client,
        duration=5,
        resolution="720p",
        image_url="https://e.com/mona.jpg",
        last_image_url="data:image/png;base64,iVBORw0KGgo=",
        watermark=False,
        seed=42,
        camerafixed=True,
    )
    assert created["status"] == "queued"
    assert len(created["id"]) == 21
    assert created["meta"]["usage"]["credits_used"] == 1_000_000

    queued = _poll(client, created["id"])
    assert queued == {
        "id": created["id"],
        "status": "queued",
        "video": None,
        "error": None,
        "meta": {"usage": {"credits_used": 1_000_000}},
    }
    clock.advance(4)
    assert _poll(client, created["id"])["status"] == "generating"
    finish(clock)
    done = _poll(client, created["id"])
    assert done["status"] == "completed"
    assert done["error"] is None
    video = httpx.get(done["video"]["url"])
    info = probe_mp4(video.content)
    assert info["codec"] == "h264"
    assert (info["width"], info["height"]) == (320, 180)
    assert abs(info["duration"] - 5) <= 0.2


def test_duration_as_string_like_the_vendor_example(client: httpx.Client) -> None:
    assert _create(client, duration="10")["meta"]["usage"]["credits_used"] == 4_000_000


def test_success_word_succeeded() -> None:
    with EmulatorServer(render_seconds=0.0, aiml_success_word="succeeded") as emu:
        headers = {"Authorization": "Bearer any"}
        created = httpx.post(f"{emu.url}{PATH}", json={"model": MODEL, "prompt": "x"}, headers=headers).json()
        done = httpx.get(f"{emu.url}{PATH}", params={"generation_id": created["id"]}, headers=headers).json()
        assert done["status"] == "succeeded"
        assert done["video"]["url"].startswith(emu.url)


@pytest.mark.parametrize(
    ("tag", "name"),
    [("[fail:content_policy_violation]", "content_policy_violation"), ("[expire]", "generation_timeout")],
)
def test_failures(client: httpx.Client, clock: FakeClock, tag: str, name: str) -> None:
    created = _create(client, prompt=f"x {tag}")
    finish(clock)
    failed = _poll(client, created["id"])
    assert failed["status"] == "error"
    assert failed["video"] is None
    assert failed["error"]["name"] == name
    assert failed["meta"]["usage"]["credits_used"] == 0


def _assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"message", "path", "requestId", "statusCode", "timestamp"}
    assert body["statusCode"] == status
    assert body["path"] == PATH
    assert body["timestamp"].endswith("Z")
    return body


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
def test_auth(emu: Any, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=emu.url, headers=headers) as anonymous:
        _assert_error(anonymous.post(PATH, json={"model": MODEL, "prompt": "x"}), 401)
        body = _assert_error(anonymous.get(PATH, params={"generation_id": "abc"}), 401)
        assert "nope" not in body["message"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"model": "bytedance/seedance-2-0"}, "Invalid model"),
        ({"prompt": None}, "prompt is required"),
        ({"duration": 6}, "duration must be one of 5, 10"),
        ({"duration": "7"}, "duration must be one of 5, 10"),
        ({"resolution": "4k"}, "resolution must be one of"),
        ({"last_image_url": "https://e.com/last.jpg"}, "requires image_url"),
        ({"image_url": "not a url"}, "image_url must be a URL"),
        ({"watermark": "no"}, "watermark must be a boolean"),
        ({"seed": -2}, "seed must be between"),
    ],
)
def test_validation(client: httpx.Client, body: dict[str, Any], needle: str) -> None:
    payload = {k: v for k, v in {"model": MODEL, "prompt": "x", **body}.items() if v is not None}
    assert needle in _assert_error(client.post(PATH, json=payload), 400)["message"]


def test_poll_errors(client: httpx.Client) -> None:
    _assert_error(client.get(PATH), 400)
    _assert_error(client.get(PATH, params={"generation_id": "nope"}), 404)
