"""Test DAG for drafts: a cheap 480p draft, then the final render from the draft's generation id (ModelArk)."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

OUTPUT = os.environ.get("SEEDANCE_TEST_OUTPUT", "/tmp/seedance-test-output")
MODEL = "seedance-1-5-pro-251215"

with DAG("seedance_draft_then_final", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as drafts:
    draft = SeedanceGenerateVideoOperator(
        task_id="draft",
        seedance_conn_id="seedance_modelark",
        model=MODEL,
        prompt="a paper boat on a pond, morning light",
        duration=5,
        draft=True,
        output_path=OUTPUT + "/drafts/draft.mp4",
    )
    final = SeedanceGenerateVideoOperator(
        task_id="final",
        seedance_conn_id="seedance_modelark",
        model=MODEL,
        # A reviewed draft's id; in a review pipeline this comes from the approval step.
        draft_generation_id="{{ ti.xcom_pull(task_ids='draft')['generation_id'] }}",
        quality="1080p",
        timeout=7200,
        output_path=OUTPUT + "/drafts/final.mp4",
    )
    draft >> final
