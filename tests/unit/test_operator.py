"""Operator construction: parse-time validation of literal requests, templated fields left for run time."""

from __future__ import annotations

import pytest

from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator


def test_literal_invalid_request_fails_when_the_dag_is_parsed():
    with pytest.raises(SeedanceValidationError) as info:
        SeedanceGenerateVideoOperator(task_id="t", model="seedance-2.0-fast-text-to-video", prompt="x", duration=99)
    assert str(info.value) == "Invalid duration=99 for model 'seedance-2.0-fast-text-to-video': must be 4-15 seconds"


def test_wrong_type_names_the_field():
    with pytest.raises(SeedanceValidationError, match="duration"):
        SeedanceGenerateVideoOperator(task_id="t", model="seedance-2.0-fast-text-to-video", prompt="x", duration="five")


def test_templated_or_unknown_requests_wait_for_run_time():
    SeedanceGenerateVideoOperator(
        task_id="a", model="seedance-2.0-fast-text-to-video", prompt="x", duration="{{ params.d }}"
    )
    SeedanceGenerateVideoOperator(task_id="b", model="{{ params.model }}", prompt="x", duration=99)
    SeedanceGenerateVideoOperator(task_id="c", model="some-future-model", prompt="x", duration=99)


def test_defaults_are_deferrable_with_a_finite_deadline():
    op = SeedanceGenerateVideoOperator(task_id="t", model="seedance-2.0-fast-text-to-video", prompt="x")
    assert op.deferrable is True
    assert op.generation_timeout == 3600
    assert op.cancel_on_kill is True
    assert "prompt" in op.template_fields and "output_path" in op.template_fields


def test_url_lists_accept_one_url_a_rendered_list_or_nothing():
    op = SeedanceGenerateVideoOperator(
        task_id="t", model="seedance-2.0-image-to-video", prompt="x", image_urls="{{ params.frames }}"
    )
    assert op.image_urls == "{{ params.frames }}"
    op.image_urls = "['https://a.test/1.png', 'https://a.test/2.png']"
    assert op.build_request().image_urls == ("https://a.test/1.png", "https://a.test/2.png")
    op.image_urls = "https://a.test/1.png"
    assert op.build_request().image_urls == ("https://a.test/1.png",)
    op.image_urls = ""
    op.aspect_ratio = ""
    request = op.build_request()
    assert (request.image_urls, request.aspect_ratio) == ((), None)
    op.image_urls = "[not a list"
    with pytest.raises(SeedanceValidationError, match="image_urls"):
        op.build_request()
