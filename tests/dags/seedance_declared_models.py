"""Test DAG for a declared model: the README's example ModelArk model (not in the built-in table, up to 30 s)
rendered for 30 s, on a connection whose extra declares it (``seedance_declared``)."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

OUTPUT = os.environ.get("SEEDANCE_TEST_OUTPUT", "/tmp/seedance-test-output")
MODEL = "dreamina-seedance-2-5-261001"

with DAG("seedance_declared_model", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as declared:
    SeedanceGenerateVideoOperator(
        task_id="long_take",
        seedance_conn_id="seedance_declared",
        model=MODEL,
        prompt="a paper boat drifts down a long river, one unbroken shot",
        duration=30,
        quality="720p",
        aspect_ratio="16:9",
        output_path=OUTPUT + "/declared/long_take.mp4",
    )
