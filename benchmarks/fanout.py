"""Benchmark 1, trigger fan-out: N real generations in the emulator (render times spread over
RENDER_MIN..RENDER_MAX s), each handed to a fresh measuring process as soon as it is created, as deferred
tasks reach a triggerer; one process per (variant, N, protocol)."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from benchmarks.common import CONN_ID, PYTHON, TlsFiles, child_env, conn_env, process_cpu_seconds, tls_env

RENDER_MIN = 30.0
RENDER_MAX = 60.0
GRACE_S = 30.0  # how long past the last render's end a run may take before its figures are taken
MODEL = "seedance-2.0-fast-text-to-video"
CREATE_CONCURRENCY = 16


async def _create(n: int, seed: int, render_min: float, render_max: float, sink: IO[bytes] | None) -> list[Any]:
    from airflow_provider_seedance.hooks.seedance import SeedanceHook
    from airflow_provider_seedance.models import VideoRequest

    hook = SeedanceHook(CONN_ID)
    rand = random.Random(seed)
    renders = [round(rand.uniform(render_min, render_max), 1) for _ in range(n)]
    gate = asyncio.Semaphore(CREATE_CONCURRENCY)

    async def one(index: int) -> list[Any]:
        render = renders[index]
        request = VideoRequest(model=MODEL, prompt=f"benchmark render {index} [render:{render}]", duration=5)
        async with gate:
            before = time.time()
            generation = await hook.asubmit(request)
            after = time.time()
        submitted = (before + after) / 2  # the emulator started the render between the two
        row = [generation.id, generation.estimated_time_s, submitted + render, submitted]
        if sink is not None:
            sink.write(json.dumps(row).encode() + b"\n")
            sink.flush()
        return row

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def _close_clients() -> None:
    from airflow_provider_seedance.hooks.seedance import SeedanceHook

    await (await SeedanceHook(CONN_ID).aclient()).aclose()


async def _create_all(jobs: list[tuple[int, IO[bytes]]], seed: int, render_min: float, render_max: float) -> None:
    await asyncio.gather(*(_create(n, seed + i, render_min, render_max, sink) for i, (n, sink) in enumerate(jobs)))
    await _close_clients()


def create_generations(
    n: int, seed: int, render_min: float, render_max: float, sink: IO[bytes] | None = None
) -> list[Any]:
    async def create() -> list[Any]:
        rows = await _create(n, seed, render_min, render_max, sink)
        await _close_clients()
        return rows

    return asyncio.run(create())


def run_one(emu: Any, tls: TlsFiles | None, variant: str, n: int, workdir: Path, **kwargs: Any) -> dict[str, Any]:
    """One (variant, N, protocol) run against a freshly reset emulator."""
    return run_side_by_side(emu, tls, [(variant, n)], workdir, **kwargs)[0]


def run_side_by_side(
    emu: Any,
    tls: TlsFiles | None,
    runs: list[tuple[str, int]],
    workdir: Path,
    *,
    seed: int = 0,
    render_min: float = RENDER_MIN,
    render_max: float = RENDER_MAX,
) -> list[dict[str, Any]]:
    """Several (variant, N) measuring processes at once against one freshly reset emulator (only for runs
    light enough not to disturb each other); each gets its own generations as they are created."""
    import os

    emu.reset()
    env = {**conn_env(emu.url), **tls_env(tls)}
    os.environ.update(env)  # this process creates the generations through the same connection
    warmup = create_generations(1, seed + 100, 30.0, 30.0)[0][0]
    protocol = "tls" if tls else "http"
    children = []
    try:
        for variant, n in runs:
            spec_path = Path(tempfile.mkstemp(suffix=".json", dir=workdir)[1])
            spec = {"variant": variant, "conn_id": CONN_ID, "warmup_id": warmup, "grace_s": GRACE_S}
            spec_path.write_text(json.dumps(spec))
            log = workdir / f"fanout-{variant}-{n}-{protocol}.log"
            with open(log, "wb") as log_file:
                child = subprocess.Popen(
                    [PYTHON, "-m", "benchmarks.fanout_child", str(spec_path)],
                    env=child_env(env),
                    cwd=tempfile.gettempdir(),
                    stdin=subprocess.PIPE,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                )
            children.append((child, spec_path, log, n))
        started = time.time()
        for child, spec_path, log, _n in children:
            while not Path(f"{spec_path}.ready").exists():
                if child.poll() is not None or time.time() - started > 120:
                    raise RuntimeError(f"fan-out child did not start:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.05)
        emu_cpu0 = process_cpu_seconds(emu.process.pid)
        created = time.time()
        jobs = [(n, child.stdin) for child, _s, _l, n in children]
        asyncio.run(_create_all(jobs, seed, render_min, render_max))  # type: ignore[arg-type]
        create_s = time.time() - created
        for child, *_rest in children:
            assert child.stdin is not None
            child.stdin.close()
        for child, *_rest in children:
            child.wait(timeout=render_max + GRACE_S + 300)
        emu_cpu = process_cpu_seconds(emu.process.pid) - emu_cpu0
    finally:
        for child, *_rest in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    results = []
    for _child, spec_path, log, _n in children:
        out = Path(f"{spec_path}.out")
        if not out.exists():
            raise RuntimeError(f"fan-out child failed:\n{log.read_text(errors='replace')[-3000:]}")
        result: dict[str, Any] = json.loads(out.read_text())
        for path in (spec_path, Path(f"{spec_path}.ready"), out):
            path.unlink()
        results.append(result)
    polls = sum(r["polls"] for r in results)
    for result in results:
        result.update(
            protocol=protocol,
            create_s=create_s,
            emulator_cpu_s=emu_cpu,
            emulator_cpu_per_poll_ms=1000 * emu_cpu / max(1, polls),
            render_min=render_min,
            render_max=render_max,
            side_by_side=len(results) > 1,
        )
    return results
