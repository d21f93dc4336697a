"""AIML API dialect: POST and GET /v2/video/generations for bytedance/seedance-1-0-pro-fast;
statuses queued/generating/completed|succeeded/error; errors as {message, path, requestId, ...}."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_seedance.emulator import declared as declared_models
from airflow_provider_seedance.emulator.common import (
    RATIOS,
    RESOLUTIONS,
    ApiError,
    TaskSpec,
    bad,
    check_media_url,
    check_prompt,
    check_range,
    opt_bool,
    opt_enum,
    opt_int,
    resolve_ratio,
)
from airflow_provider_seedance.emulator.declared import ModelLimits
from airflow_provider_seedance.emulator.runtime import Emulator, emulator_of, new_token
from airflow_provider_seedance.emulator.store import Phase, Task

NAME = "aimlapi"
MODEL = "bytedance/seedance-1-0-pro-fast"
PATH = "/v2/video/generations"
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
CREDITS_PER_SECOND = {"480p": 100_000, "720p": 200_000, "1080p": 400_000}
IMAGE_SCHEMES = ("http", "https", "data")
#: The body keys a declared model's limits apply to (``image_url`` and ``last_image_url`` are the frames).
PARAMS = declared_models.Params(quality="resolution", images="image_url")


def error(
    status: int,
    message: str,
    code: str | None = None,
    param: str | None = None,
    path: str = PATH,
    headers: dict[str, str] | None = None,
) -> Response:
    """An AIML API error response (code and param are not part of this format)."""
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = {
        "message": message,
        "path": path or PATH,
        "requestId": str(uuid.uuid4()),
        "statusCode": status,
        "timestamp": stamp,
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _check_frame_urls(body: dict[str, Any]) -> tuple[Any, Any]:
    """image_url (first frame) and last_image_url: valid URLs, and no last frame without a first."""
    image = body.get("image_url")
    last = body.get("last_image_url")
    if image is not None:
        check_media_url(image, "image_url", IMAGE_SCHEMES)
    if last is not None:
        check_media_url(last, "last_image_url", IMAGE_SCHEMES)
        if image is None:
            raise bad("last_image_url requires image_url (the first frame)", "last_image_url")
    return image, last


def _check_params(body: dict[str, Any]) -> tuple[str, int, str, bool]:
    """Seedance 1.0 pro fast: 5 or 10 s, 16:9, no audio; (resolution, duration, ratio, audio)."""
    resolution = opt_enum(body, "resolution", RESOLUTIONS, "1080p") or "1080p"
    duration = opt_int(body, "duration", 5, allow_str=True) or 0
    if duration not in (5, 10):
        raise bad(f"duration must be one of 5, 10; got {body.get('duration')!r}", "duration")
    return resolution, duration, "16:9", False


def _check_declared(body: dict[str, Any], limits: ModelLimits, frames: int) -> tuple[str, int, str, bool]:
    """A declared model: its declaration's limits instead of 1.0 pro fast's; (resolution, duration, ratio, audio)."""
    asked = declared_models.Asked(
        duration=opt_int(body, "duration", allow_str=True),
        quality=opt_enum(body, "resolution", RESOLUTIONS, None),
        ratio=opt_enum(body, "aspect_ratio", (*RATIOS, "adaptive", "keep_ratio"), None),
        images=frames,
    )
    granted = declared_models.check(limits, asked, PARAMS, quality="1080p")
    audio = declared_models.audio(limits, opt_bool(body, "generate_audio"))
    return granted.quality, granted.duration, granted.ratio, audio


def validate(body: dict[str, Any], declared: Mapping[str, ModelLimits] | None = None) -> TaskSpec:
    """Check a create request against the AIML API schema, or a declared model's limits."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad("model is required", "model")
    limits = (declared or {}).get(model)
    if model != MODEL and limits is None:
        supported = ", ".join([MODEL, *(m for m in declared or {} if m != MODEL)])
        raise bad(f"Invalid model {model!r} for this endpoint; supported: {supported}", "model")
    # The AIML schema sets no maxLength; a declaration may.
    prompt, directives = check_prompt(body.get("prompt"), max_chars=limits.prompt_max if limits else None)
    image, last = _check_frame_urls(body)
    if limits is not None:
        resolution, duration, ratio, audio = _check_declared(body, limits, (image is not None) + (last is not None))
    else:
        resolution, duration, ratio, audio = _check_params(body)
    for key in ("watermark", "camerafixed"):
        opt_bool(body, key)
    seed = opt_int(body, "seed")
    if seed is not None:
        check_range(seed, "seed", -1, 2**32 - 1)
    extra = {
        "image_url": image,
        "last_image_url": last,
        "watermark": bool(body.get("watermark")),
        "camerafixed": bool(body.get("camerafixed")),
    }
    return TaskSpec(
        model=model,
        prompt=prompt,
        duration=duration,
        ratio=resolve_ratio(ratio),
        resolution=resolution,
        generate_audio=audio,
        seed=seed,
        directives=directives,
        extra=extra,
    )


def credits(task: Task) -> int:
    return task.spec.duration * CREDITS_PER_SECOND.get(task.spec.resolution, 400_000)


def task_json(emu: Emulator, request: Request, task: Task) -> dict[str, Any]:
    """The AIML generation object at this instant."""
    view = emu.store.view(task)
    status = {
        Phase.QUEUED: "queued",
        Phase.RUNNING: "generating",
        Phase.SUCCEEDED: emu.config.aiml_success_word,
    }.get(view.phase, "error")
    video = None
    failure = None
    used = credits(task)
    if view.phase is Phase.SUCCEEDED and view.finished_unix is not None:
        video = {"url": emu.file_url(request, task, view.finished_unix)}
    elif view.phase is Phase.FAILED:
        code = task.spec.directives.fail_code or "service_error"
        failure = {"name": code, "message": f"Video generation failed: {code}"}
    elif view.phase is Phase.EXPIRED:
        failure = {"name": "generation_timeout", "message": "Video generation timed out"}
    elif view.phase is Phase.CANCELLED:
        failure = {"name": "cancelled", "message": "The generation was cancelled"}
    if failure is not None:
        used = 0
    return {
        "id": task.id,
        "status": status,
        "video": video,
        "error": failure,
        "meta": {"usage": {"credits_used": used}},
    }


async def create(request: Request) -> Response:
    emu = emulator_of(request)
    try:
        emu.authenticate(request)
        spec = validate(await emu.json_body(request), emu.declared(NAME))
        task = emu.store.create(new_token(21, ID_ALPHABET), NAME, spec)
        emu.set_ctx(request, task_id=task.id)
        return JSONResponse({"id": task.id, "status": "queued", "meta": {"usage": {"credits_used": credits(task)}}})
    except ApiError as exc:
        return error(exc.status, exc.message, path=request.url.path)


async def get_generation(request: Request) -> Response:
    emu = emulator_of(request)
    task_id = request.query_params.get("generation_id", "")
    emu.set_ctx(request, task_id=task_id or None)
    try:
        emu.authenticate(request)
        if not task_id:
            raise bad("generation_id query parameter is required", "generation_id")
        task = emu.store.get(task_id, NAME)
        if task is None:
            raise ApiError(404, f"Generation {task_id} not found")
        return JSONResponse(task_json(emu, request, task))
    except ApiError as exc:
        return error(exc.status, exc.message, path=request.url.path)


def routes() -> list[Route]:
    return [
        Route(PATH, create, methods=["POST"]),
        Route(PATH, get_generation, methods=["GET"]),
    ]
