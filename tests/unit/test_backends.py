"""The facts each backend declares about its API, seen through the code that applies rules to them."""

from __future__ import annotations

import pytest

from airflow_provider_seedance.wire.backends import get_backend
from airflow_provider_seedance.wire.settings import settings_from_fields

EVOLINK_ERROR = {"error": {"code": "resource_not_found", "message": "no task"}}
AIMLAPI_ERROR = {"statusCode": 404, "message": "not found", "error": "Not Found"}
MODELARK_ERROR = {"error": {"code": "NotFound", "message": "no such task"}}


@pytest.mark.parametrize(
    ("backend", "status", "body", "accepted"),
    [
        ("evolink", 200, {"id": "t"}, True),
        ("evolink", 404, EVOLINK_ERROR, True),
        ("evolink", 404, AIMLAPI_ERROR, False),  # another API's error shape: wrong backend or host
        ("evolink", 400, EVOLINK_ERROR, False),
        ("evolink", 404, ["not", "an", "object"], False),
        ("aimlapi", 404, AIMLAPI_ERROR, True),
        ("aimlapi", 400, {"message": ["generation_id must be a UUID"]}, True),
        ("aimlapi", 404, EVOLINK_ERROR, False),
        ("aimlapi", 500, AIMLAPI_ERROR, False),
        ("modelark", 200, {"items": [], "total": 0}, True),
        ("modelark", 404, MODELARK_ERROR, False),  # the probe lists tasks: only a 200 proves the key
        ("modelark", 200, None, False),
    ],
)
def test_a_healthy_probe_answer_is_the_backends_own(backend, status, body, accepted):
    assert get_backend(backend).probe_accepted(status, body) is accepted


@pytest.mark.parametrize(
    ("backend", "host", "base_url"),
    [
        ("modelark", "", "https://ark.ap-southeast.bytepluses.com/api/v3"),
        ("modelark", "ark.example.com", "https://ark.example.com/api/v3"),
        ("modelark", "http://127.0.0.1:8765", "http://127.0.0.1:8765/api/v3"),
        ("modelark", "https://proxy.example.com/ark/", "https://proxy.example.com/ark"),
        ("evolink", "", "https://api.evolink.ai"),
        ("evolink", "http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("aimlapi", "api.example.com", "https://api.example.com"),
    ],
)
def test_a_bare_host_gets_the_backends_base_path(backend, host, base_url):
    settings = settings_from_fields(password="k", host=host, port=None, extra={"backend": backend}, conn_id="c")
    assert settings.base_url == base_url


@pytest.mark.parametrize("backend", ["evolink", "aimlapi", "modelark"])
def test_status_words_match_without_regard_to_case_and_unknown_ones_mean_running(backend):
    dialect = get_backend(backend)
    for word, state in dialect.status_words.items():
        assert dialect.state_of(f" {word.upper()} ") == (state, True)
    assert dialect.state_of("brand_new_word") == ("running", False)
    assert dialect.state_of(None) == ("running", False)
    assert {"queued", "running", "succeeded", "failed"} <= set(dialect.status_words.values())
