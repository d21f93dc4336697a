"""The emulator's prompt caps are the vendors' documented ones, per model, and never stricter than the
provider's validator: a prompt the provider accepts for a model reaches a task, not a 400.

EvoLink documents ``maxLength: 2000`` for ``doubao-seedance-1.0-pro-fast`` only; the 2.0 docs only recommend
a length, and neither the AIML API schema nor ModelArk's docs set a cap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_seedance.contract.limits import GENERIC_PROMPT_MAX, MODEL_LIMITS, generic_limits, validate_request
from airflow_provider_seedance.emulator.common import ApiError, TaskSpec
from airflow_provider_seedance.emulator.dialects import aimlapi, evolink, modelark_request
from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.models import VideoRequest
from airflow_provider_seedance.wire.backends import get_backend

VALIDATORS: dict[str, Callable[[dict[str, Any]], TaskSpec]] = {
    "evolink": evolink.validate,
    "aimlapi": aimlapi.validate,
    "modelark": modelark_request.validate,
}
# Models the provider does not know (generic checks) but the emulator serves: ModelArk takes any Seedance id.
UNKNOWN = [("modelark", "seedance-1-5-pro-251215"), ("modelark", "dreamina-seedance-2-0-lite-260301")]


def _emulator_accepts(backend: str, request: VideoRequest) -> TaskSpec:
    return VALIDATORS[backend](get_backend(backend).wire_body(request))


@pytest.mark.parametrize(("backend", "model"), [*sorted(MODEL_LIMITS), *UNKNOWN])
def test_the_longest_prompt_the_provider_accepts_is_accepted_by_the_emulator(backend: str, model: str) -> None:
    limits = MODEL_LIMITS.get((backend, model)) or generic_limits(backend, model)  # type: ignore[arg-type]
    media = {} if "text" in limits.modes else {"image_urls": ("https://e.com/first.png",)}
    prompt = ("a fox in fresh snow. " * limits.prompt_max)[: limits.prompt_max]
    request = VideoRequest(model=model, prompt=prompt, **media)
    validate_request(get_backend(backend), request)
    assert _emulator_accepts(backend, request).prompt == " ".join(prompt.split())


def test_a_prompt_over_the_documented_cap_is_refused_by_both() -> None:
    model = "doubao-seedance-1.0-pro-fast"
    assert MODEL_LIMITS[("evolink", model)].prompt_max == evolink.PROMPT_MAX_CHARS[model] == 2000
    request = VideoRequest(model=model, prompt="x" * 2001)
    with pytest.raises(SeedanceValidationError, match="at most 2000"):
        validate_request(get_backend("evolink"), request)
    with pytest.raises(ApiError, match="the maximum is 2000"):
        _emulator_accepts("evolink", request)


@pytest.mark.parametrize(
    ("backend", "model"),
    [
        ("evolink", "seedance-2.0-text-to-video"),
        ("aimlapi", "bytedance/seedance-1-0-pro-fast"),
        ("modelark", "dreamina-seedance-2-0-260128"),
        ("modelark", "seedance-1-0-pro-250528"),
    ],
)
def test_no_cap_where_the_vendor_documents_none(backend: str, model: str) -> None:
    body = get_backend(backend).wire_body(VideoRequest(model=model, prompt="y" * GENERIC_PROMPT_MAX * 3))
    assert len(VALIDATORS[backend](body).prompt) == GENERIC_PROMPT_MAX * 3
