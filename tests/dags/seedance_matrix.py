"""Test DAGs: one generation per backend x mode x (deferrable | polling on the worker).

Tests point the connections ``seedance_<backend>`` at the emulator and the output at a temporary folder
through environment variables, then run these DAGs with ``dag.test()``.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Asset

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

OUTPUT = os.environ.get("SEEDANCE_TEST_OUTPUT", "/tmp/seedance-test-output")
IMG = "https://cdn.example.com/first.png"
LAST = "https://cdn.example.com/last.png"
CASES: dict[str, dict[str, dict[str, object]]] = {
    "evolink": {
        "text": {"model": "seedance-2.0-text-to-video", "duration": 4, "aspect_ratio": "9:16"},
        "image": {"model": "seedance-2.0-image-to-video", "image_urls": [IMG, LAST], "duration": 4},
        "reference": {
            "model": "seedance-2.0-reference-to-video",
            "image_urls": [IMG],
            "video_urls": ["https://cdn.example.com/ref.mp4"],
            "audio_urls": ["https://cdn.example.com/bgm.mp3"],
            "duration": 4,
        },
    },
    "aimlapi": {
        "text": {"model": "bytedance/seedance-1-0-pro-fast", "duration": 5},
        "image": {"model": "bytedance/seedance-1-0-pro-fast", "image_urls": [IMG, LAST], "duration": 5},
    },
    "modelark": {
        "text": {"model": "dreamina-seedance-2-0-260128", "duration": 4, "aspect_ratio": "1:1"},
        "image": {"model": "seedance-1-0-pro-250528", "image_urls": [IMG, LAST], "duration": 2},
        "reference": {"model": "dreamina-seedance-2-0-fast-260128", "image_urls": [IMG, LAST, IMG], "duration": 4},
    },
}

for backend, modes in CASES.items():
    for mode, fields in modes.items():
        for deferrable in (True, False):
            dag_id = f"seedance_{backend}_{mode}_{'deferred' if deferrable else 'polling'}"
            with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["test"]) as dag:
                SeedanceGenerateVideoOperator(
                    task_id="generate",
                    seedance_conn_id=f"seedance_{backend}",
                    prompt=f"{{{{ dag.dag_id }}}}: a paper boat on a {mode} river",
                    output_path=OUTPUT + "/{{ dag.dag_id }}/video.mp4",
                    deferrable=deferrable,
                    outlets=[Asset(f"seedance://test/{dag_id}")],
                    **fields,  # type: ignore[arg-type]
                )
            globals()[dag_id] = dag
