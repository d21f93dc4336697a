"""The BytePlus ModelArk create fields beyond the common vocabulary (vendor expiry, priority, safety id, frames,
output format, drafts): their documented limits, where each limit comes from, and the checks that apply them.

Pure: no Airflow, no I/O. ``limits.validate_request`` calls ``check_vendor_fields`` after the per-model field
check, so a field reaching here is one the model accepts.

Sources: the vendor SDK ``byteplus-python-sdk-v2`` 3.0.63, ``byteplussdkarkruntime/resources/content_generation/
tasks.py`` (``Tasks.create``: every body key, with its type) and ``types/content_generation/
create_task_content_param.py`` (the ``draft_task`` content item); the API reference
https://docs.byteplus.com/en/docs/ModelArk/1520757 (Create a video generation task: the bounds below).
"""

from __future__ import annotations

import math

from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.models import VideoRequest

#: ``execution_expires_after``: seconds after submission at which the vendor expires an unfinished task
#: (status ``expired``, not billed); default 172800 (48 h), range [3600, 259200] (docs.byteplus.com ModelArk/1520757).
EXPIRY_MIN_S = 3600
EXPIRY_MAX_S = 259_200
#: ``frames``: an alternative to ``duration`` (24 fps) for Seedance 1.0 models: 25 + 4n, within [29, 289]
#: (docs.byteplus.com ModelArk/1520757, "duration / frames"; not supported by 1.5 pro and 2.0).
FRAMES_MIN, FRAMES_MAX = 29, 289
#: Drafts render at 480p only, without a last frame, and not on the flex tier (docs.byteplus.com
#: ModelArk/1520757, ``draft``).
DRAFT_QUALITY = "480p"
#: What a final render from a draft takes from the draft, so it must not be given again (docs.byteplus.com
#: ModelArk/1520757, ``draft_task``: model, text, images, generate_audio, seed, ratio, duration, camera_fixed).
FROM_DRAFT = (
    "prompt",
    "image_urls",
    "video_urls",
    "audio_urls",
    "duration",
    "frames",
    "aspect_ratio",
    "seed",
    "camera_fixed",
    "generate_audio",
)

#: Each ModelArk-only field with its limit in words: the message when another backend is asked for it.
VENDOR_FIELD_LIMITS: dict[str, str] = {
    "execution_expires_after": f"whole seconds, {EXPIRY_MIN_S}-{EXPIRY_MAX_S}",
    "priority": "a whole number (the SDK documents no range)",
    "safety_identifier": "a non-empty end-user id (a hash, never personal data)",
    "frames": f"25 + 4n frames, {FRAMES_MIN}-{FRAMES_MAX}, instead of duration (Seedance 1.0 models)",
    "output_format": "a container name such as mp4 (the SDK documents no value list)",
    "omni_reference_task_type": "a non-empty task type name (the SDK documents no value list)",
    "draft": "a 480p draft render, on the models whose docs offer drafts (Seedance 1.5 pro)",
    "draft_generation_id": "the generation id of a succeeded draft (Seedance 1.5 pro)",
}


def expiry_for(seconds_left: float) -> int:
    """The ``execution_expires_after`` that makes the vendor give up when we do: the time left until our
    deadline, within the API's bounds (it cannot expire sooner than an hour)."""
    return max(EXPIRY_MIN_S, min(EXPIRY_MAX_S, math.ceil(seconds_left)))


def check_vendor_fields(request: VideoRequest, *, drafts_allowed: bool) -> None:
    """Raise ``SeedanceValidationError`` naming the field and its limit on the first value out of bounds."""
    model = request.model
    expiry = request.execution_expires_after
    if expiry is not None and not EXPIRY_MIN_S <= expiry <= EXPIRY_MAX_S:
        raise SeedanceValidationError(
            "execution_expires_after", expiry, f"must be {EXPIRY_MIN_S}-{EXPIRY_MAX_S} seconds", model=model
        )
    for name in ("safety_identifier", "output_format", "omni_reference_task_type", "draft_generation_id"):
        value = getattr(request, name)
        if value is not None and not value.strip():
            raise SeedanceValidationError(name, value, "must not be blank", model=model)
    _check_frames(request)
    _check_draft(request, drafts_allowed)
    _check_final_from_draft(request, drafts_allowed)


def _check_frames(request: VideoRequest) -> None:
    frames = request.frames
    if frames is None:
        return
    if not FRAMES_MIN <= frames <= FRAMES_MAX or (frames - 25) % 4:
        raise SeedanceValidationError(
            "frames", frames, f"must be 25 + 4n within {FRAMES_MIN}-{FRAMES_MAX} (29, 33, ... 289)", model=request.model
        )
    if request.duration is not None:
        raise SeedanceValidationError(
            "frames", frames, "give frames or duration, not both (frames wins on ModelArk)", model=request.model
        )


def _check_draft(request: VideoRequest, drafts_allowed: bool) -> None:
    if not request.draft:
        return
    model = request.model
    if not drafts_allowed:
        raise SeedanceValidationError(
            "draft", True, "this model offers no draft renders (Seedance 1.5 pro does)", model=model
        )
    if request.draft_generation_id:
        raise SeedanceValidationError(
            "draft", True, "a render is either a draft or a final from draft_generation_id, not both", model=model
        )
    if request.quality not in (None, DRAFT_QUALITY):
        raise SeedanceValidationError("quality", request.quality, "a draft renders at 480p only", model=model)
    if request.return_last_frame:
        raise SeedanceValidationError("return_last_frame", True, "a draft returns no last frame", model=model)
    if request.service_tier == "flex":
        raise SeedanceValidationError("service_tier", "flex", "a draft cannot run on the flex tier", model=model)


def _check_final_from_draft(request: VideoRequest, drafts_allowed: bool) -> None:
    if request.draft_generation_id is None:
        return
    model = request.model
    if not drafts_allowed:
        raise SeedanceValidationError(
            "draft_generation_id",
            request.draft_generation_id,
            "this model offers no draft renders (Seedance 1.5 pro does)",
            model=model,
        )
    for name in FROM_DRAFT:
        value = getattr(request, name)
        if value not in (None, (), ""):
            raise SeedanceValidationError(
                name,
                list(value) if isinstance(value, tuple) else value,
                "a final render from draft_generation_id takes it from the draft; leave it out",
                model=model,
            )
