"""Benchmark 5, worker slots: N mapped renders of R s on a real multi-process Airflow (PostgreSQL,
LocalExecutor with 4 worker slots, scheduler, dag-processor, api-server, one triggerer), started by the
deployment suite's harness (``tests/deployment/harness.py``), deferrable against non-deferrable.

Non-deferrable renders hold a slot for their whole render, so 40 renders on 4 slots run in 10 full
rounds. To fit the run in the time budget, the non-deferrable DAG may run fewer renders (whole rounds
of 4) and its 40-render wall time is extrapolated as rounds x measured time per round; the report says so.
"""

from __future__ import annotations

import datetime
import math
import time
from typing import Any

from benchmarks.common import API_KEY, BENCH_DIR

SLOTS = 4


def _parse(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _run_dag(deploy: Any, dag_id: str, timeout: float) -> dict[str, Any]:
    run_id = f"bench-{int(time.time())}"
    started = time.time()
    deploy.trigger(dag_id, {}, run_id)
    run = deploy.wait_for_run(dag_id, run_id, timeout=timeout, interval=2.0)
    wall = time.time() - started
    tis = deploy.task_instances(dag_id, run_id)
    states: dict[str, int] = {}
    for ti in tis:
        states[ti["state"]] = states.get(ti["state"], 0) + 1
    db_wall = _parse(run["end_date"]) - _parse(run["start_date"])
    return {"dag_id": dag_id, "state": run["state"], "wall_s": db_wall, "observed_s": wall, "tasks": states}


def run(emu: Any, deferrable_n: int = 40, polling_n: int = 8, render_s: float = 60.0) -> dict[str, Any]:
    from tests.deployment.harness import Deployment  # the deployment suite's harness, used as is

    conn = {"conn_type": "seedance", "password": API_KEY, "host": emu.url, "extra": {"backend": "evolink"}}
    deploy = Deployment(
        connections={"seedance_bench": conn},
        parallelism=SLOTS,
        triggerers=1,
        extra_env={
            "AIRFLOW__CORE__DAGS_FOLDER": str(BENCH_DIR / "dags"),
            "SEEDANCE_BENCH_RENDER_S": str(render_s),
            "SEEDANCE_BENCH_DEFERRABLE_N": str(deferrable_n),
            "SEEDANCE_BENCH_POLLING_N": str(polling_n),
        },
    )
    started = time.time()
    try:
        deploy.start()
        startup = time.time() - started
        deferrable = _run_dag(deploy, "bench_slots_deferrable", timeout=render_s * 4 + 600)
        polling = _run_dag(deploy, "bench_slots_polling", timeout=math.ceil(polling_n / SLOTS) * (render_s + 60) + 300)
    finally:
        deploy.stop()
        deploy.cleanup_home()
    rounds_measured = math.ceil(polling_n / SLOTS)
    rounds_full = math.ceil(deferrable_n / SLOTS)
    per_round = polling["wall_s"] / rounds_measured
    polling_full = per_round * rounds_full if polling_n < deferrable_n else polling["wall_s"]
    return {
        "slots": SLOTS,
        "render_s": render_s,
        "deferrable_n": deferrable_n,
        "polling_n": polling_n,
        "startup_s": startup,
        "deferrable": deferrable,
        "polling": polling,
        "polling_per_round_s": per_round,
        "polling_wall_at_n_s": polling_full,
        "polling_extrapolated": polling_n < deferrable_n,
        "speedup": polling_full / deferrable["wall_s"],
    }
