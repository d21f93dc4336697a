"""Many async saves in one long-lived process (what a triggerer does with ``save_in_triggerer``): time and
memory of N ``SeedanceHook.adownload_video(..., offload_writes=True)`` calls, 16 at a time, against the emulator
(its own process, ``--stock-media``, renders of 0 s), each in a fresh child process.

Two modes, alternated in the same run: ``shared`` (the provider: every transport verifies with one TLS context)
and ``per-transport`` (the baseline: each transport builds its own context, as httpx does by default and as the
provider did before). Memory = the child's RSS after the saves (and a ``gc.collect()``) minus its RSS before.

    python -m benchmarks.async_saves --saves 1000 [--out results-async-saves.json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import PYTHON

CONN_ID = "seedance_saves"
CONCURRENCY = 16


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise KeyError("VmRSS")


def _per_transport_contexts() -> None:
    """The baseline: each default transport builds its own TLS context (the provider before the fix)."""
    import httpx

    from airflow_provider_seedance.wire import _transport

    def ainner(self: Any) -> httpx.AsyncBaseTransport:
        if self._async is None:
            self._async = httpx.AsyncHTTPTransport()
        return self._async

    _transport.WrappingTransport.ainner = property(ainner)  # type: ignore[method-assign,assignment]


async def _saves(n: int, folder: str) -> dict[str, Any]:
    from airflow_provider_seedance.hooks.seedance import SeedanceHook
    from airflow_provider_seedance.models import VideoRequest

    hook = SeedanceHook(CONN_ID)
    request = VideoRequest(model="seedance-2.0-fast-text-to-video", prompt="[render:0] saves", duration=5)
    ids = [(await hook.asubmit(request)).id for _ in range(min(n, 50))]  # a few renders, each saved many times
    urls = [(await hook.aget_generation(gid)).video_url for gid in ids]
    gc.collect()
    before = _rss_mb()
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(index: int) -> None:
        async with gate:
            await hook.adownload_video(urls[index % len(urls)], f"{folder}/{index}.mp4", offload_writes=True)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    seconds = time.perf_counter() - started
    gc.collect()
    return {"saves": n, "seconds": seconds, "saves_per_s": n / seconds, "rss_growth_mb": _rss_mb() - before}


def child(mode: str, n: int, folder: str) -> dict[str, Any]:
    if mode == "per-transport":
        _per_transport_contexts()
    return {"mode": mode, **asyncio.run(_saves(n, folder))}


def _run_child(mode: str, n: int, env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="async-saves-") as folder:
        out = subprocess.run(
            [PYTHON, "-m", "benchmarks.async_saves", "--child", mode, str(n), folder],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.async_saves", description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=2, help="runs of each mode, alternated")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "N", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, n, folder = args.child
        print(json.dumps(child(mode, int(n), folder)))
        return 0
    from airflow_provider_seedance.emulator.server import EmulatorProcess

    with EmulatorProcess(render_seconds=0.0, extra_args=("--stock-media",)) as emu:
        conn = {"conn_type": "seedance", "password": "k", "host": emu.url, "extra": {"backend": "evolink"}}
        env = dict(os.environ, **{f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps(conn)})
        runs = [_run_child(mode, args.saves, env) for _ in range(args.reps) for mode in ("shared", "per-transport")]
    for mode in ("shared", "per-transport"):
        mine = [r for r in runs if r["mode"] == mode]
        print(
            f"{mode}: {args.saves} saves, "
            + ", ".join(f"{r['seconds']:.1f} s +{r['rss_growth_mb']:.0f} MB" for r in mine)
        )
    text = json.dumps(runs, indent=2)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
