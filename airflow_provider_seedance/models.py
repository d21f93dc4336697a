"""The user-facing request (one vocabulary for every backend) and the normalized ``Generation``.

Pure data: no Airflow, no I/O. Backends translate ``VideoRequest`` to their wire body and their answers
to ``Generation``; the limits per model live in ``contract/limits.py``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from airflow_provider_seedance.contract._vendor_text import scrub, scrub_optional

BackendName = Literal["evolink", "aimlapi", "modelark"]
BACKENDS: tuple[BackendName, ...] = ("evolink", "aimlapi", "modelark")

Quality = Literal["480p", "720p", "1080p"]
ServiceTier = Literal["default", "flex"]

#: Normalized lifecycle of a generation, the same for every backend.
GenerationState = Literal["queued", "running", "succeeded", "failed", "cancelled", "expired"]
ACTIVE_STATES: frozenset[str] = frozenset({"queued", "running"})
TERMINAL_STATES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "expired"})


class VideoRequest(BaseModel):
    """One video generation, described the same way whatever the backend.

    ``model`` is the backend's own model id. ``image_urls`` are first then last frame for
    image-to-video, or references for reference-to-video. ``extra_params`` is merged into the wire body
    untouched, for API fields this provider does not know yet.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    prompt: str = ""
    image_urls: tuple[str, ...] = ()
    video_urls: tuple[str, ...] = ()
    audio_urls: tuple[str, ...] = ()
    duration: int | None = None
    quality: str | None = None
    aspect_ratio: str | None = None
    generate_audio: bool | None = None
    seed: int | None = None
    camera_fixed: bool | None = None
    watermark: bool | None = None
    web_search: bool | None = None
    return_last_frame: bool | None = None
    service_tier: str | None = None
    callback_url: str | None = None
    #: ModelArk-only fields (``byteplussdkarkruntime`` ``content_generation.tasks.create``; limits in
    #: ``contract/limits.py``).
    execution_expires_after: int | None = None
    priority: int | None = None
    safety_identifier: str | None = None
    frames: int | None = None
    output_format: str | None = None
    omni_reference_task_type: str | None = None
    #: A cheap 480p draft render (``draft``), or a final render from a reviewed draft's generation id.
    draft: bool | None = None
    draft_generation_id: str | None = None
    extra_params: dict[str, Any] = Field(default_factory=dict)

    def set_fields(self) -> set[str]:
        """Names of the optional fields the user actually gave (empty lists and None do not count)."""
        given = set()
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name in ("model", "prompt"):
                continue
            if value is None or value == () or value == {} or (name == "draft" and value is False):
                continue
            given.add(name)
        return given


#: The longest id or link kept (a presigned URL runs to a few kB); past it, it is cut and will not work.
MAX_LINK = 65536


class Generation(BaseModel):
    """A generation as the backend last reported it, normalized."""

    model_config = ConfigDict(frozen=True)

    id: str
    backend: BackendName
    model: str | None = None
    state: GenerationState
    status: str = Field(description="the backend's own status word, as received")
    progress: int | None = None
    video_url: str | None = None
    last_frame_url: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    credits: float | None = None
    estimated_time_s: float | None = None
    #: Whether the backend reports this generation as a draft render (ModelArk's ``draft``); None if it does not say.
    draft: bool | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    @field_validator(
        "id", "model", "status", "video_url", "last_frame_url", "error_code", "error_message", mode="before"
    )
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        """A vendor may send a number (or an object) where text belongs: keep it, as text."""
        return value if value is None or isinstance(value, str) else str(value)

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    def scrubbed(self, secrets: tuple[str, ...]) -> Generation:
        """This generation with every word the vendor chose (id, status, error, model, links) scrubbed: the key
        and bearer tokens removed, control characters escaped, each bounded (``_vendor_text.scrub``)."""
        words = {name: scrub_optional(getattr(self, name), secrets) for name in ("status", "error_code", "model")}
        # machine-used (polled, fetched): redacted and escaped, bounded only far beyond any real id or link
        links = {
            name: scrub_optional(getattr(self, name), secrets, MAX_LINK) for name in ("video_url", "last_frame_url")
        }
        message = scrub_optional(self.error_message, secrets)
        identity = scrub(self.id, secrets, MAX_LINK)
        return self.model_copy(update={"id": identity, "error_message": message, **words, **links})

    def describe(self) -> str:
        """One human line: id, state, and the error if any."""
        text = f"generation {self.id} ({self.backend}) is {self.state}"
        if self.error_code or self.error_message:
            text += f": {self.error_code or 'error'}: {self.error_message or ''}".rstrip(": ")
        return text
