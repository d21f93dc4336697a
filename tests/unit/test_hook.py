"""SeedanceHook through its public methods, faked at the HTTP boundary with httpx.MockTransport.

Every I/O test runs the sync method and its async twin (parametrized on ``use_async``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from airflow_provider_seedance.exceptions import (
    SeedanceAuthError,
    SeedanceBadRequestError,
    SeedanceConnectionError,
    SeedanceNotFoundError,
    SeedanceQuotaError,
    SeedanceRateLimitError,
    SeedanceSaveError,
    SeedanceServerError,
    SeedanceSubmitUncertainError,
    SeedanceUnsupportedError,
    SeedanceValidationError,
)
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.models import Generation, VideoRequest
from airflow_provider_seedance.polling._poll_steps import progress_line
from tests.unit.dns import public_resolver

KEY = "sk-hook-test-8c1f4e"
MODELS = {
    "evolink": "seedance-2.0-text-to-video",
    "aimlapi": "bytedance/seedance-1-0-pro-fast",
    "modelark": "dreamina-seedance-2-0-260128",
}
ERROR_BODIES: dict[str, Callable[[int, str], dict[str, Any]]] = {
    "evolink": lambda status, code: {"error": {"code": code, "message": f"evolink says {code}", "type": "x"}},
    "aimlapi": lambda status, code: {
        "message": f"aiml says {code}",
        "path": "/v2/video/generations",
        "requestId": "req-42",
        "statusCode": status,
        "timestamp": "2026-11-22T00:00:00Z",
    },
    "modelark": lambda status, code: {"error": {"code": code, "message": f"ark says {code}", "param": "", "type": "x"}},
}


class FakeApi:
    """A scripted API: a list of (status, body, headers) answers, recording every request."""

    def __init__(self, answers: list[tuple[int, Any, dict[str, str]]]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body, headers = self.answers[min(len(self.requests) - 1, len(self.answers) - 1)]
        if isinstance(body, Exception):
            raise body
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers={"content-type": "application/json", **headers})


def make_hook(monkeypatch: pytest.MonkeyPatch, backend: str, api: FakeApi, **extra: Any) -> SeedanceHook:
    conn = {"conn_type": "seedance", "password": KEY, "host": "http://api.test", "extra": {"backend": backend, **extra}}
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_UNIT", json.dumps(conn))
    transport = httpx.MockTransport(api)
    return SeedanceHook("seedance_unit", transport=transport, async_transport=transport, resolver=public_resolver)


async def call(hook: SeedanceHook, name: str, use_async: bool, *args: Any, **kwargs: Any) -> Any:
    if use_async:
        return await getattr(hook, "a" + name)(*args, **kwargs)
    return getattr(hook, name)(*args, **kwargs)


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("backend", ["evolink", "aimlapi", "modelark"])
@pytest.mark.parametrize(
    ("status", "code", "error_class"),
    [
        (400, "invalid_request", SeedanceBadRequestError),
        (401, "unauthorized", SeedanceAuthError),
        (402, "insufficient_quota", SeedanceQuotaError),
        (403, "model_access_denied", SeedanceAuthError),
        (404, "resource_not_found", SeedanceNotFoundError),
        (429, "rate_limit_exceeded", SeedanceRateLimitError),
        (500, "internal_error", SeedanceServerError),
    ],
)
async def test_api_errors_are_typed_and_carry_code_message_request_id_never_the_key(
    monkeypatch, backend, status, code, error_class, use_async
):
    api = FakeApi([(status, ERROR_BODIES[backend](status, code), {"x-request-id": "req-42", "retry-after": "0"})])
    hook = make_hook(monkeypatch, backend, api, max_retries=0)
    with pytest.raises(error_class) as info:
        await call(hook, "get_generation", use_async, "gen-1")
    error = info.value
    assert error.status_code == status
    assert error.request_id == "req-42"
    assert code in error.message
    if backend != "aimlapi":
        assert error.code == code
    assert KEY not in str(error) and KEY not in repr(error.__dict__)


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("backend", ["evolink", "aimlapi", "modelark"])
async def test_paid_create_is_sent_once_on_a_server_error(monkeypatch, backend, use_async):
    api = FakeApi([(500, ERROR_BODIES[backend](500, "internal_error"), {})])
    hook = make_hook(monkeypatch, backend, api)
    request = VideoRequest(model=MODELS[backend], prompt="a fox")
    with pytest.raises(SeedanceSubmitUncertainError, match=r"HTTP 500.*not submitted again by itself") as caught:
        await call(hook, "submit", use_async, request, idempotency_key=None)
    assert caught.value.retryable is False  # an Airflow retry could bill a second render
    assert len(api.requests) == 1


@pytest.mark.parametrize("use_async", [False, True])
async def test_idempotent_evolink_create_is_retried_with_the_same_key(monkeypatch, use_async):
    task = {"id": "task-1", "status": "pending", "progress": 0, "task_info": {"estimated_time": 30}}
    api = FakeApi([(503, ERROR_BODIES["evolink"](503, "busy"), {"retry-after": "0"}), (200, task, {})])
    hook = make_hook(monkeypatch, "evolink", api)
    generation = await call(
        hook, "submit", use_async, VideoRequest(model=MODELS["evolink"], prompt="a fox"), idempotency_key="k-1"
    )
    assert generation.id == "task-1"
    assert generation.state == "queued"
    assert generation.estimated_time_s == 30
    assert [r.headers.get("idempotency-key") for r in api.requests] == ["k-1", "k-1"]
    assert api.requests[0].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("use_async", [False, True])
async def test_dropped_create_is_not_resent_and_says_why(monkeypatch, use_async):
    api = FakeApi([(200, httpx.RemoteProtocolError("peer closed connection"), {})])
    hook = make_hook(monkeypatch, "aimlapi", api)
    with pytest.raises(SeedanceSubmitUncertainError, match="not resent") as caught:
        await call(hook, "submit", use_async, VideoRequest(model=MODELS["aimlapi"], prompt="a fox"))
    assert caught.value.retryable is False
    assert len(api.requests) == 1


@pytest.mark.parametrize("use_async", [False, True])
async def test_a_create_that_never_left_stays_retryable(monkeypatch, use_async):
    """Connection refused: nothing reached the API, so an Airflow retry is safe."""
    api = FakeApi([(200, httpx.ConnectError("refused"), {})])
    hook = make_hook(monkeypatch, "modelark", api)
    with pytest.raises(SeedanceConnectionError) as caught:
        await call(hook, "submit", use_async, VideoRequest(model=MODELS["modelark"], prompt="a fox"))
    assert caught.value.retryable is True and not isinstance(caught.value, SeedanceSubmitUncertainError)


@pytest.mark.parametrize("use_async", [False, True])
async def test_a_keyed_evolink_create_failure_stays_retryable(monkeypatch, use_async):
    """With an Idempotency-Key the Airflow retry replays the same task: no second render is billed."""
    api = FakeApi([(500, ERROR_BODIES["evolink"](500, "internal_error"), {})])
    hook = make_hook(monkeypatch, "evolink", api, max_retries=0)
    request = VideoRequest(model=MODELS["evolink"], prompt="a fox")
    with pytest.raises(SeedanceServerError) as caught:
        await call(hook, "submit", use_async, request, idempotency_key="k-1")
    assert caught.value.retryable is True


@pytest.mark.parametrize("use_async", [False, True])
async def test_reads_retry_through_transient_errors(monkeypatch, use_async):
    done = {
        "id": "g",
        "status": "completed",
        "video": {"url": "https://cdn.test/v.mp4"},
        "meta": {"usage": {"credits_used": 12}},
    }
    api = FakeApi([(502, b"bad gateway", {}), (200, httpx.ReadTimeout("slow"), {}), (200, done, {})])
    hook = make_hook(monkeypatch, "aimlapi", api, max_retries=3)
    hook.client._transport._sleep = lambda s: None  # type: ignore[attr-defined]
    generation = await call(hook, "get_generation", use_async, "g")
    assert (generation.state, generation.video_url, generation.credits) == ("succeeded", "https://cdn.test/v.mp4", 12.0)
    assert [r.url.params["generation_id"] for r in api.requests] == ["g", "g", "g"]


def test_validation_refuses_before_any_request(monkeypatch):
    api = FakeApi([(200, {}, {})])
    hook = make_hook(monkeypatch, "evolink", api)
    with pytest.raises(SeedanceValidationError, match="duration"):
        hook.submit(VideoRequest(model=MODELS["evolink"], prompt="a fox", duration=99))
    assert api.requests == []


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize(
    ("backend", "body", "state", "video"),
    [
        ("evolink", {"id": "t", "status": "processing", "progress": 40}, "running", None),
        (
            "evolink",
            {"id": "t", "status": "completed", "results": ["https://r/v.mp4"], "usage": {"credits_used": 5}},
            "succeeded",
            "https://r/v.mp4",
        ),
        ("evolink", {"id": "t", "status": "cancelled"}, "cancelled", None),
        (
            "evolink",
            {"id": "t", "status": "failed", "error": {"code": "content_policy_violation", "message": "no"}},
            "failed",
            None,
        ),
        ("aimlapi", {"id": "t", "status": "generating"}, "running", None),
        (
            "aimlapi",
            {"id": "t", "status": "succeeded", "video": {"url": "https://r/v.mp4"}},
            "succeeded",
            "https://r/v.mp4",
        ),
        ("aimlapi", {"id": "t", "status": "error", "error": {"name": "policy", "message": "no"}}, "failed", None),
        (
            "modelark",
            {"id": "t", "status": "succeeded", "content": {"video_url": "https://r/v.mp4"}},
            "succeeded",
            "https://r/v.mp4",
        ),
        ("modelark", {"id": "t", "status": "expired"}, "expired", None),
        ("modelark", {"id": "t", "status": "brand_new_word"}, "running", None),
    ],
)
async def test_every_status_word_is_normalized(monkeypatch, backend, body, state, video, use_async):
    hook = make_hook(monkeypatch, backend, FakeApi([(200, body, {})]))
    generation = await call(hook, "get_generation", use_async, "t")
    assert (generation.state, generation.video_url, generation.status) == (state, video, body["status"])


@pytest.mark.parametrize("use_async", [False, True])
async def test_cancel_is_a_delete_on_modelark_and_unsupported_elsewhere(monkeypatch, use_async):
    api = FakeApi([(200, {}, {})])
    hook = make_hook(monkeypatch, "modelark", api)
    await call(hook, "cancel_generation", use_async, "cgt-1")
    assert (api.requests[0].method, api.requests[0].url.path) == ("DELETE", "/api/v3/contents/generations/tasks/cgt-1")
    hook = make_hook(monkeypatch, "evolink", api)
    with pytest.raises(SeedanceUnsupportedError, match="no cancel endpoint"):
        await call(hook, "cancel_generation", use_async, "task-1")


@pytest.mark.parametrize(
    ("backend", "answer", "ok", "words"),
    [
        ("evolink", (404, {"error": {"code": "resource_not_found", "message": "no task"}}, {}), True, "accepted"),
        (
            "evolink",
            (401, {"error": {"code": "unauthorized", "message": "Invalid or expired token"}}, {}),
            False,
            "rejected",
        ),
        ("evolink", (404, b"<html>nginx</html>", {}), False, "Backend field"),
        ("modelark", (200, {"items": [], "total": 0}, {}), True, "accepted"),
        ("aimlapi", (404, ERROR_BODIES["aimlapi"](404, "not found"), {}), True, "accepted"),
    ],
)
@pytest.mark.parametrize("use_async", [False, True])
async def test_test_connection_reports_success_or_the_reason(monkeypatch, backend, answer, ok, words, use_async):
    hook = make_hook(monkeypatch, backend, FakeApi([answer]), max_retries=0)
    success, message = await call(hook, "test_connection", use_async)
    assert success is ok
    assert words in message
    assert KEY not in message


def test_connection_form_fields_and_missing_key(monkeypatch):
    behaviour = SeedanceHook.get_ui_field_behaviour()
    assert behaviour["relabeling"]["password"] == "API key"
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_NOKEY", json.dumps({"conn_type": "seedance", "extra": {}}))
    with pytest.raises(SeedanceValidationError, match="API key"):
        _ = SeedanceHook("seedance_nokey").settings


MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 64


class CutStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A download that breaks after its first chunk, for the sync and the async client alike."""

    def __iter__(self):
        yield MP4[:1000]
        raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self):
        yield MP4[:1000]
        raise httpx.ReadError("connection reset by peer")


@pytest.mark.parametrize("use_async", [False, True])
async def test_download_streams_a_verified_file_without_the_key_and_skips_an_identical_one(
    monkeypatch, tmp_path, use_async
):
    api = FakeApi([(200, MP4, {"content-type": "video/mp4"})])
    hook = make_hook(monkeypatch, "modelark", api)
    target = tmp_path / "out" / "v.mp4"
    saved = await call(hook, "download_video", use_async, "https://cdn.test/v.mp4", target, generation_id="g")
    assert (saved.size_bytes, saved.rewritten, target.read_bytes()) == (len(MP4), True, MP4)
    again = await call(hook, "download_video", use_async, "https://cdn.test/v.mp4", target, generation_id="g")
    assert (again.rewritten, again.sha256) == (False, saved.sha256)
    assert [p.name for p in target.parent.iterdir()] == ["v.mp4"]
    # The result link lives on the vendor's CDN: it must never see the API key.
    assert all("authorization" not in r.headers and KEY not in str(r.headers) for r in api.requests)


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("already_saved", [False, True])
async def test_a_save_removes_what_an_attempt_killed_mid_save_left(monkeypatch, tmp_path, use_async, already_saved):
    """A worker SIGKILLed mid-download cannot clean up: its retry's save removes the stale temporary file
    (the deployment suite kills a Celery worker there); another destination's temporary file stays."""
    api = FakeApi([(200, MP4, {"content-type": "video/mp4"})] * 2)
    hook = make_hook(monkeypatch, "modelark", api)
    target = tmp_path / "v.mp4"
    if already_saved:
        await call(hook, "download_video", use_async, "https://cdn.test/v.mp4", target, generation_id="g")
    (tmp_path / ".v.mp4.0.part").write_bytes(MP4[:100])  # as a killed first attempt leaves it
    (tmp_path / ".other.mp4.0.part").write_bytes(MP4[:100])
    await call(hook, "download_video", use_async, "https://cdn.test/v.mp4", target, generation_id="g")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.mp4.0.part", "v.mp4"]
    assert target.read_bytes() == MP4


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ((200, CutStream(), {"content-length": str(len(MP4))}), "connection reset"),
        ((200, MP4[:5000], {"content-length": str(len(MP4))}), "incomplete download"),
        ((200, b"<html>not a video</html>" * 4, {}), "not an MP4"),
        ((403, b"expired", {}), "403"),
    ],
)
async def test_a_failed_download_leaves_nothing_at_the_destination(monkeypatch, tmp_path, answer, words, use_async):
    status, body, headers = answer

    def serve(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, stream=body, headers=headers)

    transport = httpx.MockTransport(serve)
    monkeypatch.setenv(
        "AIRFLOW_CONN_SEEDANCE_UNIT",
        json.dumps({"conn_type": "seedance", "password": KEY, "extra": {"backend": "evolink", "max_retries": 0}}),
    )
    hook = SeedanceHook("seedance_unit", transport=transport, async_transport=transport, resolver=public_resolver)
    with pytest.raises(SeedanceSaveError, match=words) as caught:
        await call(hook, "download_video", use_async, "https://cdn.test/v.mp4", tmp_path / "v.mp4", generation_id="g")
    assert (caught.value.generation_id, caught.value.video_url) == ("g", "https://cdn.test/v.mp4")
    assert list(tmp_path.iterdir()) == []


async def test_a_cancelled_async_download_leaves_nothing_at_the_destination(monkeypatch, tmp_path):
    """The task running ``adownload_video`` is cancelled mid-stream (a kill, a timeout): no partial file stays."""
    started = asyncio.Event()

    class Stalls(httpx.AsyncByteStream):
        async def __aiter__(self):
            yield MP4[:1000]
            started.set()
            await asyncio.sleep(3600)
            yield b""

    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=Stalls()))
    monkeypatch.setenv(
        "AIRFLOW_CONN_SEEDANCE_UNIT", json.dumps({"conn_type": "seedance", "password": KEY, "extra": {}})
    )
    hook = SeedanceHook("seedance_unit", async_transport=transport, resolver=public_resolver)
    download = asyncio.ensure_future(hook.adownload_video("https://cdn.test/v.mp4", tmp_path / "v.mp4"))
    await asyncio.wait_for(started.wait(), timeout=10)
    assert len(list(tmp_path.iterdir())) == 1  # the temporary sibling, being written
    download.cancel()
    with pytest.raises(asyncio.CancelledError):
        await download
    assert list(tmp_path.iterdir()) == []


def _generation(backend: str, state: str, status: str, **fields: Any) -> Generation:
    return Generation(id="g1", backend=backend, state=state, status=status, **fields)


@pytest.mark.parametrize(
    ("generation", "elapsed", "estimated", "line"),
    [
        # EvoLink: the API's estimate, refined by the reported progress (the poller's own prediction).
        (
            _generation("evolink", "running", "processing", progress=62, estimated_time_s=65),
            41,
            None,
            "Seedance g1: running (processing), 62%, elapsed 41s, ETA 24s",
        ),
        # Progress but no estimate: the rate of progress predicts the end.
        (
            _generation("evolink", "running", "processing", progress=40),
            20,
            None,
            "running (processing), 40%, elapsed 20s, ETA 30s",
        ),
        # The estimate came with the submit answer only.
        (
            _generation("evolink", "queued", "pending", progress=0),
            10,
            100,
            "queued (pending), 0%, elapsed 10s, ETA 90s",
        ),
        # AIML API and ModelArk report neither progress nor an estimate: the line leaves both out.
        (
            _generation("aimlapi", "running", "generating"),
            12,
            None,
            "Seedance g1: running (generating), elapsed 12s",
        ),
        (_generation("modelark", "queued", "queued"), 3, None, "Seedance g1: queued (queued), elapsed 3s"),
        # Past the estimate with no progress to go by: unknown, so left out (not "0s", not "?").
        (_generation("evolink", "running", "processing", estimated_time_s=30), 45, None, "processing), elapsed 45s"),
        # A finished render has no ETA.
        (
            _generation("modelark", "succeeded", "succeeded"),
            50,
            None,
            "Seedance g1: succeeded (succeeded), elapsed 50s",
        ),
    ],
)
def test_progress_line_shows_status_progress_elapsed_and_eta_on_every_backend(generation, elapsed, estimated, line):
    text = progress_line(generation, elapsed, estimated_time=estimated)
    assert text.endswith(line), text
    assert text.startswith("Seedance g1: ")


@pytest.mark.parametrize(
    ("backend", "running", "expected"),
    [
        ("aimlapi", {"id": "g", "status": "generating"}, "running (generating), elapsed 5s"),
        ("modelark", {"id": "g", "status": "running"}, "running (running), elapsed 5s"),
        (
            "evolink",
            {"id": "g", "status": "processing", "progress": 25},
            "running (processing), 25%, elapsed 5s, ETA 15s",
        ),
    ],
)
def test_each_poll_on_the_worker_logs_a_progress_line(monkeypatch, backend, running, expected):
    done = {
        "aimlapi": {"id": "g", "status": "completed", "video": {"url": "https://cdn.test/v.mp4"}},
        "modelark": {"id": "g", "status": "succeeded", "content": {"video_url": "https://cdn.test/v.mp4"}},
        "evolink": {"id": "g", "status": "completed", "results": ["https://cdn.test/v.mp4"]},
    }[backend]
    hook = make_hook(monkeypatch, backend, FakeApi([(200, running, {}), (200, done, {})]))
    lines: list[str] = []

    class Log:
        def info(self, message: str, *args: Any) -> None:
            lines.append(message % args)

        warning = info

    monkeypatch.setattr(SeedanceHook, "log", property(lambda self: Log()))
    now = [0.0]
    hook.wait_for_generation("g", sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    assert lines[0] == f"Seedance g: {expected}"
    assert lines[-1].startswith("Seedance g: succeeded")


class VirtualTime:
    """The worker-side wait's injected clock and sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_worker_side_wait_backs_off_on_errors_and_honours_retry_after(monkeypatch):
    """As the trigger does: a 429's Retry-After is waited out, other transient errors back off with jitter."""
    running = {"id": "g", "status": "processing", "progress": 50, "task_info": {"estimated_time": 20}}
    done = {"id": "g", "status": "completed", "results": ["https://cdn.test/v.mp4"]}
    limited = ERROR_BODIES["evolink"](429, "rate_limit_exceeded")
    api = FakeApi(
        [(429, limited, {"Retry-After": "7"}), (503, b"upstream down", {}), (200, running, {}), (200, done, {})]
    )
    hook = make_hook(monkeypatch, "evolink", api, max_retries=0)
    time = VirtualTime()
    generation = hook.wait_for_generation("g", sleep=time.sleep, clock=time.clock)
    assert generation.state == "succeeded" and len(api.requests) == 4
    assert time.slept[1] >= 7  # Retry-After honoured
    assert 0.5 <= time.slept[2] <= 8  # the second error in a row: jittered back-off up to 2 s x 2**2


def test_the_worker_side_wait_stops_at_a_permanent_error(monkeypatch):
    api = FakeApi([(401, ERROR_BODIES["modelark"](401, "AuthenticationError"), {})])
    hook = make_hook(monkeypatch, "modelark", api, max_retries=0)
    time = VirtualTime()
    with pytest.raises(SeedanceAuthError):
        hook.wait_for_generation("g", sleep=time.sleep, clock=time.clock)
    assert len(api.requests) == 1


def test_the_worker_side_wait_polls_last_at_the_deadline_then_times_out(monkeypatch):
    from airflow_provider_seedance.exceptions import SeedanceGenerationTimeout

    api = FakeApi([(200, {"id": "g", "status": "running"}, {})])
    hook = make_hook(monkeypatch, "modelark", api, max_retries=0)
    time = VirtualTime()
    with pytest.raises(SeedanceGenerationTimeout) as info:
        hook.wait_for_generation("g", timeout=100, sleep=time.sleep, clock=time.clock)
    assert time.now == pytest.approx(100) and info.value.generation is not None
    assert info.value.generation.state == "running" and "before its deadline (100 s)" in str(info.value)


def test_the_worker_side_wait_uses_and_feeds_the_render_time_memory(monkeypatch):
    """With the render's spec, renders of it seen in this process stand in for a missing estimate (ModelArk),
    and this render's time is remembered on success."""
    from airflow_provider_seedance.hooks import seedance as module
    from airflow_provider_seedance.polling._plan import REMEMBERED_FIRST_FRACTION
    from airflow_provider_seedance.polling._render_memory import RenderMemory, render_key

    memory = RenderMemory()
    monkeypatch.setattr(module, "RENDER_MEMORY", memory)
    spec = {"model": MODELS["modelark"], "duration": 5, "quality": "720p", "service_tier": None}
    key = render_key("modelark", spec)
    for seconds in (58.0, 60.0, 62.0):
        memory.record(key, seconds)
    time = VirtualTime()
    running = {"id": "g", "status": "running"}
    done = {"id": "g", "status": "succeeded", "content": {"video_url": "https://cdn.test/v.mp4"}}

    def answer(request: httpx.Request) -> httpx.Response:
        body = done if time.now >= 60 else running
        return httpx.Response(200, json=body)

    conn = {"conn_type": "seedance", "password": KEY, "host": "http://api.test", "extra": {"backend": "modelark"}}
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_UNIT", json.dumps(conn))
    hook = SeedanceHook("seedance_unit", transport=httpx.MockTransport(answer))
    hook.wait_for_generation("g", render_spec=spec, sleep=time.sleep, clock=time.clock)
    assert time.slept[0] == pytest.approx(REMEMBERED_FIRST_FRACTION * 60.0)
    assert len(time.slept) <= 4 and time.now - 60 <= max(2.0, 0.05 * 60)
    assert memory.count(key) == 4
