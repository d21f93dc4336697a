"""Seedance 2.0 reference-to-video: one new video guided by an image, a video and an audio reference.

What it shows: ``image_urls`` (character, product or style), ``video_urls`` (camera or motion) and
``audio_urls`` (music, sound, voice) in one request, with the prompt saying what each reference is for
("image 1", "video 1", "audio 1"). The provider checks the counts before any call: up to 9 images, 3 videos
and 3 audios, and audio never alone. Video references are billed by their duration too.

What it needs:
- a connection ``seedance_default`` of type ``seedance`` on EvoLink (default model
  ``seedance-2.0-fast-reference-to-video``) or BytePlus ModelArk (``dreamina-seedance-2-0-fast-260128``);
  AIML API has no reference-to-video model;
- references the backend can download over http(s). Real backends are strict: videos .mp4/.mov, 2-15 s,
  24-60 fps, 480p-1080p; audio .wav/.mp3, 2-15 s; images 300-6000 px. The defaults are AIML API's public
  sample files, to show the shape of a request; use your own media for real renders. With the offline
  emulator any URL works.
- optional Variable ``seedance_output_root`` (default ``~/seedance_output``).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, Param

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

SAMPLES = "https://raw.githubusercontent.com/aimlapi/api-docs/main/reference-files"
MODELS = [
    "seedance-2.0-fast-reference-to-video",
    "seedance-2.0-reference-to-video",
    "dreamina-seedance-2-0-fast-260128",
]
OUTPUT_ROOT = "{{ var.value.get('seedance_output_root', '~/seedance_output').rstrip('/') }}"
RUN_STAMP = "{{ dag_run.run_after.strftime('%Y%m%dT%H%M%S') }}"

with DAG(
    dag_id="example_seedance_reference_to_video",
    description="Seedance 2.0 reference-to-video with image, video and audio references",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "seedance"],
    render_template_as_native_obj=True,
    params={
        "prompt": Param(
            "The woman from image 1 walks through a sunlit gallery, using the camera movement of video 1 "
            "throughout, with audio 1 as the background music",
            type="string",
            minLength=1,
            description="Say what each reference is for: image 1, video 1, audio 1.",
        ),
        "reference_image_url": Param(f"{SAMPLES}/mona_lisa_extended.jpg", type="string"),
        "reference_video_url": Param(f"{SAMPLES}/monalisa.mp4", type="string"),
        "reference_audio_url": Param(f"{SAMPLES}/female-jazz.mp3", type="string"),
        "model": Param(MODELS[0], type="string", examples=MODELS, description="A Seedance 2.0 model id."),
        "duration": Param(5, type="integer", minimum=4, maximum=15, description="Seconds."),
        "aspect_ratio": Param("16:9", type="string", enum=["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"]),
    },
) as dag:
    SeedanceGenerateVideoOperator(
        task_id="generate",
        seedance_conn_id="seedance_default",
        model="{{ params.model }}",
        prompt="{{ params.prompt }}",
        image_urls=["{{ params.reference_image_url }}"],
        video_urls=["{{ params.reference_video_url }}"],
        audio_urls=["{{ params.reference_audio_url }}"],
        duration="{{ params.duration }}",
        aspect_ratio="{{ params.aspect_ratio }}",
        generate_audio=True,
        output_path=f"{OUTPUT_ROOT}/reference_to_video/{RUN_STAMP}.mp4",
        deferrable=True,  # waits in the triggerer; without one, set False (polls on the worker)
    )
