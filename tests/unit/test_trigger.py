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

from airflow_provider_seedance.contract.events import GenerationEvent
from airflow_provider_seedance.operators._finish import generation_from_event
from airflow_provider_seedance.polling._plan import REMEMBERED_FIRST_FRACTION
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
        "queued": {"id": "g1", "status": "queued"},
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
    payloads = [event.payload async for event in trigger.run()]
    for payload in payloads:  # the event model ignores unknown fields: this trigger sends none
        assert set(payload) <= set(GenerationEvent.model_fields), payload
    return [GenerationEvent.model_validate(payload) for payload in payloads]


def test_an_event_from_a_newer_triggerer_is_read_and_its_status_still_checked():
    """Mid-upgrade a newer triggerer's event may carry a field this worker lacks: read, not failed."""
    generation = {
        "id": "g1",
        "backend": "evolink",
        "state": "succeeded",
        "status": "completed",
        "video_url": "https://x",
    }
    event = {"status": "success", "generation_id": "g1", "message": "done", "generation": generation}
    parsed, elapsed = generation_from_event({**event, "elapsed_s": 3.0, "added_in_a_later_release": [1, 2]})
    assert (parsed.id, parsed.state, elapsed) == ("g1", "succeeded", 3.0)
    with pytest.raises(ValueError, match="status"):
        generation_from_event({**event, "status": "finished"})


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
        "backend",
    }
    assert SeedanceGenerationTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert KEY not in json.dumps(kwargs)


CASES = [(b, s) for b, bodies in BODIES.items() for s in bodies if s not in ("queued", "running")]


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


@pytest.mark.parametrize(
    ("backend", "state", "cancels", "outcome"),
    [
        ("modelark", "queued", 1, "cancelled on modelark while still queued"),
        ("modelark", "running", 0, "modelark cancels only queued generations"),
        ("evolink", "running", 0, "evolink cannot cancel generations"),
    ],
)
async def test_deadline_sends_timeout_and_cancels_only_a_queued_render(conn, backend, state, cancels, outcome):
    """ModelArk cancels queued tasks only: a running render is never sent a DELETE."""
    fake = FakeTime()
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        poll = api.get(STATUS_PATH[backend]).mock(return_value=httpx.Response(200, json=BODIES[backend][state]))
        cancel = api.delete(STATUS_PATH["modelark"]).mock(return_value=httpx.Response(200, json={}))
        events = await drain(make_trigger(conn(backend), fake, timeout=120))
    assert [e.status for e in events] == ["timeout"]
    assert "g1 did not finish before its deadline" in events[0].message and outcome in events[0].message
    assert cancel.call_count == cancels
    assert fake.now == pytest.approx(1_800_000_120.0)
    assert poll.call_count <= 12


async def test_a_render_finished_at_the_deadline_is_delivered(conn):
    """The last poll lands on the deadline: a video that just finished is not thrown away."""
    fake = FakeTime()
    trigger = make_trigger(conn("modelark"), fake, timeout=100, poll_interval=60)
    answers = [httpx.Response(200, json=BODIES["modelark"][s]) for s in ("running", "succeeded")]
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        api.get(STATUS_PATH["modelark"]).mock(side_effect=answers)
        cancel = api.delete(STATUS_PATH["modelark"]).mock(return_value=httpx.Response(200, json={}))
        events = await drain(trigger)
    assert [e.status for e in events] == ["success"]
    assert fake.now == pytest.approx(1_800_000_100.0) and cancel.call_count == 0


async def test_no_poll_runs_past_the_deadline(conn, monkeypatch):
    """A hanging status request is cut off at the deadline (here the last poll's budget, shortened)."""
    from airflow_provider_seedance.triggers import seedance as module

    monkeypatch.setattr(module, "FINAL_POLL_BUDGET", 0.2)

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json=BODIES["evolink"]["running"])

    fake = FakeTime()
    with respx.mock(base_url=BASE, assert_all_called=False) as api:  # the hanging call never returns
        api.get(STATUS_PATH["evolink"]).mock(side_effect=hang)
        events = await asyncio.wait_for(drain(make_trigger(conn("evolink"), fake, timeout=0.1)), timeout=10)
    assert [e.status for e in events] == ["timeout"]


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
    assert events[0].retryable is False  # the worker fails without burning retries, as when polling itself
    assert "AuthenticationError" in events[0].message and KEY not in events[0].message


async def test_on_kill_cancels_a_queued_render_on_modelark(conn):
    fake = FakeTime()
    states = [httpx.Response(200, json=BODIES["modelark"][s]) for s in ("queued", "running")]
    with respx.mock(base_url=BASE) as api:
        api.get(STATUS_PATH["modelark"]).mock(side_effect=states)
        cancel = api.delete(STATUS_PATH["modelark"]).mock(return_value=httpx.Response(200, json={}))
        await make_trigger(conn("modelark"), fake).on_kill()  # queued: cancelled
        await make_trigger(conn("modelark"), fake).on_kill()  # running: left to finish
        await make_trigger(conn("modelark"), fake, cancel_on_kill=False).on_kill()  # not even polled
    assert cancel.call_count == 1


async def test_all_triggers_in_a_loop_share_one_pooled_client(conn):
    from airflow_provider_seedance.hooks.seedance import SeedanceHook

    conn_id = conn("evolink")
    clients = {id(await SeedanceHook(conn_id).aclient()) for _ in range(5)}
    assert len(clients) == 1


async def test_a_connection_moved_to_another_backend_fails_at_once(conn):
    """Submitted to EvoLink, the connection now says ModelArk: polling the wrong API would only 404."""
    fake = FakeTime()
    with respx.mock(base_url=BASE) as api:
        events = await drain(make_trigger(conn("modelark"), fake, backend="evolink"))
    assert [e.status for e in events] == ["error"] and events[0].retryable is False
    assert "now points at backend 'modelark'" in events[0].message and not api.calls


@pytest.fixture
def fresh_memory(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dict[str, Any], Any]:
    """An empty render-time memory in place of the process's; a ModelArk spec and its key."""
    from airflow_provider_seedance.polling._render_memory import RenderMemory, render_key
    from airflow_provider_seedance.triggers import seedance as module

    memory = RenderMemory()
    monkeypatch.setattr(module, "RENDER_MEMORY", memory)
    spec = {"model": "seedance-1-0-pro-fast-251015", "duration": 5, "quality": "720p", "service_tier": None}
    return memory, spec, render_key("modelark", spec)


async def test_without_an_estimate_polling_lands_near_the_remembered_render_time(conn, fresh_memory):
    """ModelArk gives neither estimate nor progress: renders of the same spec seen earlier in this process
    take their place, so a 60 s render is polled at 92% of the typical time and every 5% after that."""
    memory, spec, key = fresh_memory

    async def render_60s(**kw: Any) -> tuple[SeedanceGenerationTrigger, FakeTime, list[GenerationEvent]]:
        fake = FakeTime()
        start = fake.now

        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json=BODIES["modelark"]["succeeded" if fake.now - start >= 60 else "running"])

        trigger = make_trigger(conn("modelark"), fake, backend="modelark", **kw)
        with respx.mock(base_url=BASE) as api:
            api.get(STATUS_PATH["modelark"]).mock(side_effect=answer)
            events = await drain(trigger)
        assert [e.status for e in events] == ["success"]
        return trigger, fake, events

    # Cold: today's schedule (first look after 5 s, then a back-off); the render is remembered.
    cold, fake, _ = await render_60s(render_spec=spec)
    assert fake.slept[0] == 5.0 and cold.polls > 4
    assert memory.count(key) == 1 and memory.typical(key) is None  # one render is not trusted yet

    # Warm: earlier renders of this spec took about a minute.
    for seconds in (58.0, 61.0, 63.0):
        memory.record(key, seconds)
    typical = memory.typical(key)
    assert typical is not None and 58 <= typical <= 63
    warm, fake, events = await render_60s(render_spec=spec)
    assert warm.serialize()[1]["render_spec"] == spec
    assert fake.slept[0] == pytest.approx(REMEMBERED_FIRST_FRACTION * typical)
    assert warm.polls == events[0].polls <= 4
    assert events[0].elapsed_s - 60 <= max(2.0, 0.05 * 60)
    assert memory.count(key) == 5

    # Without a spec (the sensor, triggers deferred before this change) nothing is read or recorded.
    _, fake, _ = await render_60s()
    assert fake.slept[0] == 5.0 and memory.count(key) == 5


async def test_renders_remembered_while_a_trigger_waits_steer_its_next_poll(conn, fresh_memory):
    """A mapped run's first wave starts with nothing remembered; once three renders of the spec have ended
    in this process, the triggers still waiting aim at their typical time from their next poll on."""
    memory, spec, key = fresh_memory
    fake = FakeTime()
    start = fake.now

    def answer(request: httpx.Request) -> httpx.Response:
        if fake.now - start < 6:  # the first poll: meanwhile three renders of the spec end elsewhere
            for seconds in (118.0, 120.0, 121.0):
                memory.record(key, seconds)
        return httpx.Response(200, json=BODIES["modelark"]["succeeded" if fake.now - start >= 120 else "running"])

    with respx.mock(base_url=BASE) as api:
        api.get(STATUS_PATH["modelark"]).mock(side_effect=answer)
        events = await drain(make_trigger(conn("modelark"), fake, backend="modelark", render_spec=spec))
    assert [e.status for e in events] == ["success"]
    assert fake.slept[0] == 5.0  # cold: nothing known yet
    assert fake.slept[1] == pytest.approx(REMEMBERED_FIRST_FRACTION * 120.0 - 5.0)  # the typical time, at once
    assert events[0].elapsed_s - 120 <= max(2.0, 0.05 * 120)


async def test_a_blind_back_off_nap_ends_when_renders_of_the_spec_end(conn, fresh_memory):
    """Asleep in a cold back-off (nothing remembered, no estimate), a trigger is woken as soon as three
    renders of its spec have ended in this process, and aims at their typical time at once."""
    memory, spec, key = fresh_memory
    fake = FakeTime()
    start = fake.now
    napping = asyncio.Event()

    async def sleep(seconds: float) -> None:
        fake.slept.append(seconds)
        if len(fake.slept) == 2:  # the second nap: only a wake-up can end it
            napping.set()
            await asyncio.Event().wait()
        fake.now += seconds
        await asyncio.sleep(0)

    async def three_renders_end_elsewhere() -> None:
        await napping.wait()
        for seconds in (98.0, 100.0, 103.0):
            memory.record(key, seconds)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=BODIES["modelark"]["succeeded" if fake.now - start >= 100 else "running"])

    trigger = make_trigger(conn("modelark"), fake, backend="modelark", render_spec=spec)
    trigger.sleep = sleep
    with respx.mock(base_url=BASE) as api:
        api.get(STATUS_PATH["modelark"]).mock(side_effect=answer)
        events, _ = await asyncio.wait_for(asyncio.gather(drain(trigger), three_renders_end_elsewhere()), 30)
    assert [e.status for e in events] == ["success"]
    assert fake.slept[0] == 5.0  # cold
    assert fake.slept[2] == pytest.approx(REMEMBERED_FIRST_FRACTION * 100.0 - 5.0)  # woken: aims at once
    assert events[0].elapsed_s - 100 <= max(2.0, 0.05 * 100) and trigger.polls <= 5
    assert memory.waiting() == 0  # no waiter left behind


async def test_a_retry_after_is_waited_out_even_when_renders_of_the_spec_end_meanwhile(conn, fresh_memory):
    """Only a scheduled blind nap is cut short by what the process learns; a 429's Retry-After is not."""
    memory, spec, key = fresh_memory
    fake = FakeTime()
    start = fake.now
    asked_at: list[float] = []

    async def sleep(seconds: float) -> None:
        fake.slept.append(seconds)
        if len(fake.slept) == 2:  # the Retry-After wait: meanwhile three short renders of the spec end
            for seconds_taken in (9.0, 10.0, 11.0):
                memory.record(key, seconds_taken)
            await asyncio.sleep(0.05)  # time for a wake-up to arrive, were it (wrongly) listened for
        fake.now += seconds
        await asyncio.sleep(0)

    def answer(request: httpx.Request) -> httpx.Response:
        asked_at.append(fake.now - start)
        if len(asked_at) == 1:
            return httpx.Response(429, headers={"Retry-After": "20"}, json={"error": {"code": "RateLimit"}})
        return httpx.Response(200, json=BODIES["modelark"]["succeeded" if fake.now - start >= 30 else "running"])

    trigger = make_trigger(conn("modelark"), fake, backend="modelark", render_spec=spec)
    trigger.sleep = sleep
    with respx.mock(base_url=BASE) as api:
        api.get(STATUS_PATH["modelark"]).mock(side_effect=answer)
        events = await asyncio.wait_for(drain(trigger), 30)
    assert [e.status for e in events] == ["success"]
    assert asked_at[0] == 5.0 and fake.slept[1] >= 20
    assert asked_at[1] >= 5.0 + 20  # not before the Retry-After had passed


async def test_a_typical_time_from_earlier_runs_starts_a_cold_triggerer_warm(conn, fresh_memory):
    """A restarted (or another) triggerer has no renders of the spec in its memory: the typical time the
    operator read from earlier runs' results (a kwarg, two numbers) steers the first poll instead, and the
    success event carries the render time the next run will read back."""
    memory, spec, key = fresh_memory
    fake = FakeTime()
    start = fake.now

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=BODIES["modelark"]["succeeded" if fake.now - start >= 60 else "running"])

    trigger = make_trigger(
        conn("modelark"), fake, backend="modelark", render_spec=spec, typical_time=61.0, typical_samples=12
    )
    kwargs = trigger.serialize()[1]
    assert (kwargs["typical_time"], kwargs["typical_samples"]) == (61.0, 12)
    assert SeedanceGenerationTrigger(**kwargs).serialize()[1] == kwargs  # a triggerer restart keeps it
    with respx.mock(base_url=BASE) as api:
        api.get(STATUS_PATH["modelark"]).mock(side_effect=answer)
        events = await drain(trigger)
    assert fake.slept[0] == pytest.approx(REMEMBERED_FIRST_FRACTION * 61.0)
    assert [e.status for e in events] == ["success"] and trigger.polls <= 4
    assert events[0].render_s is not None and 58 <= events[0].render_s <= 60 + max(2.0, 0.05 * 60)
    assert memory.count(key) == 1  # the process learns its own renders as before


async def test_the_process_memory_takes_over_from_the_typical_time_of_earlier_runs(conn, fresh_memory):
    """Renders of the spec this process has seen are fresher than what earlier runs left: they win."""
    memory, spec, key = fresh_memory
    for seconds in (40.0, 41.0, 42.0):
        memory.record(key, seconds)
    fake = FakeTime()
    trigger = make_trigger(conn("modelark"), fake, backend="modelark", render_spec=spec, typical_time=90.0)
    with respx.mock(base_url=BASE) as api:
        api.get(STATUS_PATH["modelark"]).mock(return_value=httpx.Response(200, json=BODIES["modelark"]["succeeded"]))
        await drain(trigger)
    assert fake.slept[0] == pytest.approx(REMEMBERED_FIRST_FRACTION * 41.0)
