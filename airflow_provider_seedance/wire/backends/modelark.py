"""BytePlus ModelArk (official) dialect: ``content[]`` bodies, ``/contents/generations/tasks``, cancel by DELETE."""

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

_TASKS = "/contents/generations/tasks"


class ModelArkBackend(Backend):
    name = "modelark"
    base_path = "/api/v3"
    default_base_url = "https://ark.ap-southeast.bytepluses.com" + base_path
    supports_cancel = True
    _status_call = ("GET", _TASKS + "/{id}")
    status_words = MappingProxyType(
        {
            "queued": "queued",
            "running": "running",
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
            "content": ("prompt", "image_urls", "video_urls", "audio_urls", "draft_generation_id"),
            "duration": ("duration",),
            "resolution": ("quality", "draft"),
            "ratio": ("aspect_ratio",),
            "generate_audio": ("generate_audio",),
            "seed": ("seed",),
            "camera_fixed": ("camera_fixed",),
            "watermark": ("watermark",),
            "return_last_frame": ("return_last_frame",),
            "service_tier": ("service_tier",),
            "callback_url": ("callback_url",),
            "execution_expires_after": ("execution_expires_after",),
            "priority": ("priority",),
            "safety_identifier": ("safety_identifier",),
            "frames": ("frames",),
            "output_format": ("output_format",),
            "omni_reference_task_type": ("omni_reference_task_type",),
            "draft": ("draft",),
        }
    )

    def content(self, request: VideoRequest) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if request.prompt:
            items.append({"type": "text", "text": request.prompt})
        if self.mode(request) == "reference":
            roles = ["reference_image"] * len(request.image_urls)
        else:
            roles = ["first_frame", "last_frame"][: len(request.image_urls)]
        for url, role in zip(request.image_urls, roles, strict=True):
            items.append({"type": "image_url", "image_url": {"url": url}, "role": role})
        for url in request.video_urls:
            items.append({"type": "video_url", "video_url": {"url": url}, "role": "reference_video"})
        for url in request.audio_urls:
            items.append({"type": "audio_url", "audio_url": {"url": url}, "role": "reference_audio"})
        if request.draft_generation_id:
            # A final render from a draft (SDK create_task_content_param.py: CreateTaskContentDraftTaskParam).
            items.append({"type": "draft_task", "draft_task": {"id": request.draft_generation_id}})
        return items

    def wire_body(self, request: VideoRequest) -> dict[str, Any]:
        body = drop_none(
            {
                "model": request.model,
                "content": self.content(request),
                "resolution": request.quality,
                "ratio": request.aspect_ratio,
                "duration": request.duration,
                "seed": request.seed,
                "camera_fixed": request.camera_fixed,
                "watermark": request.watermark,
                "generate_audio": request.generate_audio,
                "return_last_frame": request.return_last_frame,
                "service_tier": request.service_tier,
                "callback_url": request.callback_url,
                # The SDK's further create fields (byteplussdkarkruntime content_generation/tasks.py, create()).
                "execution_expires_after": request.execution_expires_after,
                "priority": request.priority,
                "safety_identifier": request.safety_identifier,
                "frames": request.frames,
                "output_format": request.output_format,
                "omni_reference_task_type": request.omni_reference_task_type,
                "draft": True if request.draft else None,
            }
        )
        if request.draft and request.quality is None:
            body["resolution"] = "480p"  # drafts render at 480p only; say so rather than rely on a default
        body.update(request.extra_params)
        return body

    def create_call(self, request: VideoRequest, idempotency_key: str | None = None) -> ApiCall:
        return ApiCall("create", "POST", _TASKS, json=self.wire_body(request))

    def cancel_call(self, generation_id: str) -> ApiCall:
        return ApiCall("cancel", "DELETE", f"{_TASKS}/{generation_id}")

    def probe_call(self) -> ApiCall:
        return ApiCall("probe", "GET", _TASKS, params={"page_num": "1", "page_size": "1"})

    def parse_generation(
        self, body: dict[str, Any], *, fallback_id: str | None = None, model: str | None = None
    ) -> Generation:
        word = body.get("status") or "queued"
        state, _ = self.state_of(word)
        error = as_dict(body.get("error"))
        return Generation(
            id=str(body.get("id") or fallback_id),
            backend="modelark",
            model=body.get("model") or model,
            state=state,
            status=str(word),
            video_url=get_path(body, "content", "video_url"),
            last_frame_url=get_path(body, "content", "last_frame_url"),
            error_code=error.get("code"),
            error_message=error.get("message"),
            # ModelArk bills in tokens: completion_tokens is this task's cost unit.
            credits=as_float(get_path(body, "usage", "completion_tokens")),
            draft=body.get("draft") if isinstance(body.get("draft"), bool) else None,
            raw=body,
        )

    def parse_error(self, body: Any, headers: dict[str, str]) -> ErrorInfo:
        error = get_path(body, "error")
        if isinstance(error, dict):
            return ErrorInfo(error.get("code"), str(error.get("message") or "error"), None)
        return ErrorInfo(None, str(body)[:8000], None)
