"""A campaign run's manifest: every clip with its status, the run's budget and spend. Pure (pydantic).

The manifest is ``manifest.json`` next to the videos; the gallery page and the publish step read it. A clip's
status moves only through ``campaign.fates``; only an ``approved`` clip may be published.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ClipStatus(str, Enum):
    """Where a clip stands; the last ones are fates (settled at release)."""

    RENDERING = "rendering"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    NO_ANSWER = "no_answer"
    NOT_CHOSEN = "not_chosen"
    RERENDERED = "rerendered"
    DRAFT_APPROVED = "draft_approved"
    RERENDER_LIMIT = "rerender_limit"
    SKIPPED_BUDGET = "skipped_budget"
    RENDER_FAILED = "render_failed"

    @property
    def fate(self) -> str:
        """What the status means for publishing, in words."""
        return FATES.get(self, self.value)


FATES = {
    ClipStatus.APPROVED: "approved: published",
    ClipStatus.REJECTED: "rejected by the reviewer: not published",
    ClipStatus.TIMED_OUT: "review timed out: not published",
    ClipStatus.NO_ANSWER: "review failed or never answered: not published",
    ClipStatus.NOT_CHOSEN: "another take of its slot was approved: not published",
    ClipStatus.RERENDERED: "re-rendered on the reviewer's request (see the newer take)",
    ClipStatus.DRAFT_APPROVED: "draft approved: its final render is the published clip",
    ClipStatus.RERENDER_LIMIT: "re-render asked beyond max_rerenders: not published",
    ClipStatus.SKIPPED_BUDGET: "skipped for budget: not rendered, not published",
    ClipStatus.RENDER_FAILED: "render failed: not published",
}


class ReviewRecord(BaseModel):
    round: int
    decision: str
    note: str = ""


class Clip(BaseModel):
    """One take's clip: the plan's facts, its render's result (or why there is none), its review.
    A take's ``labels`` are kept as extra keys (``product``, ``channel``...)."""

    model_config = ConfigDict(extra="allow", use_enum_values=False)

    name: str
    slot: str
    take: int = 1
    round: int | str = 0
    title: str = ""
    caption: str = ""
    section: str = ""
    aspect_ratio: str | None = None
    status: ClipStatus
    rendered: bool = False
    file: str
    prompt: str = ""
    model: str = ""
    duration: int | None = None
    quality: str | None = None
    seed: int | None = None
    draft: bool = False
    request: dict[str, Any] = Field(default_factory=dict)
    final_quality: str | None = None
    note: str = ""
    estimate: float | None = None
    url: str | None = None
    poster: str | None = None
    poster_url: str | None = None
    backend: str | None = None
    credits: float | None = None
    elapsed_s: float | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    generation_id: str | None = None
    skip_reason: str | None = None
    review: ReviewRecord | None = None
    reviewer: str | None = None
    fate: str | None = None


class RunBudget(BaseModel):
    max_credits: float | None = None
    credits_per_second: float | None = None
    estimate: float = 0.0
    estimated_how: str = ""


class DraftSavings(BaseModel):
    drafts: int
    draft_credits: float
    finals: int
    final_credits: float
    all_finals_estimate: float
    saved: float


class Manifest(BaseModel):
    """The run: where it writes, what it may spend, its clips."""

    model_config = ConfigDict(extra="allow")

    campaign: str
    brand: str = ""
    backend: str
    model: str = ""
    folder: str
    root: str
    prefix: str = "campaigns"
    dag_id: str = ""
    run_id: str = ""
    seedance_conn_id: str = "seedance_default"
    status: str = "in_review"
    budget: RunBudget = Field(default_factory=RunBudget)
    max_rerenders: int = 1
    review_hours: float = 72.0
    drafts: bool = False
    #: The takes rendered through one batch task per step (``Render(batch=True)``), not one mapped task per take.
    batch: bool = False
    gallery: str = "index.html"
    videos: list[Clip] = Field(default_factory=list)
    #: The slots reviewed in each round ("0", "1"...), in the order of that round's review tasks.
    rounds: dict[str, list[str]] = Field(default_factory=dict)
    total_credits: float = 0.0
    total_render_s: float = 0.0
    generated_at: str = ""
    approved: int | None = None
    fates: dict[str, int] | None = None
    draft_savings: DraftSavings | None = None

    def clip(self, name: str) -> Clip | None:
        return next((c for c in self.videos if c.name == name), None)

    def put(self, clip: Clip) -> None:
        """Add ``clip``, replacing the clip of the same name."""
        self.videos = [c for c in self.videos if c.name != clip.name] + [clip]

    def spent(self) -> float:
        """The credits the rendered clips reported."""
        return round(sum(c.credits or 0 for c in self.videos if c.rendered), 3)

    def committed(self) -> float:
        """What the rendered clips cost, a clip that reported no price counted at its estimate (the safe
        side): what the budget admits more renders against."""
        return round(sum(c.credits if c.credits is not None else c.estimate or 0 for c in self.videos if c.rendered), 3)

    def tally(self) -> None:
        """The spend and render time recomputed from every clip rendered so far."""
        rendered = [c for c in self.videos if c.rendered]
        self.total_credits = self.spent()
        self.total_render_s = round(sum(c.elapsed_s or 0 for c in rendered), 1)
        self.generated_at = datetime.now(timezone.utc).isoformat(timespec="seconds")

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)
