"""Per-model limits from the vendors' documents, and the validator that enforces them before any request.

Pure: no Airflow, no I/O, no import of the backends: what the validator needs to know about a backend's API
(which wire-body keys it builds from arguments) the caller passes in, as the ``Backend`` itself. A model id
the table does not know gets generic checks and a warning, unless the deployment declared its limits
(``_declared_models.py``: the connection's extra or ``[seedance] models``), which the caller passes in too.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Literal, Protocol

from airflow_provider_seedance.contract._urls import check_callback_url, check_media_url
from airflow_provider_seedance.contract._vendor_fields import VENDOR_FIELD_LIMITS, check_vendor_fields, expiry_for
from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.models import BackendName, VideoRequest

Mode = Literal["text", "image", "reference"]

RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
ALL_QUALITIES = ("480p", "720p", "1080p")
GENERIC_PROMPT_MAX = 10_000


@dataclass(frozen=True)
class ModelLimits:
    """What one model of one backend accepts. Durations are seconds; counts are per request."""

    backend: BackendName
    model: str
    modes: frozenset[Mode]
    min_duration: int
    max_duration: int
    duration_choices: tuple[int, ...] | None = None
    qualities: tuple[str, ...] = ALL_QUALITIES
    aspect_ratios: tuple[str, ...] = (*RATIOS, "adaptive")
    image_mode_ratios: tuple[str, ...] = ()
    max_frame_images: int = 2
    max_ref_images: int = 9
    max_videos: int = 3
    max_audios: int = 3
    fields: frozenset[str] = field(default_factory=frozenset)
    prompt_max: int = GENERIC_PROMPT_MAX
    prompt_required: bool = True
    #: Whether the model renders drafts (``draft``) and finals from them (``draft_generation_id``).
    drafts: bool = False
    #: Where these limits come from (a vendor page, or the deployment that declared them).
    source: str = ""

    def mode_for(self, request: VideoRequest) -> Mode:
        """Which generation mode a request asks of this model (a single-mode model has only one)."""
        if len(self.modes) == 1:
            return next(iter(self.modes))
        images = len(request.image_urls)
        if "reference" in self.modes and (request.video_urls or request.audio_urls or images > self.max_frame_images):
            return "reference"
        if images:
            return "image" if "image" in self.modes else "reference"
        return "text"


_EVO_1_FIELDS = frozenset({"image_urls", "duration", "quality", "aspect_ratio", "callback_url"})
_EVO_2_COMMON = frozenset({"duration", "quality", "aspect_ratio", "generate_audio", "callback_url"})
_ARK_COMMON = frozenset(
    {
        "image_urls",
        "duration",
        "quality",
        "aspect_ratio",
        "seed",
        "camera_fixed",
        "watermark",
        "return_last_frame",
        "service_tier",
        "callback_url",
        "execution_expires_after",
        "priority",
        "safety_identifier",
    }
)
#: Every ModelArk create field the SDK's ``content_generation.tasks.create`` takes (see ``_vendor_fields.py``).
_ARK_ALL = _ARK_COMMON | {
    "video_urls",
    "audio_urls",
    "generate_audio",
    "frames",
    "output_format",
    "omni_reference_task_type",
    "draft",
    "draft_generation_id",
}
_ARK_DOC = "https://docs.byteplus.com/en/docs/ModelArk/1520757"
#: The vendors' OpenAPI documents, copied into tests/fixtures/vendor_schemas/ (see docs.evolink.ai/llms.txt).
_EVO_1_DOC = "EvoLink OpenAPI, tests/fixtures/vendor_schemas/evolink_seedance_1_0_pro_fast.openapi.json"
_EVO_2_DOC = "EvoLink OpenAPI, tests/fixtures/vendor_schemas/evolink_seedance_2_0.openapi.json"
_AIML_DOC = "AIML API OpenAPI, tests/fixtures/vendor_schemas/aimlapi_seedance_1_0_pro_fast.post.openapi.json"


def _evolink_2(model: str, mode: Mode, fast: bool) -> ModelLimits:
    extra = {"text": {"web_search"}, "image": {"image_urls"}, "reference": {"image_urls", "video_urls", "audio_urls"}}
    return ModelLimits(
        backend="evolink",
        model=model,
        modes=frozenset({mode}),
        min_duration=4,
        max_duration=15,
        qualities=("480p", "720p") if fast else ALL_QUALITIES,
        fields=_EVO_2_COMMON | extra[mode],
        source=_EVO_2_DOC,
    )


def _build_table() -> dict[tuple[str, str], ModelLimits]:
    table = [
        ModelLimits(
            backend="evolink",
            model="doubao-seedance-1.0-pro-fast",
            modes=frozenset({"text", "image"}),
            min_duration=2,
            max_duration=12,
            aspect_ratios=RATIOS,
            image_mode_ratios=(*RATIOS, "keep_ratio", "adaptive"),
            max_frame_images=1,
            fields=_EVO_1_FIELDS,
            prompt_max=2000,
            source=_EVO_1_DOC,
        ),
        ModelLimits(
            backend="aimlapi",
            model="bytedance/seedance-1-0-pro-fast",
            modes=frozenset({"text", "image"}),
            min_duration=5,
            max_duration=10,
            duration_choices=(5, 10),
            aspect_ratios=(),
            fields=frozenset({"image_urls", "duration", "quality", "seed", "camera_fixed", "watermark"}),
            source=_AIML_DOC,
        ),
    ]
    for fast in (False, True):
        infix = "fast-" if fast else ""
        for mode, name in (("text", "text"), ("image", "image"), ("reference", "reference")):
            table.append(_evolink_2(f"seedance-2.0-{infix}{name}-to-video", mode, fast))  # type: ignore[arg-type]
    for model, fast in (("dreamina-seedance-2-0-260128", False), ("dreamina-seedance-2-0-fast-260128", True)):
        table.append(
            ModelLimits(
                backend="modelark",
                model=model,
                modes=frozenset({"text", "image", "reference"}),
                min_duration=4,
                max_duration=15,
                qualities=("480p", "720p") if fast else ALL_QUALITIES,
                fields=_ARK_COMMON | {"video_urls", "audio_urls", "generate_audio"},
                source=_ARK_DOC,
            )
        )
    # Seedance 1.5 pro: text and first(/last) frame, 4-12 s, audio, drafts (docs.byteplus.com ModelArk/1520757:
    # "draft ... only Seedance 1.5 pro"; the model list there names seedance-1-5-pro-251215).
    table.append(
        ModelLimits(
            backend="modelark",
            model="seedance-1-5-pro-251215",
            modes=frozenset({"text", "image"}),
            min_duration=4,
            max_duration=12,
            fields=_ARK_COMMON | {"generate_audio", "draft", "draft_generation_id"},
            drafts=True,
            source=_ARK_DOC,
        )
    )
    for model, frames in (("seedance-1-0-pro-250528", 2), ("seedance-1-0-pro-fast-251015", 1)):
        table.append(
            ModelLimits(
                backend="modelark",
                model=model,
                modes=frozenset({"text", "image"}),
                min_duration=2,
                max_duration=12,
                max_frame_images=frames,
                fields=_ARK_COMMON | {"frames"},
                source=_ARK_DOC,
            )
        )
    return {(limit.backend, limit.model): limit for limit in table}


MODEL_LIMITS: dict[tuple[str, str], ModelLimits] = _build_table()

#: What an unknown model of each backend may use: everything the backend's API has a field for.
_GENERIC_FIELDS: dict[str, frozenset[str]] = {
    "evolink": _EVO_2_COMMON | {"image_urls", "video_urls", "audio_urls", "web_search"},
    "aimlapi": frozenset(
        {"image_urls", "duration", "quality", "aspect_ratio", "seed", "camera_fixed", "watermark", "generate_audio"}
    ),
    "modelark": _ARK_ALL,
}


#: The modes an unknown model of each backend may use: what the backend's wire body can carry. The AIML API
#: body has only ``image_url`` and ``last_image_url``, so no reference mode there (a third image would be
#: dropped without a word).
_GENERIC_MODES: dict[str, frozenset[Mode]] = {
    "evolink": frozenset({"text", "image", "reference"}),
    "aimlapi": frozenset({"text", "image"}),
    "modelark": frozenset({"text", "image", "reference"}),
}


def generic_limits(backend: BackendName, model: str) -> ModelLimits:
    """Loose limits for a model the table does not know: the API's own field set, sane bounds."""
    return ModelLimits(
        backend=backend,
        model=model,
        modes=_GENERIC_MODES[backend],
        min_duration=1,
        max_duration=60,
        image_mode_ratios=(*RATIOS, "keep_ratio", "adaptive"),
        fields=_GENERIC_FIELDS[backend],
        drafts=backend == "modelark",
    )


def backend_fields(backend: BackendName) -> frozenset[str]:
    """The optional request fields a backend's API has a body field for."""
    return _GENERIC_FIELDS[backend]


def backend_modes(backend: BackendName) -> frozenset[Mode]:
    """The modes a backend's wire body can carry."""
    return _GENERIC_MODES[backend]


def limits_for(backend: BackendName, model: str) -> ModelLimits | None:
    """The known limits of a model, or None when the table does not know it."""
    return MODEL_LIMITS.get((backend, model))


def known_models(backend: BackendName | None = None) -> list[str]:
    return [m for (b, m) in MODEL_LIMITS if backend is None or b == backend]


def backends_for_model(model: str) -> list[BackendName]:
    """The backends whose table knows this model id (ids are distinct across vendors in practice)."""
    return [backend for (backend, known) in MODEL_LIMITS if known == model]  # type: ignore[misc]


class Dialect(Protocol):
    """What the validator needs to know of a backend's API; every ``backends.Backend`` is one."""

    @property
    def name(self) -> BackendName: ...

    @property
    def reserved_body_keys(self) -> Mapping[str, tuple[str, ...]]:
        """Each wire-body key the backend builds from a request argument, with the argument(s) it comes from."""
        ...


def validate_request(
    backend: Dialect, request: VideoRequest, models: Mapping[str, ModelLimits] | None = None
) -> list[str]:
    """Raise ``SeedanceValidationError`` naming every field that breaks the model's limits (the first one is
    its ``field``, the others its ``others``); return warnings (e.g. unknown model).

    ``backend`` is the ``Backend`` the request is for, e.g. ``get_backend("evolink")`` or a hook's ``backend``;
    ``models`` the limits a deployment declared for its backend (``_declared_models.py``), which win over the table.
    """
    if isinstance(backend, str):
        raise TypeError(f"validate_request takes the backend itself: validate_request(get_backend({backend!r}), ...)")
    warnings: list[str] = []
    if not request.model.strip():
        raise SeedanceValidationError("model", request.model, "a model id is required")
    _check_backend_fields(backend.name, request)
    limits = resolve_limits(backend.name, request.model, models)
    if limits is None:
        warnings.append(_unknown_model(backend.name, request.model))
        limits = generic_limits(backend.name, request.model)
    mode = limits.mode_for(request)
    checks: list[Callable[[], None]] = [
        lambda: _check_fields(limits, request),
        lambda: _check_extra_params(backend.reserved_body_keys, request),
        lambda: check_vendor_fields(request, drafts_allowed=limits.drafts),
        lambda: _check_prompt(limits, request),
        lambda: _check_media(limits, request, mode),
        *(partial(check, limits, request, mode) for check in SCALAR_CHECKS),
    ]
    problems: list[SeedanceValidationError] = []
    for check in checks:
        try:
            check()
        except SeedanceValidationError as exc:
            problems.append(exc)
    if problems:
        raise SeedanceValidationError.combined(problems)
    return warnings


def resolve_limits(
    backend: BackendName, model: str, models: Mapping[str, ModelLimits] | None = None
) -> ModelLimits | None:
    """The limits of a model: the deployment's declaration first, then the built-in table; None if neither."""
    declared = (models or {}).get(model)
    return declared if declared is not None else limits_for(backend, model)


def with_vendor_expiry(
    backend: BackendName, request: VideoRequest, seconds_left: float, models: Mapping[str, ModelLimits] | None = None
) -> VideoRequest:
    """The request with ``execution_expires_after`` set to the time left until our deadline (within the API's
    bounds), where the model takes the field and the user gave none: the vendor then expires, unbilled, a
    render our deadline abandons."""
    limits = resolve_limits(backend, request.model, models) or generic_limits(backend, request.model)
    if request.execution_expires_after is not None or "execution_expires_after" not in limits.fields:
        return request
    return request.model_copy(update={"execution_expires_after": expiry_for(seconds_left)})


def _check_backend_fields(backend: BackendName, request: VideoRequest) -> None:
    """A field the backend's API has no body field for is refused whatever the model, naming the limit."""
    for name in sorted(request.set_fields() - {"extra_params"} - _GENERIC_FIELDS[backend]):
        if name in VENDOR_FIELD_LIMITS:
            limit = f"{name} is a BytePlus ModelArk field ({VENDOR_FIELD_LIMITS[name]})"
            raise SeedanceValidationError(
                name,
                getattr(request, name),
                f"the {backend} API has no such field: {limit}; use a connection with backend=modelark",
                model=request.model,
            )


#: How a backend is named in messages ("... is an EvoLink model").
BACKEND_TITLES: dict[str, str] = {"evolink": "an EvoLink", "aimlapi": "an AIML API", "modelark": "a BytePlus ModelArk"}


def _unknown_model(backend: BackendName, model: str) -> str:
    """The warning for a model id the table does not know; a known id of another backend is refused."""
    known = known_models(backend)
    others = backends_for_model(model)
    if others:
        raise SeedanceValidationError(
            "model",
            model,
            f"{model!r} is {BACKEND_TITLES[others[0]]} model id, but this connection's backend is {backend}: "
            f"use one of {backend}'s models ({', '.join(known)}) or a connection with backend={others[0]}",
        )
    close = difflib.get_close_matches(model, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (
        f"model {model!r} is not in this provider's limits table for {backend} "
        f"(known: {', '.join(known)}); only generic checks were applied{hint}"
    )


def _check_fields(limits: ModelLimits, request: VideoRequest) -> None:
    for name in sorted(request.set_fields() - {"extra_params"}):
        if name not in limits.fields:
            accepted = ", ".join(sorted(limits.fields)) or "none"
            raise SeedanceValidationError(
                name,
                getattr(request, name),
                f"not accepted by this model on {limits.backend} (accepted optional fields: {accepted})",
                model=limits.model,
            )


def _check_extra_params(sources: Mapping[str, tuple[str, ...]], request: VideoRequest) -> None:
    """Refuse an ``extra_params`` key that would overwrite a wire field built (and checked) from an argument.

    The backends merge ``extra_params`` into the wire body last, so such a key would bypass validation.
    ``sources`` is the backend's ``reserved_body_keys``.
    """
    if not request.extra_params:
        return
    for key in sorted(request.extra_params):
        if key not in sources:
            continue
        names = sources[key]
        if len(names) == 1:
            source, use = f"the {names[0]} argument", "use that argument"
        else:
            source, use = f"the {', '.join(names[:-1])} and {names[-1]} arguments", "use those arguments"
        raise SeedanceValidationError(
            f"extra_params[{key!r}]",
            request.extra_params[key],
            f"{key!r} is set from {source} and checked; {use}",
            model=request.model,
        )


def _check_prompt(limits: ModelLimits, request: VideoRequest) -> None:
    if limits.prompt_required and not request.prompt.strip() and request.draft_generation_id is None:
        raise SeedanceValidationError("prompt", request.prompt, "a non-empty prompt is required", model=limits.model)
    if len(request.prompt) > limits.prompt_max:
        raise SeedanceValidationError(
            "prompt",
            f"<{len(request.prompt)} characters>",
            f"at most {limits.prompt_max} characters",
            model=limits.model,
        )


def _check_media(limits: ModelLimits, request: VideoRequest, mode: Mode) -> None:
    images, videos, audios = request.image_urls, request.video_urls, request.audio_urls
    model = limits.model
    for name, urls in (("image_urls", images), ("video_urls", videos), ("audio_urls", audios)):
        for index, url in enumerate(urls):
            check_media_url(f"{name}[{index}]", url, allow_data=name == "image_urls", model=model)
    if mode == "text" and images:
        raise SeedanceValidationError("image_urls", list(images), "text-to-video takes no images", model=model)
    if mode == "image":
        if not images:
            raise SeedanceValidationError("image_urls", [], "image-to-video needs 1 image (first frame)", model=model)
        if len(images) > limits.max_frame_images:
            raise SeedanceValidationError(
                "image_urls",
                list(images),
                f"image-to-video takes at most {limits.max_frame_images} image(s): first frame, then last frame",
                model=model,
            )
    if mode == "reference":
        if len(images) > limits.max_ref_images:
            raise SeedanceValidationError(
                "image_urls", list(images), f"at most {limits.max_ref_images} reference images", model=model
            )
        if audios and not (images or videos):
            raise SeedanceValidationError(
                "audio_urls", list(audios), "audio cannot be the only reference: add an image or a video", model=model
            )
        if not (images or videos):
            raise SeedanceValidationError(
                "image_urls", [], "reference-to-video needs at least 1 reference image or video", model=model
            )
    if len(videos) > limits.max_videos:
        raise SeedanceValidationError("video_urls", list(videos), f"at most {limits.max_videos} videos", model=model)
    if len(audios) > limits.max_audios:
        raise SeedanceValidationError("audio_urls", list(audios), f"at most {limits.max_audios} audios", model=model)


def _check_duration(limits: ModelLimits, request: VideoRequest, mode: Mode) -> None:
    if request.duration is None:
        return
    if limits.duration_choices is not None:
        if request.duration not in limits.duration_choices:
            choices = " or ".join(str(c) for c in limits.duration_choices)
            raise SeedanceValidationError(
                "duration", request.duration, f"must be {choices} seconds", model=limits.model
            )
    elif not limits.min_duration <= request.duration <= limits.max_duration:
        raise SeedanceValidationError(
            "duration",
            request.duration,
            f"must be {limits.min_duration}-{limits.max_duration} seconds",
            model=limits.model,
        )


def _check_quality(limits: ModelLimits, request: VideoRequest, mode: Mode) -> None:
    if request.quality is not None and request.quality not in limits.qualities:
        raise SeedanceValidationError(
            "quality", request.quality, f"must be one of {', '.join(limits.qualities)}", model=limits.model
        )


def _check_aspect_ratio(limits: ModelLimits, request: VideoRequest, mode: Mode) -> None:
    if request.aspect_ratio is None:
        return
    ratios = limits.image_mode_ratios if mode == "image" and limits.image_mode_ratios else limits.aspect_ratios
    if request.aspect_ratio not in ratios:
        raise SeedanceValidationError(
            "aspect_ratio",
            request.aspect_ratio,
            f"must be one of {', '.join(ratios)} ({mode} mode)",
            model=limits.model,
        )


def _check_tier_seed_callback(limits: ModelLimits, request: VideoRequest, mode: Mode) -> None:
    model = limits.model
    if request.service_tier is not None and request.service_tier not in ("default", "flex"):
        raise SeedanceValidationError("service_tier", request.service_tier, "must be 'default' or 'flex'", model=model)
    if request.seed is not None and not -1 <= request.seed <= 2**32 - 1:
        raise SeedanceValidationError("seed", request.seed, "must be -1 to 4294967295", model=model)
    if request.callback_url is not None:
        check_callback_url(request.callback_url, model=model)


#: The scalar fields' checks, each raising for its own field(s), so every wrong one is reported together.
SCALAR_CHECKS = (_check_duration, _check_quality, _check_aspect_ratio, _check_tier_seed_callback)
