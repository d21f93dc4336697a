"""Models a deployment declares itself (a connection's extra ``models``, or ``[seedance] models``), checked
with the same rules as the built-in table, so a model the vendor ships today is fully validated today.

Pure: no Airflow, no I/O. The hook reads the two sources and passes the result to ``validate_request``.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from airflow_provider_seedance.contract.limits import (
    GENERIC_PROMPT_MAX,
    RATIOS,
    ModelLimits,
    backend_fields,
    backend_modes,
)
from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.models import BACKENDS, BackendName, Quality

_ALL_RATIOS = (*RATIOS, "adaptive", "keep_ratio")


def _all_qualities() -> list[Quality]:
    return ["480p", "720p", "1080p"]


class DeclaredModel(BaseModel):
    """One model's limits as a deployment writes them (JSON); every key is checked, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    modes: list[Literal["text", "image", "reference"]] = Field(min_length=1)
    durations: list[int] = Field(min_length=1, description="[min, max] seconds, or the exact choices")
    duration_choices: bool = Field(False, description="durations lists the only choices, not a range")
    qualities: list[Quality] = Field(default_factory=_all_qualities)
    ratios: list[str] = Field(default_factory=lambda: [*RATIOS, "adaptive"])
    image_mode_ratios: list[str] = Field(default_factory=list)
    max_frame_images: int = Field(2, ge=1, le=2)
    max_ref_images: int = Field(9, ge=0, le=9)
    max_videos: int = Field(3, ge=0, le=3)
    max_audios: int = Field(3, ge=0, le=3)
    optional_fields: list[str] = Field(default_factory=list, description="the request fields the model accepts")
    drafts: bool = False
    prompt_max: int = Field(GENERIC_PROMPT_MAX, ge=1)
    source: str = Field("", description="where these limits come from (a vendor page)")

    @field_validator("ratios", "image_mode_ratios")
    @classmethod
    def _known_ratios(cls, ratios: list[str]) -> list[str]:
        bad = [r for r in ratios if r not in _ALL_RATIOS]
        if bad:
            raise ValueError(f"{bad} not among {', '.join(_ALL_RATIOS)}")
        return ratios

    @model_validator(mode="after")
    def _coherent(self) -> DeclaredModel:
        if not self.duration_choices and (len(self.durations) != 2 or not 1 <= self.durations[0] <= self.durations[1]):
            raise ValueError("durations must be [min, max] with 1 <= min <= max (or set duration_choices)")
        if any(d < 1 for d in self.durations):
            raise ValueError("durations must be whole seconds of at least 1")
        if self.drafts and "draft" not in self.optional_fields:
            raise ValueError("drafts is true but optional_fields lacks 'draft'")
        return self

    def limits(self, backend: BackendName, model: str) -> ModelLimits:
        choices = tuple(self.durations) if self.duration_choices else None
        return ModelLimits(
            backend=backend,
            model=model,
            modes=frozenset(self.modes),
            min_duration=min(self.durations),
            max_duration=max(self.durations),
            duration_choices=choices,
            qualities=tuple(self.qualities),
            aspect_ratios=tuple(self.ratios),
            image_mode_ratios=tuple(self.image_mode_ratios),
            max_frame_images=self.max_frame_images,
            max_ref_images=self.max_ref_images,
            max_videos=self.max_videos,
            max_audios=self.max_audios,
            fields=frozenset(self.optional_fields),
            prompt_max=self.prompt_max,
            drafts=self.drafts,
            source=self.source,
        )


def parse_declared_models(raw: Any, backend: BackendName, where: str) -> dict[str, ModelLimits]:
    """``{model id: limits}`` from a JSON object (or its text); an error names ``where`` and the bad key.

    ``where`` says which source, e.g. ``connection 'seedance_default' extra models`` or ``[seedance] models``.
    """
    return {
        model: declared_limits(spec, backend, model, where) for model, spec in load_declarations(raw, where).items()
    }


def load_declarations(raw: Any, where: str) -> dict[str, Any]:
    """The JSON object of model id -> limits (or its text) as a dict, not yet checked; {} when empty.

    The first half of ``parse_declared_models``, public so the emulator reads a declaration exactly as the hook
    does and checks each model against each API it serves (``emulator/declared.py``).
    """
    if raw is None or raw == "" or raw == {}:
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise SeedanceValidationError(where, "<not JSON>", f"must be a JSON object: {exc}") from None
    if not isinstance(raw, dict):
        raise SeedanceValidationError(where, type(raw).__name__, "must be a JSON object of model id -> limits")
    return {str(model): spec for model, spec in raw.items()}


def declared_limits(spec: Any, backend: BackendName, model: str, where: str) -> ModelLimits:
    """One model's declaration checked for ``backend``'s API: the second half of ``parse_declared_models``."""
    declared = _validated(spec, model, where)
    misfit = _misfit(declared, backend, f"{where}[{model!r}]")
    if misfit is not None:
        raise misfit
    return declared.limits(backend, model)


def parse_shared_models(raw: Any, backend: BackendName, where: str) -> dict[str, ModelLimits]:
    """The deployment-wide declarations (``[seedance] models``) that ``backend``'s API can serve.

    The option covers every connection, whatever its backend: a declaration whose fields or modes only
    another backend's API has (a ModelArk ``draft``) declares that model there, and is not an error on the
    other backends' connections. A malformed declaration, or one that no backend's API can carry, is
    refused on every connection, naming the key (and each API's reason). The emulator serves declared
    models by the same rule (``emulator/declared.py``).
    """
    models: dict[str, ModelLimits] = {}
    for model, spec in load_declarations(raw, where).items():
        declared = _validated(spec, model, where)
        misfits = {name: _misfit(declared, name, f"{where}[{model!r}]") for name in BACKENDS}
        if misfits[backend] is None:
            models[model] = declared.limits(backend, model)
        elif all(misfit is not None for misfit in misfits.values()):
            reasons: dict[str, SeedanceValidationError] = {}
            for misfit in (misfits[backend], *misfits.values()):  # this backend's reason first
                if misfit is not None:
                    reasons.setdefault(str(misfit), misfit)
            raise SeedanceValidationError.combined(list(reasons.values()))  # each API's reason
    return models


def _validated(spec: Any, model: str, where: str) -> DeclaredModel:
    field = f"{where}[{model!r}]"
    if not model.strip():
        raise SeedanceValidationError(where, model, "a model id must not be blank")
    try:
        return DeclaredModel.model_validate(spec)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(part) for part in error["loc"])
        raise SeedanceValidationError(f"{field}.{loc}" if loc else field, error.get("input"), error["msg"]) from None


def _misfit(declared: DeclaredModel, backend: BackendName, field: str) -> SeedanceValidationError | None:
    """Why ``backend``'s API cannot carry this declaration, or None."""
    unknown = sorted(set(declared.optional_fields) - backend_fields(backend))
    if unknown:
        allowed = ", ".join(sorted(backend_fields(backend)))
        return SeedanceValidationError(
            f"{field}.optional_fields", unknown, f"not request fields the {backend} API has (it has: {allowed})"
        )
    modes = sorted(set(declared.modes) - backend_modes(backend))
    if modes:
        return SeedanceValidationError(f"{field}.modes", modes, f"the {backend} API's body cannot carry these modes")
    return None
