"""EvoLink dialect: ``POST /v1/videos/generations``, ``GET /v1/tasks/{id}``, ``Idempotency-Key``, no cancel."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from airflow_provider_seedance.models import Generation, VideoRequest
from airflow_provider_seedance.wire._rules import IDEMPOTENCY_HEADER
from airflow_provider_seedance.wire.backends.base import (
    ApiCall,
    Backend,
    ErrorInfo,
    as_dict,
    as_float,
    as_int,
    drop_none,
    get_path,
)

_PROBE_ID = "task-airflow-connection-test"


class EvoLinkBackend(Backend):
    name = "evolink"
    default_base_url = "https://api.evolink.ai"
    supports_idempotency = True
    # An unknown task id answers 404 only once the key was accepted; a bad key answers 401.
    probe_ok_statuses = frozenset({200, 404})
    _status_call = ("GET", "/v1/tasks/{id}")
    # OpenAPI enum plus "cancelled" seen from the vendor's client code.
    status_words = MappingProxyType(
        {
            "pending": "queued",
            "queued": "queued",
            "processing": "running",
            "running": "running",
            "completed": "succeeded",
            "succeeded": "succeeded",
            "failed": "failed",
            "cancelled": "cancelled",
            "canceled": "cancelled",
            "expired": "expired",
        }
    )
    reserved_body_keys = MappingProxyType(
        {
            "model": ("model",),
            "prompt": ("prompt",),
            "image_urls": ("image_urls",),
            "video_urls": ("video_urls",),
            "audio_urls": ("audio_urls",),
            "duration": ("duration",),
            "quality": ("quality",),
            "aspect_ratio": ("aspect_ratio",),
            "generate_audio": ("generate_audio",),
            "model_params": ("web_search",),
            "callback_url": ("callback_url",),
        }
    )

    def wire_body(self, request: VideoRequest) -> dict[str, Any]:
        body = drop_none(
            {
                "model": request.model,
                "prompt": request.prompt,
                "image_urls": list(request.image_urls) or None,
                "video_urls": list(request.video_urls) or None,
                "audio_urls": list(request.audio_urls) or None,
                "duration": request.duration,
                "quality": request.quality,
                "aspect_ratio": request.aspect_ratio,
                "generate_audio": request.generate_audio,
                "callback_url": request.callback_url,
            }
        )
        if request.web_search is not None:
            body["model_params"] = {"web_search": request.web_search}
        body.update(request.extra_params)
        return body

    def create_call(self, request: VideoRequest, idempotency_key: str | None = None) -> ApiCall:
        headers = {IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key else {}
        return ApiCall("create", "POST", "/v1/videos/generations", json=self.wire_body(request), headers=headers)

    def probe_call(self) -> ApiCall:
        return ApiCall("probe", "GET", f"/v1/tasks/{_PROBE_ID}")

    def parse_generation(
        self, body: dict[str, Any], *, fallback_id: str | None = None, model: str | None = None
    ) -> Generation:
        word = body.get("status") or "pending"
        state, _ = self.state_of(word)
        results = body.get("results")
        video_url = results[0] if isinstance(results, list) and results else None
        error = as_dict(body.get("error"))
        credits = as_float(get_path(body, "usage", "credits_used"))
        if credits is None and state == "succeeded":
            credits = as_float(get_path(body, "usage", "credits_reserved"))
        return Generation(
            id=str(body.get("id") or fallback_id),
            backend="evolink",
            model=body.get("model") or model,
            state=state,
            status=str(word),
            progress=as_int(body.get("progress")),
            video_url=video_url,
            error_code=error.get("code"),
            error_message=error.get("message"),
            credits=credits,
            estimated_time_s=as_float(get_path(body, "task_info", "estimated_time")),
            raw=body,
        )

    def is_error_body(self, body: dict[str, Any]) -> bool:
        return isinstance(body.get("error"), dict)

    def parse_error(self, body: Any, headers: dict[str, str]) -> ErrorInfo:
        error = get_path(body, "error")
        if isinstance(error, dict):
            return ErrorInfo(error.get("code"), str(error.get("message") or error.get("type") or "error"), None)
        return ErrorInfo(None, str(body)[:8000], None)
