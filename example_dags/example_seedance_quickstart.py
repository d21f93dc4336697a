"""Quickstart: one text-to-video generation with Seedance, saved to a local folder.

What it shows: the smallest useful DAG. ``SeedanceGenerateVideoOperator`` validates the request against
the model's limits, submits it once, waits in the triggerer (deferrable, no worker slot held), then
streams the MP4 to ``output_path`` and returns a ``VideoResult`` (generation id, video URL, saved path,
sha256, credits, render time) in XCom.

What it needs:
- a connection ``seedance_default`` of type ``seedance`` (API key in the password; extra
  ``{"backend": "evolink"}``, ``"aimlapi"`` or ``"modelark"``), for example
  ``AIRFLOW_CONN_SEEDANCE_DEFAULT='{"conn_type": "seedance", "password": "<key>", "extra": {"backend": "evolink"}}'``;
- a triggerer running (or set ``deferrable=False`` to poll on the worker);
- optional Variable ``seedance_output_root``: where videos go (a local folder, ``file://...``, or any object
  store such as ``s3://bucket/videos`` with its provider installed). Default: ``~/seedance_output``.

Trigger it from the UI: the form asks for prompt, model, duration and aspect ratio. The default model is
EvoLink's ``seedance-2.0-fast-text-to-video`` (4-15 s, 480p/720p). On AIML API use
``bytedance/seedance-1-0-pro-fast`` (5 or 10 s) and leave the aspect ratio empty; on BytePlus ModelArk use
``dreamina-seedance-2-0-fast-260128``.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, Param

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

MODELS = ["seedance-2.0-fast-text-to-video", "bytedance/seedance-1-0-pro-fast", "dreamina-seedance-2-0-fast-260128"]
RATIOS = ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"]
OUTPUT_ROOT = "{{ var.value.get('seedance_output_root', '~/seedance_output').rstrip('/') }}"
RUN_STAMP = "{{ dag_run.run_after.strftime('%Y%m%dT%H%M%S') }}"

with DAG(
    dag_id="example_seedance_quickstart",
    description="One text-to-video generation with Seedance, saved to a local folder",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "seedance"],
    # Native rendering: an empty aspect ratio stays None (not sent) and the duration stays an int.
    render_template_as_native_obj=True,
    params={
        "prompt": Param(
            "A paper boat drifting down a rain-soaked city street at dusk, neon reflections, cinematic",
            type="string",
            minLength=1,
            description="What the video shows.",
        ),
        "model": Param(
            MODELS[0],
            type="string",
            examples=MODELS,
            description="The backend's model id (EvoLink, AIML API, ModelArk defaults listed).",
        ),
        "duration": Param(5, type="integer", minimum=2, maximum=15, description="Seconds (AIML: 5 or 10)."),
        "aspect_ratio": Param(
            "16:9",
            type=["null", "string"],
            enum=[None, *RATIOS],
            description="Frame shape; leave empty for AIML API's model, which takes no aspect ratio.",
        ),
    },
) as dag:
    SeedanceGenerateVideoOperator(
        task_id="generate",
        seedance_conn_id="seedance_default",
        model="{{ params.model }}",
        prompt="{{ params.prompt }}",
        duration="{{ params.duration }}",
        aspect_ratio="{{ params.aspect_ratio }}",
        output_path=f"{OUTPUT_ROOT}/quickstart/{RUN_STAMP}.mp4",
        deferrable=True,  # waits in the triggerer; without one, set False (polls on the worker)
    )
