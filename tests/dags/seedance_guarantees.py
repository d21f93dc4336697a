"""Test DAGs for the guarantees: reattach on retry, permanent failures, resubmission, deadline, sensor, mapping."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator
from airflow_provider_seedance.sensors.seedance import SeedanceGenerationSensor

OUTPUT = os.environ.get("SEEDANCE_TEST_OUTPUT", "/tmp/seedance-test-output")
START = datetime(2026, 1, 1)
FAST = {"retry_delay": timedelta(seconds=0)}


def dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=None, start_date=START, catchup=False, default_args=FAST, tags=["test"])


with dag("seedance_retry_reattach") as retry_reattach:
    SeedanceGenerateVideoOperator(
        task_id="generate",
        seedance_conn_id="seedance_evolink",
        model="seedance-2.0-fast-text-to-video",
        prompt="a glass of lemonade",
        output_path=OUTPUT + "/reattach/video.mp4",
        retries=2,
    )

with dag("seedance_unsaved_and_refused") as unsaved_and_refused:
    SeedanceGenerateVideoOperator(
        task_id="unsaved",
        seedance_conn_id="seedance_modelark",
        model="dreamina-seedance-2-0-fast-260128",
        prompt="a paper boat",
        output_path=OUTPUT + "/unsaved/video.mp4",
    )
    SeedanceGenerateVideoOperator(
        task_id="bad_key",
        seedance_conn_id="seedance_bad_key",  # set by the test: the right host, a key the API refuses
        model="seedance-2.0-fast-text-to-video",
        prompt="a paper plane",
        retries=3,
    )

with dag("seedance_policy_failure") as policy_failure:
    SeedanceGenerateVideoOperator(
        task_id="generate",
        seedance_conn_id="seedance_aimlapi",
        model="bytedance/seedance-1-0-pro-fast",
        prompt="[fail:content_policy_violation] a heist",
        retries=3,
    )

with dag("seedance_failed_resubmits") as failed_resubmits:
    for backend, model in [
        ("modelark", "dreamina-seedance-2-0-fast-260128"),
        ("evolink", "seedance-2.0-text-to-video"),
    ]:
        SeedanceGenerateVideoOperator(
            task_id=backend,
            seedance_conn_id=f"seedance_{backend}",
            model=model,
            prompt="[fail:service_error] a windmill",
            deferrable=False,
            retries=1,
        )

with dag("seedance_uncertain_create") as uncertain_create:
    SeedanceGenerateVideoOperator(
        task_id="generate",
        seedance_conn_id="seedance_aimlapi",
        model="bytedance/seedance-1-0-pro-fast",
        prompt="a lighthouse",
        retries=2,
    )

with dag("seedance_deadline") as deadline:
    for task_id, prompt, deferrable in [
        ("queued", "[render:600] a glacier", True),  # queued for 60 s: cancelled at the deadline
        ("running", "[stuck] a glacier", True),  # rendering at the deadline: ModelArk cannot cancel it
        ("queued_on_worker", "[render:600] an iceberg", False),
    ]:
        SeedanceGenerateVideoOperator(
            task_id=task_id,
            seedance_conn_id="seedance_modelark",
            model="dreamina-seedance-2-0-fast-260128",
            prompt=prompt,
            timeout=3,
            deferrable=deferrable,
            retries=2,  # the deadline is final: none of these may be used
        )

with dag("seedance_submit_then_sense") as submit_then_sense:
    submit = SeedanceGenerateVideoOperator(
        task_id="submit",
        seedance_conn_id="seedance_evolink",
        model="seedance-2.0-fast-text-to-video",
        prompt="a hot air balloon",
        wait_for_completion=False,
    )
    poke = SeedanceGenerationSensor(
        task_id="poke",
        seedance_conn_id="seedance_evolink",
        generation_id="{{ ti.xcom_pull(task_ids='submit')['generation_id'] }}",
        output_path=OUTPUT + "/sensor/poke.mp4",
        poke_interval=0.5,
        timeout=60,
    )
    deferred = SeedanceGenerationSensor(
        task_id="deferred",
        seedance_conn_id="seedance_evolink",
        generation_id="{{ ti.xcom_pull(task_ids='submit')['generation_id'] }}",
        output_path=OUTPUT + "/sensor/deferred.mp4",
        deferrable=True,
        timeout=60,
    )
    reschedule = SeedanceGenerationSensor(
        task_id="reschedule",
        seedance_conn_id="seedance_evolink",
        generation_id="{{ ti.xcom_pull(task_ids='submit')['generation_id'] }}",
        mode="reschedule",
        poke_interval=1,
        timeout=60,
    )
    submit >> [poke, deferred, reschedule]

with dag("seedance_mapped") as mapped:
    SeedanceGenerateVideoOperator.partial(
        task_id="generate",
        seedance_conn_id="seedance_evolink",
        model="seedance-2.0-fast-text-to-video",
        output_path=OUTPUT + "/mapped/{{ ti.map_index }}.mp4",
        duration=4,
    ).expand_kwargs(
        [
            {"prompt": "sneakers on a running track", "aspect_ratio": "9:16"},
            {"prompt": "sneakers in a shop window", "aspect_ratio": "16:9"},
            {"prompt": "sneakers on a doormat", "aspect_ratio": "1:1"},
        ]
    )
    SeedanceGenerateVideoOperator.partial(
        task_id="by_prompt",
        seedance_conn_id="seedance_aimlapi",
        model="bytedance/seedance-1-0-pro-fast",
        output_path=OUTPUT + "/mapped/by_prompt_{{ ti.map_index }}.mp4",
    ).expand(prompt=["a red kite", "a blue kite"])
