"""The Seedance tab's test DAG: two mapped renders saved, one whose file the test deletes, one refused.

Connection ``seedance_evolink`` points at the emulator (tests/integration/conftest.py); ``SEEDANCE_TEST_OUTPUT``
is where the videos go.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

OUTPUT = os.environ.get("SEEDANCE_TEST_OUTPUT", "/tmp/seedance-test-output")
MODEL = "seedance-2.0-text-to-video"

with DAG("seedance_tab", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["test"]) as dag:
    SeedanceGenerateVideoOperator.partial(
        task_id="render",
        seedance_conn_id="seedance_evolink",
        model=MODEL,
        duration=12,
        quality="1080p",
        output_path=OUTPUT + "/tab/{{ run_id | replace(':', '-') | replace('+', '-') }}/render-{{ ti.map_index }}.mp4",
    ).expand(prompt=["a lighthouse at dusk, waves breaking", "a red kite over green hills"])
    SeedanceGenerateVideoOperator(
        task_id="gone",
        seedance_conn_id="seedance_evolink",
        model=MODEL,
        prompt="a paper boat on a puddle",
        duration=4,
        output_path=OUTPUT + "/tab/{{ run_id | replace(':', '-') | replace('+', '-') }}/gone.mp4",
    )
    SeedanceGenerateVideoOperator(
        task_id="refused",
        seedance_conn_id="seedance_evolink",
        model=MODEL,
        prompt="[fail:content_policy_violation] a bank heist",
        duration=4,
        retries=0,
    )
