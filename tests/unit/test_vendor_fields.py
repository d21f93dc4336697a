"""ModelArk's further create fields (expiry, priority, safety id, frames, output format, drafts): each accepted
within its documented limit, each limit refused naming the field and the limit, and refused on the backends
whose API lacks the field before any request is sent."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from airflow_provider_seedance.contract._vendor_fields import expiry_for
from airflow_provider_seedance.contract.limits import validate_request, with_vendor_expiry
from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.models import VideoRequest
from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator
from airflow_provider_seedance.wire.backends import get_backend

PRO_15 = "seedance-1-5-pro-251215"
PRO_10 = "seedance-1-0-pro-250528"
ARK_20 = "dreamina-seedance-2-0-260128"
ARK = get_backend("modelark")


def req(model: str, **kw: Any) -> VideoRequest:
    kw.setdefault("prompt", "a cat playing piano")
    return VideoRequest(model=model, **kw)


def refused(request: VideoRequest, backend: str = "modelark") -> SeedanceValidationError:
    with pytest.raises(SeedanceValidationError) as info:
        validate_request(get_backend(backend), request)
    return info.value


@pytest.mark.parametrize(
    ("model", "kw"),
    [
        (ARK_20, {"execution_expires_after": 3600}),
        (ARK_20, {"execution_expires_after": 259200}),
        (ARK_20, {"priority": 5}),
        (ARK_20, {"safety_identifier": "user-7f3a9c"}),
        (PRO_10, {"frames": 29}),
        (PRO_10, {"frames": 289}),
        (PRO_15, {"draft": True}),
        (PRO_15, {"draft": True, "quality": "480p", "duration": 4}),
        (PRO_15, {"prompt": "", "draft_generation_id": "cgt-20261129-abcde", "quality": "1080p"}),
        ("my-ark-endpoint", {"output_format": "mp4", "omni_reference_task_type": "edit"}),
    ],
)
def test_accepted_within_the_documented_limits(model, kw):
    validate_request(ARK, req(model, **kw))
    body = ARK.wire_body(req(model, **kw))
    for name, value in kw.items():
        if name == "draft_generation_id":
            assert body["content"] == [{"type": "draft_task", "draft_task": {"id": value}}]
        elif name not in ("prompt", "quality", "duration"):
            assert body[name] == value


@pytest.mark.parametrize(
    ("model", "kw", "field", "limit"),
    [
        (ARK_20, {"execution_expires_after": 3599}, "execution_expires_after", "3600-259200 seconds"),
        (ARK_20, {"execution_expires_after": 259201}, "execution_expires_after", "3600-259200 seconds"),
        (ARK_20, {"safety_identifier": " "}, "safety_identifier", "must not be blank"),
        (PRO_10, {"frames": 25}, "frames", "25 + 4n within 29-289"),
        (PRO_10, {"frames": 293}, "frames", "25 + 4n within 29-289"),
        (PRO_10, {"frames": 30}, "frames", "25 + 4n within 29-289"),
        (PRO_10, {"frames": 29, "duration": 5}, "frames", "frames or duration, not both"),
        (ARK_20, {"frames": 29}, "frames", "not accepted by this model"),
        (ARK_20, {"draft": True}, "draft", "not accepted by this model"),
        ("my-ark-endpoint", {"output_format": ""}, "output_format", "must not be blank"),
        (PRO_15, {"draft": True, "quality": "720p"}, "quality", "480p only"),
        (PRO_15, {"draft": True, "return_last_frame": True}, "return_last_frame", "no last frame"),
        (PRO_15, {"draft": True, "service_tier": "flex"}, "service_tier", "flex tier"),
        (PRO_15, {"draft": True, "draft_generation_id": "cgt-1"}, "draft", "not both"),
        (PRO_15, {"draft_generation_id": "cgt-1"}, "prompt", "takes it from the draft"),
        (PRO_15, {"prompt": "", "draft_generation_id": "cgt-1", "seed": 3}, "seed", "takes it from the draft"),
        (
            PRO_15,
            {"prompt": "", "draft_generation_id": "cgt-1", "image_urls": ("https://e.com/a.png",)},
            "image_urls",
            "from the draft",
        ),
    ],
)
def test_each_limit_is_refused_naming_the_field_and_the_limit(model, kw, field, limit):
    error = refused(req(model, **kw))
    assert error.field == field
    assert limit in str(error)


@pytest.mark.parametrize(
    ("backend", "model"),
    [("evolink", "seedance-2.0-text-to-video"), ("aimlapi", "bytedance/seedance-1-0-pro-fast")],
)
@pytest.mark.parametrize(
    ("field", "value", "limit"),
    [
        ("execution_expires_after", 7200, "3600-259200"),
        ("priority", 1, "whole number"),
        ("safety_identifier", "u1", "end-user id"),
        ("frames", 29, "25 + 4n"),
        ("output_format", "mp4", "container"),
        ("omni_reference_task_type", "edit", "task type"),
        ("draft", True, "480p draft"),
        ("draft_generation_id", "cgt-1", "succeeded draft"),
    ],
)
def test_refused_on_backends_whose_api_lacks_the_field_before_any_request(
    monkeypatch, backend, model, field, value, limit
):
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"id": "x"})

    conn = {"conn_type": "seedance", "password": "sk-test", "host": "http://api.test", "extra": {"backend": backend}}
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_VENDOR", json.dumps(conn))
    hook = SeedanceHook("seedance_vendor", transport=httpx.MockTransport(answer))
    with pytest.raises(SeedanceValidationError) as info:
        hook.submit(req(model, **{field: value}))
    assert info.value.field == field
    assert f"the {backend} API has no such field" in str(info.value)
    assert "BytePlus ModelArk field" in str(info.value) and limit in str(info.value)
    assert sent == []


def test_draft_false_is_not_a_request_for_a_field():
    # A DAG that passes draft=False everywhere still runs on EvoLink.
    validate_request(get_backend("evolink"), req("seedance-2.0-text-to-video", draft=False))
    assert "draft" not in ARK.wire_body(req(PRO_15, draft=False))


def test_a_draft_without_a_quality_asks_for_480p_on_the_wire():
    assert ARK.wire_body(req(PRO_15, draft=True))["resolution"] == "480p"
    assert ARK.wire_body(req(PRO_15, draft=True))["draft"] is True


@pytest.mark.parametrize(("seconds_left", "expected"), [(60, 3600), (3600, 3600), (5400.2, 5401), (10**6, 259200)])
def test_the_vendor_expiry_follows_our_deadline_within_the_api_bounds(seconds_left, expected):
    assert expiry_for(seconds_left) == expected
    request = with_vendor_expiry("modelark", req(ARK_20), seconds_left)
    assert request.execution_expires_after == expected
    validate_request(ARK, request)


def test_the_vendor_expiry_default_leaves_a_given_value_and_other_backends_alone():
    assert with_vendor_expiry("modelark", req(ARK_20, execution_expires_after=7200), 60).execution_expires_after == 7200
    evolink = req("seedance-2.0-text-to-video")
    assert with_vendor_expiry("evolink", evolink, 60) is evolink


def test_operator_arguments_are_templated_and_parse_time_checked():
    fields = set(SeedanceGenerateVideoOperator.template_fields)
    assert {"draft", "draft_generation_id", "execution_expires_after", "priority", "frames"} <= fields
    with pytest.raises(SeedanceValidationError, match="frames"):
        SeedanceGenerateVideoOperator(task_id="t", model=PRO_10, prompt="p", frames=30)
    op = SeedanceGenerateVideoOperator(
        task_id="final", model=PRO_15, draft_generation_id="{{ ti.xcom_pull('draft')['generation_id'] }}"
    )
    op.draft_generation_id = "cgt-20261129-abcde"  # as rendered
    assert op.build_request().draft_generation_id == "cgt-20261129-abcde"


def test_rendered_text_becomes_the_field_type():
    op = SeedanceGenerateVideoOperator(
        task_id="t", model=ARK_20, prompt="p", priority="{{ 2 }}", execution_expires_after="{{ 7200 }}"
    )
    op.priority, op.execution_expires_after = "2", "7200"
    request = op.build_request()
    assert (request.priority, request.execution_expires_after) == (2, 7200)
    op.priority = "high"
    with pytest.raises(SeedanceValidationError, match="priority"):
        op.build_request()
