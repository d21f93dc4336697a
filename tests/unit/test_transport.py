"""Retry policy: reads retry, the paid POST never does unless it certainly did not arrive or is idempotent."""

from __future__ import annotations

import random

import httpx
import pytest

from airflow_provider_seedance.wire._rules import RetryPolicy
from airflow_provider_seedance.wire._transport import RetryTransport, retry_delay

POLICY = RetryPolicy(max_retries=3, backoff_base=0.5, backoff_max=8.0, retry_after_max=60.0)
RAND = random.Random(1)


@pytest.mark.parametrize(
    ("safe", "status", "error", "retried"),
    [
        (True, 500, None, True),
        (True, 502, None, True),
        (True, 408, None, True),
        (True, 429, None, True),
        (True, 400, None, False),
        (True, 404, None, False),
        (False, 500, None, False),
        (False, 503, None, False),
        (False, 429, None, True),
        (False, None, httpx.ConnectError("refused"), True),
        (False, None, httpx.ConnectTimeout("slow"), True),
        (False, None, httpx.ReadTimeout("lost"), False),
        (False, None, httpx.RemoteProtocolError("dropped"), False),
        (True, None, httpx.ReadTimeout("lost"), True),
        (True, None, httpx.RemoteProtocolError("dropped"), True),
    ],
)
def test_who_is_retried(safe, status, error, retried):
    delay = retry_delay(POLICY, 0, safe=safe, status=status, error=error, rand=RAND)
    assert (delay is not None) is retried


def test_backoff_is_bounded_and_retry_after_is_honoured_with_a_cap():
    for attempt in range(3):
        delay = retry_delay(POLICY, attempt, safe=True, status=503, rand=RAND)
        assert delay is not None
        assert 0 <= delay <= min(8.0, 0.5 * 2**attempt)
    assert retry_delay(POLICY, 0, safe=True, status=429, retry_after="7", rand=RAND) >= 7
    assert retry_delay(POLICY, 0, safe=True, status=429, retry_after="9999", rand=RAND) <= 60
    assert retry_delay(POLICY, 3, safe=True, status=503, rand=RAND) is None


def _flaky(statuses: list[int]):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = statuses[min(len(seen) - 1, len(statuses) - 1)]
        return httpx.Response(status, json={"n": len(seen)}, headers={"Retry-After": "0"})

    return httpx.MockTransport(handler), seen


@pytest.mark.parametrize("use_async", [False, True])
async def test_one_transport_serves_sync_and_async(use_async):
    mock, seen = _flaky([503, 502, 200])
    sleeps: list[float] = []

    async def async_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    transport = RetryTransport(
        POLICY, sync_transport=mock, async_transport=mock, sleep=sleeps.append, async_sleep=async_sleep, rand=RAND
    )
    if use_async:
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            response = await client.get("/v1/tasks/1")
    else:
        with httpx.Client(transport=transport, base_url="http://api") as client:
            response = client.get("/v1/tasks/1")
    assert response.status_code == 200
    assert len(seen) == 3
    assert len(sleeps) == 2


def test_paid_post_is_not_retried_on_5xx_but_idempotent_post_is():
    mock, seen = _flaky([500, 200])
    transport = RetryTransport(POLICY, sync_transport=mock, sleep=lambda s: None, rand=RAND)
    with httpx.Client(transport=transport, base_url="http://api") as client:
        assert client.post("/v1/videos/generations", json={}).status_code == 500
        assert len(seen) == 1
        seen.clear()
        response = client.post("/v1/videos/generations", json={}, headers={"Idempotency-Key": "k"})
    assert response.status_code == 200
    assert len(seen) == 2
    assert seen[0].content == seen[1].content


async def test_shared_async_client_gates_requests_in_flight():
    import asyncio

    from airflow_provider_seedance.wire.settings import MAX_IN_FLIGHT, ConnectionSettings, build_async_client

    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return httpx.Response(200, json={})

    settings = ConnectionSettings("evolink", "http://api.test", "k")
    async with build_async_client(settings, transport=httpx.MockTransport(handler)) as client:
        responses = await asyncio.gather(*(client.get(f"/v1/tasks/{n}") for n in range(200)))
    assert all(r.status_code == 200 for r in responses)
    assert peak == MAX_IN_FLIGHT


async def test_requests_waiting_out_a_retry_after_hold_no_slot():
    """Sixteen rate-limited polls sleeping on Retry-After must not stall the other polls of the client."""
    import asyncio

    from airflow_provider_seedance.wire.settings import MAX_IN_FLIGHT, ConnectionSettings, build_async_client

    limited: set[str] = set()
    served: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/v1/tasks/slow") and path not in limited:
            limited.add(path)
            return httpx.Response(429, headers={"retry-after": "30"}, json={})
        served.append(path)
        return httpx.Response(200, json={})

    settings = ConnectionSettings("evolink", "http://api.test", "k", max_retries=1)
    async with build_async_client(settings, transport=httpx.MockTransport(handler)) as client:
        slow = [asyncio.create_task(client.get(f"/v1/tasks/slow{n}")) for n in range(MAX_IN_FLIGHT)]
        await asyncio.sleep(0.05)  # every slow poll got its 429 and is now sleeping 30 s
        fast = await asyncio.wait_for(asyncio.gather(*(client.get(f"/v1/tasks/{n}") for n in range(50))), 5)
        for task in slow:
            task.cancel()
    assert all(r.status_code == 200 for r in fast) and len(served) == 50
