"""Typed boundaries: the trigger's event and the operator's XCom result, as pydantic models.

The worker validates every trigger event against the closed set of statuses below before acting on it; an
event's fields this version lacks (from a newer triggerer, mid-upgrade) are ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from airflow_provider_seedance.contract.failover import FallbackAttempt
from airflow_provider_seedance.models import Generation

EventStatus = Literal["success", "failed", "timeout", "error"]


class GenerationEvent(BaseModel):
    """The one event a ``SeedanceGenerationTrigger`` yields.

    Fields this version does not know are ignored (the status stays a closed set): during a rolling upgrade a
    newer triggerer's event reaches an older worker, and a field added there must not fail the task."""

    model_config = ConfigDict(extra="ignore")

    status: EventStatus
    generation_id: str
    message: str
    generation: Generation | None = None
    polls: int = 0
    elapsed_s: float | None = None
    #: On success: how long the render took as polling saw it (midway between the last two polls).
    render_s: float | None = None
    #: For ``error``: whether an Airflow retry can help (False for a bad key or an unknown id).
    retryable: bool | None = None
    #: The task's deadline (Unix time) the trigger polled against; the video's transfer must end by then.
    deadline: float | None = None


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
    #: The connection that rendered (``backend`` and ``model`` are its), and each one that surely refused
    #: the create before it (``fallback_conn_ids``), in order.
    seedance_conn_id: str | None = None
    attempts: list[FallbackAttempt] = []
    quality: str | None = None
    service_tier: str | None = None
    #: How long the render took as polling saw it (``elapsed_s`` is when the task saw it end: later).
    render_s: float | None = None
    #: Render times of the same backend and spec that earlier runs of this task left (oldest first), which
    #: this one's polling started from; with ``render_s``, what the next run reads (``_run_history``).
    render_history: list[float] | None = None

    def to_xcom(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
