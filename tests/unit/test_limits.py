"""The limits table and validator: every rule names the field, the value and the limit."""

from __future__ import annotations

import pytest

from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.limits import backends_for_model, known_models, validate_request
from airflow_provider_seedance.models import VideoRequest

IMG = "https://example.com/a.jpg"
VID = "https://example.com/v.mp4"
AUD = "https://example.com/a.mp3"


def req(model: str, **kw: object) -> VideoRequest:
    kw.setdefault("prompt", "a cat playing piano")
    return VideoRequest(model=model, **kw)  # type: ignore[arg-type]


def refused(backend: str, request: VideoRequest) -> SeedanceValidationError:
    with pytest.raises(SeedanceValidationError) as info:
        validate_request(backend, request)  # type: ignore[arg-type]
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
    assert validate_request(backend, req(model, **kw)) == []


def test_unknown_model_gets_generic_checks_and_a_warning():
    warnings = validate_request("evolink", req("seedance-3.0-text-to-video", duration=8))
    assert len(warnings) == 1
    assert "seedance-3.0-text-to-video" in warnings[0]
    assert refused("evolink", req("seedance-3.0-text-to-video", duration=600)).field == "duration"
    assert refused("aimlapi", req("bytedance/new", return_last_frame=True)).field == "return_last_frame"


def test_model_ids_are_distinct_across_backends():
    for model in known_models():
        assert len(backends_for_model(model)) == 1
