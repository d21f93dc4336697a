"""The emulator's create and save rates with no Airflow in the way (benchmark 7's ideal): N renders of 0 s
created and saved by the batch operator's own code (``submit_all``, ``save_all``) at the batch's concurrency,
in a fresh process, against the same emulator and in the same run as the batches it is the ideal of.

    python -m benchmarks.batch_probe N CONCURRENCY OUTPUT_DIR   # connection seedance_probe from the env; one JSON line
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

CONN_ID = "seedance_probe"


async def probe(n: int, concurrency: int, output_dir: str) -> dict[str, Any]:
    from airflow_provider_seedance.contract.batch import BatchRecord
    from airflow_provider_seedance.hooks.seedance import SeedanceHook
    from airflow_provider_seedance.operators._batch_items import batch_items, check_folders
    from airflow_provider_seedance.operators._batch_routes import BatchConnections
    from airflow_provider_seedance.operators._batch_save import save_all
    from airflow_provider_seedance.operators._batch_submit import submit_all

    hook = SeedanceHook(CONN_ID)
    connections = BatchConnections([hook])
    requests = [{"prompt": f"[render:0] rate probe, shot {i}"} for i in range(n)]
    defaults = {"model": "seedance-2.0-fast-text-to-video", "duration": 5, "quality": "480p"}
    items, errors = batch_items(
        requests, defaults=defaults, hook=hook, output_path=output_dir + "/{item_index}.mp4", seconds_left=3600
    )
    assert not errors, errors
    check_folders(items, "probe")
    record = BatchRecord()
    started = time.perf_counter()
    refused, _ = await submit_all(
        connections, items, record, None, key_of=lambda item, _, k: f"probe-{item.index}-{k}", concurrency=concurrency
    )
    create_s = time.perf_counter() - started
    ids = [(item, record.items[str(item.index)][0], 0) for item in items if item.index not in refused]
    for _, gid, _ in ids[-1:]:  # renders of 0 s: the last one created has ended once it answers so
        for _ in range(120):
            if (await hook.aget_generation(gid)).state == "succeeded":
                break
            await asyncio.sleep(0.5)
    started = time.perf_counter()
    saved = await save_all(
        connections, ids, concurrency=concurrency, replace=True, max_download_mb=None, deadline=time.time() + 3600
    )
    save_s = time.perf_counter() - started
    ok = [r for r in saved if r.status == "succeeded"]
    return {
        "n": n,
        "concurrency": concurrency,
        "created": len(ids),
        "create_s": create_s,
        "create_per_s": len(ids) / create_s,
        "saved": len(ok),
        "save_s": save_s,
        "save_per_s": len(ok) / save_s,
        "mean_size_bytes": sum(r.size_bytes or 0 for r in ok) / max(1, len(ok)),
    }


def main(argv: list[str]) -> int:
    n, concurrency, output_dir = argv
    print(json.dumps(asyncio.run(probe(int(n), int(concurrency), output_dir))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
