"""Test DAG for OpenLineage: the operator (deferred, on the worker, without an output path), the sensor, and a
batch.

Run with ``dag.test()`` by tests/integration/test_lineage.py, with the OpenLineage provider's file transport
configured through the environment. The media URLs carry signed query strings and one image is a data: URI,
so the test can assert that neither reaches an event.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_seedance.operators.batch import SeedanceBatchGenerateVideosOperator
from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator
from airflow_provider_seedance.sensors.seedance import SeedanceGenerationSensor

OUTPUT = os.environ.get("SEEDANCE_TEST_OUTPUT", "/tmp/seedance-test-output")
SIGNED = "?X-Amz-Expires=3600&expires=1767225600&sig=SIGNED-QUERY-SECRET"
IMAGE = "https://cdn.example.com/refs/first.png" + SIGNED
VIDEO = "https://cdn.example.com/refs/motion.mp4" + SIGNED + "#t=2"
AUDIO = "https://user:pass@media.example.com:8443/bgm.mp3" + SIGNED
#: A 1x1 PNG, inline.
DATA_IMAGE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

with DAG("seedance_lineage", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["test"]) as dag:
    SeedanceGenerateVideoOperator(
        task_id="generate",
        seedance_conn_id="seedance_evolink",
        model="seedance-2.0-reference-to-video",
        prompt="a paper boat on a river",
        image_urls=[IMAGE, DATA_IMAGE],
        video_urls=[VIDEO],
        audio_urls=[AUDIO],
        duration=4,
        output_path=OUTPUT + "/lineage/generate.mp4",
        deferrable=True,
    )
    SeedanceGenerateVideoOperator(
        task_id="link_only",
        seedance_conn_id="seedance_modelark",
        model="seedance-1-0-pro-250528",
        prompt="a lighthouse at dusk",
        image_urls=[IMAGE],
        duration=2,
        deferrable=False,
    )
    submit = SeedanceGenerateVideoOperator(
        task_id="submit",
        seedance_conn_id="seedance_aimlapi",
        model="bytedance/seedance-1-0-pro-fast",
        prompt="a kite over a beach",
        duration=5,
        wait_for_completion=False,
    )
    wait = SeedanceGenerationSensor(
        task_id="wait",
        seedance_conn_id="seedance_aimlapi",
        generation_id="{{ ti.xcom_pull(task_ids='submit')['generation_id'] }}",
        output_path=OUTPUT + "/lineage/wait.mp4",
        poke_interval=0.5,
        timeout=120,
    )
    submit >> wait
    SeedanceBatchGenerateVideosOperator(
        task_id="catalog",
        seedance_conn_id="seedance_evolink",
        requests=[{"name": "mug", "prompt": "a red mug", "image_urls": [IMAGE]}, {"name": "cup", "prompt": "a cup"}],
        defaults={"model": "seedance-2.0-reference-to-video", "duration": 4, "image_urls": [DATA_IMAGE]},
        output_path=OUTPUT + "/lineage/batch/{name}.mp4",
        deferrable=True,
    )
