"""Test DAGs for failover: a ModelArk connection that refuses or loses the create, an EvoLink fallback."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

OUTPUT = os.environ.get("SEEDANCE_TEST_OUTPUT", "/tmp/seedance-test-output")
FAST = {"retry_delay": timedelta(seconds=0)}


def dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False, default_args=FAST)


with dag("seedance_failover") as failover:
    SeedanceGenerateVideoOperator(
        task_id="generate",
        seedance_conn_id="seedance_fo_primary",  # ModelArk, on the emulator the test makes refuse
        fallback_conn_ids=["seedance_fo_fallback"],  # EvoLink, on a second, healthy emulator
        model="dreamina-seedance-2-0-fast-260128",  # rendered there as seedance-2.0-fast-text-to-video
        prompt="a red kite over a beach",
        duration=4,
        output_path=OUTPUT + "/failover/{{ run_id }}.mp4",
        retries=1,
    )

with dag("seedance_failover_uncertain") as failover_uncertain:
    SeedanceGenerateVideoOperator(
        task_id="generate",
        seedance_conn_id="seedance_fo_primary",
        fallback_conn_ids=["seedance_fo_fallback"],
        model="dreamina-seedance-2-0-fast-260128",
        prompt="a lighthouse at dusk",
        duration=4,
        retries=2,
    )

with dag("seedance_failover_mapped") as failover_mapped:
    # every mapped instance falls over and defers: each resumes on the connection that accepted its render
    SeedanceGenerateVideoOperator.partial(
        task_id="generate",
        seedance_conn_id="seedance_fo_primary",
        fallback_conn_ids=["seedance_fo_fallback"],
        model="dreamina-seedance-2-0-fast-260128",
        duration=4,
        output_path=OUTPUT + "/failover_mapped/{{ run_id }}-{{ ti.map_index }}.mp4",
        retries=1,
    ).expand(prompt=["a red kite over a beach", "a kite over dunes", "a paper kite in rain"])
