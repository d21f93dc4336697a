"""SeedanceGenerationTrigger, drained directly: exactly one event, tolerant polling, deadline, kill.

Faked at the HTTP boundary with respx (which also serves the trigger's shared pooled client); time is
injected, so nothing sleeps on the real clock.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_seedance.events import GenerationEvent
from airflow_provider_seedance.triggers.seedance import SeedanceGenerationTrigger

KEY = "sk-trigger-secret-5b2d"
BASE = "http://api.trigger.test"
STATUS_PATH = {
    "evolink": "/v1/tasks/g1",
    "aimlapi": "/v2/video/generations",
    "modelark": "/api/v3/contents/generations/tasks/g1",
}
BODIES: dict[str, dict[str, dict[str, Any]]] = {
    "evolink": {
        "running": {"id": "g1", "status": "processing", "progress": 50, "task_info": {"estimated_time": 20}},
        "succeeded": {
            "id": "g1",
            "status": "completed",
            "results": ["https://cdn.test/g1.mp4"],
            "usage": {"credits_used": 9},
        },
        "failed": {"id": "g1", "status": "failed", "error": {"code": "content_policy_violation", "message": "blocked"}},
        "cancelled": {"id": "g1", "status": "cancelled"},
    },
    "aimlapi": {
        "running": {"id": "g1", "status": "generating"},
        "succeeded": {"id": "g1", "status": "completed", "video": {"url": "https://cdn.test/g1.mp4"}},
        "failed": {"id": "g1", "status": "error", "error": {"name": "generation_timeout", "message": "took too long"}},
    },
    "modelark": {
        "running": {"id": "g1", "status": "running"},
        "succeeded": {"id": "g1", "status": "succeeded", "content": {"video_url": "https://cdn.test/g1.mp4"}},
        "failed": {
            "id": "g1",
            "status": "failed",
            "error": {"code": "OutputVideoSensitiveContentDetected", "message": "x"},
        },
        "cancelled": {"id": "g1", "status": "cancelled"},
        "expired": {"id": "g1", "status": "expired"},
    },
}
EXPECTED = {"succeeded": "success", "failed": "failed", "cancelled": "failed", "expired": "failed"}


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def conn(monkeypatch: pytest.MonkeyPatch):
    def set_backend(backend: str) -> str:
        conn_id = f"seedance_trig_{backend}"
        value = {
            "conn_type": "seedance",
            "password": KEY,
            "host": BASE,
            "extra": {"backend": backend, "max_retries": 0},
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(value))
        return conn_id

    return set_backend


def make_trigger(conn_id: str, fake: FakeTime, *, timeout: float = 600, **kw: Any) -> SeedanceGenerationTrigger:
    trigger = SeedanceGenerationTrigger(
        generation_id="g1", seedance_conn_id=conn_id, deadline=fake.now + timeout, started_at=fake.now, **kw
    )
    trigger.clock = fake.clock
    trigger.sleep = fake.sleep
    return trigger


async def drain(trigger: SeedanceGenerationTrigger) -> list[GenerationEvent]:
    return [GenerationEvent.model_validate(event.payload) async for event in trigger.run()]


def test_serialization_round_trip_holds_no_secret_and_no_prompt():
    trigger = SeedanceGenerationTrigger(generation_id="g1", seedance_conn_id="c", deadline=1.5e9, started_at=1.4e9)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_seedance.triggers.seedance.SeedanceGenerationTrigger"
    assert set(kwargs) == {
        "generation_id",
        "deadline",
        "seedance_conn_id",
        "started_at",
        "poll_interval",
        "estimated_time",
        "cancel_on_kill",
    }
    assert SeedanceGenerationTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert KEY not in json.dumps(kwargs)


CASES = [(b, s) for b, bodies in BODIES.items() for s in bodies if s != "running"]


@pytest.mark.parametrize(("backend", "terminal"), CASES, ids=[f"{b}-{s}" for b, s in CASES])
async def test_exactly_one_event_for_every_terminal_state(conn, backend, terminal):
    fake = FakeTime()
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        route = api.get(STATUS_PATH[backend]).mock(
            side_effect=[httpx.Response(200, json=BODIES[backend]["running"])] * 2
            + [httpx.Response(200, json=BODIES[backend][terminal])]
        )
        events = await drain(make_trigger(conn(backend), fake))
    assert len(events) == 1
    event = events[0]
    assert event.status == EXPECTED[terminal]
    assert event.generation is not None and event.generation.state == terminal
    assert event.polls == route.call_count == 3
    assert route.calls[0].request.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in event.model_dump_json()


async def test_transient_poll_errors_are_tolerated_until_success(conn):
    fake = FakeTime()
    answers = [
        httpx.Response(
            429, headers={"Retry-After": "7"}, json={"error": {"code": "rate_limit_exceeded", "message": "slow down"}}
        ),
        httpx.Response(503, text="upstream unavailable"),
        httpx.ConnectError("connection refused"),
        httpx.Response(200, text="<html>not json</html>"),
        httpx.ReadTimeout("read timed out"),
        httpx.Response(200, json=BODIES["evolink"]["succeeded"]),
    ]
    with respx.mock(base_url=BASE) as api:
        api.get(STATUS_PATH["evolink"]).mock(side_effect=answers)
        events = await drain(make_trigger(conn("evolink"), fake))
    assert [e.status for e in events] == ["success"]
    assert events[0].polls == 6
    assert max(fake.slept) >= 7  # Retry-After honoured


@pytest.mark.parametrize(("backend", "cancels"), [("modelark", 1), ("evolink", 0)])
async def test_deadline_sends_timeout_and_cancels_where_possible(conn, backend, cancels):
    fake = FakeTime()
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        poll = api.get(STATUS_PATH[backend]).mock(return_value=httpx.Response(200, json=BODIES[backend]["running"]))
        cancel = api.delete(STATUS_PATH["modelark"]).mock(return_value=httpx.Response(200, json={}))
        events = await drain(make_trigger(conn(backend), fake, timeout=120))
    assert [e.status for e in events] == ["timeout"]
    assert "g1" in events[0].message
    assert cancel.call_count == cancels
    assert fake.now == pytest.approx(1_800_000_120.0)
    assert poll.call_count <= 12


async def test_deadline_survives_a_restart(conn):
    """A re-created trigger (triggerer restart) keeps the original wall-clock deadline."""
    fake = FakeTime()
    first = make_trigger(conn("evolink"), fake, timeout=100)
    _, kwargs = first.serialize()
    fake.now += 90
    restarted = SeedanceGenerationTrigger(**kwargs)
    restarted.clock, restarted.sleep = fake.clock, fake.sleep
    with respx.mock(base_url=BASE) as api:
        api.get(STATUS_PATH["evolink"]).mock(return_value=httpx.Response(200, json=BODIES["evolink"]["running"]))
        events = await drain(restarted)
    assert [e.status for e in events] == ["timeout"]
    assert fake.now <= 1_800_000_100.0 + 1e-6


async def test_permanent_poll_error_ends_with_one_error_event(conn):
    fake = FakeTime()
    with respx.mock(base_url=BASE) as api:
        api.get(STATUS_PATH["modelark"]).mock(
            return_value=httpx.Response(401, json={"error": {"code": "AuthenticationError", "message": "bad key"}})
        )
        events = await drain(make_trigger(conn("modelark"), fake))
    assert [e.status for e in events] == ["error"]
    assert "AuthenticationError" in events[0].message and KEY not in events[0].message


async def test_on_kill_cancels_on_modelark(conn):
    fake = FakeTime()
    with respx.mock(base_url=BASE) as api:
        cancel = api.delete(STATUS_PATH["modelark"]).mock(return_value=httpx.Response(200, json={}))
        await make_trigger(conn("modelark"), fake).on_kill()
        await make_trigger(conn("modelark"), fake, cancel_on_kill=False).on_kill()
    assert cancel.call_count == 1


async def test_all_triggers_in_a_loop_share_one_pooled_client(conn):
    from airflow_provider_seedance.hooks.seedance import SeedanceHook

    conn_id = conn("evolink")
    clients = {id(await SeedanceHook(conn_id).aclient()) for _ in range(5)}
    assert len(clients) == 1
