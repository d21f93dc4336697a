"""Rules over the backends' status words (each backend declares its own), and which failures are permanent.

Pure data and functions. An unknown status word is treated as still running (never as success) and
reported to the caller, who logs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_seedance.models import Generation, GenerationState

#: Task-level error codes that no retry can fix (the same request fails the same way).
PERMANENT_ERROR_CODES: frozenset[str] = frozenset(
    {
        "content_policy_violation",
        "invalid_parameters",
        "invalid_request",
        "image_dimension_mismatch",
        "resource_not_found",
        "InvalidParameter",
        "InputTextSensitiveContentDetected",
        "InputImageSensitiveContentDetected",
        "InputVideoSensitiveContentDetected",
        "InputAudioSensitiveContentDetected",
        "OutputVideoSensitiveContentDetected",
        "OutputAudioSensitiveContentDetected",
        "SensitiveContentDetected",
    }
)
_PERMANENT_HINTS = ("sensitive", "policy", "moderation", "invalid")


def map_status(known: Mapping[str, GenerationState], word: str | None) -> tuple[GenerationState, bool]:
    """The normalized state for a status word of an API whose words are ``known`` (``Backend.status_words``),
    matched without regard to case or surrounding blanks, and whether the word was known."""
    key = (word or "").strip().lower()
    for candidate, state in known.items():
        if candidate.lower() == key:
            return state, True
    return "running", False


def is_permanent_failure(generation: Generation) -> bool:
    """True when the generation failed for a reason a resubmission cannot fix (policy, bad input)."""
    if generation.state != "failed":
        return False
    code = generation.error_code or ""
    if code in PERMANENT_ERROR_CODES:
        return True
    return any(hint in code.lower() for hint in _PERMANENT_HINTS)
