"""AIML API dialect: ``POST /v2/video/generations``, ``GET /v2/video/generations?generation_id=``; no cancel."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from airflow_provider_seedance.models import Generation, VideoRequest
from airflow_provider_seedance.wire.backends.base import (
    ApiCall,
    Backend,
    ErrorInfo,
    as_dict,
    as_float,
    drop_none,
    get_path,
)

_PATH = "/v2/video/generations"


class AimlApiBackend(Backend):
    name = "aimlapi"
    default_base_url = "https://api.aimlapi.com"
    # The status endpoint answers 404 (or 400) for an unknown id once the key was accepted.
    probe_ok_statuses = frozenset({200, 400, 404})
    # Documented enum plus "succeeded", which the vendor's own example returns.
    status_words = MappingProxyType(
        {
            "queued": "queued",
            "pending": "queued",
            "generating": "running",
            "processing": "running",
            "completed": "succeeded",
            "succeeded": "succeeded",
            "success": "succeeded",
            "error": "failed",
            "failed": "failed",
        }
    )
    reserved_body_keys = MappingProxyType(
        {
            "model": ("model",),
            "prompt": ("prompt",),
            "image_url": ("image_urls",),
            "last_image_url": ("image_urls",),
            "duration": ("duration",),
            "resolution": ("quality",),
            "aspect_ratio": ("aspect_ratio",),
            "generate_audio": ("generate_audio",),
            "seed": ("seed",),
            "camerafixed": ("camera_fixed",),
            "watermark": ("watermark",),
        }
    )

    def wire_body(self, request: VideoRequest) -> dict[str, Any]:
        images = request.image_urls
        body = drop_none(
            {
                "model": request.model,
                "prompt": request.prompt,
                "image_url": images[0] if images else None,
                "last_image_url": images[1] if len(images) > 1 else None,
                "resolution": request.quality,
                "duration": request.duration,
                "aspect_ratio": request.aspect_ratio,
                "generate_audio": request.generate_audio,
                "watermark": request.watermark,
                "seed": request.seed,
                "camerafixed": request.camera_fixed,
            }
        )
        body.update(request.extra_params)
        return body

    def create_call(self, request: VideoRequest, idempotency_key: str | None = None) -> ApiCall:
        # AIML API has no idempotency key: the hook never retries this POST once it may have been sent.
        return ApiCall("create", "POST", _PATH, json=self.wire_body(request))

    def status_call(self, generation_id: str) -> ApiCall:
        return ApiCall("poll", "GET", _PATH, params={"generation_id": generation_id})

    def probe_call(self) -> ApiCall:
        return ApiCall("probe", "GET", _PATH, params={"generation_id": "airflow-connection-test"})

    def parse_generation(
        self, body: dict[str, Any], *, fallback_id: str | None = None, model: str | None = None
    ) -> Generation:
        word = body.get("status") or "queued"
        state, _ = self.state_of(word)
        error = as_dict(body.get("error"))
        return Generation(
            id=str(body.get("id") or body.get("generation_id") or fallback_id),
            backend="aimlapi",
            model=body.get("model") or model,
            state=state,
            status=str(word),
            video_url=get_path(body, "video", "url"),
            error_code=error.get("name") or error.get("code"),
            error_message=error.get("message"),
            credits=as_float(get_path(body, "meta", "usage", "credits_used")),
            raw=body,
        )

    def is_error_body(self, body: dict[str, Any]) -> bool:
        return "message" in body or "statusCode" in body

    def parse_error(self, body: Any, headers: dict[str, str]) -> ErrorInfo:
        if not isinstance(body, dict):
            return ErrorInfo(None, str(body)[:8000], None)
        message = body.get("message") or get_path(body, "error", "message") or "error"
        if isinstance(message, list):
            message = "; ".join(str(m) for m in message)
        code = body.get("error") if isinstance(body.get("error"), str) else get_path(body, "error", "name")
        return ErrorInfo(code, str(message), body.get("requestId"))
