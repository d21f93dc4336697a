"""Typed boundaries: the trigger's event and the operator's XCom result, as pydantic models.

The worker validates every trigger event against the closed set of statuses below before acting on it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from airflow_provider_seedance.models import Generation

EventStatus = Literal["success", "failed", "timeout", "error"]


class GenerationEvent(BaseModel):
    """The one event a ``SeedanceGenerationTrigger`` yields."""

    model_config = ConfigDict(extra="forbid")

    status: EventStatus
    generation_id: str
    message: str
    generation: Generation | None = None
    polls: int = 0
    elapsed_s: float | None = None
    #: For ``error``: whether an Airflow retry can help (False for a bad key or an unknown id).
    retryable: bool | None = None


class VideoResult(BaseModel):
    """What ``SeedanceGenerateVideoOperator`` and ``SeedanceGenerationSensor`` return (pushed to XCom)."""

    model_config = ConfigDict(extra="forbid")

    generation_id: str
    backend: str
    model: str | None
    status: str
    video_url: str | None
    last_frame_url: str | None = None
    output_path: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    credits: float | None = None
    elapsed_s: float | None = None
    prompt: str | None = None
    duration: int | None = None
    aspect_ratio: str | None = None
    #: Whether this was a draft render (cheap, 480p): its ``generation_id`` is what a final's
    #: ``draft_generation_id`` takes.
    draft: bool = False

    def to_xcom(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
