"""The limits table and validator: every rule names the field, the value and the limit."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from airflow_provider_seedance.contract.limits import MODEL_LIMITS, backends_for_model, known_models, validate_request
from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.models import VideoRequest
from airflow_provider_seedance.wire.backends import get_backend

IMG = "https://example.com/a.jpg"
VID = "https://example.com/v.mp4"
AUD = "https://example.com/a.mp3"


def req(model: str, **kw: object) -> VideoRequest:
    kw.setdefault("prompt", "a cat playing piano")
    return VideoRequest(model=model, **kw)  # type: ignore[arg-type]


def refused(backend: str, request: VideoRequest) -> SeedanceValidationError:
    with pytest.raises(SeedanceValidationError) as info:
        validate_request(get_backend(backend), request)
    return info.value


@pytest.mark.parametrize(
    ("backend", "model", "kw", "field", "limit_text"),
    [
        ("evolink", "doubao-seedance-1.0-pro-fast", {"duration": 13}, "duration", "2-12"),
        ("evolink", "doubao-seedance-1.0-pro-fast", {"duration": 1}, "duration", "2-12"),
        ("evolink", "seedance-2.0-text-to-video", {"duration": 3}, "duration", "4-15"),
        ("evolink", "seedance-2.0-text-to-video", {"duration": 16}, "duration", "4-15"),
        ("aimlapi", "bytedance/seedance-1-0-pro-fast", {"duration": 7}, "duration", "5 or 10"),
        ("evolink", "seedance-2.0-fast-text-to-video", {"quality": "1080p"}, "quality", "480p, 720p"),
        ("evolink", "seedance-2.0-text-to-video", {"aspect_ratio": "2:1"}, "aspect_ratio", "16:9"),
        ("evolink", "seedance-2.0-text-to-video", {"image_urls": (IMG,)}, "image_urls", "not accepted"),
        ("evolink", "seedance-2.0-image-to-video", {}, "image_urls", "needs 1 image"),
        ("evolink", "seedance-2.0-image-to-video", {"image_urls": (IMG,) * 3}, "image_urls", "at most 2"),
        ("evolink", "doubao-seedance-1.0-pro-fast", {"image_urls": (IMG, IMG)}, "image_urls", "at most 1"),
        ("evolink", "seedance-2.0-reference-to-video", {"image_urls": (IMG,) * 10}, "image_urls", "at most 9"),
        ("evolink", "seedance-2.0-reference-to-video", {"video_urls": (VID,) * 4}, "video_urls", "at most 3"),
        (
            "evolink",
            "seedance-2.0-reference-to-video",
            {"image_urls": (IMG,), "audio_urls": (AUD,) * 4},
            "audio_urls",
            "at most 3",
        ),
        ("evolink", "seedance-2.0-reference-to-video", {"audio_urls": (AUD,)}, "audio_urls", "only reference"),
        (
            "evolink",
            "seedance-2.0-image-to-video",
            {"image_urls": (IMG,), "web_search": True},
            "web_search",
            "not accepted",
        ),
        ("evolink", "doubao-seedance-1.0-pro-fast", {"generate_audio": True}, "generate_audio", "not accepted"),
        (
            "evolink",
            "seedance-2.0-image-to-video",
            {"image_urls": (IMG,), "video_urls": (VID,)},
            "video_urls",
            "not accepted",
        ),
        ("aimlapi", "bytedance/seedance-1-0-pro-fast", {"aspect_ratio": "16:9"}, "aspect_ratio", "not accepted"),
        ("evolink", "doubao-seedance-1.0-pro-fast", {"prompt": "x" * 2001}, "prompt", "2000"),
        ("evolink", "seedance-2.0-text-to-video", {"prompt": "  "}, "prompt", "non-empty"),
        ("evolink", "seedance-2.0-image-to-video", {"image_urls": ("ftp://x/a.jpg",)}, "image_urls[0]", "http"),
        ("evolink", "seedance-2.0-text-to-video", {"callback_url": "http://example.com/cb"}, "callback_url", "https"),
        ("evolink", "seedance-2.0-text-to-video", {"callback_url": "https://127.0.0.1/cb"}, "callback_url", "loopback"),
        ("evolink", "seedance-2.0-text-to-video", {"callback_url": "https://10.1.2.3/cb"}, "callback_url", "private"),
        (
            "evolink",
            "seedance-2.0-text-to-video",
            {"callback_url": "https://192.168.0.9/cb"},
            "callback_url",
            "private",
        ),
        ("evolink", "seedance-2.0-text-to-video", {"callback_url": "https://localhost/cb"}, "callback_url", "loopback"),
        (
            "evolink",
            "seedance-2.0-text-to-video",
            {"callback_url": "https://example.com/" + "a" * 2048},
            "callback_url",
            "2048",
        ),
        ("modelark", "dreamina-seedance-2-0-fast-260128", {"quality": "1080p"}, "quality", "480p, 720p"),
        ("modelark", "seedance-1-0-pro-250528", {"generate_audio": True}, "generate_audio", "not accepted"),
        ("modelark", "dreamina-seedance-2-0-260128", {"service_tier": "cheap"}, "service_tier", "flex"),
    ],
)
def test_violation_names_field_value_and_limit(backend, model, kw, field, limit_text):
    error = refused(backend, req(model, **kw))
    assert error.field == field
    assert limit_text in str(error)
    assert model in str(error) or field in ("prompt",)


@pytest.mark.parametrize(
    ("backend", "model", "kw"),
    [
        ("evolink", "doubao-seedance-1.0-pro-fast", {"duration": 2, "quality": "1080p"}),
        ("evolink", "doubao-seedance-1.0-pro-fast", {"image_urls": (IMG,), "aspect_ratio": "keep_ratio"}),
        ("evolink", "seedance-2.0-text-to-video", {"duration": 15, "web_search": True, "aspect_ratio": "adaptive"}),
        ("evolink", "seedance-2.0-image-to-video", {"image_urls": (IMG, IMG), "generate_audio": False}),
        (
            "evolink",
            "seedance-2.0-fast-reference-to-video",
            {"image_urls": (IMG,) * 9, "video_urls": (VID,) * 3, "audio_urls": (AUD,) * 3},
        ),
        ("evolink", "seedance-2.0-reference-to-video", {"video_urls": (VID,), "audio_urls": (AUD,)}),
        ("aimlapi", "bytedance/seedance-1-0-pro-fast", {"duration": 10, "image_urls": (IMG, IMG), "seed": 7}),
        (
            "modelark",
            "dreamina-seedance-2-0-260128",
            {"image_urls": (IMG,), "video_urls": (VID,), "service_tier": "flex"},
        ),
        ("evolink", "seedance-2.0-text-to-video", {"callback_url": "https://hooks.example.com/done"}),
    ],
)
def test_valid_requests_pass(backend, model, kw):
    assert validate_request(get_backend(backend), req(model, **kw)) == []


def test_unknown_model_gets_generic_checks_and_a_warning():
    warnings = validate_request(get_backend("evolink"), req("seedance-3.0-text-to-video", duration=8))
    assert len(warnings) == 1
    assert "seedance-3.0-text-to-video" in warnings[0]
    assert refused("evolink", req("seedance-3.0-text-to-video", duration=600)).field == "duration"
    assert refused("aimlapi", req("bytedance/new", return_last_frame=True)).field == "return_last_frame"


def test_a_backend_name_instead_of_the_backend_is_a_clear_error():
    with pytest.raises(TypeError, match=r"validate_request\(get_backend\('evolink'\), \.\.\.\)"):
        validate_request("evolink", req("seedance-2.0-text-to-video"))  # type: ignore[arg-type]


def test_model_ids_are_distinct_across_backends():
    for model in known_models():
        assert len(backends_for_model(model)) == 1


@pytest.mark.parametrize("count", [3, 5, 9])
def test_unknown_aimlapi_model_takes_at_most_the_two_images_its_body_carries(count):
    # The AIML API body has only image_url and last_image_url: a third image would be dropped silently.
    images = tuple(f"https://example.com/{index}.jpg" for index in range(count))
    error = refused("aimlapi", req("bytedance/seedance-2-0", image_urls=images))
    assert error.field == "image_urls"
    assert error.value == list(images)
    assert "at most 2" in str(error)
    assert "bytedance/seedance-2-0" in str(error)
    for name, urls in (("video_urls", (VID,)), ("audio_urls", (AUD,))):
        assert refused("aimlapi", req("bytedance/seedance-2-0", image_urls=(IMG,), **{name: urls})).field == name


@pytest.mark.parametrize(
    ("backend", "model"),
    [
        ("evolink", "seedance-3.0-unknown"),
        ("aimlapi", "bytedance/seedance-2-0"),
        ("modelark", "dreamina-seedance-3-0-unknown"),
        *sorted(MODEL_LIMITS),
    ],
)
def test_every_accepted_media_url_reaches_the_wire_body(backend, model):
    """Whatever media the validator accepts, the backend's body carries, every URL of it."""
    for images in range(11):
        for videos in range(4):
            for audios in range(4):
                request = req(
                    model,
                    image_urls=tuple(f"https://example.com/i{n}.png" for n in range(images)),
                    video_urls=tuple(f"https://example.com/v{n}.mp4" for n in range(videos)),
                    audio_urls=tuple(f"https://example.com/a{n}.mp3" for n in range(audios)),
                )
                try:
                    validate_request(get_backend(backend), request)
                except SeedanceValidationError:
                    continue
                body = json.dumps(get_backend(backend).wire_body(request))
                for url in (*request.image_urls, *request.video_urls, *request.audio_urls):
                    assert f'"{url}"' in body, f"{backend} {model} dropped {url}: {body}"


@pytest.mark.parametrize(
    ("backend", "model", "key", "value", "source"),
    [
        ("evolink", "seedance-2.0-text-to-video", "duration", 99, "duration"),
        ("evolink", "seedance-2.0-text-to-video", "model", "x", "model"),
        ("evolink", "seedance-2.0-text-to-video", "prompt", "p", "prompt"),
        ("evolink", "seedance-2.0-text-to-video", "quality", "4k", "quality"),
        ("evolink", "seedance-2.0-reference-to-video", "image_urls", ["https://e.com/1.png"] * 20, "image_urls"),
        ("evolink", "seedance-2.0-text-to-video", "model_params", {"web_search": "yes"}, "web_search"),
        ("evolink", "seedance-3.0-unknown", "callback_url", "https://127.0.0.1/cb", "callback_url"),
        ("aimlapi", "bytedance/seedance-1-0-pro-fast", "resolution", "4k", "quality"),
        ("aimlapi", "bytedance/seedance-1-0-pro-fast", "image_url", "ftp://x/a.png", "image_urls"),
        ("aimlapi", "bytedance/seedance-1-0-pro-fast", "last_image_url", "ftp://x/a.png", "image_urls"),
        ("aimlapi", "bytedance/seedance-1-0-pro-fast", "camerafixed", "yes", "camera_fixed"),
        ("aimlapi", "bytedance/seedance-2-0", "duration", 7, "duration"),
        (
            "modelark",
            "dreamina-seedance-2-0-260128",
            "content",
            [],
            "prompt, image_urls, video_urls, audio_urls and draft_generation_id",
        ),
        ("modelark", "dreamina-seedance-2-0-260128", "ratio", "2:1", "aspect_ratio"),
        ("modelark", "dreamina-seedance-2-0-260128", "resolution", "1440p", "quality and draft"),
        ("modelark", "dreamina-seedance-2-0-260128", "service_tier", "cheap", "service_tier"),
        ("modelark", "seedance-1-0-pro-250528", "generate_audio", True, "generate_audio"),
    ],
)
def test_extra_params_cannot_override_a_checked_field(backend, model, key, value, source):
    error = refused(backend, req(model, extra_params={key: value, "future_field": 1}))
    assert error.field == f"extra_params[{key!r}]"
    assert error.value == value
    assert f"{key!r} is set from the {source} argument" in str(error)
    assert "checked; use th" in str(error)


def test_extra_params_message_reads_like_the_other_validation_errors():
    error = refused("evolink", req("seedance-2.0-text-to-video", extra_params={"duration": 99}))
    assert str(error) == (
        "Invalid extra_params['duration']=99 for model 'seedance-2.0-text-to-video': "
        "'duration' is set from the duration argument and checked; use that argument"
    )


@pytest.mark.parametrize(
    ("backend", "model", "extra"),
    [
        ("evolink", "seedance-2.0-text-to-video", {"future_field": 1}),
        ("aimlapi", "bytedance/seedance-1-0-pro-fast", {"image_urls": ["https://e.com/1.png"], "ratio": "1:1"}),
        ("modelark", "dreamina-seedance-2-0-260128", {"tools": [{"type": "web_search"}], "prompt": "p"}),
    ],
)
def test_extra_params_for_fields_the_body_does_not_build_pass_through(backend, model, extra):
    # Keys the backend's body never builds are what extra_params is for (another dialect's names included).
    request = req(model, extra_params=extra)
    assert validate_request(get_backend(backend), request) == []
    body = get_backend(backend).wire_body(request)
    assert {key: body[key] for key in extra} == extra


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize(
    ("backend", "model", "key"),
    [
        ("evolink", "seedance-2.0-text-to-video", "duration"),
        ("aimlapi", "bytedance/seedance-1-0-pro-fast", "duration"),
        ("modelark", "dreamina-seedance-2-0-260128", "duration"),
    ],
)
async def test_hook_refuses_an_overriding_extra_param_before_any_request(monkeypatch, backend, model, key, use_async):
    from airflow_provider_seedance.hooks.seedance import SeedanceHook

    sent: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"id": "g-1", "status": "queued"})

    conn = {"conn_type": "seedance", "password": "k", "host": "http://api.test", "extra": {"backend": backend}}
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_LIMITS", json.dumps(conn))
    transport = httpx.MockTransport(api)
    hook = SeedanceHook("seedance_limits", transport=transport, async_transport=transport)
    request = req(model, extra_params={key: 99})
    with pytest.raises(SeedanceValidationError, match=r"extra_params\['duration'\]=99"):
        await (hook.asubmit(request) if use_async else asyncio.to_thread(hook.submit, request))
    assert sent == []


@pytest.mark.parametrize("url", ["https://cdn.test/a b.png", "https://cdn.test/a.png\n", "https://cdn.test/\ta.png"])
def test_urls_with_spaces_or_control_characters_are_refused(url):
    from airflow_provider_seedance.contract._urls import check_callback_url, check_media_url

    with pytest.raises(SeedanceValidationError, match="percent-encode"):
        check_media_url("image_urls", url, allow_data=True)
    with pytest.raises(SeedanceValidationError, match=r"callback_url.*percent-encode"):
        check_callback_url(url)


def test_every_invalid_field_is_reported_at_once():
    """Issue 20: a wrong duration and a wrong quality together used to report only the duration."""
    request = VideoRequest(
        model="seedance-2.0-fast-text-to-video", prompt="a kite", duration=99, quality="8k", aspect_ratio="7:3"
    )
    with pytest.raises(SeedanceValidationError) as caught:
        validate_request(get_backend("evolink"), request)
    error = caught.value
    assert error.field == "duration"
    assert [other.field for other in error.others] == ["quality", "aspect_ratio"]
    text = str(error)
    assert "Invalid duration=99" in text and "invalid quality='8k': must be one of" in text
    assert "invalid aspect_ratio='7:3'" in text
    assert error.in_task("teaser").others == error.others and "in task 'teaser'" in str(error.in_task("teaser"))
