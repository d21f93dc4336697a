"""Polls per render in a scheduled pipeline's second run, on the dialects with no estimate (AIML API, ModelArk):
render times read back from the first run's XCom results (``run_history``) against the process memory alone.

Each pipeline run is a wave of ``WAVE`` mapped renders of one spec (times centre x U(0.8, 1.2), a fresh draw
per run, seeded) submitted at once and polled concurrently on a virtual clock by the real trigger against the
real emulator app, as in the "cold wave" row. Run 1 starts cold on triggerer A. Its results are made as the
operator makes them (``WarmStart.result_fields`` with the event's ``render_s``); before run 2 every instance
reads them through ``run_history.warm_start`` from a task instance whose previous DAG run they are,
and defers with ``typical_time`` in its kwargs. Run 2 goes
*same triggerer*: all on A, whose memory still holds run 1;
*restarted*: every triggerer restarted between the runs (empty memories);
*two triggerers*: run 2 spread over A (run 1 in its memory) and B (nothing), alternating by map index.
Each layout runs twice: with a fresh draw of render times in run 2 (each render off its spec's typical time by
up to 20%), and *steady*, run 2's renders at the spec's typical time (the model of the polls benchmark's
"warm memory" row, whose earlier renders are spread and this one is at the centre).
Two triggerers are two memories: each one's share of the run is driven as its own wave (triggers interact
only through their process's memory). Rows with ``history`` off are the same runs without the read-back:
what the provider did before. Only run 2 is measured.
"""

from __future__ import annotations

import asyncio
import logging
import random
from types import SimpleNamespace
from typing import Any

import httpx

#: (dialect, connection id, a model of it whose status answers carry no estimate or progress)
DIALECTS = {
    "aimlapi": ("bench_no_hints_aimlapi", "bytedance/seedance-1-0-pro-fast"),
    "modelark": ("bench_no_hints", "seedance-1-0-pro-fast-251015"),
}
LAYOUTS = {
    "same": "second run, same triggerer",
    "restarted": "second run, every triggerer restarted",
    "two": "second run over two triggerers",
}
WAVE = 10
LOG = logging.getLogger("benchmarks.polls_history")


class ResultsTI:
    """A mapped task instance whose previous DAG run returned ``results`` (by map index)."""

    task_id = "render"

    def __init__(self, results: dict[int, dict[str, Any]], map_index: int) -> None:
        self.results = results
        self.map_index = map_index

    def get_previous_dagrun(self, state: str | None = None) -> Any:
        return SimpleNamespace(run_id="run 1")

    def xcom_pull(self, *, task_ids: str, run_id: str) -> Any:
        return [self.results[i] for i in sorted(self.results)] if run_id == "run 1" else None


def _renders(centre: float, run: int, steady: bool = False) -> list[float]:
    """Run ``run``'s render times: centre x U(0.8, 1.2), a fresh draw per run; ``steady`` run 2 renders take the
    spec's typical time (the model of the "warm memory" row: earlier renders spread, this one at the centre)."""
    if steady and run == 2:
        return [centre] * WAVE
    rng = random.Random(f"polls-history-{centre}-{run}")
    return [round(centre * rng.uniform(0.8, 1.2), 1) for _ in range(WAVE)]


async def _wave(
    dialect: str, items: list[tuple[int, float]], memory: Any, earlier: dict[int, dict[str, Any]] | None
) -> dict[int, tuple[dict[str, float], dict[str, Any]]]:
    """The renders ``items`` ((map index, render s)) on one triggerer whose memory is ``memory``; with
    ``earlier`` (run 1's results by map index) each instance starts from what ``run_history`` reads there.
    Per map index: the outcome and the XCom result the operator would return."""
    from airflow_provider_seedance.contract.events import GenerationEvent
    from airflow_provider_seedance.emulator.app import create_app
    from airflow_provider_seedance.emulator.runtime import EmulatorConfig
    from airflow_provider_seedance.hooks.seedance import SeedanceHook
    from airflow_provider_seedance.models import VideoRequest
    from airflow_provider_seedance.polling._run_history import WarmStart, warm_start
    from airflow_provider_seedance.triggers import seedance as trigger_module
    from benchmarks.polls import WaveClock, _outcome, _trigger

    conn_id, model = DIALECTS[dialect]
    clock = WaveClock()
    app = create_app(EmulatorConfig(clock=clock.monotonic, render_seconds=60))
    app.emulator.store._epoch_offset = clock.epoch  # type: ignore[attr-defined]
    hook = SeedanceHook(conn_id, async_transport=httpx.ASGITransport(app=app))
    trigger_module.RENDER_MEMORY = memory  # this triggerer's process memory
    started = []
    for index, render in items:
        request = VideoRequest(model=model, prompt=f"history {index} [render:{render}]", duration=5)
        warm = warm_start({"ti": ResultsTI(earlier, index)}, hook.backend.name, request, LOG) if earlier else None
        generation = await hook.asubmit(request)
        trigger = _trigger(clock, hook, generation, request, None)
        if warm:  # as the operator defers: the two numbers in the trigger's kwargs
            kwargs = warm.trigger_kwargs()
            trigger.typical_time, trigger.typical_samples = kwargs["typical_time"], kwargs["typical_samples"]
        started.append((index, render, request, trigger, clock.unix(), warm or WarmStart()))
    events: dict[int, GenerationEvent] = {}
    ended: dict[int, float] = {}

    async def drain(index: int, trigger: Any) -> None:
        (event,) = [GenerationEvent.model_validate(e.payload) async for e in trigger.run()]
        assert event.status == "success", event
        events[index], ended[index] = event, clock.unix()

    await clock.drive([asyncio.create_task(drain(i, t)) for i, _, _, t, _, _ in started])
    return {
        index: (
            _outcome(trigger, ended[index] - (submitted + render), render),
            _result(hook.backend.name, request, warm.result_fields(events[index].render_s)),
        )
        for index, render, request, trigger, submitted, warm in started
    }


def _result(backend: str, request: Any, render_times: dict[str, Any]) -> dict[str, Any]:
    """The operator's XCom result, as far as ``run_history`` reads it (the spec, the status, the times)."""
    spec = {"model": request.model, "duration": request.duration, "quality": request.quality}
    return {"backend": backend, "status": "succeeded", **spec, "service_tier": request.service_tier, **render_times}


async def _pipeline(
    dialect: str, centre: float, layout: str, history: bool, steady: bool = False
) -> list[dict[str, float]]:
    """Run 1 cold on triggerer A, then run 2 as ``layout`` says; the outcomes of run 2's renders."""
    from airflow_provider_seedance.polling._render_memory import RenderMemory

    a, b = RenderMemory(), RenderMemory()
    first = await _wave(dialect, list(enumerate(_renders(centre, 1))), a, None)
    earlier = {index: result for index, (_, result) in first.items()} if history else None
    second = list(enumerate(_renders(centre, 2, steady)))
    if layout == "restarted":
        done = await _wave(dialect, second, RenderMemory(), earlier)
    elif layout == "same":
        done = await _wave(dialect, second, a, earlier)
    else:
        done = await _wave(dialect, second[0::2], a, earlier)
        done.update(await _wave(dialect, second[1::2], b, earlier))
    return [done[index][0] for index in sorted(done)]


def rows(centres: list[float]) -> dict[str, Any]:
    """One row per dialect, layout and history off/on; per-render entries are run 2's wave means by centre."""
    from airflow_provider_seedance.triggers import seedance as trigger_module
    from benchmarks.polls import _wave_row

    kept = trigger_module.RENDER_MEMORY
    out: dict[str, Any] = {}
    try:
        for dialect in DIALECTS:
            for layout, case in LAYOUTS.items():
                for steady, history in ((False, False), (False, True), (True, False), (True, True)):
                    waves = [asyncio.run(_pipeline(dialect, c, layout, history, steady)) for c in centres]
                    row = _wave_row("adaptive", waves)
                    spread = "run 2 at the spec's typical time" if steady else "a fresh spread per run"
                    row.update(
                        dialect=dialect,
                        case=f"no estimate, {case}, {spread}",
                        memory=f"{case}, {spread}, "
                        + ("+ earlier runs' results" if history else "process memory only"),
                        history=history,
                        steady=steady,
                    )
                    key = f"adaptive|none, {dialect}, {layout}, history {'on' if history else 'off'}"
                    out[key + (", steady" if steady else "")] = row
    finally:
        trigger_module.RENDER_MEMORY = kept
    return out
