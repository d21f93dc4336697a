"""Saves into one folder: does a save cost more as the folder fills?

A batch saves all its videos into one folder (``output_dir``), thousands of them. Each save ends by removing
the ``.part`` files earlier attempts at the same destination left behind. This benchmark saves ``--saves``
small MP4s with ``runtime.storage.save_stream`` into one empty local ``ObjectStoragePath`` folder and compares
the CPU time of the last ``--window`` saves (folder nearly full) with that of the first ``--window`` (folder
nearly empty), measured in the same run: the ratio is the target (BENCHMARKS.md). A local save's temporary
file is numbered and its leftovers are looked up by name, so the ratio should stay near 1; listing the folder
at each save gave 3.97x at 10,000 (by name, ``os.scandir``) and 7.6x already at 2,000 (fsspec, a stat per
entry). The target, 2x at 10,000 saves (the catalog of issue 24), fails if a listing returns.

    python -m benchmarks.folder_saves --saves 10000 --window 500 [--out results-folder-saves.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

#: the smallest file the writer accepts as an MP4: an ftyp box first
VIDEO = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 1000
TARGET_RATIO = 2.0


def measure(saves: int, window: int, folder: Path) -> dict[str, Any]:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_seedance.runtime.storage import save_stream

    root = ObjectStoragePath("file://" + str(folder))
    cpu = []
    for index in range(saves):
        started = time.process_time()
        save_stream([VIDEO], root / f"video-{index:05d}.mp4", expected_size=len(VIDEO))
        cpu.append(time.process_time() - started)
    first, last = sum(cpu[:window]), sum(cpu[-window:])
    return {
        "saves": saves,
        "window": window,
        "first_window_cpu_s": first,
        "last_window_cpu_s": last,
        "ratio": last / first,
        "target_ratio": TARGET_RATIO,
        "met": last / first <= TARGET_RATIO,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.folder_saves", description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=10000, help="videos saved into the one folder")
    parser.add_argument("--window", type=int, default=500, help="saves compared at the start and at the end")
    parser.add_argument("--out", type=Path, default=None, help="write the result as JSON here")
    args = parser.parse_args(argv)
    if not 0 < args.window <= args.saves // 2:
        parser.error(f"--window must be between 1 and half of --saves ({args.saves // 2}), got {args.window}")
    with tempfile.TemporaryDirectory(prefix="folder-saves-") as folder:
        result = measure(args.saves, args.window, Path(folder))
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
