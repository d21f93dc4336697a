"""BytePlus ModelArk request validation: model id families (or a declared model's limits), the ``content``
array (text, first/last frame, reference image/video/audio) and the generation parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_seedance.emulator import declared as declared_models
from airflow_provider_seedance.emulator.common import (
    RATIOS,
    RESOLUTIONS,
    TaskSpec,
    bad,
    check_callback_url,
    check_media_url,
    check_prompt,
    check_range,
    opt_bool,
    opt_enum,
    opt_int,
    resolve_ratio,
)
from airflow_provider_seedance.emulator.declared import ModelLimits

from .modelark_drafts import check_draft, check_extras, check_frames, is_v15

MODEL_PREFIXES = ("seedance-", "bytedance-seedance-", "dreamina-seedance-", "doubao-seedance-")
MEDIA_SCHEMES = ("http", "https", "data", "asset")
IMAGE_ROLES = ("first_frame", "last_frame", "reference_image")
SERVICE_TIERS = ("default", "flex")
ALL_RATIOS = (*RATIOS, "adaptive", "keep_ratio")
#: A declared model's limits name these body keys (the media all live in ``content``).
PARAMS = declared_models.Params(
    quality="resolution", ratio="ratio", images="content", videos="content", audios="content"
)


#: ModelArk's own ids: a Seedance family, lower-case words joined by hyphens, then a yymmdd version
#: (``dreamina-seedance-2-0-260128``); or an inference endpoint (``ep-20260101123456-abcde``). Other vendors'
#: ids (EvoLink ``seedance-2.0-fast-text-to-video``, AIML API ``bytedance/seedance-1-0-pro-fast``) are refused,
#: as ModelArk refuses them.
_FAMILIES = "|".join(re.escape(prefix) for prefix in MODEL_PREFIXES)
MODEL_ID = re.compile(rf"(?:{_FAMILIES})[a-z0-9-]*-\d{{6}}|ep-[a-z0-9-]+")


def serves_model(model: str) -> bool:
    return MODEL_ID.fullmatch(model) is not None


def is_v1(model: str) -> bool:
    return "1-0" in model or "1.0" in model


def is_v2(model: str) -> bool:
    return "2-0" in model or "2.0" in model


def _media(item: dict[str, Any], index: int, kind: str, roles: tuple[str, ...]) -> str | None:
    where = f"content[{index}]"
    inner = item.get(kind)
    if not isinstance(inner, dict):
        raise bad(f"{where}.{kind} must be an object with a url", f"{where}.{kind}")
    check_media_url(inner.get("url"), f"{where}.{kind}.url", MEDIA_SCHEMES)
    role = item.get("role")
    if role is not None and role not in roles:
        raise bad(f"{where}.role must be one of {', '.join(roles)}; got {role!r}", f"{where}.role")
    return role if isinstance(role, str) else None


def _scan_content(content: list[Any]) -> tuple[list[Any], list[str | None], int, int]:
    """Check each item's type, media object and role; return (texts, image roles, videos, audios)."""
    texts: list[Any] = []
    image_roles: list[str | None] = []
    videos = audios = 0
    for index, item in enumerate(content):
        if not isinstance(item, dict):
            raise bad(f"content[{index}] must be an object", f"content[{index}]")
        kind = item.get("type")
        if kind == "text":
            texts.append(item.get("text"))
        elif kind == "image_url":
            image_roles.append(_media(item, index, "image_url", IMAGE_ROLES))
        elif kind == "video_url":
            _media(item, index, "video_url", ("reference_video",))
            videos += 1
        elif kind == "audio_url":
            _media(item, index, "audio_url", ("reference_audio",))
            audios += 1
        else:
            raise bad(
                f"content[{index}].type must be text, image_url, video_url or audio_url; got {kind!r}",
                f"content[{index}].type",
            )
    return texts, image_roles, videos, audios


def _check_image_roles(image_roles: list[str | None]) -> tuple[list[str | None], int]:
    """A lone image without a role is the first frame; otherwise every image needs a role, at most one
    first and one last frame, and no last frame without a first. Returns (frame roles, reference images)."""
    if len(image_roles) == 1 and image_roles[0] is None:
        image_roles = ["first_frame"]
    if None in image_roles:
        raise bad("role is required on every image when more than one image is given", "content")
    frames = [r for r in image_roles if r != "reference_image"]
    references = len(image_roles) - len(frames)
    if frames.count("first_frame") > 1 or frames.count("last_frame") > 1:
        raise bad("at most one first_frame and one last_frame image", "content")
    if "last_frame" in frames and "first_frame" not in frames:
        raise bad("a last_frame image requires a first_frame image", "content")
    return frames, references


def _check_references(model: str, references: int, videos: int, audios: int) -> None:
    """A built-in model's reference counts, 2.0-only video/audio and no audio alone."""
    if references > 9 or videos > 3 or audios > 3:
        raise bad("at most 9 reference images, 3 reference videos and 3 reference audios", "content")
    if (videos or audios) and not is_v2(model):
        raise bad(f"reference videos and audio are only supported by Seedance 2.0 models, not {model}", "content")
    if audios and not references and not videos:
        raise bad("reference audio cannot be given alone; add at least one image or video", "content")


def parse_content(model: str, content: Any, family_rules: bool = True) -> tuple[Any, dict[str, Any]]:
    """Validate the content array (``family_rules``: the counts and media of the model's family); return
    (prompt text or None, material summary)."""
    if not isinstance(content, list) or not content:
        raise bad("content must be a non-empty array", "content")
    texts, image_roles, videos, audios = _scan_content(content)
    if len(texts) > 1:
        raise bad("content may contain at most one text item", "content")
    frames, references = _check_image_roles(image_roles)
    if frames and (references or videos or audios):
        raise bad("first/last frame images cannot be combined with reference images, videos or audio", "content")
    if family_rules:
        _check_references(model, references, videos, audios)
    if not texts and not image_roles and not videos:
        raise bad("content must include a text prompt or an image", "content")
    summary = {
        "first_frame": "first_frame" in frames,
        "last_frame": "last_frame" in frames,
        "reference_images": references,
        "reference_videos": videos,
        "reference_audios": audios,
    }
    return (texts[0] if texts else None), summary


def _check_model(body: dict[str, Any], declared: Mapping[str, ModelLimits]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad("model is required", "model")
    if not serves_model(model) and model not in declared:
        raise bad(
            f"The model {model!r} does not exist or is not a Seedance video model "
            f"(ModelArk ids start with {', '.join(MODEL_PREFIXES)} and end with a version date, "
            "e.g. dreamina-seedance-2-0-260128; or an inference endpoint id ep-...)",
            "model",
        )
    return model


def _check_duration(body: dict[str, Any], model: str) -> int:
    """5 when absent or -1; otherwise 2-12 on 1.0 models, 4-12 on 1.5, 4-15 on the others; ``frames`` wins."""
    frames_seconds = check_frames(body, model, is_v1(model))
    duration = opt_int(body, "duration", 5)
    if duration is None or duration == -1:
        duration = 5
    elif is_v1(model):
        check_range(duration, "duration", 2, 12)
    else:
        check_range(duration, "duration", 4, 12 if is_v15(model) else 15)
    return frames_seconds or duration


def _check_resolution(body: dict[str, Any], model: str, draft: bool) -> str:
    """Default 1080p on 1.0 models, 480p for a draft, 720p otherwise; no 1080p on 2.0 fast models."""
    default = "1080p" if is_v1(model) else "480p" if draft else "720p"
    resolution = opt_enum(body, "resolution", RESOLUTIONS, default) or "720p"
    if resolution == "1080p" and is_v2(model) and "fast" in model:
        raise bad(f"1080p is not supported by the fast model {model}", "resolution")
    return resolution


def _check_flags(body: dict[str, Any], model: str) -> bool:
    """The boolean fields; generate_audio is refused on 1.0 models. Returns generate_audio."""
    for key in ("camera_fixed", "watermark", "return_last_frame"):
        opt_bool(body, key)
    if is_v1(model) and body.get("generate_audio") is not None:
        raise bad(f"generate_audio is not supported by {model}", "generate_audio")
    return bool(opt_bool(body, "generate_audio", not is_v1(model)))


def _check_family(body: dict[str, Any], model: str, ratio: str) -> tuple[int, bool, str, str, bool]:
    """A built-in model: its family's rules; (duration, draft, resolution, ratio, generate_audio)."""
    duration = _check_duration(body, model)
    draft = check_draft(body, model)
    resolution = _check_resolution(body, model, draft)
    return duration, draft, resolution, opt_enum(body, "ratio", ALL_RATIOS, ratio) or "16:9", _check_flags(body, model)


def _check_declared(
    body: dict[str, Any], limits: ModelLimits, summary: dict[str, Any], ratio: str
) -> tuple[int, bool, str, str, bool]:
    """A declared model: its declaration's limits instead of a family's; (duration, draft, resolution, ratio,
    generate_audio). ``ratio`` is the default."""
    frames_seconds = check_frames(body, limits.model, "frames" in limits.fields)
    draft = check_draft(body, limits.model, declared=True)
    duration = opt_int(body, "duration")
    references = summary["reference_images"] + summary["reference_videos"] + summary["reference_audios"]
    asked = declared_models.Asked(
        duration=None if duration == -1 else duration,
        quality=opt_enum(body, "resolution", RESOLUTIONS, None),
        ratio=opt_enum(body, "ratio", ALL_RATIOS, None),
        images=summary["reference_images"] + summary["first_frame"] + summary["last_frame"],
        videos=summary["reference_videos"],
        audios=summary["reference_audios"],
        mode="image" if summary["first_frame"] else "reference" if references else "text",
        draft=draft,
    )
    granted = declared_models.check(limits, asked, PARAMS, quality="480p" if draft else "720p", ratio=ratio)
    for key in ("camera_fixed", "watermark", "return_last_frame"):
        opt_bool(body, key)
    audio = declared_models.audio(limits, opt_bool(body, "generate_audio"))
    return frames_seconds or granted.duration, draft, granted.quality, granted.ratio, audio


def validate(body: dict[str, Any], declared: Mapping[str, ModelLimits] | None = None) -> TaskSpec:
    """Check a ModelArk create-task body against the model's family, or its declared limits; return the
    normalised spec."""
    model = _check_model(body, declared or {})
    limits = (declared or {}).get(model)
    text, summary = parse_content(model, body.get("content"), family_rules=limits is None)
    cap = limits.prompt_max if limits is not None else None  # no length cap documented; a declaration may set one
    prompt, directives = check_prompt(text, "content.text", required=False, max_chars=cap)
    default_ratio = "adaptive" if summary["first_frame"] or summary["reference_images"] else "16:9"
    if limits is not None:
        duration, draft, resolution, ratio, audio = _check_declared(body, limits, summary, default_ratio)
    else:
        duration, draft, resolution, ratio, audio = _check_family(body, model, default_ratio)
    seed = opt_int(body, "seed", -1)
    check_range(seed if seed is not None else -1, "seed", -1, 2**32 - 1)
    callback = check_callback_url(body.get("callback_url"))
    tier = opt_enum(body, "service_tier", SERVICE_TIERS, "default")
    expires_after = opt_int(body, "execution_expires_after", 172800)
    check_range(expires_after if expires_after is not None else 172800, "execution_expires_after", 3600, 259200)
    extra = {
        "requested_ratio": ratio,
        "callback_url": callback,
        "service_tier": tier,
        "execution_expires_after": expires_after,
        "return_last_frame": bool(body.get("return_last_frame")),
        "camera_fixed": bool(body.get("camera_fixed")),
        "watermark": bool(body.get("watermark")),
        "draft": draft,
        "frames": body.get("frames"),
        **check_extras(body),
        **summary,
    }
    return TaskSpec(
        model=model,
        prompt=prompt,
        duration=duration,
        ratio=resolve_ratio(ratio),
        resolution=resolution,
        generate_audio=audio,
        seed=seed,
        directives=directives,
        extra=extra,
    )
