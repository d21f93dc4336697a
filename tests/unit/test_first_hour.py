"""A new user's first hour, unit level: destinations checked before a render is paid for, saves that fail
for any reason, honest create retries, model ids of another backend, connection typos."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_seedance.contract.limits import validate_request
from airflow_provider_seedance.exceptions import SeedanceSaveError, SeedanceValidationError
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.models import VideoRequest
from airflow_provider_seedance.operators._output_checks import varies_by_item
from airflow_provider_seedance.runtime.storage import OutputNotWritable, check_writable, missing_filesystem, save_stream
from airflow_provider_seedance.wire._rules import RetryPolicy
from airflow_provider_seedance.wire._transport import RetryTransport, sends
from airflow_provider_seedance.wire.backends import get_backend
from airflow_provider_seedance.wire.settings import unknown_extra_keys
from tests.unit.dns import public_resolver

MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100


def hook_for(monkeypatch: pytest.MonkeyPatch, handler: Any, **extra: Any) -> SeedanceHook:
    conn = {"conn_type": "seedance", "password": "sk-x", "host": "http://api.test", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_FIRST", json.dumps(conn))
    transport = httpx.MockTransport(handler)
    return SeedanceHook("seedance_first", transport=transport, async_transport=transport, resolver=public_resolver)


async def _maybe_await(value: Any) -> Any:
    return await value if hasattr(value, "__await__") else value


# -- destinations ---------------------------------------------------------------------------------------


def test_a_writable_destination_passes_and_leaves_nothing_behind(tmp_path: Path) -> None:
    check_writable(tmp_path / "new" / "folder" / "video.mp4")
    assert [p.name for p in (tmp_path / "new" / "folder").iterdir()] == []


@pytest.mark.parametrize(
    ("destination", "needle"),
    [
        # the module is named where Airflow's error chain has one (3.3: 's3fs'; 3.1 says only "No filesystem
        # registered"): test_an_import_failing_inside_an_installed_filesystem_names_that_module checks it
        ("s3://bucket/videos/teaser.mp4", r"install 'apache-airflow-providers-amazon\[s3fs\]' on every worker"),
        ("gs://bucket/videos/teaser.mp4", "install gcsfs"),
        ("nosuchfs://bucket/teaser.mp4", "install the fsspec filesystem for nosuchfs:// on every worker"),
    ],
)
@pytest.mark.usefixtures("s3fs_missing")
def test_a_destination_whose_filesystem_is_missing_says_what_to_install(destination: str, needle: str) -> None:
    with pytest.raises(OutputNotWritable, match=needle):
        check_writable(destination)


def test_an_import_failing_inside_an_installed_filesystem_names_that_module() -> None:
    """s3fs installed but broken (an old 0.4.x): fsspec still says "Install s3fs"; the chain names the module."""
    try:
        try:
            raise ModuleNotFoundError("No module named 'aiobotocore'", name="aiobotocore")
        except ModuleNotFoundError as inner:
            raise ImportError("Install s3fs to access S3") from inner
    except ImportError as exc:
        text = missing_filesystem("s3://bucket/v.mp4", exc)
    assert text is not None and "'aiobotocore'" in text and "apache-airflow-providers-amazon[s3fs]" in text


def test_a_destination_under_a_file_or_that_is_a_folder_says_what_to_fix(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(OutputNotWritable, match=r"cannot write in .*check the path"):
        check_writable(tmp_path / "a-file" / "video.mp4")
    with pytest.raises(OutputNotWritable, match="is a folder"):
        check_writable(tmp_path)


def test_a_different_file_is_replaced_only_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "v.mp4"
    target.write_bytes(MP4 + b"other")
    with pytest.raises(ValueError, match="already holds a different video"):
        save_stream([MP4], target)
    assert target.read_bytes() == MP4 + b"other"
    assert save_stream([MP4], target, replace=True).rewritten
    assert target.read_bytes() == MP4
    assert not save_stream([MP4], target).rewritten  # the same bytes: nothing to replace
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]


@pytest.mark.parametrize(
    ("template", "varies"),
    [
        ("/data/teaser.mp4", False),
        ("/data/{{ ds }}/teaser.mp4", False),
        ("/data/{{ ds }}/{{ ti.map_index }}.mp4", True),
        ("/data/{{ task.prompt | replace(' ', '_') }}.mp4", True),
        ("/data/{{ params.name }}.mp4", False),
    ],
)
def test_which_mapped_paths_vary_by_item(template: str, varies: bool) -> None:
    assert varies_by_item(template) is varies


@pytest.mark.usefixtures("s3fs_missing")
@pytest.mark.parametrize("use_async", [False, True])
async def test_a_save_that_fails_for_any_reason_carries_the_id_and_the_link(monkeypatch, use_async) -> None:
    """A missing filesystem package at save time used to escape as a raw ImportError, id and link lost."""
    hook = hook_for(monkeypatch, lambda request: httpx.Response(200, content=MP4), backend="evolink")
    url = "https://cdn.test/v.mp4"
    name = "adownload_video" if use_async else "download_video"
    with pytest.raises(SeedanceSaveError) as caught:
        await _maybe_await(getattr(hook, name)(url, "s3://bucket/v.mp4", generation_id="g-7"))
    assert caught.value.generation_id == "g-7"
    assert caught.value.video_url == url
    assert "apache-airflow-providers-amazon[s3fs]" in str(caught.value)


# -- create retries ---------------------------------------------------------------------------------------


def test_every_retry_is_logged_with_its_reason_and_what_makes_it_safe(caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([httpx.ReadTimeout("timed out"), httpx.Response(503), httpx.Response(200, json={"id": "t"})])

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    transport = RetryTransport(
        RetryPolicy(max_retries=4), sync_transport=httpx.MockTransport(handler), sleep=lambda _: None
    )
    caplog.set_level(logging.INFO, logger="airflow_provider_seedance.wire._transport")
    with httpx.Client(transport=transport, base_url="http://api.test") as client:
        response = client.post("/v1/videos/generations?x=1", json={}, headers={"Idempotency-Key": "airflow-k1"})
    assert response.status_code == 200
    assert sends(response.request) == 3
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("POST http://api.test/v1/videos/generations: ReadTimeout: timed out; sending it again")
    assert "(send 2 of at most 5, safe: Idempotency-Key airflow-k1 makes the API run and bill at most one" in lines[0]
    assert lines[1].startswith("POST http://api.test/v1/videos/generations: HTTP 503; sending it again")
    assert all(r.levelno == logging.WARNING for r in caplog.records)


def test_the_create_call_has_its_own_shorter_read_timeout(monkeypatch) -> None:
    seen: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[request.method] = request.extensions["timeout"]
        if request.method == "POST":
            return httpx.Response(200, json={"id": "task-1", "status": "pending"})
        return httpx.Response(200, json={"id": "task-1", "status": "processing"})

    hook = hook_for(monkeypatch, handler, backend="evolink", timeout=60, create_timeout=12)
    hook.submit(VideoRequest(model="seedance-2.0-fast-text-to-video", prompt="x"))
    hook.get_generation("task-1")
    assert seen["POST"]["read"] == 12
    assert seen["GET"]["read"] == 60


# -- model ids and connection typos ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "model", "needle"),
    [
        (
            "aimlapi",
            "seedance-2.0-fast-text-to-video",
            "is an EvoLink model id, but this connection's backend is aimlapi",
        ),
        ("modelark", "bytedance/seedance-1-0-pro-fast", "is an AIML API model id"),
        ("evolink", "dreamina-seedance-2-0-260128", "is a BytePlus ModelArk model id"),
    ],
)
def test_a_known_id_of_another_backend_is_refused_naming_both(backend: str, model: str, needle: str) -> None:
    with pytest.raises(SeedanceValidationError, match=needle) as caught:
        validate_request(get_backend(backend), VideoRequest(model=model, prompt="x"))
    assert caught.value.field == "model"


def test_an_unknown_id_gets_the_closest_known_one() -> None:
    [warning] = validate_request(
        get_backend("evolink"), VideoRequest(model="seedance-2.0-fast-text-to-vidoe", prompt="x")
    )
    assert warning.endswith("did you mean 'seedance-2.0-fast-text-to-video'?")


def test_a_misspelled_extra_key_is_reported_with_the_key_meant(monkeypatch) -> None:
    assert unknown_extra_keys({"Backend": "aimlapi", "timeout": 5}) == [
        "extra key 'Backend' is not one this provider reads "
        "(backend, timeout, create_timeout, max_retries, scheme, models, default_model, download_hosts, "
        "max_download_mb): did you mean 'backend'?"
    ]
    hook = hook_for(monkeypatch, lambda request: httpx.Response(200), Backend="aimlapi")
    lines: list[str] = []

    class Log:
        def warning(self, message: str, *args: Any) -> None:
            lines.append(message % args)

    monkeypatch.setattr(SeedanceHook, "log", property(lambda self: Log()))
    assert hook.settings.backend_name == "evolink"  # the typo is not read ...
    assert lines == [f"Connection 'seedance_first': {unknown_extra_keys({'Backend': 1})[0]}"]  # ... and says so
