"""Benchmark 4, saving: stream a 500 MB video from the emulator's CDN route with
``SeedanceHook.download_video`` to a local ``ObjectStoragePath``, against ``curl -o`` on the same URL.

Each hook download runs in a fresh process; its memory growth is the RSS high-water mark during the
download minus the RSS just before it (the high-water mark is reset first through /proc/self/clear_refs).
Hook and curl runs alternate, so drift on a noisy machine hits both alike.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import CONN_ID, PYTHON, TlsFiles, conn_env, median, rss_bytes, run_json, tls_env

SIZE = 500 * 1024 * 1024


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def child(url: str, destination: str) -> dict[str, Any]:
    """In a fresh process: one download with the hook; time, throughput and memory growth."""
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_seedance.hooks.seedance import SeedanceHook

    hook = SeedanceHook(CONN_ID)
    target = ObjectStoragePath("file://" + destination)
    hook.settings  # noqa: B018 - read the connection before measuring
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # reset VmHWM to the current RSS
    base = rss_bytes()
    started = time.perf_counter()
    saved = hook.download_video(url, target)
    seconds = time.perf_counter() - started
    peak = _status_kb("VmHWM") * 1024
    return {
        "seconds": seconds,
        "bytes": saved.size_bytes,
        "mb_per_s": saved.size_bytes / seconds / 2**20,
        "rss_growth_mb": (peak - base) / 2**20,
    }


def _curl(url: str, destination: Path, tls: TlsFiles | None, size: int) -> float:
    argv = ["curl", "-sS", "--fail", "-o", str(destination), url]
    if tls is not None:
        argv[1:1] = ["--cacert", str(tls.ca_bundle)]
    started = time.perf_counter()
    subprocess.run(argv, check=True)
    seconds = time.perf_counter() - started
    if destination.stat().st_size != size:
        raise RuntimeError(f"curl saved {destination.stat().st_size} bytes, expected {size}")
    return seconds


def run(emu: Any, tls: TlsFiles | None, workdir: Path, repetitions: int = 3, size: int = SIZE) -> dict[str, Any]:
    if shutil.which("curl") is None:
        raise RuntimeError("curl is not installed (apt-get install -y curl)")
    url = f"{emu.url}/files/blob/{size}.mp4"
    env = {**conn_env(emu.url), **tls_env(tls)}
    target_dir = Path(tempfile.mkdtemp(prefix="save-", dir=workdir))
    hook_runs: list[dict[str, Any]] = []
    curl_runs: list[float] = []
    for index in range(repetitions):
        for tool in ("curl", "hook") if index % 2 else ("hook", "curl"):
            destination = target_dir / f"{tool}-{index}.mp4"
            if tool == "curl":
                curl_runs.append(_curl(url, destination, tls, size))
            else:
                hook_runs.append(
                    run_json(
                        [PYTHON, "-m", "benchmarks.saving", url, str(destination)],
                        env=env,
                        timeout=600,
                        log=workdir / "saving.log",
                    )
                )
            destination.unlink()
    shutil.rmtree(target_dir, ignore_errors=True)
    curl_mb_s = median([size / s / 2**20 for s in curl_runs])
    hook_mb_s = median([r["mb_per_s"] for r in hook_runs])
    return {
        "protocol": "tls" if tls else "http",
        "size_mb": size / 2**20,
        "repetitions": repetitions,
        "hook_mb_per_s": hook_mb_s,
        "curl_mb_per_s": curl_mb_s,
        "hook_vs_curl": hook_mb_s / curl_mb_s,
        "hook_rss_growth_mb": median([r["rss_growth_mb"] for r in hook_runs]),
        "hook_rss_growth_max_mb": max(r["rss_growth_mb"] for r in hook_runs),
        "hook_runs": hook_runs,
        "curl_seconds": curl_runs,
    }


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], sys.argv[2])), flush=True)
    os._exit(0)
