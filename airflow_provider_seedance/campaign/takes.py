"""Takes: what a campaign renders. A take is a request (the operator's vocabulary: ``model``, ``prompt``,
``duration``, ``quality``, ``aspect_ratio``, ...) with optional campaign keys: ``name`` (the file name),
``slot`` (what one review decides on; default the name), ``title``, ``caption`` and ``section`` (what the
gallery shows), ``labels`` (any facts to keep in the manifest, such as a product id).

Pure: ``parse_takes`` checks what a user gives, ``expand`` turns takes into the renders of a run (variants
with their seeds, drafts first, the output paths), ``planned_spend`` says what the plan pays for.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from airflow_provider_seedance.campaign.options import CampaignOptionError
from airflow_provider_seedance.models import VideoRequest

#: The campaign's own keys of a take; every other key is a request field.
TAKE_KEYS = ("name", "slot", "title", "caption", "section", "labels")
DRAFT_QUALITY = "480p"
FRAMING = {"9:16": "vertical 9:16", "16:9": "widescreen 16:9", "1:1": "square 1:1"}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "item"


class Take(BaseModel):
    """One render of a run, as the tasks of a campaign hand it on."""

    model_config = ConfigDict(extra="forbid")

    name: str
    slot: str
    take: int = 1
    round: int | str = 0  # a review round, or "final"
    title: str = ""
    caption: str = ""
    section: str = ""
    aspect_ratio: str | None = None
    labels: dict[str, Any] = Field(default_factory=dict)
    note: str = ""
    request: dict[str, Any]
    #: What the clip shows that its request does not carry (a final's prompt and duration: the draft's).
    shown: dict[str, Any] = Field(default_factory=dict)
    #: The quality the final of a draft renders at (drafts first only).
    final_quality: str | None = None
    output_path: str = ""
    seedance_conn_id: str = "seedance_default"
    estimate: float | None = None

    @property
    def file(self) -> str:
        return f"videos/{self.name}.mp4"

    def fact(self, name: str) -> Any:
        """A request field, else what the clip shows for it."""
        value = self.request.get(name)
        return self.shown.get(name) if value is None or value == "" else value


#: The endings the campaign gives its clips' names (``clips_of``: ``-t<N>`` a variant; ``fates``: ``-r<N>`` a
#: re-render, ``-final`` a final render), which a take's own name must not have.
GENERATED_SUFFIX = re.compile(r"-(t\d+|r\d+|final)$")


def parse_takes(takes: Any) -> list[Take]:
    """The user's takes as ``Take`` objects, or a ``CampaignOptionError`` naming the take and its field:
    each needs a ``model`` and a ``prompt``, its request fields must be the operator's, names must differ."""
    if isinstance(takes, Mapping) or not isinstance(takes, Sequence) or isinstance(takes, str):
        raise CampaignOptionError(f"takes: must be a list of request dicts, got {type(takes).__name__}")
    if not takes:
        raise CampaignOptionError("takes: the list is empty: nothing to render")
    parsed, names = [], set()
    for index, raw in enumerate(takes):
        take = _parse_take(index, raw)
        if take.name in names:
            raise CampaignOptionError(
                f"takes[{index}].name {take.name!r} is used by an earlier take: names must differ"
            )
        names.add(take.name)
        parsed.append(take)
    return parsed


def _parse_take(index: int, raw: Any) -> Take:
    where = f"takes[{index}]"
    if not isinstance(raw, Mapping):
        raise CampaignOptionError(f"{where}: must be a dict of request fields, got {type(raw).__name__}")
    request = {k: v for k, v in raw.items() if k not in TAKE_KEYS}
    for field in ("model", "prompt"):
        if not str(request.get(field) or "").strip():
            raise CampaignOptionError(f"{where}.{field} is missing: every take needs a model and a prompt")
    try:
        VideoRequest.model_validate(request)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        message = "is not a request field" if error["type"] == "extra_forbidden" else error["msg"]
        raise CampaignOptionError(f"{where}.{field} {message}") from None
    name = slug(raw.get("name") or f"take-{index + 1}")
    if GENERATED_SUFFIX.search(name):
        raise CampaignOptionError(
            f"{where}.name {name!r} ends like a name the campaign makes itself (-t<N> for a take's variants, "
            "-r<N> for a re-render, -final for a final render): a take's name must not end in one of them, or "
            "its clips would be named as another take's"
        )
    labels = raw.get("labels") or {}
    if not isinstance(labels, Mapping):
        raise CampaignOptionError(f"{where}.labels must be a dict, got {type(labels).__name__}")
    return Take(
        name=name,
        slot=slug(raw.get("slot") or name),
        title=str(raw.get("title") or name),
        caption=str(raw.get("caption") or ""),
        section=str(raw.get("section") or request.get("aspect_ratio") or ""),
        aspect_ratio=request.get("aspect_ratio"),
        labels=dict(labels),
        request=request,
    )


def take_seed(slot: str, take: int) -> int:
    """A reproducible seed per slot and take."""
    return (zlib.crc32(slot.encode()) + 1009 * take) % 2_147_483_647


def fit_to_model(take: Take, fields: frozenset[str] | None) -> Take:
    """A take the model can render: an ``aspect_ratio`` the model takes no field for goes into the prompt
    as words ("Composed for vertical 9:16 framing."). ``fields`` None: the model's fields are not known."""
    request = dict(take.request)
    ratio = request.get("aspect_ratio")
    if ratio and fields is not None and "aspect_ratio" not in fields:
        request.pop("aspect_ratio")
        words = f"Composed for {FRAMING.get(ratio, ratio)} framing."
        request["prompt"] = f"{str(request['prompt']).rstrip()} {words}"
    return take.model_copy(update={"request": request})


def expand(
    takes: Sequence[Take],
    *,
    variants: int,
    drafts: bool,
    takes_seed: bool,
    folder: str,
    seedance_conn_id: str,
) -> list[Take]:
    """The renders of a run: ``variants`` per take (names ``-t1``, ``-t2``...), each with its own seed where
    the model takes one and the take gave none; with ``drafts`` (the model renders drafts), a 480p draft whose
    final renders at the take's quality; every output path under ``folder``."""
    renders = []
    for take in takes:
        for number in range(1, variants + 1):
            name = take.name if variants == 1 else f"{take.name}-t{number}"
            request = dict(take.request)
            if takes_seed and request.get("seed") is None:
                request["seed"] = take_seed(take.slot, number)
            final_quality = None
            if drafts:
                final_quality = request.get("quality")
                request.update(draft=True, quality=DRAFT_QUALITY)
            renders.append(
                take.model_copy(
                    update={
                        "name": name,
                        "take": number,
                        "request": request,
                        "final_quality": final_quality,
                        "output_path": f"{folder.rstrip('/')}/videos/{name}.mp4",
                        "seedance_conn_id": seedance_conn_id,
                    }
                )
            )
    return renders


def planned_spend(takes: Sequence[Take]) -> list[dict[str, Any]]:
    """What the plan pays for: every take, and for drafts one final per slot at its final quality."""
    renders = [{**t.request, "duration": t.fact("duration")} for t in takes]
    finals = {t.slot: t for t in takes if t.request.get("draft")}
    renders += [{**t.request, "draft": False, "quality": t.final_quality} for t in finals.values()]
    return renders


def render_kwargs(take: Mapping[str, Any]) -> dict[str, Any]:
    """A take (as handed on in XCom) as the render task's arguments."""
    return {
        "request": take["request"],
        "output_path": take["output_path"],
        "seedance_conn_id": take["seedance_conn_id"],
    }
