"""Models declared to the emulator, read by the provider's own parser (``declared_models.py``), and the checks
each dialect applies to a create for one of them instead of its built-in family rules.

A declaration is the JSON the provider takes: ``[seedance] models`` (``AIRFLOW__SEEDANCE__MODELS``), a bare
object of model id -> limits, or a connection's extra ``{"models": {...}}`` as the README shows it. Each model
is served by every dialect whose API its declaration fits (the provider's per-backend rules: a ``draft`` field
makes it a ModelArk model, ``web_search`` an EvoLink one); a declaration no API fits is refused at start-up.
A declaration for a built-in model id overrides that model's rules, as in the provider.

Checked against the declaration: duration (range or choices), quality, ratio (per mode), the mode's images,
videos and audios, ``generate_audio`` and ``frames`` (only when among ``optional_fields``) and ``draft`` (only
with ``"drafts": true``). Auth, prompt, URLs, callback_url and the rest are each dialect's usual checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_seedance.contract._declared_models import load_declarations, parse_shared_models
from airflow_provider_seedance.contract.limits import ModelLimits
from airflow_provider_seedance.models import BACKENDS

from .common import ApiError, bad

__all__ = ["Asked", "DeclaredModels", "Granted", "ModelLimits", "Params", "audio", "check", "parse_models"]

DEFAULT_DURATION = 5


@dataclass(frozen=True)
class DeclaredModels:
    """The declared models each dialect serves: backend -> model id -> limits."""

    by_backend: Mapping[str, Mapping[str, ModelLimits]] = field(default_factory=dict)

    def on(self, backend: str) -> Mapping[str, ModelLimits]:
        return self.by_backend.get(backend, {})

    def __bool__(self) -> bool:
        return any(self.by_backend.values())


def parse_models(raw: Any, where: str = "models", *, wrapper: bool = True) -> DeclaredModels:
    """Read a declaration (JSON text or object; None or empty: none) as the provider does.

    ``wrapper``: also take a connection's extra, ``{"models": {...}}``; off for ``AIRFLOW__SEEDANCE__MODELS``,
    which Airflow reads as the bare object only. Raises ``SeedanceValidationError`` (a ``ValueError``) naming
    ``where``, the model and the key, with the provider's own message.
    """
    if isinstance(raw, DeclaredModels):
        return raw
    declarations = load_declarations(raw, where)
    if wrapper and set(declarations) == {"models"} and isinstance(declarations["models"], dict):
        declarations = load_declarations(declarations["models"], where)
    served: dict[str, Mapping[str, ModelLimits]] = {
        backend: parse_shared_models(declarations, backend, where) for backend in BACKENDS
    }
    return DeclaredModels(served)


@dataclass(frozen=True)
class Params:
    """A dialect's wire names for what a declaration limits (named in its 400 errors)."""

    duration: str = "duration"
    quality: str = "quality"
    ratio: str = "aspect_ratio"
    images: str = "image_urls"
    videos: str = "video_urls"
    audios: str = "audio_urls"


@dataclass(frozen=True)
class Asked:
    """What a create body asks of a declared model (None: not given; the dialect has checked the types)."""

    duration: int | None
    quality: str | None
    ratio: str | None
    images: int = 0
    videos: int = 0
    audios: int = 0
    #: The mode when the wire says it (ModelArk's image roles); else picked from the counts as the provider does.
    mode: str | None = None
    draft: bool = False


@dataclass(frozen=True)
class Granted:
    """What the emulator renders: the asked values, or defaults the declaration allows."""

    mode: str
    duration: int
    quality: str
    ratio: str


def check(limits: ModelLimits, asked: Asked, params: Params, *, quality: str = "720p", ratio: str = "16:9") -> Granted:
    """Check ``asked`` against the declaration; ``quality`` and ``ratio`` are the dialect's defaults (the first
    declared value when the declaration lacks them). A draft's quality is the draft rule's (480p), not checked
    here."""
    mode = _mode(limits, asked, params)
    _check_media(limits, asked, mode, params)
    if asked.draft and not limits.drafts:
        raise bad(f'draft is not supported by {limits.model}: its declaration has no "drafts": true', "draft")
    qualities = limits.qualities
    ratios = limits.image_mode_ratios if mode == "image" and limits.image_mode_ratios else limits.aspect_ratios
    return Granted(
        mode=mode,
        duration=_duration(limits, asked.duration, params.duration),
        quality=(asked.quality or quality)
        if asked.draft
        else _pick(limits, asked.quality, qualities, quality, params.quality),
        ratio=_pick(limits, asked.ratio, ratios, ratio, params.ratio, f" ({mode} mode)"),
    )


def audio(limits: ModelLimits, value: bool | None, param: str = "generate_audio") -> bool:
    """``generate_audio``: only when the declaration lists it; then on unless the body says otherwise."""
    takes = "generate_audio" in limits.fields
    if value is not None and not takes:
        raise _not_declared(limits, param, "generate_audio")
    return takes if value is None else value


def _not_declared(limits: ModelLimits, param: str, name: str) -> ApiError:
    return bad(f"{param} is not supported by {limits.model}: {name!r} is not among its declared optional_fields", param)


def _mode(limits: ModelLimits, asked: Asked, params: Params) -> str:
    """The mode asked, as ``ModelLimits.mode_for`` picks it for the provider; a mode not declared is refused."""
    if asked.mode is not None:
        mode = asked.mode
    elif len(limits.modes) == 1:
        mode = next(iter(limits.modes))
    elif "reference" in limits.modes and (asked.videos or asked.audios or asked.images > limits.max_frame_images):
        mode = "reference"
    elif asked.images:
        mode = "image" if "image" in limits.modes else "reference"
    else:
        mode = "text"
    if mode not in limits.modes:
        declared = ", ".join(sorted(limits.modes))
        raise bad(f"{limits.model} does not take {mode}-to-video (declared modes: {declared})", params.images)
    return mode


def _check_media(limits: ModelLimits, asked: Asked, mode: str, params: Params) -> None:
    model = limits.model
    if mode != "reference" and (asked.videos or asked.audios):
        key = params.videos if asked.videos else params.audios
        raise bad(f"{key} is only taken in reference mode; {model} is asked for {mode}-to-video", key)
    if mode == "text" and asked.images:
        raise bad(f"{model} takes no images for text-to-video, got {asked.images}", params.images)
    if mode == "image" and not 1 <= asked.images <= limits.max_frame_images:
        raise bad(
            f"{model} takes 1-{limits.max_frame_images} image(s) for image-to-video, got {asked.images}", params.images
        )
    if mode == "reference":
        counts = (
            (params.images, asked.images, limits.max_ref_images),
            (params.videos, asked.videos, limits.max_videos),
            (params.audios, asked.audios, limits.max_audios),
        )
        for key, count, most in counts:
            if count > most:
                raise bad(f"{model} takes at most {most} items in {key}, got {count}", key)
        if not asked.images and not asked.videos:
            key = params.audios if asked.audios else params.images
            raise bad(f"{model} needs at least one reference image or video for reference-to-video", key)


def _duration(limits: ModelLimits, value: int | None, param: str) -> int:
    choices = limits.duration_choices
    if value is None:
        allowed = choices or range(limits.min_duration, limits.max_duration + 1)
        return DEFAULT_DURATION if DEFAULT_DURATION in allowed else min(allowed)
    if choices is not None and value not in choices:
        shown = ", ".join(str(choice) for choice in choices)
        raise bad(f"{param} must be one of {shown} for {limits.model}; got {value}", param)
    if not limits.min_duration <= value <= limits.max_duration:
        raise bad(
            f"{param} must be between {limits.min_duration} and {limits.max_duration} for {limits.model}, got {value}",
            param,
        )
    return value


def _pick(
    limits: ModelLimits, value: str | None, allowed: tuple[str, ...], default: str, param: str, note: str = ""
) -> str:
    if value is None:
        return default if default in allowed or not allowed else allowed[0]
    if value not in allowed:
        shown = ", ".join(allowed) if allowed else "none (the declaration lists no values)"
        raise bad(f"{param} must be one of {shown} for {limits.model}{note}; got {value!r}", param)
    return value
