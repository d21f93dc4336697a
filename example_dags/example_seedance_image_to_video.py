"""Image-to-video with a first and a last frame: Seedance animates the way from one image to the other.

What it shows: ``image_urls`` carries the first frame, then the last frame (one URL gives first-frame-only
animation). The request is checked before any call: the model must take images, at most 2 frames, and the
aspect ratio must be one the model accepts in image mode (``adaptive`` follows the first frame).

What it needs:
- a connection ``seedance_default`` of type ``seedance`` (see ``example_seedance_quickstart``);
- images the backend can download: public http(s) URLs (or base64 ``data:`` URIs), JPEG/PNG/WebP,
  300-6000 px a side. The defaults are AIML API's public sample image used as both frames, which makes a
  seamless loop; pass your own frames in the trigger form. With the offline emulator any URL works.
- optional Variable ``seedance_output_root`` (default ``~/seedance_output``).

Models: EvoLink ``seedance-2.0-fast-image-to-video`` (default, 4-15 s), AIML API
``bytedance/seedance-1-0-pro-fast`` (5 or 10 s, leave the aspect ratio empty), ModelArk
``dreamina-seedance-2-0-fast-260128``.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, Param

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

SAMPLE_IMAGE = "https://raw.githubusercontent.com/aimlapi/api-docs/main/reference-files/mona_lisa_extended.jpg"
MODELS = ["seedance-2.0-fast-image-to-video", "bytedance/seedance-1-0-pro-fast", "dreamina-seedance-2-0-fast-260128"]
OUTPUT_ROOT = "{{ var.value.get('seedance_output_root', '~/seedance_output').rstrip('/') }}"
RUN_STAMP = "{{ dag_run.run_after.strftime('%Y%m%dT%H%M%S') }}"

with DAG(
    dag_id="example_seedance_image_to_video",
    description="Seedance image-to-video from a first and a last frame",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "seedance"],
    render_template_as_native_obj=True,
    params={
        "prompt": Param(
            "Mona Lisa puts on sunglasses, smiles at the camera, then takes them off again",
            type="string",
            minLength=1,
            description="What happens between the two frames.",
        ),
        "first_frame_url": Param(SAMPLE_IMAGE, type="string", description="First frame: a public image URL."),
        "last_frame_url": Param(SAMPLE_IMAGE, type="string", description="Last frame: a public image URL."),
        "model": Param(MODELS[0], type="string", examples=MODELS, description="The backend's model id."),
        "duration": Param(5, type="integer", minimum=2, maximum=15, description="Seconds (AIML: 5 or 10)."),
        "aspect_ratio": Param(
            "adaptive",
            type=["null", "string"],
            enum=[None, "adaptive", "16:9", "9:16", "1:1", "4:3", "3:4", "21:9"],
            description="adaptive follows the first frame; leave empty for AIML API.",
        ),
    },
) as dag:
    SeedanceGenerateVideoOperator(
        task_id="animate",
        seedance_conn_id="seedance_default",
        model="{{ params.model }}",
        prompt="{{ params.prompt }}",
        # First frame, then last frame (a single URL animates from the first frame only).
        image_urls=["{{ params.first_frame_url }}", "{{ params.last_frame_url }}"],
        duration="{{ params.duration }}",
        aspect_ratio="{{ params.aspect_ratio }}",
        output_path=f"{OUTPUT_ROOT}/image_to_video/{RUN_STAMP}.mp4",
        deferrable=True,  # waits in the triggerer; without one, set False (polls on the worker)
    )
