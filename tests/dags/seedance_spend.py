"""Test DAG for reading a run's spend while its mapped renders finish one by one (budget.mapped_results and
budget.run_spend): the second render's spend_check reads one finished render (where a bare xcom_pull answers
a lone dict), the third reads two (a list) and is skipped, and a task after them reads the run's spend."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_seedance.contract.budget import mapped_results, run_spend
from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

OUTPUT = os.environ.get("SEEDANCE_TEST_OUTPUT", "/tmp/seedance-test-output")


def spend_so_far(context: Any, request: Any) -> str | None:
    """Submit the first two renders; skip the third, saying what it read (the test checks the words)."""
    ti = context["ti"]
    finished = mapped_results(ti, ti.task_id)
    if any(not isinstance(result, dict) or "generation_id" not in result for result in finished):
        raise ValueError(f"not a list of results: {finished!r}")
    if len(finished) < 2:
        return None
    spend = run_spend(ti, ti.task_id)
    ids = ",".join(sorted(str(r["generation_id"]) for r in finished))
    return f"read {len(finished)} finished ({ids}): {spend.explain()}"


with DAG(
    "seedance_spend",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retry_delay": timedelta(seconds=0)},
    tags=["test"],
) as spend:
    renders = SeedanceGenerateVideoOperator.partial(
        task_id="render",
        seedance_conn_id="seedance_evolink",
        model="seedance-2.0-fast-text-to-video",
        duration=4,
        output_path=OUTPUT + "/spend/{{ run_id }}/{{ ti.map_index }}.mp4",
        spend_check=spend_so_far,
        max_active_tis_per_dag=1,
    ).expand(prompt=["a red kite", "a blue kite", "a green kite"])

    @task(trigger_rule="all_done")  # after a render skipped for budget too
    def total(**context: Any) -> dict[str, Any]:
        spend = run_spend(context["ti"], "render")
        skipped = mapped_results(context["ti"], "render", key="seedance_skipped")
        return {"credits": spend.credits, "renders": spend.renders, "skipped": skipped}

    renders >> total()
