"""Benchmark 5 DAGs: N mapped renders of R seconds, deferrable (wait in the triggerer) or not (poll on a
worker slot). N and R come from the environment the benchmark gives the deployment."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

RENDER_S = float(os.environ.get("SEEDANCE_BENCH_RENDER_S", "60"))

for dag_id, deferrable, count in (
    ("bench_slots_deferrable", True, int(os.environ.get("SEEDANCE_BENCH_DEFERRABLE_N", "40"))),
    ("bench_slots_polling", False, int(os.environ.get("SEEDANCE_BENCH_POLLING_N", "40"))),
):
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False, max_active_tasks=64) as dag:
        SeedanceGenerateVideoOperator.partial(
            task_id="render",
            seedance_conn_id="seedance_bench",
            model="seedance-2.0-fast-text-to-video",
            duration=5,
            deferrable=deferrable,
            output_path=None,
        ).expand(prompt=[f"worker slot benchmark {i} [render:{RENDER_S}]" for i in range(count)])
    globals()[dag_id] = dag
