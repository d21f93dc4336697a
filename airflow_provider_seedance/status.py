"""Status words of every backend mapped to one lifecycle, and which failures are permanent.

Pure data and functions. An unknown status word is treated as still running (never as success) and
reported to the caller, who logs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_seedance.models import BackendName, Generation, GenerationState

STATUS_MAPS: dict[str, dict[str, GenerationState]] = {
    # OpenAPI enum plus "cancelled" seen from the vendor's client code.
    "evolink": {
        "pending": "queued",
        "queued": "queued",
        "processing": "running",
        "running": "running",
        "completed": "succeeded",
        "succeeded": "succeeded",
        "failed": "failed",
        "cancelled": "cancelled",
        "canceled": "cancelled",
        "expired": "expired",
    },
    # Documented enum plus "succeeded", which the vendor's own example returns.
    "aimlapi": {
        "queued": "queued",
        "pending": "queued",
        "generating": "running",
        "processing": "running",
        "completed": "succeeded",
        "succeeded": "succeeded",
        "success": "succeeded",
        "error": "failed",
        "failed": "failed",
    },
    "modelark": {
        "queued": "queued",
        "running": "running",
        "succeeded": "succeeded",
        "failed": "failed",
        "cancelled": "cancelled",
        "canceled": "cancelled",
        "expired": "expired",
    },
}

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


def map_status(backend: BackendName, word: str | None) -> tuple[GenerationState, bool]:
    """The normalized state for a backend's status word, and whether the word was known."""
    known = STATUS_MAPS[backend]
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
