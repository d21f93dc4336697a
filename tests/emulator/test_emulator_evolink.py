"""EvoLink dialect over real HTTP: lifecycle, task object, MP4 result, auth, validation,
idempotency and prompt tags."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emulator_support import API_KEY, FakeClock, evolink_create, finish, probe_mp4


def test_happy_path_create_poll_download(emu: Any, client: httpx.Client, clock: FakeClock) -> None:
    created = evolink_create(client, aspect_ratio="9:16", duration=4, quality="480p")
    assert created["status"] == "pending"
    assert created["object"] == "video.generation.task"
    assert created["type"] == "video"
    assert created["progress"] == 0
    assert created["id"].startswith("task-unified-")
    assert len(created["id"].rsplit("-", 1)[1]) == 8
    assert created["task_info"] == {"can_cancel": True, "estimated_time": 10, "video_duration": 4}
    assert created["usage"] == {"billing_rule": "per_second", "credits_reserved": 16, "user_group": "default"}
    assert "results" not in created

    clock.advance(5.5)
    running = client.get(f"/v1/tasks/{created['id']}").json()
    assert running["status"] == "processing"
    assert 1 <= running["progress"] <= 99
    assert running["task_info"]["can_cancel"] is False

    finish(clock)
    done = client.get(f"/v1/tasks/{created['id']}").json()
    assert done["status"] == "completed"
    assert done["progress"] == 100
    assert done["usage"]["credits_used"] == 16
    assert done["created"] == created["created"]
    (url,) = done["results"]
    assert url.startswith(f"{emu.url}/files/{created['id']}.mp4?expires=")

    video = httpx.get(url)  # the CDN needs no Authorization header
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    info = probe_mp4(video.content)
    assert info["codec"] == "h264"
    assert info["pix_fmt"] == "yuv420p"
    assert (info["width"], info["height"]) == (180, 320)
    assert abs(info["duration"] - 4) <= 0.2
    assert info["fps"] == 24
    assert info["frames_differ"]
    assert info["neighbours_differ"]
    assert "audio" in info["streams"]  # generate_audio defaults to true on 2.0
    assert video.content[4:8] == b"ftyp"
    assert video.content.find(b"moov") < video.content.find(b"mdat")  # faststart


def test_seedance_10_pro_fast_image_to_video(client: httpx.Client, clock: FakeClock) -> None:
    created = evolink_create(
        client,
        model="doubao-seedance-1.0-pro-fast",
        duration=2,
        image_urls=["https://example.com/a.jpg"],
        aspect_ratio="keep_ratio",
    )
    assert created["usage"]["billing_rule"] == "per_call"
    assert created["usage"]["credits_reserved"] == 40  # 1080p default
    finish(clock)
    done = client.get(f"/v1/tasks/{created['id']}").json()
    info = probe_mp4(httpx.get(done["results"][0]).content)
    assert (info["width"], info["height"]) == (320, 180)  # keep_ratio renders 16:9
    assert info["streams"] == ["video"]
    assert abs(info["duration"] - 2) <= 0.2


@pytest.mark.parametrize(
    ("model", "extra"),
    [
        ("seedance-2.0-text-to-video", {"model_params": {"web_search": True}}),
        ("seedance-2.0-fast-text-to-video", {"quality": "480p"}),
        ("seedance-2.0-image-to-video", {"image_urls": ["https://e.com/1.png", "https://e.com/2.png"]}),
        ("seedance-2.0-fast-image-to-video", {"image_urls": ["https://e.com/1.png"], "aspect_ratio": "adaptive"}),
        # Base64 images: the 2.0 docs only warn against them for large files.
        ("seedance-2.0-image-to-video", {"image_urls": ["data:image/png;base64,iVBORw0KGgo=", "https://e.com/2.png"]}),
        ("seedance-2.0-fast-reference-to-video", {"image_urls": ["data:image/webp;base64,UklGRg=="]}),
        (
            "seedance-2.0-reference-to-video",
            {
                "image_urls": ["https://e.com/1.png"] * 9,
                "video_urls": ["https://e.com/v.mp4"] * 3,
                "audio_urls": ["https://e.com/a.mp3"] * 3,
                "quality": "1080p",
            },
        ),
        (
            "seedance-2.0-fast-reference-to-video",
            {"video_urls": ["https://e.com/v.mp4"], "audio_urls": ["https://e.com/a.mp3"]},
        ),
    ],
)
def test_all_20_models_accept_documented_requests(client: httpx.Client, model: str, extra: dict[str, Any]) -> None:
    created = evolink_create(
        client,
        model=model,
        duration=15,
        generate_audio=False,
        callback_url="https://hooks.example.com/seedance",
        unknown_field=1,
        **extra,
    )
    assert created["model"] == model
    assert created["task_info"]["video_duration"] == 15


TEXT = "seedance-2.0-text-to-video"
FAST_IMAGE = "seedance-2.0-fast-image-to-video"
REFERENCE = "seedance-2.0-reference-to-video"
PRO_FAST = "doubao-seedance-1.0-pro-fast"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"model": "seedance-3.0-imaginary"}, "Unsupported model"),
        ({"model": None}, "model is required"),
        ({"prompt": None}, "prompt is required"),
        ({"model": PRO_FAST, "prompt": "x" * 2001}, "too long"),
        ({"model": PRO_FAST, "prompt": "[render:1] " + "x" * 1990}, "too long"),
        ({"model": PRO_FAST, "duration": 1}, "between 2 and 12"),
        ({"model": PRO_FAST, "duration": 13}, "between 2 and 12"),
        ({"duration": 3}, "between 4 and 15"),
        ({"duration": 16}, "between 4 and 15"),
        ({"duration": "5"}, "must be an integer"),
        ({"duration": 5.5}, "must be an integer"),
        ({"quality": "4k"}, "quality must be one of"),
        ({"model": "seedance-2.0-fast-text-to-video", "quality": "1080p"}, "1080p is not supported"),
        ({"aspect_ratio": "2:1"}, "aspect_ratio must be one of"),
        ({"aspect_ratio": "keep_ratio"}, "aspect_ratio must be one of"),
        ({"model": PRO_FAST, "aspect_ratio": "adaptive"}, "aspect_ratio must be one of"),
        ({"model": PRO_FAST, "image_urls": ["https://e.com/1.png", "https://e.com/2.png"]}, "at most 1 image"),
        ({"model": PRO_FAST, "generate_audio": True}, "generate_audio is not supported"),
        ({"model": PRO_FAST, "video_urls": ["https://e.com/v.mp4"]}, "video_urls is not supported"),
        ({"image_urls": ["https://e.com/1.png"]}, "does not accept image_urls"),
        ({"model": FAST_IMAGE}, "requires 1-2 images"),
        ({"model": FAST_IMAGE, "image_urls": ["https://e.com/1.png"] * 3}, "requires 1-2 images"),
        (
            {"model": FAST_IMAGE, "image_urls": ["https://e.com/1.png"], "video_urls": ["https://e.com/v.mp4"]},
            "only supported by the reference-to-video",
        ),
        ({"model": TEXT, "audio_urls": ["https://e.com/a.mp3"]}, "only supported by the reference-to-video"),
        ({"model": REFERENCE, "image_urls": ["https://e.com/1.png"] * 10}, "at most 9"),
        ({"model": REFERENCE, "video_urls": ["https://e.com/v.mp4"] * 4}, "at most 3"),
        (
            {"model": REFERENCE, "image_urls": ["https://e.com/1.png"], "audio_urls": ["https://e.com/a.mp3"] * 4},
            "at most 3",
        ),
        ({"model": REFERENCE, "audio_urls": ["https://e.com/a.mp3"]}, "cannot be provided alone"),
        (
            {"model": FAST_IMAGE, "image_urls": ["https://e.com/1.png"], "model_params": {"web_search": True}},
            "only supported by text-to-video",
        ),
        ({"model_params": {"web_search": "yes"}}, "must be a boolean"),
        ({"image_urls": "https://e.com/1.png", "model": FAST_IMAGE}, "must be an array"),
        ({"model": FAST_IMAGE, "image_urls": ["ftp://e.com/1.png"]}, "scheme"),
        ({"generate_audio": "true"}, "must be a boolean"),
        ({"callback_url": "http://hooks.example.com/x"}, "https"),
        ({"callback_url": "https://127.0.0.1/x"}, "private"),
        ({"callback_url": "https://10.1.2.3/x"}, "private"),
        ({"callback_url": "https://192.168.0.10/x"}, "private"),
        ({"callback_url": "https://172.20.0.1/x"}, "private"),
        ({"callback_url": "https://localhost/x"}, "local"),
        ({"callback_url": "https://[::1]/x"}, "private"),
        ({"callback_url": "https://example.com/" + "a" * 2040}, "2048"),
    ],
)
def test_validation_rejections(emu: Any, client: httpx.Client, body: dict[str, Any], needle: str) -> None:
    payload = {"model": TEXT, "prompt": "A cat playing piano", **body}
    payload = {k: v for k, v in payload.items() if v is not None}
    response = client.post("/v1/videos/generations", json=payload)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["type"] == "invalid_request_error"
    assert needle in error["message"]
    assert emu.stats()["creates_total"] == 0


def test_body_must_be_a_json_object(client: httpx.Client) -> None:
    for raw in (b"not json", b"[1, 2]"):
        response = client.post("/v1/videos/generations", content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer wrong-key"},
    ],
)
def test_auth_rejected_in_evolink_format(emu: Any, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=emu.url, headers=headers) as anonymous:
        for response in (
            anonymous.post("/v1/videos/generations", json={"model": TEXT, "prompt": "x"}),
            anonymous.get("/v1/tasks/task-unified-1-abcdefgh"),
        ):
            assert response.status_code == 401
            error = response.json()["error"]
            assert error == {"code": "unauthorized", "message": error["message"], "type": "authentication_error"}
            assert "wrong-key" not in response.text
            assert API_KEY not in response.text
    assert emu.stats()["creates_total"] == 0


def test_unknown_task_is_404(client: httpx.Client) -> None:
    response = client.get("/v1/tasks/task-unified-1761313744-nosuchid")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_not_found"


def test_task_of_another_dialect_is_not_visible(client: httpx.Client) -> None:
    created = client.post(
        "/api/v3/contents/generations/tasks",
        json={"model": "seedance-1-0-pro-fast-251015", "content": [{"type": "text", "text": "x"}]},
    )
    assert client.get(f"/v1/tasks/{created.json()['id']}").status_code == 404


def test_idempotency_replay_and_conflict(emu: Any, client: httpx.Client) -> None:
    body = {"model": TEXT, "prompt": "idempotent cat", "duration": 5}
    key = {"Idempotency-Key": "order-42"}
    first = client.post("/v1/videos/generations", json=body, headers=key)
    assert first.status_code == 200
    assert "idempotency-replayed" not in first.headers
    same_body_reordered = {"duration": 5, "prompt": "idempotent cat", "model": TEXT}
    replay = client.post("/v1/videos/generations", json=same_body_reordered, headers=key)
    assert replay.status_code == 200
    assert replay.headers["idempotency-replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]

    conflict = client.post("/v1/videos/generations", json={**body, "duration": 6}, headers=key)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_conflict"

    other_key = client.post("/v1/videos/generations", json=body, headers={"Idempotency-Key": "order-43"})
    assert other_key.json()["id"] != first.json()["id"]
    no_key = client.post("/v1/videos/generations", json=body)
    assert no_key.json()["id"] != first.json()["id"]

    stats = emu.stats()
    assert stats["creates"]["evolink"] == 3
    assert stats["creates_total"] == 3
    log = [e for e in emu.requests() if e["kind"] == "create"]
    assert [e["idempotency_replayed"] for e in log] == [False, True, False, False, False]
    assert log[1]["task_id"] == first.json()["id"]


def test_idempotency_keys_are_per_api_key() -> None:
    from airflow_provider_seedance.emulator import EmulatorServer

    with EmulatorServer(render_seconds=1.0) as open_emu:  # any key accepted
        body = {"model": TEXT, "prompt": "cat"}
        ids = {
            httpx.post(
                f"{open_emu.url}/v1/videos/generations",
                json=body,
                headers={"Authorization": f"Bearer user-{n}", "Idempotency-Key": "same"},
            ).json()["id"]
            for n in range(2)
        }
        assert len(ids) == 2


@pytest.mark.parametrize(
    ("tag", "code", "kind"),
    [
        ("[fail:content_policy_violation]", "content_policy_violation", "invalid_request_error"),
        ("[fail:resource_exhausted]", "resource_exhausted", "api_error"),
        ("[expire]", "generation_timeout", "api_error"),
    ],
)
def test_failure_tags(client: httpx.Client, clock: FakeClock, tag: str, code: str, kind: str) -> None:
    created = evolink_create(client, prompt=f"A cat {tag} playing")
    clock.advance(5)
    assert client.get(f"/v1/tasks/{created['id']}").json()["status"] == "processing"
    finish(clock)
    failed = client.get(f"/v1/tasks/{created['id']}").json()
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == code
    assert failed["error"]["type"] == kind
    assert failed["usage"]["credits_used"] == 0
    assert "results" not in failed


def test_render_and_stuck_tags(emu: Any, client: httpx.Client, clock: FakeClock) -> None:
    quick = evolink_create(client, prompt="[render:2.5] quick cat")
    assert quick["task_info"]["estimated_time"] == 3
    stuck = evolink_create(client, prompt="[stuck] lazy cat")
    clock.advance(3)
    assert client.get(f"/v1/tasks/{quick['id']}").json()["status"] == "completed"
    clock.advance(10_000)
    assert client.get(f"/v1/tasks/{stuck['id']}").json()["status"] == "processing"
    state = httpx.get(f"{emu.url}/_emulator/tasks/{quick['id']}").json()
    assert state["prompt"] == "quick cat"  # tags are stripped from the prompt (and the video text)


def test_forced_cancel_shows_cancelled(emu: Any, client: httpx.Client) -> None:
    created = evolink_create(client)
    emu.force_cancel(created["id"])
    cancelled = client.get(f"/v1/tasks/{created['id']}").json()
    assert cancelled["status"] == "cancelled"
    assert emu.stats()["by_status"] == {"cancelled": 1}
