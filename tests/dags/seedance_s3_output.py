"""Test DAGs for output to S3 through the Amazon provider's filesystem (``s3://<aws conn id>@bucket/...``),
run against moto's S3 server by tests/integration/test_s3_output.py."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

START = datetime(2026, 1, 1)
FAST = {"retry_delay": timedelta(seconds=0)}
MODEL = "seedance-2.0-fast-text-to-video"


def dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=None, start_date=START, catchup=False, default_args=FAST, tags=["test"])


with dag("seedance_s3_output") as s3_output:
    SeedanceGenerateVideoOperator(
        task_id="to_s3",
        seedance_conn_id="seedance_evolink",
        model=MODEL,
        prompt="a kite over a beach",
        duration=4,
        output_path="s3://aws_default@seedance-renders/campaigns/{{ ds }}/kite.mp4",
    )

with dag("seedance_s3_misspelt_bucket") as s3_misspelt_bucket:
    # One letter off the bucket above: refused before any create, and no bucket of that name appears.
    SeedanceGenerateVideoOperator(
        task_id="to_misspelt_bucket",
        seedance_conn_id="seedance_evolink",
        model=MODEL,
        prompt="a kite over a beach",
        duration=4,
        output_path="s3://aws_default@seedance-render/campaigns/{{ ds }}/kite.mp4",
        retries=2,
    )
