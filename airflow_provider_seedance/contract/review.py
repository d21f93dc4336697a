"""Human review of generated clips: what a reviewer is asked per slot, and what an answer means.

Pure (no Airflow): ``campaign.CampaignReviewOperator`` (an Airflow ``HITLOperator``) asks with
``review_request`` (subject, body, options) and reads its answer (``chosen_options``, ``params_input``,
``responded_by_user``) through ``decide`` into a typed ``Decision``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from airflow_provider_seedance.contract._vendor_text import inert

APPROVE, REJECT, RERENDER = "Approve", "Reject", "Re-render"


def review_options(takes: int) -> list[str]:
    """One approve option per take (a reviewer can pick at most one per slot), then reject and re-render."""
    approve = [APPROVE] if takes == 1 else [f"{APPROVE} take {i}" for i in range(1, takes + 1)]
    return [*approve, REJECT, RERENDER]


def review_request(slot: str, clips: list[Mapping[str, Any]], gallery: str, player: str = "") -> dict[str, Any]:
    """The HITL task's subject, Markdown body and options for one product x channel slot. Every value from a
    brief, a prompt or a vendor is escaped (``markdown_text``): it shows as the text it is, never as a link,
    an image or markup in front of the reviewer. ``player``, when given, is the address of the run's Seedance
    page (the provider's own, never a vendor's): each rendered clip then links to its player there."""
    lines = [f"Gallery: {markdown_text(gallery)}", ""]
    for take, clip in enumerate(clips, start=1):
        title = f"Take {take}: " if len(clips) > 1 else ""
        quality = clip.get("quality") or "default quality"
        lines += [
            f"### {title}{markdown_text(clip['name'])}",
            f"- **Prompt:** {markdown_text(clip.get('prompt') or '')}",
            f"- **Model:** {markdown_text(clip.get('model'))}, {markdown_text(clip.get('duration'))} s, "
            f"{markdown_text(quality)}",
            f"- **Credits:** {_credits(clip.get('credits'))}",
            *_watch(player, clip),
            f"- **Video:** {markdown_text(clip.get('url') or 'n/a')}",
            f"- **Poster:** {markdown_text(clip.get('poster_url') or 'none')}",
            "",
        ]
    lines.append(f"{REJECT}: nothing of this slot is published. {RERENDER}: every take is rendered again with your")
    lines.append("note added to its prompt and a new seed, and comes back here.")
    return {"subject": f"Review {slot}", "body": "\n".join(lines), "options": review_options(len(clips))}


def _watch(player: str, clip: Mapping[str, Any]) -> list[str]:
    generation = clip.get("generation_id")
    if not player or not isinstance(generation, str) or not generation:
        return []
    return [f"- **Watch:** [play it in Airflow]({player}#generation-{quote(generation, safe='')})"]


#: Characters that start Markdown (or HTML) markup inline: each is shown as itself with a backslash before it.
_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()<>#+!|~&")
#: The longest value shown in a review: a prompt is a few lines; anything longer is cut, saying so.
MAX_REVIEW_TEXT = 2000


def markdown_text(value: Any) -> str:
    """``value`` as inert Markdown text: markup characters backslash-escaped (so ``[x](javascript:...)``,
    ``![](...)``, ``<b>`` and ``**`` show as typed), line breaks folded into spaces (no new list item,
    heading or block), control characters escaped and the length bounded (``_vendor_text.inert``)."""
    text = " ".join(str(value).splitlines())
    text = inert(text, MAX_REVIEW_TEXT)
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIAL else char for char in text)


def _credits(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):g}"


class Decision(BaseModel):
    """What one answer means: ``approve`` (with the take, 1-based), ``reject``, ``rerender`` (with the note),
    ``timed_out`` (the timeout's default, answered by nobody) or ``no_answer``; ``slot`` is what was reviewed."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["approve", "reject", "rerender", "timed_out", "no_answer"]
    take: int = 0
    note: str = ""
    reviewer: str = ""
    slot: str = ""


def decide(answer: Mapping[str, Any] | None, slot: str = "") -> Decision:
    """Read a ``HITLOperator`` result; anything unreadable is ``no_answer`` (never approved)."""
    if not answer or not answer.get("chosen_options"):
        return Decision(kind="no_answer", slot=slot)
    user = answer.get("responded_by_user") or {}
    if not user:
        return Decision(kind="timed_out", slot=slot)
    chosen = str(answer["chosen_options"][0])
    note = str((answer.get("params_input") or {}).get("note") or "").strip()
    reviewer = str(user.get("name") or user.get("id") or "")
    if chosen == APPROVE:
        return Decision(kind="approve", take=1, note=note, reviewer=reviewer, slot=slot)
    if chosen.startswith(f"{APPROVE} take "):
        take = int(chosen.rsplit(" ", 1)[1])
        return Decision(kind="approve", take=take, note=note, reviewer=reviewer, slot=slot)
    if chosen == RERENDER:
        return Decision(kind="rerender", note=note, reviewer=reviewer, slot=slot)
    return Decision(kind="reject", note=note, reviewer=reviewer, slot=slot)


def rerender_prompt(prompt: str, note: str) -> str:
    """The clip's prompt with the reviewer's note added (notes of earlier rounds stay)."""
    note = note.strip()
    return f"{prompt.rstrip()} Reviewer note: {note}" if note else prompt


def rerender_seed(seed: int, round_number: int, take: int) -> int:
    """A new seed per round and take, reproducible from the clip's first seed."""
    return (seed + 7919 * round_number + 104729 * take) % 2_147_483_647
