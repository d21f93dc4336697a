"""Test DAGs for a new user's first hour: mistakes that used to cost a paid render or an hour of guessing."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

OUTPUT = os.environ.get("SEEDANCE_TEST_OUTPUT", "/tmp/seedance-test-output")
START = datetime(2026, 1, 1)
FAST = {"retry_delay": timedelta(seconds=0)}
EVOLINK_FAST = "seedance-2.0-fast-text-to-video"
ARK_FAST = "dreamina-seedance-2-0-fast-260128"


def dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=None, start_date=START, catchup=False, default_args=FAST, tags=["test"])


with dag("seedance_output_unwritable") as output_unwritable:
    # The first example of docs/operator.md (once the README's) on a worker without s3fs: refused before anything is paid for.
    SeedanceGenerateVideoOperator(
        task_id="s3_without_s3fs",
        seedance_conn_id="seedance_evolink",
        model=EVOLINK_FAST,
        prompt="a kite over a beach",
        output_path="s3://seedance-test-bucket/{{ ds }}/kite.mp4",
        retries=2,
    )

with dag("seedance_mapped_one_file") as mapped_one_file:
    SeedanceGenerateVideoOperator.partial(
        task_id="same_path",
        seedance_conn_id="seedance_evolink",
        model=EVOLINK_FAST,
        output_path=OUTPUT + "/mapped_one_file/{{ ds }}/teaser.mp4",
        retries=2,
    ).expand(prompt=["sneakers on a track", "sneakers in a shop", "sneakers in the rain"])
    SeedanceGenerateVideoOperator.partial(
        task_id="same_item_paths", seedance_conn_id="seedance_evolink", model=EVOLINK_FAST, retries=2
    ).expand_kwargs(
        [
            {"prompt": "a red bicycle", "output_path": OUTPUT + "/mapped_one_file/bike.mp4"},
            {"prompt": "a blue bicycle", "output_path": OUTPUT + "/mapped_one_file/bike.mp4"},
        ]
    )

with dag("seedance_existing_file") as existing_file:
    SeedanceGenerateVideoOperator(
        task_id="keep",
        seedance_conn_id="seedance_modelark",
        model=ARK_FAST,
        prompt="a lighthouse at dawn",
        output_path=OUTPUT + "/existing/keep.mp4",
    )
    SeedanceGenerateVideoOperator(
        task_id="replace",
        seedance_conn_id="seedance_modelark",
        model=ARK_FAST,
        prompt="a lighthouse at dusk",
        output_path=OUTPUT + "/existing/replace.mp4",
        replace=True,
    )

with dag("seedance_create_hangs") as create_hangs:
    # seedance_evolink_hang: create_timeout 1 s, 2 retries (set by the test)
    SeedanceGenerateVideoOperator(
        task_id="generate",
        seedance_conn_id="seedance_evolink_hang",
        model=EVOLINK_FAST,
        prompt="a hot air balloon",
        output_path=OUTPUT + "/create_hangs/{{ run_id }}.mp4",
    )

with dag("seedance_model_ids") as model_ids:
    SeedanceGenerateVideoOperator(
        task_id="evolink_id_on_aimlapi",
        seedance_conn_id="seedance_aimlapi",
        model=EVOLINK_FAST,
        prompt="a paper boat",
        retries=2,
    )
    SeedanceGenerateVideoOperator(
        task_id="unknown_model",
        seedance_conn_id="seedance_modelark",
        model="dreamina-seedance-2-0-lite-260301",  # served by ModelArk, not in the provider's table
        prompt="a paper lantern",
    )

with dag("seedance_connection_mistakes") as connection_mistakes:
    SeedanceGenerateVideoOperator(
        task_id="wrong_base_url",
        seedance_conn_id="seedance_wrong_path",  # EvoLink backend, Base URL with ModelArk's /api/v3 (the test)
        model=EVOLINK_FAST,
        prompt="a windmill",
    )
    SeedanceGenerateVideoOperator(
        task_id="https_to_plain_http",
        seedance_conn_id="seedance_https_to_http",  # https:// to the plain-HTTP emulator (the test)
        model=ARK_FAST,
        prompt="a windmill at night",
    )

with DAG(
    "seedance_templated_connection",
    schedule=None,
    start_date=START,
    catchup=False,
    params={"backend": "modelark"},
    tags=["test"],
) as templated_connection:
    SeedanceGenerateVideoOperator(
        task_id="generate",
        seedance_conn_id="seedance_{{ params.backend }}",
        model=ARK_FAST,
        prompt="a compass on a map",
    )
