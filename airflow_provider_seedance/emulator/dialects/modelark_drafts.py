"""BytePlus ModelArk's newer create fields in the emulator: drafts and finals from a draft (``draft_task``),
``priority``, ``safety_identifier``, ``frames``, ``output_format`` and ``omni_reference_task_type``.

Sources: the vendor SDK ``byteplus-python-sdk-v2`` (``byteplussdkarkruntime`` ``content_generation.tasks.create``)
and https://docs.byteplus.com/en/docs/ModelArk/1520757 (draft: Seedance 1.5 pro only, 480p only, no last frame,
no flex tier; a final from a draft reuses the draft's model, text, images, audio, seed, ratio, duration and
camera; frames: 25 + 4n within [29, 289], Seedance 1.0 only).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_seedance.emulator.common import bad, check_range, opt_bool, opt_int

#: What a final render takes from its draft (the body keys; ``content`` holds the text and the images).
FROM_DRAFT = ("content", "generate_audio", "seed", "ratio", "duration", "camera_fixed")
FPS = 24


def is_v15(model: str) -> bool:
    return "1-5" in model or "1.5" in model


def draft_task_id(body: dict[str, Any]) -> str | None:
    """The id of the ``draft_task`` content item, if the body is a final render from a draft."""
    content = body.get("content")
    if not isinstance(content, list):
        return None
    items = [item for item in content if isinstance(item, dict) and item.get("type") == "draft_task"]
    if not items:
        return None
    if len(items) > 1 or len(content) > 1:
        raise bad("a draft_task item must be the only content item (the final reuses the draft's)", "content")
    inner = items[0].get("draft_task")
    if not isinstance(inner, dict) or not isinstance(inner.get("id"), str) or not inner["id"]:
        raise bad("content[0].draft_task must be an object with an id", "content[0].draft_task.id")
    return str(inner["id"])


def final_from_draft(body: dict[str, Any], draft_body: dict[str, Any], draft_id: str) -> dict[str, Any]:
    """The body a final render is validated as: the draft's reused fields, this body's others."""
    if body.get("model") != draft_body.get("model"):
        raise bad(f"the draft {draft_id} was made with {draft_body.get('model')}, not {body.get('model')}", "model")
    for key in FROM_DRAFT[1:]:
        if key in body:
            raise bad(f"{key} is taken from the draft {draft_id}; leave it out", key)
    merged = {k: v for k, v in body.items() if k != "content"}
    merged.update({k: draft_body[k] for k in FROM_DRAFT if k in draft_body})
    merged["draft"] = False
    return merged


def check_draft(body: dict[str, Any], model: str, declared: bool = False) -> bool:
    """``draft``: Seedance 1.5 pro only (``declared``: whichever model the declaration lets, checked by the
    caller), 480p, no last frame, not on the flex tier. Returns it."""
    draft = bool(opt_bool(body, "draft", False))
    if not draft:
        return False
    if not declared and not is_v15(model):
        raise bad(f"draft is only supported by Seedance 1.5 pro, not {model}", "draft")
    if body.get("resolution") not in (None, "480p"):
        raise bad("a draft renders at 480p only", "resolution")
    if body.get("return_last_frame"):
        raise bad("a draft returns no last frame", "return_last_frame")
    if body.get("service_tier") == "flex":
        raise bad("a draft cannot run on the flex tier", "service_tier")
    return True


def check_frames(body: dict[str, Any], model: str, allowed: bool) -> int | None:
    """``frames`` (instead of ``duration``): 25 + 4n within [29, 289], where ``allowed`` (Seedance 1.0, or a
    declaration listing it); the seconds it makes."""
    frames = opt_int(body, "frames")
    if frames is None:
        return None
    if not allowed:
        raise bad(f"frames is not supported by {model}", "frames")
    check_range(frames, "frames", 29, 289)
    if (frames - 25) % 4:
        raise bad(f"frames must be 25 + 4n, got {frames}", "frames")
    return max(1, round(frames / FPS))


def check_extras(body: dict[str, Any]) -> dict[str, Any]:
    """``priority``, ``safety_identifier``, ``output_format``, ``omni_reference_task_type``: types only (the
    SDK documents no ranges), echoed on the task."""
    extras: dict[str, Any] = {"priority": opt_int(body, "priority", 0)}
    for key in ("safety_identifier", "output_format", "omni_reference_task_type"):
        value = body.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise bad(f"{key} must be a non-empty string", key)
        extras[key] = value
    return extras
