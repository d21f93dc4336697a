"""EvoLink dialect: POST /v1/videos/generations (Seedance 1.0 pro fast and the six 2.0 models),
GET /v1/tasks/{task_id}; Idempotency-Key replay; errors as {"error": {code, message, type}}."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
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
    check_callback_url,
    check_prompt,
    check_range,
    opt_bool,
    opt_enum,
    opt_int,
    resolve_ratio,
    url_list,
)
from airflow_provider_seedance.emulator.declared import ModelLimits
from airflow_provider_seedance.emulator.runtime import Emulator, emulator_of, fingerprint, new_token
from airflow_provider_seedance.emulator.store import Phase, Task

NAME = "evolink"
MODEL_10 = "doubao-seedance-1.0-pro-fast"
# model -> (mode, fast)
MODELS_20: dict[str, tuple[str, bool]] = {
    "seedance-2.0-text-to-video": ("text", False),
    "seedance-2.0-image-to-video": ("image", False),
    "seedance-2.0-reference-to-video": ("reference", False),
    "seedance-2.0-fast-text-to-video": ("text", True),
    "seedance-2.0-fast-image-to-video": ("image", True),
    "seedance-2.0-fast-reference-to-video": ("reference", True),
}
MODELS = (MODEL_10, *MODELS_20)
# Prompt caps the docs set: maxLength 2000 on 1.0 pro fast. The 2.0 docs only recommend a length (500
# Chinese characters or 1000 English words), so no cap is applied there.
PROMPT_MAX_CHARS: dict[str, int] = {MODEL_10: 2000}
# Image schemes: the 2.0 docs allow base64 images ("do not use Base64 encoding for large files"); the 1.0 docs
# describe only downloadable URLs.
IMAGE_SCHEMES_10 = ("http", "https")
IMAGE_SCHEMES_20 = ("http", "https", "data")
STATUS = {
    Phase.QUEUED: "pending",
    Phase.RUNNING: "processing",
    Phase.SUCCEEDED: "completed",
    Phase.FAILED: "failed",
    Phase.EXPIRED: "failed",
    Phase.CANCELLED: "cancelled",
}
ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request", "invalid_request_error"),
    401: ("unauthorized", "authentication_error"),
    402: ("insufficient_quota", "insufficient_quota"),
    403: ("model_access_denied", "invalid_request_error"),
    404: ("resource_not_found", "invalid_request_error"),
    409: ("idempotency_conflict", "invalid_request_error"),
    429: ("rate_limit_exceeded", "rate_limit_error"),
    500: ("internal_error", "api_error"),
    502: ("service_unavailable", "api_error"),
    503: ("service_unavailable", "api_error"),
}
PERMANENT_CODES = ("content_policy_violation", "invalid_parameters", "image_dimension_mismatch", "resource_not_found")
FAILURE_MESSAGES = {
    "content_policy_violation": "The generated content was flagged by the content safety system",
    "generation_timeout": "Video generation timed out",
    "service_error": "The upstream generation service failed",
}
CREDITS_PER_SECOND = {"480p": 4, "720p": 10, "1080p": 20}


def error(
    status: int,
    message: str,
    code: str | None = None,
    param: str | None = None,
    path: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    """An EvoLink error response."""
    default_code, kind = ERRORS.get(status, ("internal_error", "api_error"))
    body = {"error": {"code": code or default_code, "message": message, "type": kind}}
    return JSONResponse(body, status_code=status, headers=headers)


def _unsupported(body: dict[str, Any], key: str, model: str) -> None:
    if body.get(key) not in (None, []):
        raise bad(f"{key} is not supported by model {model}", key)


def _check_model(body: dict[str, Any], declared: Mapping[str, ModelLimits]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad("model is required", "model")
    if model not in MODELS and model not in declared:
        supported = ", ".join([*MODELS, *(m for m in declared if m not in MODELS)])
        raise bad(f"Unsupported model {model!r}; supported models: {supported}", "model")
    return model


def _check_web_search(body: dict[str, Any]) -> Any:
    """model_params must be an object and its web_search a boolean; returns web_search (None if absent)."""
    params = body.get("model_params")
    if params is not None and not isinstance(params, dict):
        raise bad("model_params must be an object", "model_params")
    web_search = (params or {}).get("web_search")
    if web_search is not None and not isinstance(web_search, bool):
        raise bad("model_params.web_search must be a boolean", "model_params.web_search")
    return web_search


def _web_search_refused() -> ApiError:
    return bad("model_params.web_search is only supported by text-to-video models", "model_params.web_search")


def _check_params_10(
    body: dict[str, Any], model: str, images: list[str], web_search: Any
) -> tuple[int, str, str, bool]:
    """Seedance 1.0 pro fast: duration 2-12, one image at most, no video/audio; (duration, quality, ratio, audio)."""
    duration = check_range(opt_int(body, "duration", 5) or 0, "duration", 2, 12)
    quality = opt_enum(body, "quality", RESOLUTIONS, "1080p") or "1080p"
    if len(images) > 1:
        raise bad(f"{model} accepts at most 1 image in image_urls, got {len(images)}", "image_urls")
    for key in ("video_urls", "audio_urls", "generate_audio"):
        _unsupported(body, key, model)
    if web_search is not None:
        raise _web_search_refused()
    ratios = (*RATIOS, "keep_ratio", "adaptive") if images else RATIOS
    ratio = opt_enum(body, "aspect_ratio", ratios, "adaptive" if images else "16:9") or "16:9"
    return duration, quality, ratio, False


def _check_params_20(
    body: dict[str, Any], model: str, materials: tuple[list[str], list[str], list[str]], web_search: Any
) -> tuple[int, str, str, bool]:
    """Seedance 2.0: duration 4-15, no 1080p on fast models, materials per mode; (duration, quality, ratio, audio)."""
    mode, fast = MODELS_20[model]
    duration = check_range(opt_int(body, "duration", 5) or 0, "duration", 4, 15)
    quality = opt_enum(body, "quality", RESOLUTIONS, "720p") or "720p"
    if fast and quality == "1080p":
        raise bad(f"1080p is not supported by the fast model {model}; use 480p or 720p", "quality")
    ratio = opt_enum(body, "aspect_ratio", (*RATIOS, "adaptive"), "16:9") or "16:9"
    audio = bool(opt_bool(body, "generate_audio", True))
    _check_materials(model, mode, *materials)
    if web_search is not None and mode != "text":
        raise _web_search_refused()
    return duration, quality, ratio, audio


def _check_params_declared(
    body: dict[str, Any], limits: ModelLimits, materials: tuple[list[str], list[str], list[str]], web_search: Any
) -> tuple[int, str, str, bool]:
    """A declared model: its declaration's limits instead of a family's; (duration, quality, ratio, audio)."""
    images, videos, audios = materials
    asked = declared_models.Asked(
        duration=opt_int(body, "duration"),
        quality=opt_enum(body, "quality", RESOLUTIONS, None),
        ratio=opt_enum(body, "aspect_ratio", (*RATIOS, "adaptive", "keep_ratio"), None),
        images=len(images),
        videos=len(videos),
        audios=len(audios),
    )
    granted = declared_models.check(limits, asked, declared_models.Params())
    if web_search is not None and granted.mode != "text":
        raise _web_search_refused()
    audio = declared_models.audio(limits, opt_bool(body, "generate_audio"))
    return granted.duration, granted.quality, granted.ratio, audio


def validate(body: dict[str, Any], declared: Mapping[str, ModelLimits] | None = None) -> TaskSpec:
    """Check a create request against the EvoLink docs, or a declared model's limits; return the normalised spec."""
    model = _check_model(body, declared or {})
    limits = (declared or {}).get(model)
    max_chars = PROMPT_MAX_CHARS.get(model) if limits is None else limits.prompt_max
    prompt, directives = check_prompt(body.get("prompt"), max_chars=max_chars)
    schemes = IMAGE_SCHEMES_10 if model == MODEL_10 and limits is None else IMAGE_SCHEMES_20
    images = url_list(body, "image_urls", schemes)
    videos = url_list(body, "video_urls")
    audios = url_list(body, "audio_urls")
    callback = check_callback_url(body.get("callback_url"))
    web_search = _check_web_search(body)
    if limits is not None:
        duration, quality, ratio, audio = _check_params_declared(body, limits, (images, videos, audios), web_search)
    elif model == MODEL_10:
        duration, quality, ratio, audio = _check_params_10(body, model, images, web_search)
    else:
        duration, quality, ratio, audio = _check_params_20(body, model, (images, videos, audios), web_search)
    extra = {
        "requested_ratio": ratio,
        "callback_url": callback,
        "image_urls": images,
        "video_urls": videos,
        "audio_urls": audios,
        "web_search": bool(web_search),
    }
    return TaskSpec(
        model=model,
        prompt=prompt,
        duration=duration,
        ratio=resolve_ratio(ratio),
        resolution=quality,
        generate_audio=audio,
        directives=directives,
        extra=extra,
    )


def _check_materials(model: str, mode: str, images: list[str], videos: list[str], audios: list[str]) -> None:
    if mode != "reference" and (videos or audios):
        key = "video_urls" if videos else "audio_urls"
        raise bad(f"{key} is only supported by the reference-to-video models, not {model}", key)
    if mode == "text" and images:
        raise bad(f"{model} is text-to-video and does not accept image_urls", "image_urls")
    if mode == "image" and not 1 <= len(images) <= 2:
        raise bad(f"{model} requires 1-2 images in image_urls, got {len(images)}", "image_urls")
    if mode == "reference":
        for key, items, limit in (("image_urls", images, 9), ("video_urls", videos, 3), ("audio_urls", audios, 3)):
            if len(items) > limit:
                raise bad(f"{model} accepts at most {limit} items in {key}, got {len(items)}", key)
        if audios and not images and not videos:
            raise bad("audio_urls cannot be provided alone; include at least one image or video", "audio_urls")


def credits(task: Task) -> int:
    return task.spec.duration * CREDITS_PER_SECOND.get(task.spec.resolution, 10)


def task_json(emu: Emulator, request: Request, task: Task) -> dict[str, Any]:
    """The EvoLink task object at this instant."""
    view = emu.store.view(task)
    reserved = credits(task)
    usage: dict[str, Any] = {
        "billing_rule": "per_call" if task.spec.model == MODEL_10 else "per_second",
        "credits_reserved": reserved,
        "user_group": "default",
    }
    body: dict[str, Any] = {
        "created": int(task.created_unix),
        "id": task.id,
        "model": task.spec.model,
        "object": "video.generation.task",
        "progress": view.progress,
        "status": STATUS[view.phase],
        "task_info": {
            "can_cancel": view.phase is Phase.QUEUED,
            "estimated_time": task.estimated_time,
            "video_duration": task.spec.duration,
        },
        "type": "video",
        "usage": usage,
    }
    if view.phase is Phase.SUCCEEDED and view.finished_unix is not None:
        body["results"] = [emu.file_url(request, task, view.finished_unix)]
        usage["credits_used"] = reserved
    elif view.phase in (Phase.FAILED, Phase.EXPIRED):
        code = "generation_timeout" if view.phase is Phase.EXPIRED else task.spec.directives.fail_code or ""
        kind = "invalid_request_error" if code in PERMANENT_CODES else "api_error"
        message = FAILURE_MESSAGES.get(code, f"Video generation failed: {code}")
        body["error"] = {"code": code, "message": message, "type": kind}
        usage["credits_used"] = 0
    elif view.phase is Phase.CANCELLED:
        usage["credits_used"] = 0
    return body


async def create(request: Request) -> Response:
    emu = emulator_of(request)
    try:
        token = emu.authenticate(request)
        body = await emu.json_body(request)
        key = request.headers.get("idempotency-key", "").strip()
        scope = "evolink:" + hashlib.sha256(token.encode()).hexdigest()[:16]
        digest = fingerprint(body)
        if key:
            known = emu.store.lookup_key(scope, key)
            if known is not None:
                previous = emu.store.get(known[1], NAME)
                if known[0] != digest:
                    raise ApiError(
                        409,
                        "Idempotency-Key was already used with a different request body",
                        code="idempotency_conflict",
                    )
                if previous is not None:
                    emu.set_ctx(request, task_id=previous.id, idempotency_replayed=True)
                    return JSONResponse(task_json(emu, request, previous), headers={"idempotency-replayed": "true"})
        spec = validate(body, emu.declared(NAME))
        task_id = f"task-unified-{int(emu.store.unix())}-{new_token(8)}"
        task = emu.store.create(task_id, NAME, spec)
        if key:
            emu.store.remember_key(scope, key, digest, task.id)
        emu.set_ctx(request, task_id=task.id)
        return JSONResponse(task_json(emu, request, task))
    except ApiError as exc:
        return error(exc.status, exc.message, exc.code, exc.param)


async def get_task(request: Request) -> Response:
    emu = emulator_of(request)
    task_id = request.path_params["task_id"]
    emu.set_ctx(request, task_id=task_id)
    try:
        emu.authenticate(request)
        task = emu.store.get(task_id, NAME)
        if task is None:
            raise ApiError(404, f"Task not found: {task_id}", code="resource_not_found")
        return JSONResponse(task_json(emu, request, task))
    except ApiError as exc:
        return error(exc.status, exc.message, exc.code, exc.param)


def routes() -> list[Route]:
    return [
        Route("/v1/videos/generations", create, methods=["POST"]),
        Route("/v1/tasks/{task_id}", get_task, methods=["GET"]),
    ]
