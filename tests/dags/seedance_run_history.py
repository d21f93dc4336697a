"""Test DAG for render times that outlive a triggerer: a scheduled, mapped pipeline on the AIML API dialect
(no estimate, no progress), run twice; the second run starts from the render times the first one returned."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

#: Long enough that blind polling needs several looks (5 s, then a back-off) and a warm one two.
RENDER_S = 12
MAPPED = 3

with DAG(
    "seedance_run_history",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retry_delay": timedelta(seconds=0)},
    tags=["test"],
) as run_history:
    SeedanceGenerateVideoOperator.partial(
        task_id="render",
        seedance_conn_id="seedance_aimlapi",
        model="bytedance/seedance-1-0-pro-fast",
        duration=5,
        deferrable=True,
    ).expand(prompt=[f"daily teaser {i} [render:{RENDER_S}]" for i in range(MAPPED)])
