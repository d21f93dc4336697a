"""Models a deployment declares (connection extra ``models``, ``[seedance] models``): validated with the same
rules as the built-in table, a bad declaration refused naming its key, and requests checked against it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from airflow_provider_seedance.contract._declared_models import parse_declared_models
from airflow_provider_seedance.contract.limits import validate_request
from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.models import VideoRequest
from airflow_provider_seedance.wire.backends import get_backend

NEW = "dreamina-seedance-2-5-261001"
SPEC: dict[str, Any] = {
    "modes": ["text", "image"],
    "durations": [4, 30],
    "qualities": ["720p", "1080p"],
    "ratios": ["16:9", "9:16"],
    "optional_fields": ["duration", "quality", "aspect_ratio", "image_urls", "draft", "execution_expires_after"],
    "drafts": True,
    "source": "https://docs.byteplus.com/en/docs/ModelArk/1520757",
}


def hook(monkeypatch: pytest.MonkeyPatch, sent: list[httpx.Request], **extra: Any) -> SeedanceHook:
    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"id": "cgt-1"})

    conn = {"conn_type": "seedance", "password": "sk-x", "host": "http://api.test", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_DECLARED", json.dumps(conn))
    return SeedanceHook("seedance_declared", transport=httpx.MockTransport(answer))


def test_a_declared_model_is_checked_by_its_own_limits():
    models = parse_declared_models({NEW: SPEC}, "modelark", "extra models")
    ark = get_backend("modelark")
    assert validate_request(ark, VideoRequest(model=NEW, prompt="p", duration=30), models) == []  # no warning
    with pytest.raises(SeedanceValidationError, match="must be 4-30 seconds"):
        validate_request(ark, VideoRequest(model=NEW, prompt="p", duration=31), models)
    with pytest.raises(SeedanceValidationError, match="must be one of 720p, 1080p"):
        validate_request(ark, VideoRequest(model=NEW, prompt="p", quality="480p"), models)
    with pytest.raises(SeedanceValidationError) as info:
        validate_request(ark, VideoRequest(model=NEW, prompt="p", seed=1), models)
    assert info.value.field == "seed"


def test_json_text_is_read_as_well_as_an_object():
    assert set(parse_declared_models(json.dumps({NEW: SPEC}), "modelark", "[seedance] models")) == {NEW}
    assert parse_declared_models("", "modelark", "[seedance] models") == {}


@pytest.mark.parametrize(
    ("change", "key", "text"),
    [
        ({"durations": [10, 4]}, "durations", "durations must be [min, max]"),
        ({"qualities": ["4k"]}, "qualities.0", "480p"),
        ({"ratios": ["2:1"]}, "ratios", "not among 16:9"),
        ({"modes": []}, "modes", "at least 1"),
        ({"optional_fields": ["web_search", "draft"]}, "optional_fields", "the modelark API has"),
        ({"max_frame_images": 3}, "max_frame_images", "less than or equal to 2"),
        ({"fields": ["seed"]}, "fields", "Extra inputs are not permitted"),
        ({"drafts": True, "optional_fields": []}, "extra models", "lacks 'draft'"),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_key(change, key, text):
    with pytest.raises(SeedanceValidationError) as info:
        parse_declared_models({NEW: {**SPEC, **change}}, "modelark", "extra models")
    assert info.value.field.startswith(f"extra models[{NEW!r}]")
    assert key in info.value.field or key in str(info.value)
    assert text in str(info.value)


def test_modes_the_backend_body_cannot_carry_are_refused():
    spec = {"modes": ["reference"], "durations": [5, 10], "optional_fields": ["image_urls"]}
    with pytest.raises(SeedanceValidationError, match="cannot carry these modes"):
        parse_declared_models({"bytedance/seedance-9": spec}, "aimlapi", "extra models")


def test_not_an_object_is_refused():
    with pytest.raises(SeedanceValidationError, match="JSON object"):
        parse_declared_models("[1, 2]", "modelark", "[seedance] models")
    with pytest.raises(SeedanceValidationError, match="must be a JSON object"):
        parse_declared_models("{not json", "modelark", "[seedance] models")


def test_the_connection_extra_declares_models_and_nothing_is_sent_when_refused(monkeypatch):
    sent: list[httpx.Request] = []
    seedance = hook(monkeypatch, sent, backend="modelark", models={NEW: SPEC})
    with pytest.raises(SeedanceValidationError, match="4-30 seconds"):
        seedance.submit(VideoRequest(model=NEW, prompt="p", duration=45))
    assert sent == []
    seedance.submit(VideoRequest(model=NEW, prompt="p", duration=25, draft=True))
    assert json.loads(sent[0].content)["duration"] == 25


def test_a_bad_connection_declaration_names_the_connection_and_the_key(monkeypatch):
    seedance = hook(monkeypatch, [], backend="modelark", models={NEW: {**SPEC, "durations": "long"}})
    with pytest.raises(SeedanceValidationError) as info:
        seedance.settings  # noqa: B018
    assert info.value.field == f"connection 'seedance_declared' extra models[{NEW!r}].durations"


def test_the_provider_option_declares_models_and_the_connection_wins(monkeypatch):
    sent: list[httpx.Request] = []
    monkeypatch.setenv("AIRFLOW__SEEDANCE__MODELS", json.dumps({NEW: {**SPEC, "durations": [4, 8]}}))
    from_config = hook(monkeypatch, sent, backend="modelark")
    with pytest.raises(SeedanceValidationError, match="4-8 seconds"):
        from_config.prepare(VideoRequest(model=NEW, prompt="p", duration=20), from_config.backend)
    overridden = hook(monkeypatch, sent, backend="modelark", models={NEW: SPEC})
    overridden.prepare(VideoRequest(model=NEW, prompt="p", duration=20), overridden.backend)
    monkeypatch.setenv("AIRFLOW__SEEDANCE__MODELS", json.dumps({NEW: {"modes": ["text"]}}))
    with pytest.raises(SeedanceValidationError) as info:
        from_config.prepare(VideoRequest(model=NEW, prompt="p"), from_config.backend)
    assert info.value.field == f"[seedance] models[{NEW!r}].durations"
    assert sent == []


def test_the_provider_option_declares_a_model_for_the_backends_whose_api_carries_it(monkeypatch):
    """A ModelArk-only declaration (a draft field) in the deployment-wide option must not break the tasks of an
    EvoLink connection; a declaration that no backend's API can carry is refused everywhere."""
    sent: list[httpx.Request] = []
    monkeypatch.setenv("AIRFLOW__SEEDANCE__MODELS", json.dumps({NEW: SPEC}))
    evolink = hook(monkeypatch, sent, backend="evolink")
    evolink.submit(VideoRequest(model="seedance-2.0-fast-text-to-video", prompt="p", duration=5))
    assert NEW not in evolink.declared_models(evolink.backend)
    modelark = hook(monkeypatch, sent, backend="modelark")
    assert modelark.declared_models(modelark.backend)[NEW].max_duration == 30
    nowhere = {**SPEC, "optional_fields": ["duration", "draft", "web_search"]}  # ModelArk's and EvoLink's
    monkeypatch.setenv("AIRFLOW__SEEDANCE__MODELS", json.dumps({NEW: nowhere}))
    with pytest.raises(SeedanceValidationError) as info:
        evolink.prepare(VideoRequest(model="seedance-2.0-fast-text-to-video", prompt="p"), evolink.backend)
    assert info.value.field == f"[seedance] models[{NEW!r}].optional_fields"
    assert len(sent) == 1
