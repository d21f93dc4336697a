"""Benchmark 2, polls per render: the real SeedanceGenerationTrigger against the real emulator app
(in process, through ``httpx.ASGITransport``) on a virtual clock, so hours of renders take seconds.

The emulator queues a render for its first 10%, then reports linear progress to 99, then completes;
its ``estimated_time`` is the render time. To model estimates that are off, a transport wrapper scales
``task_info.estimated_time`` in every answer by 0.75 or 1.25 while the real render time stays put.

The "no estimate" rows run the emulator's ModelArk dialect, which (like ModelArk and the AIML API) reports
neither an estimate nor progress: only queued/running, then succeeded. The trigger gets the render's spec
as the operator passes it, so it can use the process's render-time memory (``render_memory``): *cold* rows
start every render with an empty memory; *warm* rows first record ``HISTORY`` earlier renders of the same
spec that took render x U(0.8, 1.2) (seeded); *warm, off-centre* rows draw this render itself from its
spec's spread: earlier renders took (render / u) x U(0.8, 1.2) with u ~ U(0.8, 1.2).

The *worker-side wait* rows run ``SeedanceHook.wait_for_generation`` (the operator without ``deferrable``)
the same way: the sync client reaches the same in-process emulator app through ``SyncBridge``, and the
wait sleeps on the same virtual clock; requests per render are the status requests the app answered.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import math
import os
import random
from typing import Any

import httpx

from benchmarks import polls_history
from benchmarks.common import CONN_ID, conn_env

RENDERS = [float(r) for r in range(20, 181, 5)]
ERRORS = (-0.25, 0.0, 0.25)
POLICIES: dict[str, float | None] = {"adaptive": None, "fixed 15 s": 15.0, "fixed 8 s": 8.0}
#: The ``policy`` of the rows that measure the worker-side wait (``SeedanceHook.wait_for_generation``).
WORKER = "adaptive, worker-side wait"
#: The dialect of the "no estimate, no progress" rows, and a model and duration it accepts.
NO_HINTS_BACKEND = "modelark"
NO_HINTS_MODEL = "seedance-1-0-pro-fast-251015"
NO_HINTS_CONN_ID = "bench_no_hints"
#: Earlier renders of the same spec in a warm memory (the memory keeps the last 20).
HISTORY = 20
#: Renders of one spec submitted together in the "cold wave" row (a mapped run's first wave).
WAVE = 10
MEMORY_CASES = {
    "cold": "no estimate, cold memory",
    "warm": "no estimate, warm memory",
    "off-centre": "no estimate, warm memory, render off-centre",
}


def history(render: float, memory: str) -> list[float]:
    """Earlier render times of this render's spec, deterministic per render."""
    if memory == "cold":
        return []
    rng = random.Random(f"polls-{memory}-{render}")
    centre = render if memory == "warm" else render / rng.uniform(0.8, 1.2)
    return [centre * rng.uniform(0.8, 1.2) for _ in range(HISTORY)]


class VirtualClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.epoch = 1_700_000_000.0

    def monotonic(self) -> float:
        return self.now

    def unix(self) -> float:
        return self.epoch + self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)

    def sleep_sync(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class WaveClock(VirtualClock):
    """A virtual clock for many triggers at once: time jumps to the earliest wake-up once every live trigger
    is asleep on it, so concurrent renders interleave as they would in real time."""

    def __init__(self) -> None:
        super().__init__()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), self._seq, future))
        await future

    async def drive(self, tasks: list[asyncio.Task[Any]]) -> None:
        """Run ``tasks`` to the end, advancing time to the earliest wake-up whenever the loop has nothing
        else to run (every live trigger waits on this clock or on another's render)."""
        ready = asyncio.get_running_loop()._ready  # type: ignore[attr-defined]
        while not all(task.done() for task in tasks):
            if ready:
                await asyncio.sleep(0)
                continue
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)  # a sleep cut short (cancelled)
            if not self._sleepers:
                await asyncio.sleep(0)
                continue
            self.now = max(self.now, self._sleepers[0][0])
            while self._sleepers and self._sleepers[0][0] <= self.now:
                future = heapq.heappop(self._sleepers)[2]
                if not future.done():
                    future.set_result(None)
            await asyncio.sleep(0)
        for task in tasks:
            task.result()


class SkewEstimates(httpx.AsyncBaseTransport):
    """Multiplies the API's ``estimated_time`` by ``factor`` (an estimate that is off by that much)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, factor: float) -> None:
        self.inner = inner
        self.factor = factor

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        data = json.loads(body) if body.startswith(b"{") else None
        if isinstance(data, dict) and isinstance(data.get("task_info"), dict):
            info = data["task_info"]
            info["estimated_time"] = math.ceil(info["estimated_time"] * self.factor)
            body = json.dumps(data).encode()
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)


class SyncBridge(httpx.BaseTransport):
    """A sync transport in front of an async one (the in-process emulator app), on a private event loop;
    counts the status requests (GETs) it carried."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.loop = asyncio.new_event_loop()
        self.status_requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.status_requests += request.method == "GET"
        return self.loop.run_until_complete(self._send(request))

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

    def close(self) -> None:
        self.loop.close()


def _app_transport(app: Any, error: float | None) -> httpx.AsyncBaseTransport:
    """The emulator app in process; with ``error``, every answer's estimate is off by that much."""
    transport = httpx.ASGITransport(app=app)
    return transport if error is None else SkewEstimates(transport, 1.0 + error)


async def _one(
    render: float, error: float | None, interval: float | None, *, conn_id: str = CONN_ID, memory: str = "cold"
) -> dict[str, float]:
    """One render; ``error`` None: no estimate, no progress (the ModelArk dialect, ``conn_id``), with the
    render-time memory in state ``memory`` (a key of ``MEMORY_CASES``)."""
    from airflow_provider_seedance.emulator.app import create_app
    from airflow_provider_seedance.emulator.runtime import EmulatorConfig
    from airflow_provider_seedance.hooks.seedance import SeedanceHook
    from airflow_provider_seedance.models import VideoRequest
    from airflow_provider_seedance.polling._render_memory import RENDER_MEMORY, render_key, render_spec

    clock = VirtualClock()
    app = create_app(EmulatorConfig(clock=clock.monotonic, render_seconds=render))
    emulator = app.emulator  # type: ignore[attr-defined]
    emulator.store._epoch_offset = clock.epoch
    model = NO_HINTS_MODEL if error is None else "seedance-2.0-fast-text-to-video"
    hook = SeedanceHook(conn_id, async_transport=_app_transport(app, error))
    request = VideoRequest(model=model, prompt=f"polls [render:{render}]", duration=5)
    generation = await hook.asubmit(request)
    assert (generation.estimated_time_s is None) == (error is None), generation
    backend = hook.backend.name
    spec = render_spec(request)
    RENDER_MEMORY.clear()
    for seconds in history(render, memory):
        RENDER_MEMORY.record(render_key(backend, spec), seconds)
    submitted = clock.unix()
    trigger = _trigger(clock, hook, generation, request, interval)
    await _succeeds(trigger)
    return _outcome(trigger, clock.unix() - (submitted + render), render)


def _worker_one(
    render: float, error: float | None, *, conn_id: str = CONN_ID, memory: str = "cold"
) -> dict[str, float]:
    """``_one`` for the worker-side wait: the operator's ``hook.wait_for_generation`` on the virtual clock."""
    from airflow_provider_seedance.emulator.app import create_app
    from airflow_provider_seedance.emulator.runtime import EmulatorConfig
    from airflow_provider_seedance.hooks.seedance import SeedanceHook
    from airflow_provider_seedance.models import VideoRequest
    from airflow_provider_seedance.polling._render_memory import RENDER_MEMORY, render_key, render_spec

    clock = VirtualClock()
    app = create_app(EmulatorConfig(clock=clock.monotonic, render_seconds=render))
    app.emulator.store._epoch_offset = clock.epoch  # type: ignore[attr-defined]
    bridge = SyncBridge(_app_transport(app, error))
    hook = SeedanceHook(conn_id, transport=bridge)
    model = NO_HINTS_MODEL if error is None else "seedance-2.0-fast-text-to-video"
    request = VideoRequest(model=model, prompt=f"polls [render:{render}]", duration=5)
    try:
        generation = hook.submit(request)
        RENDER_MEMORY.clear()
        for seconds in history(render, memory):
            RENDER_MEMORY.record(render_key(hook.backend.name, render_spec(request)), seconds)
        submitted = clock.monotonic()
        done = hook.wait_for_generation(
            generation.id,
            timeout=3600,
            estimated_time=generation.estimated_time_s,
            render_spec=render_spec(request),
            sleep=clock.sleep_sync,
            clock=clock.monotonic,
        )
        assert done.state == "succeeded", done
    finally:
        bridge.close()
    late = clock.monotonic() - (submitted + render)
    return {"polls": bridge.status_requests, "late": late, "within": float(late <= max(2.0, 0.05 * render))}


def _worker_rows() -> dict[str, Any]:
    """The worker-side wait with an exact estimate, and with none (cold and warm memory)."""
    rows = {f"{WORKER}|+0%": _row(WORKER, 0.0, "API estimate", [_worker_one(r, 0.0) for r in RENDERS])}
    for memory in ("cold", "warm"):
        runs = [_worker_one(r, None, conn_id=NO_HINTS_CONN_ID, memory=memory) for r in RENDERS]
        name = f"{WORKER}|none" + ("" if memory == "cold" else f", {memory}")
        rows[name] = _row(WORKER, None, MEMORY_CASES[memory], runs, memory)
    return rows


def _trigger(clock: VirtualClock, hook: Any, generation: Any, request: Any, interval: float | None) -> Any:
    """The trigger the operator would defer to, just after submitting, on ``clock`` and ``hook``."""
    from airflow_provider_seedance.polling._render_memory import render_spec
    from airflow_provider_seedance.triggers.seedance import SeedanceGenerationTrigger

    submitted = clock.unix()
    trigger = SeedanceGenerationTrigger(
        generation_id=generation.id,
        deadline=submitted + 3600,
        seedance_conn_id=hook.seedance_conn_id,
        started_at=submitted,
        poll_interval=interval,
        estimated_time=generation.estimated_time_s,
        backend=hook.backend.name,
        render_spec=render_spec(request),
    )
    trigger.clock = clock.unix
    trigger.sleep = clock.sleep
    trigger._hook = lambda: hook
    return trigger


async def _succeeds(trigger: Any) -> None:
    events = [event async for event in trigger.run()]
    assert len(events) == 1, events
    assert events[0].payload["status"] == "success", events


def _outcome(trigger: Any, late: float, render: float) -> dict[str, float]:
    return {"polls": trigger.polls, "late": late, "within": float(late <= max(2.0, 0.05 * render))}


async def _wave(centre: float) -> list[dict[str, float]]:
    """``WAVE`` renders of one spec submitted at once into a cold memory (a mapped run's first wave), render
    times centre x U(0.8, 1.2), their triggers run concurrently in one process as in a triggerer."""
    from airflow_provider_seedance.emulator.app import create_app
    from airflow_provider_seedance.emulator.runtime import EmulatorConfig
    from airflow_provider_seedance.hooks.seedance import SeedanceHook
    from airflow_provider_seedance.models import VideoRequest
    from airflow_provider_seedance.polling._render_memory import RENDER_MEMORY

    rng = random.Random(f"polls-wave-{centre}")
    renders = [round(centre * rng.uniform(0.8, 1.2), 1) for _ in range(WAVE)]
    clock = WaveClock()
    app = create_app(EmulatorConfig(clock=clock.monotonic, render_seconds=centre))
    app.emulator.store._epoch_offset = clock.epoch  # type: ignore[attr-defined]
    hook = SeedanceHook(NO_HINTS_CONN_ID, async_transport=httpx.ASGITransport(app=app))
    RENDER_MEMORY.clear()
    triggers = []
    for i, render in enumerate(renders):
        request = VideoRequest(model=NO_HINTS_MODEL, prompt=f"wave {i} [render:{render}]", duration=5)
        generation = await hook.asubmit(request)
        triggers.append((_trigger(clock, hook, generation, request, None), clock.unix(), render))
    ended: dict[int, float] = {}

    async def drain(i: int, trigger: Any) -> None:
        await _succeeds(trigger)
        ended[i] = clock.unix()

    await clock.drive([asyncio.create_task(drain(i, t)) for i, (t, _, _) in enumerate(triggers)])
    return [_outcome(t, ended[i] - (submitted + render), render) for i, (t, submitted, render) in enumerate(triggers)]


def _wave_row(policy: str, waves: list[list[dict[str, float]]]) -> dict[str, Any]:
    """A row whose per-render entries are wave means (by centre); the totals are over every render."""
    flat = [x for wave in waves for x in wave]
    means = [{k: sum(x[k] for x in wave) / len(wave) for k in ("polls", "late", "within")} for wave in waves]
    row = _row(policy, None, f"no estimate, cold memory, a wave of {WAVE} at once", means, "cold wave")
    row.update(
        max_polls=max(x["polls"] for x in flat),
        max_late=max(x["late"] for x in flat),
        within_target=sum(x["within"] for x in flat) / len(flat),
    )
    return row


def _row(
    policy: str, error: float | None, case: str, runs: list[dict[str, float]], memory: str | None = None
) -> dict[str, Any]:
    return {
        "policy": policy,
        "estimate_error": error,
        "case": case,
        "memory": memory,
        "per_render": [{"render": r, **x} for r, x in zip(RENDERS, runs, strict=True)],
        "mean_polls": sum(x["polls"] for x in runs) / len(runs),
        "max_polls": max(x["polls"] for x in runs),
        "mean_late": sum(x["late"] for x in runs) / len(runs),
        "max_late": max(x["late"] for x in runs),
        "within_target": sum(x["within"] for x in runs) / len(runs),
    }


def run() -> dict[str, Any]:
    """Every (policy, estimate error, render time) once; deterministic, so no repetitions needed."""
    os.environ.update(conn_env("http://emulator.invalid"))
    os.environ.update(conn_env("http://emulator.invalid", NO_HINTS_CONN_ID, NO_HINTS_BACKEND))
    os.environ.update(conn_env("http://emulator.invalid", polls_history.DIALECTS["aimlapi"][0], "aimlapi"))
    import logging

    logging.getLogger("airflow_provider_seedance").setLevel(logging.WARNING)

    async def all_runs() -> dict[str, Any]:
        rows: dict[str, Any] = {}
        for policy, interval in POLICIES.items():
            for error in ERRORS:
                if interval is not None and error != 0.0:
                    continue  # fixed intervals ignore the estimate
                runs = [await _one(render, error, interval) for render in RENDERS]
                rows[f"{policy}|{error:+.0%}"] = _row(policy, error, "API estimate", runs)
        for policy, interval in POLICIES.items():
            for memory, case in MEMORY_CASES.items():
                if interval is not None and memory != "cold":
                    continue  # fixed intervals ignore the memory
                runs = [
                    await _one(render, None, interval, conn_id=NO_HINTS_CONN_ID, memory=memory) for render in RENDERS
                ]
                name = f"{policy}|none" + ("" if memory == "cold" else f", {memory}")
                if interval is None:
                    rows[name] = _row(policy, None, case, runs, memory)
                else:
                    rows[name] = _row(policy, None, "no estimate, no progress", runs)
        rows["adaptive|none, cold wave"] = _wave_row("adaptive", [await _wave(centre) for centre in RENDERS])
        return rows

    rows = asyncio.run(all_runs())
    rows.update(_worker_rows())  # sync, each on its own loop: outside the one above
    rows.update(polls_history.rows(RENDERS))  # a loop per pipeline run, too
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print every row; with ``--merge RESULTS_JSON`` also replace that file's "polls" entry (noting the
    re-run in it), so ``python -m benchmarks --render-only RESULTS_JSON`` shows the new rows."""
    import argparse
    import time
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m benchmarks.polls")
    parser.add_argument("--merge", metavar="RESULTS_JSON", default=None)
    args = parser.parse_args(argv)
    began = time.time()
    rows = run()
    for key, row in rows.items():
        print(key, {k: v for k, v in row.items() if k != "per_render"})
    if args.merge:
        path = Path(args.merge)
        saved = json.loads(path.read_text())
        saved["polls"] = rows
        saved.setdefault("seconds", {})["polls"] = time.time() - began
        command = "python -m benchmarks.polls --merge " + args.merge
        saved.setdefault("reruns", {})["polls"] = {"command": command, "when": time.strftime("%Y-%m-%d %H:%M UTC")}
        path.write_text(json.dumps(saved, indent=1, default=str))
        print(f"merged into {path}")


if __name__ == "__main__":
    main()
