"""The provider against a hostile vendor on loopback (issue 19): each test names the attack and what holds.

Two servers stand in for the world: ``vendor`` is the connection's API origin; ``internal`` (another port,
so another origin) is a service on the worker's own network that a vendor answer must never reach.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_seedance.exceptions import (
    SeedanceAPIError,
    SeedanceConnectionError,
    SeedanceGenerationError,
    SeedanceSaveError,
)
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator
from tests.integration.hostile_vendor import Answer, HostileServer, mp4, task

KEY = "sk-hostile-QUOKKA-5e1d7c9b3a"
SECRET_PAGE = b"INTERNAL-ADMIN-PAGE: db_password=hunter2"


@pytest.fixture
def vendor() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture
def internal() -> Iterator[HostileServer]:
    with HostileServer() as server:
        server.routes["/admin"] = Answer(200, SECRET_PAGE, {"Content-Type": "text/plain"})
        server.routes["/video.mp4"] = Answer(200, mp4(4096), {"Content-Type": "video/mp4"})
        yield server


def connect(monkeypatch: pytest.MonkeyPatch, vendor: HostileServer, **extra: Any) -> SeedanceHook:
    conn = {
        "conn_type": "seedance",
        "password": KEY,
        "host": vendor.url,
        "extra": {"backend": "evolink", "max_retries": 1, "timeout": 5, **extra},
    }
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_HOSTILE", json.dumps(conn))
    return SeedanceHook("seedance_hostile")


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def use_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def download(hook: SeedanceHook, use_async: bool, url: str, target: Path, **kwargs: Any) -> Any:
    if use_async:
        return await hook.adownload_video(url, target, generation_id="task-1", **kwargs)
    return hook.download_video(url, target, generation_id="task-1", **kwargs)


def printed(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> str:
    """Everything this test logged, wherever the logging went (Airflow's structlog writes to stdout)."""
    out, err = capfd.readouterr()
    return out + err + caplog.text


async def maybe_await(value: Any) -> Any:
    return await value if hasattr(value, "__await__") else value


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# -- 1. where a video may be fetched from ----------------------------------------------------------------


async def test_a_video_url_on_an_internal_address_is_refused_before_a_byte_is_read(
    monkeypatch, tmp_path, vendor, internal, use_async
):
    hook = connect(monkeypatch, vendor)
    with pytest.raises(SeedanceSaveError) as caught:
        await download(hook, use_async, f"{internal.url}/video.mp4", tmp_path / "v.mp4")
    assert internal.seen == []  # nothing was sent there
    assert "loopback" in str(caught.value) and "download_hosts" in str(caught.value)
    assert caught.value.generation_id == "task-1" and not caught.value.retryable
    assert leftovers(tmp_path) == []


async def test_a_redirect_to_an_internal_address_is_refused_at_that_hop(
    monkeypatch, tmp_path, vendor, internal, use_async
):
    vendor.routes["/cdn/v.mp4"] = Answer(302, b"", {"Location": f"{internal.url}/video.mp4"})
    hook = connect(monkeypatch, vendor)
    with pytest.raises(SeedanceSaveError, match="refused to fetch"):
        await download(hook, use_async, f"{vendor.url}/cdn/v.mp4", tmp_path / "v.mp4")
    assert vendor.paths() == ["/cdn/v.mp4"] and internal.seen == []
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/v.mp4", "gopher://127.0.0.1:70/x"])
async def test_only_http_and_https_links_are_fetched(monkeypatch, tmp_path, vendor, url, use_async):
    hook = connect(monkeypatch, vendor)
    with pytest.raises(SeedanceSaveError, match="only http"):
        await download(hook, use_async, url, tmp_path / "v.mp4")
    assert leftovers(tmp_path) == []


async def test_a_host_the_connection_allows_is_fetched_even_on_an_internal_address(
    monkeypatch, tmp_path, vendor, internal, use_async
):
    port = internal.url.rsplit(":", 1)[1]
    hook = connect(monkeypatch, vendor, download_hosts=[f"127.0.0.1:{port}"])
    saved = await download(hook, use_async, f"{internal.url}/video.mp4", tmp_path / "v.mp4")
    assert saved.size_bytes == 4096 and internal.paths() == ["/video.mp4"]
    assert "authorization" not in {name.lower() for name in internal.seen[0][2]}


async def test_the_api_origin_serves_its_own_videos_with_no_configuration(monkeypatch, tmp_path, vendor, use_async):
    """The emulator's flow: the video on the API's own loopback origin."""
    vendor.routes["/files/v.mp4"] = Answer(200, mp4(2048), {"Content-Type": "video/mp4"})
    hook = connect(monkeypatch, vendor)
    saved = await download(hook, use_async, f"{vendor.url}/files/v.mp4", tmp_path / "v.mp4")
    assert saved.size_bytes == 2048


async def test_a_refused_body_is_described_by_its_type_and_size_never_by_its_bytes(
    monkeypatch, tmp_path, vendor, use_async
):
    vendor.routes["/files/v.mp4"] = Answer(200, SECRET_PAGE, {"Content-Type": "text/html"})
    hook = connect(monkeypatch, vendor)
    with pytest.raises(SeedanceSaveError) as caught:
        await download(hook, use_async, f"{vendor.url}/files/v.mp4", tmp_path / "v.mp4")
    message = str(caught.value)
    assert f"not an MP4 file ({len(SECRET_PAGE)} bytes, content type 'text/html')" in message
    assert "INTERNAL" not in message and "hunter2" not in message


# -- 2. bounded downloads ----------------------------------------------------------------------------------


def endless() -> Iterator[bytes]:
    yield mp4(64 * 1024)
    for _ in range(10_000):  # 640 MiB at most: bounded, so the test ends even if the limit failed
        yield b"\x00" * (64 * 1024)


async def test_a_body_without_length_is_cut_off_at_the_size_limit(monkeypatch, tmp_path, vendor, use_async):
    vendor.routes["/files/v.mp4"] = Answer(200, endless, {"Content-Type": "video/mp4"})
    hook = connect(monkeypatch, vendor, max_download_mb=2)
    with pytest.raises(SeedanceSaveError) as caught:
        await download(hook, use_async, f"{vendor.url}/files/v.mp4", tmp_path / "v.mp4")
    assert "2 MiB" in str(caught.value) and "max_download_mb" in str(caught.value)
    assert not caught.value.retryable
    assert leftovers(tmp_path) == []


async def test_an_announced_size_over_the_task_limit_is_refused_before_reading(
    monkeypatch, tmp_path, vendor, use_async
):
    vendor.routes["/files/v.mp4"] = Answer(200, mp4(3 * 1024 * 1024), {"Content-Type": "video/mp4"})
    hook = connect(monkeypatch, vendor)  # the connection allows 1024 MiB; the task asks for 1
    with pytest.raises(SeedanceSaveError, match=r"3145728 bytes by its Content-Length, over the limit of 1 MiB"):
        await download(hook, use_async, f"{vendor.url}/files/v.mp4", tmp_path / "v.mp4", max_download_mb=1)
    assert leftovers(tmp_path) == []


def drip() -> Iterator[bytes]:
    yield mp4(64)
    for _ in range(60):  # one byte every 0.1 s: 6 s, bounded
        yield b"\x00"


async def test_a_dripping_body_stops_at_the_transfer_deadline(monkeypatch, tmp_path, vendor, use_async):
    vendor.routes["/files/v.mp4"] = Answer(200, drip, {"Content-Type": "video/mp4"}, drip=0.1)
    hook = connect(monkeypatch, vendor)
    started = time.monotonic()
    with pytest.raises(SeedanceSaveError, match="deadline") as caught:
        await download(hook, use_async, f"{vendor.url}/files/v.mp4", tmp_path / "v.mp4", deadline=time.time() + 1)
    took = time.monotonic() - started
    assert took < 6  # the drip's own length: the deadline, not the vendor, ended it
    assert caught.value.retryable  # a retry with more time may still save it; it pays nothing again
    assert leftovers(tmp_path) == []


# -- 3. and 4. the key is never printed, vendor text is bounded and inert ---------------------------------------


def echo_key(status: int) -> Answer:
    return Answer.json(
        {"error": {"code": "echo", "message": f"bad request, headers: Authorization: Bearer {KEY}"}}, status
    )


@pytest.mark.parametrize("status", [401, 500, 400])
async def test_an_error_body_echoing_the_key_never_prints_it(monkeypatch, vendor, capfd, caplog, status, use_async):
    vendor.routes["/v1/tasks/task-1"] = echo_key(status)
    hook = connect(monkeypatch, vendor)
    caplog.set_level(logging.DEBUG)
    poll = hook.aget_generation if use_async else hook.get_generation
    with pytest.raises(SeedanceAPIError) as caught:
        await maybe_await(poll("task-1"))
    assert KEY not in str(caught.value) and "<redacted>" in str(caught.value)
    assert KEY not in printed(capfd, caplog)


async def test_a_failure_reason_echoing_the_key_and_faking_log_lines_is_scrubbed(monkeypatch, vendor, capfd, caplog):
    fake_line = "\n2026-12-01T00:00:00Z [error    ] Task succeeded, all videos published"
    reason = f"render failed for Bearer {KEY}{fake_line}\x1b[2J"
    vendor.routes["/v1/tasks/task-1"] = Answer.json(task("task-1", "failed", error={"code": "x", "message": reason}))
    hook = connect(monkeypatch, vendor)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SeedanceGenerationError) as caught:
        hook.wait_for_generation("task-1", timeout=30, poll_interval=0.01, sleep=lambda _: None)
    message = str(caught.value)
    assert KEY not in message and "\n" not in message and "\x1b" not in message
    assert "\\n2026-12-01" in message  # shown, escaped, on the same line
    assert KEY not in printed(capfd, caplog)


async def test_a_megabyte_status_word_is_logged_bounded_and_once(monkeypatch, vendor, capfd, caplog):
    polls = iter(range(1000))

    def status() -> Answer:
        if next(polls) < 20:
            return Answer.json(task("task-1", "x" * (1024 * 1024)))
        return Answer.json(task("task-1", "completed", results=[f"{vendor.url}/files/v.mp4"]))

    vendor.routes["/v1/tasks/task-1"] = status
    hook = connect(monkeypatch, vendor)
    caplog.set_level(logging.INFO)
    generation = hook.wait_for_generation("task-1", timeout=60, poll_interval=0.01, sleep=lambda _: None)
    assert generation.state == "succeeded"
    lines = printed(capfd, caplog).splitlines()
    assert len(lines) > 20 and max(len(line) for line in lines) < 1000
    assert sum(len(line) for line in lines) < 60_000  # was 21 MB: 20 polls of a 1 MiB word
    assert sum("Unknown status" in line for line in lines) <= 2  # once (stdout, and pytest's own capture)


def endless_json() -> Iterator[bytes]:
    yield b'{"id": "task-1", "status": "'
    for _ in range(2_000):  # 128 MiB at most: bounded, so the test ends even if the bound failed
        yield b"x" * (64 * 1024)


async def test_an_endless_status_answer_is_cut_off_not_read_into_memory(monkeypatch, vendor, use_async):
    vendor.routes["/v1/tasks/task-1"] = Answer(200, endless_json, {"Content-Type": "application/json"})
    hook = connect(monkeypatch, vendor)
    poll = hook.aget_generation if use_async else hook.get_generation
    with pytest.raises(SeedanceConnectionError, match="ran past 4 MiB"):
        await maybe_await(poll("task-1"))


async def test_a_status_answer_announcing_gigabytes_is_refused_unread(monkeypatch, vendor, use_async):
    vendor.routes["/v1/tasks/task-1"] = Answer(200, b"{}", {"Content-Length": str(3 * 1024**3)})
    hook = connect(monkeypatch, vendor)
    poll = hook.aget_generation if use_async else hook.get_generation
    with pytest.raises(SeedanceConnectionError, match="announces more than 4 MiB"):
        await maybe_await(poll("task-1"))


def endless_redirect_body() -> Iterator[bytes]:
    for _ in range(5_000):  # 320 MiB at most: bounded, so the test ends even if the cap failed
        yield b"x" * (64 * 1024)


async def test_a_redirect_with_an_endless_body_is_cut_off(monkeypatch, tmp_path, vendor, use_async):
    """httpx reads a redirect's body whole before the next hop; the video's own limits never see it."""
    vendor.routes["/cdn/v.mp4"] = Answer(302, endless_redirect_body, {"Location": "/files/v.mp4"})
    vendor.routes["/files/v.mp4"] = Answer(200, mp4(2048), {"Content-Type": "video/mp4"})
    hook = connect(monkeypatch, vendor)
    with pytest.raises(SeedanceSaveError, match="ran past 64 KiB"):
        await download(hook, use_async, f"{vendor.url}/cdn/v.mp4", tmp_path / "v.mp4")
    assert leftovers(tmp_path) == []


async def test_a_compressed_status_answer_cannot_inflate_past_the_bound(monkeypatch, vendor, use_async):
    import gzip

    bomb = gzip.compress(b'{"id": "task-1", "status": "' + b"x" * (64 * 1024 * 1024) + b'"}')
    vendor.routes["/v1/tasks/task-1"] = Answer(
        200, bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    hook = connect(monkeypatch, vendor)
    poll = hook.aget_generation if use_async else hook.get_generation
    with pytest.raises(SeedanceConnectionError, match="far more than any status"):
        await maybe_await(poll("task-1"))
    assert vendor.seen[-1][2].get("Accept-Encoding") == "identity"


async def test_error_fields_of_the_wrong_json_type_still_give_typed_errors(monkeypatch, vendor, use_async):
    vendor.routes["/v1/tasks/task-1"] = Answer.json({"error": {"code": 400, "message": ["not", "text"]}}, 400)
    vendor.routes["/v1/tasks/task-2"] = Answer.json(task("task-2", "failed", error={"code": 500, "message": 7}))
    hook = connect(monkeypatch, vendor)
    poll = hook.aget_generation if use_async else hook.get_generation
    with pytest.raises(SeedanceAPIError, match=r"HTTP 400 400: \['not', 'text'\]"):
        await maybe_await(poll("task-1"))
    generation = await maybe_await(poll("task-2"))
    assert generation.state == "failed" and generation.error_code == "500" and generation.error_message == "7"


def test_the_key_is_registered_with_airflows_secrets_masker(monkeypatch, vendor):
    try:
        from airflow.sdk._shared.secrets_masker.secrets_masker import redact
    except ImportError:  # pragma: no cover - the module moved
        pytest.fail("Airflow's secrets masker moved: update this test")
    hook = connect(monkeypatch, vendor)
    assert hook.settings.api_key == KEY
    assert KEY not in str(redact(f"the key is {KEY}"))


# -- 8. a completion the vendor takes back -----------------------------------------------------------------


class FakeTI:
    dag_id, task_id, run_id, map_index = "d", "t", "r", -1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


class FakeStore(dict):
    def set(self, key: str, value: Any) -> None:
        self[key] = value


def test_a_status_that_flips_back_to_running_keeps_the_first_completion(monkeypatch, tmp_path, vendor, capfd, caplog):
    video = f"{vendor.url}/files/v.mp4"
    vendor.routes["/v1/videos/generations"] = Answer.json(task("task-1", "completed", results=[video]))
    vendor.routes["/files/v.mp4"] = Answer(503, b"busy")  # the first try's save fails
    hook = connect(monkeypatch, vendor)
    assert hook.settings  # the connection is read
    store = FakeStore()

    def attempt() -> Any:
        operator = SeedanceGenerateVideoOperator(
            task_id="t",
            seedance_conn_id="seedance_hostile",
            model="seedance-2.0-fast-text-to-video",
            prompt="a kite",
            duration=5,
            output_path=tmp_path / "v.mp4",
            deferrable=False,
            timeout=3,
            poll_interval=0.2,
        )
        ti = FakeTI()
        return operator.execute({"ti": ti, "task_state_store": store, "task": operator}), ti

    with pytest.raises(Exception, match="HTTP 503"):
        attempt()
    vendor.routes["/v1/tasks/task-1"] = Answer.json(task("task-1", "processing"))  # the vendor takes it back
    vendor.routes["/files/v.mp4"] = Answer(200, mp4(2048), {"Content-Type": "video/mp4"})
    caplog.set_level(logging.INFO)
    result, ti = attempt()
    assert result["output_path"].endswith("v.mp4") and result["size_bytes"] == 2048
    assert ti.xcom["seedance_video_link"] == video
    assert "keeping the first completion" in printed(capfd, caplog)
    assert vendor.paths().count("/v1/videos/generations") == 1  # paid once
