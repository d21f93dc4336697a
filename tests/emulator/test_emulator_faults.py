"""Fault injection as a client sees it: HTTP errors with Retry-After, slow answers, dropped
connections, malformed bodies, lost create answers, truncated downloads, limits and determinism."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from emulator_support import AUTH, FakeClock, evolink_create, finish

from airflow_provider_seedance.emulator import EmulatorServer

TASKS = "/api/v3/contents/generations/tasks"
EVOLINK_BODY = {"model": "seedance-2.0-text-to-video", "prompt": "A cat", "duration": 4}


def _done_task(client: httpx.Client, clock: FakeClock) -> tuple[str, str]:
    task = evolink_create(client)
    finish(clock)
    url = client.get(f"/v1/tasks/{task['id']}").json()["results"][0]
    return task["id"], url


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_http_error_faults_on_poll(emu: Any, client: httpx.Client, status: int) -> None:
    task = evolink_create(client)
    aiml = client.post("/v2/video/generations", json={"model": "bytedance/seedance-1-0-pro-fast", "prompt": "x"})
    ark = client.post(TASKS, json={"model": "seedance-1-0-pro-fast-251015", "content": [{"type": "text", "text": "x"}]})
    emu.set_faults({"poll": {str(status): 1.0}, "retry_after": 7})
    responses = {
        "evolink": client.get(f"/v1/tasks/{task['id']}"),
        "aimlapi": client.get("/v2/video/generations", params={"generation_id": aiml.json()["id"]}),
        "modelark": client.get(f"{TASKS}/{ark.json()['id']}"),
    }
    for dialect, response in responses.items():
        assert response.status_code == status, dialect
        if status in (429, 502, 503):
            assert response.headers["retry-after"] == "7"
        else:
            assert "retry-after" not in response.headers
        if status == 502:  # a gateway page, not the vendor's JSON
            assert response.headers["content-type"].startswith("text/html")
            continue
        body = response.json()
        if dialect == "evolink":
            expected = {429: "rate_limit_exceeded", 500: "internal_error", 503: "service_unavailable"}[status]
            assert body["error"]["code"] == expected
        elif dialect == "aimlapi":
            assert body["statusCode"] == status
        else:
            assert (
                body["error"]["code"]
                == {429: "RateLimitExceeded", 500: "InternalServiceError", 503: "ServiceUnavailable"}[status]
            )
    assert [e["fault"] for e in emu.requests() if e["kind"] == "poll"] == [str(status)] * 3


def test_create_429_happens_before_the_task_exists(emu: Any, client: httpx.Client) -> None:
    emu.set_faults({"create": {"429": 1.0}})
    response = client.post("/v1/videos/generations", json=EVOLINK_BODY)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert emu.stats()["creates_total"] == 0
    assert emu.stats()["tasks"] == 0


def test_500_after_create_then_idempotent_retry(emu: Any, client: httpx.Client) -> None:
    emu.set_faults({"create": {"500_after_create": 1.0, "limit": 1}})
    headers = {"Idempotency-Key": "lost-answer-1"}
    lost = client.post("/v1/videos/generations", json=EVOLINK_BODY, headers=headers)
    assert lost.status_code == 500
    assert lost.json()["error"]["code"] == "internal_error"
    assert emu.stats()["creates"]["evolink"] == 1  # the POST reached the vendor
    retry = client.post("/v1/videos/generations", json=EVOLINK_BODY, headers=headers)
    assert retry.status_code == 200
    assert retry.headers["idempotency-replayed"] == "true"
    assert emu.stats()["creates_total"] == 1
    first, second = [e for e in emu.requests() if e["kind"] == "create"]
    assert first["fault"] == "500_after_create"
    assert first["task_id"] == second["task_id"] == retry.json()["id"]
    assert second["idempotency_replayed"] is True


def test_500_after_create_on_rejected_request_passes_the_error_through(emu: Any, client: httpx.Client) -> None:
    emu.set_faults({"create": {"500_after_create": 1.0}})
    response = client.post("/v1/videos/generations", json={**EVOLINK_BODY, "duration": 99})
    assert response.status_code == 400
    assert emu.stats()["creates_total"] == 0


@pytest.mark.parametrize(
    ("scope", "fault", "error"),
    [
        ("create", "drop", httpx.RemoteProtocolError),
        ("poll", "drop", httpx.RemoteProtocolError),
        ("create", "reset", httpx.ReadError),
        ("poll", "reset", httpx.ReadError),
    ],
)
def test_drop_and_reset_are_transport_errors(
    emu: Any, client: httpx.Client, scope: str, fault: str, error: type[Exception]
) -> None:
    task = evolink_create(client)
    emu.set_faults({scope: {fault: 1.0}})
    request = (
        client.build_request("POST", "/v1/videos/generations", json=EVOLINK_BODY)
        if scope == "create"
        else client.build_request("GET", f"/v1/tasks/{task['id']}")
    )
    with pytest.raises(error):
        client.send(request)
    emu.set_faults({})
    assert client.get(f"/v1/tasks/{task['id']}").status_code == 200  # the client recovers
    assert emu.stats()["creates_total"] == 1
    dropped = [e for e in emu.requests() if e["fault"] == fault]
    assert len(dropped) == 1
    assert dropped[0]["status"] is None


def test_malformed_body(emu: Any, client: httpx.Client) -> None:
    task = evolink_create(client)
    emu.set_faults({"poll": {"malformed": 1.0}})
    response = client.get(f"/v1/tasks/{task['id']}")
    assert response.status_code == 200
    with pytest.raises(ValueError, match="Expecting"):
        response.json()


def test_slow(emu: Any, client: httpx.Client) -> None:
    task = evolink_create(client)
    emu.set_faults({"poll": {"slow": 1.0}, "slow_seconds": 0.3})
    started = time.perf_counter()
    assert client.get(f"/v1/tasks/{task['id']}").status_code == 200
    assert time.perf_counter() - started >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        client.get(f"/v1/tasks/{task['id']}", timeout=0.1)
    time.sleep(0.3)  # let the abandoned request finish before the next test resets the log


def _read_into(response: httpx.Response, sink: bytearray) -> None:
    for chunk in response.iter_raw():
        sink += chunk


def test_download_faults(emu: Any, client: httpx.Client, clock: FakeClock) -> None:
    _, url = _done_task(client, clock)
    full = httpx.get(url).content
    emu.set_faults({"download": {"truncate": 1.0}})
    received = bytearray()
    with httpx.stream("GET", url) as response:
        assert response.status_code == 200
        assert int(response.headers["content-length"]) == len(full)
        with pytest.raises(httpx.RemoteProtocolError):
            _read_into(response, received)
    assert len(received) == len(full) // 2
    assert bytes(received) == full[: len(received)]

    emu.set_faults({"download": {"drop": 1.0}})
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url)
    emu.set_faults({"download": {"503": 1.0}, "retry_after": 2})
    unavailable = httpx.get(url)
    assert unavailable.status_code == 503
    assert unavailable.headers["retry-after"] == "2"
    emu.set_faults({"download": {"malformed": 1.0}})
    garbage = httpx.get(url)
    assert garbage.status_code == 200
    assert not garbage.content.startswith(full[:8])
    emu.set_faults({})
    assert httpx.get(url).content == full
    assert emu.stats()["downloads"] == 6


def test_list_and_cancel_scopes(emu: Any, client: httpx.Client) -> None:
    emu.set_faults({"list": {"500": 1.0}, "cancel": {"429": 1.0}})
    assert client.get(TASKS).status_code == 500
    assert client.delete(f"{TASKS}/cgt-x").status_code == 429


def test_limit_and_partial_rates(emu: Any, client: httpx.Client) -> None:
    task = evolink_create(client)
    emu.set_faults({"poll": {"503": 1.0, "limit": 2}})
    codes = [client.get(f"/v1/tasks/{task['id']}").status_code for _ in range(4)]
    assert codes == [503, 503, 200, 200]


def _sequence(emu: Any, client: httpx.Client, task_id: str) -> list[int]:
    emu.set_faults({"seed": 123, "poll": {"429": 0.3, "500": 0.2}})
    return [client.get(f"/v1/tasks/{task_id}").status_code for _ in range(40)]


def test_faults_are_deterministic_with_a_seed(emu: Any, client: httpx.Client) -> None:
    task = evolink_create(client)
    first = _sequence(emu, client, task["id"])
    second = _sequence(emu, client, task["id"])
    assert first == second
    assert {200, 429, 500} == set(first)
    assert 4 <= first.count(429) <= 20


@pytest.mark.parametrize(
    "config",
    [
        {"polls": {"500": 0.1}},
        {"poll": {"418x": 0.1}},
        {"poll": {"500": 0.7, "503": 0.7}},
        {"poll": {"truncate": 0.1}},
        {"download": {"500_after_create": 0.1}},
        {"poll": {"500": -0.1}},
        {"poll": {"500": 0.1, "limit": "x"}},
        {"poll": "often"},
        [1, 2],
    ],
)
def test_invalid_fault_configs_are_rejected(emu: Any, config: Any) -> None:
    response = httpx.post(f"{emu.url}/_emulator/faults", json=config)
    assert response.status_code == 400
    assert response.json()["error"]["message"]


def test_server_wide_faults_from_the_constructor() -> None:
    faults = {"create": {"503": 1.0}, "retry_after": 3}
    with EmulatorServer(render_seconds=0.0, faults=faults, seed=1) as emu:
        response = httpx.post(f"{emu.url}/v1/videos/generations", json=EVOLINK_BODY, headers=AUTH)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "3"
        assert httpx.get(f"{emu.url}/_emulator/faults").json()["faults"] == faults
        emu.reset()  # reset clears the faults too
        assert httpx.post(f"{emu.url}/v1/videos/generations", json=EVOLINK_BODY, headers=AUTH).status_code == 200
