"""The Seedance tab's batch test DAG: a batch of five items (three saved, one refused for content policy, one
skipped by its budget) whose task succeeds, and a batch whose failure policy fails its task (its results in the
``seedance_batch_results`` XCom). Short, small renders: the emulator's default quality, 4 seconds.

Connection ``seedance_evolink`` points at the emulator (tests/integration/conftest.py); ``SEEDANCE_TEST_OUTPUT``
is where the videos go.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG

from airflow_provider_seedance.operators.batch import SeedanceBatchGenerateVideosOperator

OUTPUT = os.environ.get("SEEDANCE_TEST_OUTPUT", "/tmp/seedance-test-output")
FOLDER = OUTPUT + "/tab-batch/{{ run_id | replace(':', '-') | replace('+', '-') }}"
DEFAULTS = {"model": "seedance-2.0-fast-text-to-video", "duration": 4}


def no_teapots(context: Any, request: Any) -> str | None:
    """The budget: every teapot is skipped (status ``skipped``, nothing sent)."""
    return "over budget: no teapots" if "teapot" in request.prompt else None


with DAG("seedance_tab_batch", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["test"]) as dag:
    SeedanceBatchGenerateVideosOperator(
        task_id="catalog",
        seedance_conn_id="seedance_evolink",
        requests=[
            {"name": "lamp", "prompt": "a brass lamp on a white table"},
            {"name": "chair", "prompt": "a red chair on a white table"},
            {"name": "heist", "prompt": "[fail:content_policy_violation] a bank heist"},
            {"name": "teapot", "prompt": "a teapot on a white table"},
            {"name": "vase", "prompt": "a blue vase on a white table"},
        ],
        defaults=DEFAULTS,
        output_path=FOLDER + "/catalog/{name}.mp4",
        failure_policy="never",
        spend_check=no_teapots,
        max_concurrency=5,
        poll_interval=0.5,
    )
    SeedanceBatchGenerateVideosOperator(
        task_id="strict",
        seedance_conn_id="seedance_evolink",
        requests=[{"prompt": "a green kettle"}, {"prompt": "[fail:content_policy_violation] a kettle heist"}],
        defaults=DEFAULTS,
        output_path=FOLDER + "/strict/{item_index}.mp4",
        failure_policy="any",  # a content policy is final: the task fails at once, its results kept in XCom
        poll_interval=0.5,
        retries=0,
    )
