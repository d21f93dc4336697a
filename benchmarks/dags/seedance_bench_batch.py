"""Benchmark 7 DAGs: one campaign of renders as mapped tasks or as one batch task, on one connection.

Each run's ``conf`` is ``{"prompts": ["...", ...]}``; both DAGs have one task ``generate`` (mapped, or the
batch) behind a ``plan`` task, and save under ``$SEEDANCE_DEPLOY_OUTPUT/<run id>/``.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, get_current_context, task

from airflow_provider_seedance.operators.batch import SeedanceBatchGenerateVideosOperator
from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

OUTPUT = os.environ.get("SEEDANCE_DEPLOY_OUTPUT", "/tmp/seedance-bench-output")
CONN_ID = "seedance_evolink"
REQUEST = {"model": "seedance-2.0-fast-text-to-video", "duration": 5, "quality": "480p"}
BATCH_CONCURRENCY = int(os.environ.get("SEEDANCE_BENCH_BATCH_CONCURRENCY", "8"))
#: ``--save-in-triggerer``: the batch's videos saved by its trigger (``save_in_triggerer=True``).
SAVE_IN_TRIGGERER = bool(os.environ.get("SEEDANCE_BENCH_BATCH_SAVE_IN_TRIGGERER"))


def _prompts() -> list[str]:
    return list((get_current_context()["dag_run"].conf or {}).get("prompts", []))


@task
def plan_mapped() -> list[dict[str, Any]]:
    run_id = get_current_context()["dag_run"].run_id
    return [
        {"prompt": prompt, "output_path": f"{OUTPUT}/{run_id}/{index:05d}.mp4"}
        for index, prompt in enumerate(_prompts())
    ]


@task
def plan_batch() -> list[dict[str, Any]]:
    return [{"prompt": prompt} for prompt in _prompts()]


def _dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False, max_active_tasks=64)


with _dag("bench_batch_mapped") as mapped:
    SeedanceGenerateVideoOperator.partial(task_id="generate", seedance_conn_id=CONN_ID, **REQUEST).expand_kwargs(
        plan_mapped()
    )

with _dag("bench_batch_one") as batch:
    SeedanceBatchGenerateVideosOperator(
        task_id="generate",
        seedance_conn_id=CONN_ID,
        requests=plan_batch(),
        defaults=REQUEST,
        output_path=OUTPUT + "/{{ run_id }}/{item_index}.mp4",
        max_concurrency=BATCH_CONCURRENCY,
        timeout=4 * 3600,
        save_in_triggerer=SAVE_IN_TRIGGERER,
    )
