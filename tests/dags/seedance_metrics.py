"""Test DAGs for the metrics: one generation waited for in the triggerer, one polled on the worker.

The connection ``seedance_metrics_<backend>`` (set by the test, with ``max_retries`` 0 so a poll's error
reaches the poll drivers instead of the client's own retries) points at the emulator.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

OUTPUT = os.environ.get("SEEDANCE_TEST_OUTPUT", "/tmp/seedance-test-output")
CASES = {
    "deferred": ("evolink", "seedance-2.0-text-to-video"),
    "polling": ("modelark", "dreamina-seedance-2-0-260128"),
}

for wait, (backend, model) in CASES.items():
    dag_id = f"seedance_metrics_{wait}"
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["test"]) as dag:
        SeedanceGenerateVideoOperator(
            task_id="generate",
            seedance_conn_id=f"seedance_metrics_{backend}",
            model=model,
            prompt="a weather vane turning in the wind",
            duration=4,
            output_path=OUTPUT + "/{{ dag.dag_id }}/video.mp4",
            deferrable=wait == "deferred",
        )
    globals()[dag_id] = dag
