"""Contract tests: every wire body the backends produce validates against the vendor's request schema.

The EvoLink and AIML API schemas are the vendors' published OpenAPI documents of shared/seeds, copied into
tests/fixtures/vendor_schemas so a fresh clone has them. The ModelArk schema there
(modelark_create_task.schema.json) is NOT published by the vendor: BytePlus ModelArk publishes no OpenAPI
document, so this project wrote that JSON Schema itself from the vendor's prose docs (its ``$comment`` says
so). Passing it shows the bodies match our reading of those docs, not a vendor-issued contract.

Property-based: whatever the validator accepts, the vendor schema accepts. ``format: uri`` is checked (RFC
3986 syntax) since jsonschema's own check needs a package this project does not install.
"""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from airflow_provider_seedance.contract.limits import MODEL_LIMITS, validate_request
from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.models import VideoRequest
from airflow_provider_seedance.wire.backends import get_backend

SCHEMAS = Path(__file__).parent.parent / "fixtures" / "vendor_schemas"
IMG, VID, AUD = "https://cdn.example.com/i.png", "https://cdn.example.com/v.mp4", "https://cdn.example.com/a.mp3"
DATA_URI = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(40))).decode()


@cache
def schema_for(backend: str, model: str) -> dict[str, Any]:
    if backend == "evolink":
        name = "evolink_seedance_1_0_pro_fast" if model.startswith("doubao") else "evolink_seedance_2_0"
        doc = json.loads((SCHEMAS / f"{name}.openapi.json").read_text())
        schema = dict(doc["components"]["schemas"]["VideoGenerationRequest"])
        schema["components"] = doc["components"]
        return schema
    if backend == "aimlapi":
        doc = json.loads((SCHEMAS / "aimlapi_seedance_1_0_pro_fast.post.openapi.json").read_text())
        return dict(
            doc["paths"]["/v2/video/generations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        )
    return dict(json.loads((SCHEMAS / "modelark_create_task.schema.json").read_text()))


FORMATS = jsonschema.FormatChecker()
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9._~!$&'()*+,;=:@/?#\[\]-]|%[0-9A-Fa-f]{2})*")


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    """RFC 3986 URI syntax: a scheme, then only URI characters and well-formed percent escapes."""
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


def test_uri_format_is_checked():
    assert FORMATS.conforms(DATA_URI, "uri") and FORMATS.conforms("https://[2001:4860::1]:8443/a%20b?x=1#y", "uri")
    for value in ("https://e.com/a b", "https://e.com/caf\u00e9.png", "no-scheme/a.png", "https://e.com/%zz"):
        assert not FORMATS.conforms(value, "uri"), value


def assert_valid(backend: str, request: VideoRequest) -> dict[str, Any]:
    body = get_backend(backend).wire_body(request)
    validator = jsonschema.Draft202012Validator(schema_for(backend, request.model), format_checker=FORMATS)
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, f"{backend} {request.model}: {[e.message for e in errors]} in {body}"
    return body


def _one_per_mode() -> list[tuple[str, str, dict[str, Any]]]:
    cases = []
    for (backend, model), limits in MODEL_LIMITS.items():
        for mode in sorted(limits.modes):
            media: dict[str, Any] = {}
            if mode == "image":
                media["image_urls"] = (IMG,) * limits.max_frame_images
            if mode == "reference":
                media = {"image_urls": (IMG,) * 3, "video_urls": (VID,), "audio_urls": (AUD,)}
                media = {k: v for k, v in media.items() if k in limits.fields}
            scalars: dict[str, Any] = {
                "duration": limits.duration_choices[0] if limits.duration_choices else limits.max_duration
            }
            if "quality" in limits.fields:
                scalars["quality"] = limits.qualities[-1]
            if "aspect_ratio" in limits.fields:
                scalars["aspect_ratio"] = "9:16"
            for flag in ("generate_audio", "web_search", "camera_fixed", "watermark", "return_last_frame"):
                if flag in limits.fields and (flag != "web_search" or mode == "text"):
                    scalars[flag] = True
            if "seed" in limits.fields:
                scalars["seed"] = 42
            if "service_tier" in limits.fields:
                scalars["service_tier"] = "flex"
            if "callback_url" in limits.fields:
                scalars["callback_url"] = "https://hooks.example.com/seedance/done?run=1"
            if media.get("image_urls"):  # the first image as a base64 data URI
                media["image_urls"] = (DATA_URI, *media["image_urls"][1:])
            scalars["prompt"] = ("a red fox in fresh snow, " * limits.prompt_max)[: limits.prompt_max]
            cases.append((backend, model, {"mode": mode, **media, **scalars}))
    return cases


@pytest.mark.parametrize(
    ("backend", "model", "kw"), _one_per_mode(), ids=lambda v: v if isinstance(v, str) else v["mode"]
)
def test_every_model_and_mode_produces_a_schema_valid_body(backend, model, kw):
    kw = dict(kw)
    mode = kw.pop("mode")
    request = VideoRequest(model=model, **kw)
    assert validate_request(get_backend(backend), request) == []
    assert get_backend(backend).mode(request) == mode
    body = assert_valid(backend, request)
    if backend == "modelark" and mode == "image":
        assert [item.get("role") for item in body["content"][1:]] == ["first_frame", "last_frame"][
            : len(kw["image_urls"])
        ]


def test_wire_vocabulary_per_backend():
    request = VideoRequest(
        model="bytedance/seedance-1-0-pro-fast",
        prompt="p",
        image_urls=(IMG, VID),
        quality="720p",
        duration=5,
        camera_fixed=True,
    )
    body = get_backend("aimlapi").wire_body(request)
    assert body == {
        "model": "bytedance/seedance-1-0-pro-fast",
        "prompt": "p",
        "image_url": IMG,
        "last_image_url": VID,
        "resolution": "720p",
        "duration": 5,
        "camerafixed": True,
    }
    evo = get_backend("evolink").wire_body(
        VideoRequest(model="seedance-2.0-text-to-video", prompt="p", web_search=True)
    )
    assert evo["model_params"] == {"web_search": True}
    passthrough = VideoRequest(model="seedance-2.0-text-to-video", prompt="p", extra_params={"future_field": 1})
    assert get_backend("evolink").wire_body(passthrough)["future_field"] == 1


#: A value for each optional request argument, to see which wire keys a backend builds from it.
PROBE_VALUES: dict[str, Any] = {
    "prompt": "probe",
    "image_urls": ("https://probe.invalid/1.png", "https://probe.invalid/2.png"),
    "video_urls": ("https://probe.invalid/1.mp4",),
    "audio_urls": ("https://probe.invalid/1.mp3",),
    "duration": 5,
    "quality": "720p",
    "aspect_ratio": "16:9",
    "generate_audio": True,
    "seed": 1,
    "camera_fixed": True,
    "watermark": True,
    "web_search": True,
    "return_last_frame": True,
    "service_tier": "default",
    "callback_url": "https://probe.invalid/callback",
    "execution_expires_after": 7200,
    "priority": 1,
    "safety_identifier": "probe-user",
    "frames": 29,
    "output_format": "mp4",
    "omni_reference_task_type": "probe",
    "draft": True,
    "draft_generation_id": "cgt-probe",
}
UNKNOWN_MODELS = {"evolink": "seedance-3.0-unknown", "aimlapi": "bytedance/seedance-2-0", "modelark": "x-unknown"}


def wire_sources(backend: str, model: str) -> dict[str, tuple[str, ...]]:
    """Each wire-body key ``wire_body`` builds from an argument, with the argument(s) it comes from.

    One body per argument set alone, compared with the body of a bare request (the model alone); a key of
    the bare body that no argument changes comes from ``model``.
    """
    wire_body = get_backend(backend).wire_body
    bare = wire_body(VideoRequest(model=model))
    sources: dict[str, list[str]] = {}
    variants = {"model": VideoRequest(model=model + "-probe")}
    variants.update({name: VideoRequest(model=model, **{name: value}) for name, value in PROBE_VALUES.items()})
    for name, variant in variants.items():
        for key, value in wire_body(variant).items():
            if key not in bare or bare[key] != value:
                sources.setdefault(key, []).append(name)
    for key in bare:
        sources.setdefault(key, ["model"])
    return {key: tuple(names) for key, names in sources.items()}


def test_the_probe_values_cover_every_request_argument():
    assert set(PROBE_VALUES) == set(VideoRequest.model_fields) - {"model", "extra_params"}


@pytest.mark.parametrize("backend", ["evolink", "aimlapi", "modelark"])
def test_reserved_body_keys_are_what_wire_body_builds(backend):
    """The data the validator refuses ``extra_params`` keys by is what the backend's body really builds,
    for every model of its table and an unknown one (the order of the arguments too: errors name them)."""
    declared = dict(get_backend(backend).reserved_body_keys)
    models = [model for (name, model) in MODEL_LIMITS if name == backend] + [UNKNOWN_MODELS[backend]]
    for model in models:
        assert wire_sources(backend, model) == declared, f"{backend} {model}"


RATIOS = ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive", "keep_ratio", "2:1"]
FLAGS = ["generate_audio", "web_search", "camera_fixed", "watermark", "return_last_frame"]
URL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-._~"

DATA_URIS = st.binary(min_size=1, max_size=48).map(
    lambda raw: "data:image/png;base64," + base64.b64encode(raw).decode()
)
#: Image references: plain URLs half the time, base64 data URIs (a few bytes of an image) mostly otherwise,
#: now and then a data URI the validator must refuse (not base64).
IMAGES = st.integers(0, 9).flatmap(
    lambda k: st.just(IMG) if k < 5 else DATA_URIS if k < 9 else st.just("data:image/png,not-base64")
)
#: Callback URLs: public https ones with generated paths and queries, up to and past the 2048-character cap,
#: and the kinds the vendors forbid (plain http, private and loopback hosts).
CALLBACKS = st.one_of(
    st.builds(
        "https://{}/{}{}".format,
        st.sampled_from(["hooks.example.com", "8.8.8.8", "[2001:4860::1]", "api.example.org:8443"]),
        st.text(URL_CHARS + "/", max_size=40),
        st.sampled_from(["", "?run=1&dag=x", "#done"]),
    ),
    st.integers(2000, 2060).map(lambda n: ("https://hooks.example.com/" + "p" * n)[:n]),
    st.sampled_from(["http://hooks.example.com/cb", "https://10.1.2.3/cb", "https://localhost/cb", "ftp://x/cb"]),
)


def prompts(limit: int) -> st.SearchStrategy[str]:
    """Short and long prompts (61 characters up to past the model's limit, often right at it), now and then
    an empty one."""
    length = st.one_of(st.integers(61, 3000), st.sampled_from([limit - 1, limit, limit + 1]))
    long = st.builds(lambda unit, n: (unit * n)[:n], st.text(min_size=1, max_size=12), length)
    short = st.text(min_size=1, max_size=60)
    return st.integers(0, 9).flatmap(lambda k: st.just("") if k == 0 else short if k < 5 else long)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_whatever_the_validator_accepts_the_vendor_schema_accepts(data):
    backend, model = data.draw(st.sampled_from(sorted(MODEL_LIMITS)), label="model")
    limits = MODEL_LIMITS[(backend, model)]

    def field(name: str, strategy: st.SearchStrategy[Any]) -> Any:
        # Fields the model takes are present half the time; others rarely (they must be refused).
        present = data.draw(st.integers(0, 9), label=f"{name}?") < (5 if name in limits.fields else 1)
        return data.draw(strategy, label=name) if present else None

    most_images = limits.max_ref_images if "reference" in limits.modes else limits.max_frame_images
    kw: dict[str, Any] = {
        "image_urls": field(
            "image_urls", st.integers(0, most_images + 1).flatmap(lambda n: st.lists(IMAGES, min_size=n, max_size=n))
        ),
        "video_urls": field("video_urls", st.integers(0, 4)),
        "audio_urls": field("audio_urls", st.integers(0, 4)),
        "duration": field("duration", st.integers(limits.min_duration - 1, limits.max_duration + 1)),
        "quality": field("quality", st.sampled_from(["480p", "720p", "1080p", "4k"])),
        "aspect_ratio": field("aspect_ratio", st.sampled_from(RATIOS)),
        "seed": field("seed", st.integers(-2, 2**32)),
        "service_tier": field("service_tier", st.sampled_from(["default", "flex", "priority"])),
        "callback_url": field("callback_url", CALLBACKS),
        "execution_expires_after": field("execution_expires_after", st.integers(3599, 259201)),
        "priority": field("priority", st.integers(0, 9)),
        "safety_identifier": field("safety_identifier", st.sampled_from(["", " ", "user-7f3a"])),
        "frames": field("frames", st.integers(25, 293)),
        "output_format": field("output_format", st.sampled_from(["mp4", ""])),
        "draft": field("draft", st.booleans()),
        "draft_generation_id": field("draft_generation_id", st.sampled_from(["cgt-20261129-abcde", ""])),
    }
    kw.update({flag: field(flag, st.booleans()) for flag in FLAGS})
    kw["image_urls"] = tuple(kw["image_urls"] or ())
    for name, url in (("video_urls", VID), ("audio_urls", AUD)):
        kw[name] = (url,) * (kw[name] or 0)
    prompt = data.draw(prompts(limits.prompt_max), label="prompt")
    request = VideoRequest(model=model, prompt=prompt, **kw)
    try:
        validate_request(get_backend(backend), request)
    except SeedanceValidationError as exc:
        event(f"refused: {exc.field}")
        return
    event("accepted")
    for name in ("callback_url", "service_tier"):
        if kw[name] is not None:
            event(f"accepted with {name}")
    if any(url.startswith("data:") for url in request.image_urls):
        event("accepted with a data: URI")
    if len(prompt) > 60:
        event("accepted with a long prompt")
    assert_valid(backend, request)
