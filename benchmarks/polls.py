"""Benchmark 2, polls per render: the real SeedanceGenerationTrigger against the real emulator app
(in process, through ``httpx.ASGITransport``) on a virtual clock, so hours of renders take seconds.

The emulator queues a render for its first 10%, then reports linear progress to 99, then completes;
its ``estimated_time`` is the render time. To model estimates that are off, a transport wrapper scales
``task_info.estimated_time`` in every answer by 0.75 or 1.25 while the real render time stays put.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from typing import Any

import httpx

from benchmarks.common import CONN_ID, conn_env

RENDERS = [float(r) for r in range(20, 181, 5)]
ERRORS = (-0.25, 0.0, 0.25)
POLICIES: dict[str, float | None] = {"adaptive": None, "fixed 15 s": 15.0, "fixed 8 s": 8.0}


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


async def _one(render: float, error: float, interval: float | None) -> dict[str, float]:
    from airflow_provider_seedance.emulator.app import create_app
    from airflow_provider_seedance.emulator.runtime import EmulatorConfig
    from airflow_provider_seedance.hooks.seedance import SeedanceHook
    from airflow_provider_seedance.models import VideoRequest
    from airflow_provider_seedance.triggers.seedance import SeedanceGenerationTrigger

    clock = VirtualClock()
    app = create_app(EmulatorConfig(clock=clock.monotonic, render_seconds=render))
    emulator = app.emulator  # type: ignore[attr-defined]
    emulator.store._epoch_offset = clock.epoch
    transport = SkewEstimates(httpx.ASGITransport(app=app), 1.0 + error)
    hook = SeedanceHook(CONN_ID, async_transport=transport)
    request = VideoRequest(model="seedance-2.0-fast-text-to-video", prompt=f"polls [render:{render}]", duration=5)
    generation = await hook.asubmit(request)
    submitted = clock.unix()
    trigger = SeedanceGenerationTrigger(
        generation_id=generation.id,
        deadline=submitted + 3600,
        seedance_conn_id=CONN_ID,
        started_at=submitted,
        poll_interval=interval,
        estimated_time=generation.estimated_time_s,
    )
    trigger.clock = clock.unix
    trigger.sleep = clock.sleep
    trigger._hook = lambda: hook  # type: ignore[method-assign]
    events = [event async for event in trigger.run()]
    assert len(events) == 1, events
    assert events[0].payload["status"] == "success", events
    late = clock.unix() - (submitted + render)
    return {"polls": trigger.polls, "late": late, "within": float(late <= max(2.0, 0.05 * render))}


def run() -> dict[str, Any]:
    """Every (policy, estimate error, render time) once; deterministic, so no repetitions needed."""
    os.environ.update(conn_env("http://emulator.invalid"))
    import logging

    logging.getLogger("airflow_provider_seedance").setLevel(logging.WARNING)

    async def all_runs() -> dict[str, Any]:
        rows: dict[str, Any] = {}
        for policy, interval in POLICIES.items():
            for error in ERRORS:
                if interval is not None and error != 0.0:
                    continue  # fixed intervals ignore the estimate
                runs = [await _one(render, error, interval) for render in RENDERS]
                rows[f"{policy}|{error:+.0%}"] = {
                    "policy": policy,
                    "estimate_error": error,
                    "per_render": [{"render": r, **x} for r, x in zip(RENDERS, runs, strict=True)],
                    "mean_polls": sum(x["polls"] for x in runs) / len(runs),
                    "max_polls": max(x["polls"] for x in runs),
                    "mean_late": sum(x["late"] for x in runs) / len(runs),
                    "max_late": max(x["late"] for x in runs),
                    "within_target": sum(x["within"] for x in runs) / len(runs),
                }
        return rows

    return asyncio.run(all_runs())


if __name__ == "__main__":
    for key, row in run().items():
        print(key, {k: v for k, v in row.items() if k != "per_render"})
