"""One fan-out measurement in a fresh process: N SeedanceGenerationTriggers drained concurrently in one
event loop (as a triggerer runs them), with a ticker measuring loop lag and sampling RSS.

Generations arrive on stdin, one JSON line each, as the parent creates them, and each starts its trigger
at once, the way deferred tasks reach a triggerer. ``python -m benchmarks.fanout_child SPEC.json``
writes ``SPEC.json.ready`` when warmed up and ``SPEC.json.out`` (the figures) at the end.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import percentile, rss_bytes, self_cpu_seconds
from benchmarks.variants import make_trigger

TICK = 0.05  # the ticker asks to sleep this long; lag is how much longer it actually took
GC_PAUSES: list[tuple[int, float]] = []  # (generation, seconds) of every cyclic garbage collection
_gc_started = 0.0


def _gc_callback(phase: str, info: dict[str, Any]) -> None:
    global _gc_started
    if phase == "start":
        _gc_started = time.perf_counter()
    else:
        GC_PAUSES.append((info["generation"], time.perf_counter() - _gc_started))


async def _drain(trigger: Any, done: dict[str, tuple[float, str]]) -> None:
    async for event in trigger.run():
        done[trigger.generation_id] = (time.time(), event.payload["status"])


async def _stdin_lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def main(spec: dict[str, Any], ready: Path, out: Path) -> dict[str, Any]:
    variant = spec["variant"]
    deadline = time.time() + 3600

    # Warm up with a throwaway generation of the same kind of hook: imports, connection, SSL context.
    warm = make_trigger(variant, generation_id=spec["warmup_id"], deadline=deadline, seedance_conn_id=spec["conn_id"])
    await warm._hook().aget_generation(spec["warmup_id"])
    reader = await _stdin_lines()
    gc.collect()
    gc.callbacks.append(_gc_callback)
    await asyncio.sleep(0.2)
    rss_base = rss_bytes()
    ready.write_text("ready")  # noqa: ASYNC240 - once, before anything is measured

    generations: list[list[Any]] = []  # [id, estimated_time, completes_at (unix), submitted_at (unix)]
    triggers: list[Any] = []
    tasks: list[asyncio.Task[None]] = []
    done: dict[str, tuple[float, str]] = {}
    lags: list[float] = []
    lag_times: list[float] = []
    rss_peak = rss_base
    rss_arrived = 0
    arrived_at = float("nan")
    start_wall = time.time()
    cpu0 = self_cpu_seconds()
    finished = asyncio.Event()

    async def ticker() -> None:
        nonlocal rss_peak
        ticks = 0
        while not finished.is_set():
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            lags.append(time.perf_counter() - before - TICK)
            lag_times.append(time.time() - start_wall)
            ticks += 1
            if ticks % 5 == 0:
                rss_peak = max(rss_peak, rss_bytes())

    tick_task = asyncio.create_task(ticker())
    while line := await reader.readline():
        row = json.loads(line)
        gid, estimated, _completes, submitted = row
        trigger = make_trigger(
            variant,
            generation_id=gid,
            deadline=deadline,
            seedance_conn_id=spec["conn_id"],
            started_at=submitted,
            estimated_time=estimated,
        )
        generations.append(row)
        triggers.append(trigger)
        tasks.append(asyncio.create_task(_drain(trigger, done)))
    arrived_at = time.time() - start_wall
    rss_arrived = rss_bytes()

    def summary() -> dict[str, Any]:
        return _summary(
            variant,
            generations,
            triggers,
            done,
            list(lags),
            list(lag_times),
            start_wall,
            arrived_at,
            cpu0,
            rss_base,
            max(rss_peak, rss_bytes()),
            rss_arrived,
        )

    # No cancellation on timeout: with a melted-down pool, cancelling thousands of queued requests alone
    # takes minutes. The figures are taken as they stand and the process exits hard (see __main__). A
    # watchdog thread does the same if the loop is too busy to even notice its timeout.
    timeout = max(1.0, max(row[2] for row in generations) - time.time() + spec["grace_s"])
    watchdog = threading.Timer(timeout + 20.0, lambda: _write_and_exit(out, {**summary(), "watchdog": True}))
    watchdog.daemon = True
    watchdog.start()
    await asyncio.wait(tasks, timeout=timeout)
    finished.set()
    await tick_task
    watchdog.cancel()
    return summary()


def _write_and_exit(out: Path, result: dict[str, Any]) -> None:
    out.write_text(json.dumps(result))
    os._exit(0)


def _summary(
    variant: str,
    generations: list[list[Any]],
    triggers: list[Any],
    done: dict[str, tuple[float, str]],
    lags: list[float],
    lag_times: list[float],
    start_wall: float,
    arrived_at: float,
    cpu0: float,
    rss_base: int,
    rss_peak: int,
    rss_arrived: int,
) -> dict[str, Any]:
    end_wall = time.time()
    cpu = self_cpu_seconds() - cpu0
    done = dict(done)
    polls = sum(t.polls for t in triggers)
    n = len(triggers)
    late = [done[gid][0] - completes for gid, _e, completes, _s in generations if gid in done]
    statuses = Counter(status for _t, status in done.values())
    seconds = int(end_wall - start_wall) + 1
    lag_by_second = [0.0] * seconds
    for at, lag in zip(lag_times, lags, strict=True):
        index = min(seconds - 1, int(at))
        lag_by_second[index] = max(lag_by_second[index], 1000 * lag)
    done_by_second = [0] * seconds
    for at, _status in done.values():
        done_by_second[min(seconds - 1, max(0, int(at - start_wall)))] += 1
    steady = [lag for at, lag in zip(lag_times, lags, strict=True) if at > arrived_at]
    # Per-sample percentiles under-count stalls (a 10 s stall is one sample); weighting each sample by the
    # wall time it spans gives the lag that 99% of the run's time stayed under.
    weighted = sorted((lag, TICK + lag) for lag in lags)
    total = sum(span for _lag, span in weighted)
    running, lag_p99_time = 0.0, float("nan")
    for lag, span in weighted:
        running += span
        if running >= 0.99 * total:
            lag_p99_time = lag
            break
    return {
        "variant": variant,
        "n": n,
        "finished": len(done),
        "statuses": dict(statuses),
        "wall_s": end_wall - start_wall,
        "arrivals_s": arrived_at,
        "polls": polls,
        "polls_per_render": polls / n,
        "cpu_s": cpu,
        "cpu_per_poll_ms": 1000 * cpu / max(1, polls),
        "rss_base_mb": rss_base / 2**20,
        "rss_peak_mb": rss_peak / 2**20,
        "kb_per_trigger_peak": (rss_peak - rss_base) / 1024 / n,
        "kb_per_trigger_arrived": (rss_arrived - rss_base) / 1024 / n,
        "lag_p50_ms": 1000 * percentile(lags, 50),
        "lag_p99_ms": 1000 * percentile(lags, 99),
        "lag_max_ms": 1000 * max(lags, default=float("nan")),
        "lag_p99_after_arrivals_ms": 1000 * percentile(steady, 99),
        "lag_p99_time_weighted_ms": 1000 * lag_p99_time,
        "gc_pause_max_ms": 1000 * max((s for _g, s in GC_PAUSES), default=0.0),
        "gc_pause_total_s": sum(s for _g, s in GC_PAUSES),
        "gc_full_collections": sum(1 for g, _s in GC_PAUSES if g == 2),
        "late_p50_s": percentile(late, 50),
        "late_p99_s": percentile(late, 99),
        "late_max_s": max(late, default=float("nan")),
        "within_target": sum(
            1
            for gid, _e, completes, submitted in generations
            if gid in done and done[gid][0] - completes <= max(2.0, 0.05 * (completes - submitted))
        )
        / n,
        "lag_max_by_second_ms": [round(x, 1) for x in lag_by_second],
        "done_by_second": done_by_second,
    }


if __name__ == "__main__":
    spec_path = Path(sys.argv[1])
    loop = asyncio.new_event_loop()
    out = Path(f"{spec_path}.out")
    result = loop.run_until_complete(main(json.loads(spec_path.read_text()), Path(f"{spec_path}.ready"), out))
    _write_and_exit(out, result)  # pending triggers of a timed-out run are abandoned, not cancelled one by one
