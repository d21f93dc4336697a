"""How a campaign's clips move: rendered into review, answered, re-rendered, admitted under the budget, and
settled at release. Pure functions on a ``Manifest`` (no I/O, no Airflow); each says what changed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow_provider_seedance.campaign.manifest import Clip, ClipStatus, DraftSavings, Manifest, ReviewRecord
from airflow_provider_seedance.campaign.takes import Take
from airflow_provider_seedance.contract.budget import BudgetGate, estimate_cost
from airflow_provider_seedance.contract.review import Decision, rerender_prompt, rerender_seed

log = logging.getLogger(__name__)

#: The result fields a clip keeps from its render's XCom result.
RESULT_FIELDS = ("credits", "elapsed_s", "size_bytes", "sha256", "generation_id", "backend")


def clip_for(take: Take, status: ClipStatus, **facts: Any) -> Clip:
    """A clip of ``take`` (its request's facts and its labels), in ``status``."""
    request = take.request
    values: dict[str, Any] = {**take.labels}
    values.update(take.model_dump(exclude={"labels", "output_path", "seedance_conn_id", "request", "shown"}))
    values.update(
        status=status,
        file=take.file,
        prompt=str(take.fact("prompt") or ""),
        model=str(request.get("model") or ""),
        duration=take.fact("duration"),
        quality=request.get("quality"),
        seed=request.get("seed"),
        draft=bool(request.get("draft")),
        request=dict(request),
    )
    values.update(facts)
    return Clip.model_validate(values)


def clip_from_result(
    take: Take,
    result: Mapping[str, Any] | None,
    *,
    skipped: str | None = None,
    poster: str | None = None,
    folder: str = "",
) -> Clip:
    """The clip of a finished render: in review with its result, else skipped for budget (with the reason
    its spend check gave) or failed."""
    if not result:
        status = ClipStatus.SKIPPED_BUDGET if skipped else ClipStatus.RENDER_FAILED
        return clip_for(take, status, skip_reason=skipped)
    facts = {k: result.get(k) for k in RESULT_FIELDS}
    facts.update(rendered=True, url=str(result.get("output_path") or ""), poster=poster)
    facts["poster_url"] = f"{folder.rstrip('/')}/{poster}" if poster else None
    clip = clip_for(take, ClipStatus.IN_REVIEW, **facts)
    updates = {k: result[k] for k in ("prompt", "model", "duration") if result.get(k)}
    return clip.model_copy(update=updates)


def review_queue(manifest: Manifest, round_number: int) -> list[tuple[str, list[Clip]]]:
    """Every slot with takes in review, in slot order, with its takes; noted as the round's slots."""
    slots: dict[str, list[Clip]] = {}
    for clip in manifest.videos:
        if clip.status is ClipStatus.IN_REVIEW:
            slots.setdefault(clip.slot, []).append(clip)
    manifest.rounds[str(round_number)] = list(slots)
    return list(slots.items())


def next_take(clip: Clip, note: str, round_number: int, manifest: Manifest) -> Take:
    """The take that renders ``clip`` again: the note added to its prompt, a new seed, a new file."""
    request = dict(clip.request)
    request["prompt"] = rerender_prompt(clip.prompt, note)
    if clip.seed is not None:
        request["seed"] = rerender_seed(int(clip.seed), round_number, int(clip.take))
    name = re.sub(r"-r\d+$", "", clip.name) + f"-r{round_number}"
    return _take_of(clip, manifest, name, request, round=round_number, note=note)


def final_take(clip: Clip, manifest: Manifest) -> Take:
    """The final render of an approved draft: from its generation id, at the take's final quality."""
    request = {"model": clip.model, "draft_generation_id": clip.generation_id}
    if clip.final_quality:
        request["quality"] = clip.final_quality
    shown = {"prompt": clip.prompt, "duration": clip.duration}  # a final's request names neither
    return _take_of(clip, manifest, f"{clip.name}-final", request, round="final", shown=shown)


def _take_of(clip: Clip, manifest: Manifest, name: str, request: dict[str, Any], **changes: Any) -> Take:
    return Take(
        name=name,
        slot=clip.slot,
        take=clip.take,
        title=clip.title,
        caption=clip.caption,
        section=clip.section,
        aspect_ratio=clip.aspect_ratio,
        labels=dict(clip.model_extra or {}),
        request=request,
        final_quality=clip.final_quality,
        output_path=f"{manifest.folder.rstrip('/')}/videos/{name}.mp4",
        seedance_conn_id=manifest.seedance_conn_id,
        **changes,
    )


def apply_decisions(manifest: Manifest, round_number: int, decisions: Sequence[Decision]) -> list[Take]:
    """Each slot's decision onto its takes in review (in the round's slot order); returns the takes to
    render again, before the budget. A re-render past ``max_rerenders`` is not asked."""
    again = []
    for slot, decision in zip(manifest.rounds.get(str(round_number), []), decisions, strict=True):
        log.info("Review of %s (round %d): %s %s", slot, round_number, decision.kind, decision.note or "")
        takes = [c for c in manifest.videos if c.slot == slot and c.status is ClipStatus.IN_REVIEW]
        for index, clip in enumerate(takes, start=1):
            clip.review = ReviewRecord(round=round_number, decision=decision.kind, note=decision.note)
            clip.reviewer = decision.reviewer
            clip.status = _status_after(decision, index, round_number < manifest.max_rerenders)
            if clip.status is ClipStatus.RERENDERED:
                again.append(next_take(clip, decision.note, round_number + 1, manifest))
    return again


def _status_after(decision: Decision, take: int, may_rerender: bool) -> ClipStatus:
    if decision.kind == "approve":
        return ClipStatus.APPROVED if take == decision.take else ClipStatus.NOT_CHOSEN
    if decision.kind == "rerender":
        return ClipStatus.RERENDERED if may_rerender else ClipStatus.RERENDER_LIMIT
    return {"timed_out": ClipStatus.TIMED_OUT, "no_answer": ClipStatus.NO_ANSWER}.get(
        decision.kind, ClipStatus.REJECTED
    )


def admit(manifest: Manifest, takes: Sequence[Take], history: Iterable[Mapping[str, Any] | None] = ()) -> list[Take]:
    """The takes that fit: what was spent plus each one's estimate stays within the budget. Each is noted in
    the manifest, ``rendering`` or ``skipped_budget`` (never submitted)."""
    past = [*(c.model_dump(mode="json") for c in manifest.videos), *history]
    specs = [{**t.request, "duration": t.fact("duration")} for t in takes]
    estimate = estimate_cost(specs, past, manifest.budget.credits_per_second)
    spent = manifest.committed()
    verdicts = BudgetGate(manifest.budget.max_credits, spent).admit([c.credits for c in estimate.clips])
    admitted = []
    for take, fits, clip in zip(takes, verdicts, estimate.clips, strict=True):
        status = ClipStatus.RENDERING if fits else ClipStatus.SKIPPED_BUDGET
        manifest.put(clip_for(take, status, estimate=clip.credits))
        if fits:
            admitted.append(take.model_copy(update={"estimate": clip.credits}))
        else:
            log.warning("Skipped for budget: %s (estimate %s, spent %s)", take.name, clip.credits, spent)
    return admitted


def approve_drafts(manifest: Manifest) -> list[Take]:
    """With drafts first: every approved draft becomes ``draft_approved``; returns the finals to render."""
    finals = []
    for clip in manifest.videos:
        if clip.status is ClipStatus.APPROVED and clip.draft:
            clip.status = ClipStatus.DRAFT_APPROVED
            finals.append(final_take(clip, manifest))
    return finals


def add_final(manifest: Manifest, take: Take, result: Mapping[str, Any] | None, **facts: Any) -> Clip:
    """A final's result into the manifest: a rendered final of an approved draft is the approved clip."""
    clip = clip_from_result(take, result, **facts)
    if result:
        clip.status = ClipStatus.APPROVED
    manifest.put(clip)
    return clip


def settle(manifest: Manifest) -> dict[str, int]:
    """Nothing unreviewed is published: takes still in review count as unanswered, renders that never came
    back as failed. Every clip gets its fate; returns the count per status."""
    counts: dict[str, int] = {}
    for clip in manifest.videos:
        if clip.status is ClipStatus.IN_REVIEW:
            clip.status = ClipStatus.NO_ANSWER
        elif clip.status is ClipStatus.RENDERING:
            clip.status = ClipStatus.RENDER_FAILED
        clip.fate = clip.status.fate + (f" ({clip.skip_reason})" if clip.skip_reason else "")
        counts[clip.status.value] = counts.get(clip.status.value, 0) + 1
        log.info("Fate of %s: %s", clip.name, clip.fate)
    manifest.fates = counts
    manifest.approved = counts.get(ClipStatus.APPROVED.value, 0)
    manifest.status = "released"
    manifest.draft_savings = draft_savings(manifest)
    return counts


def draft_savings(manifest: Manifest) -> DraftSavings | None:
    """Credits that drafts first saved: every take rendered as a final (at the finals' median cost) minus
    what the drafts and finals cost."""
    if not manifest.drafts:
        return None
    rendered = [c for c in manifest.videos if c.rendered]
    drafts = [c.credits or 0 for c in rendered if c.draft]
    finals = sorted(c.credits or 0 for c in rendered if not c.draft)
    each = finals[len(finals) // 2] if finals else 0
    all_finals = round(each * len(drafts), 3)
    return DraftSavings(
        drafts=len(drafts),
        draft_credits=round(sum(drafts), 3),
        finals=len(finals),
        final_credits=round(sum(finals), 3),
        all_finals_estimate=all_finals,
        saved=round(all_finals - sum(drafts) - sum(finals), 3),
    )
