"""What every API dialect provides: endpoints as data, request -> wire body, wire body -> Generation, errors.

A backend does no I/O. It describes each HTTP call as an ``ApiCall`` that the hook (sync) or the trigger
(async) executes, and it parses what comes back. It also declares the facts about its API that the rest of
the package applies rules to: its status words (``contract/_status.py``), the body keys it builds from
arguments (the validator in ``contract/limits.py``), the path its API lives under (``wire/settings.py``) and
what a healthy answer to the connection probe looks like (the hook's ``test_connection``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from airflow_provider_seedance.contract._status import map_status
from airflow_provider_seedance.contract.limits import Mode, generic_limits, limits_for
from airflow_provider_seedance.exceptions import (
    SeedanceAPIError,
    SeedanceAuthError,
    SeedanceBadRequestError,
    SeedanceNotFoundError,
    SeedanceQuotaError,
    SeedanceRateLimitError,
    SeedanceServerError,
    SeedanceUnsupportedError,
)
from airflow_provider_seedance.models import BackendName, Generation, GenerationState, VideoRequest
from airflow_provider_seedance.wire._rules import IDEMPOTENCY_HEADER, retry_after_seconds

CallKind = Literal["create", "poll", "cancel", "probe"]


@dataclass(frozen=True)
class ApiCall:
    """One HTTP call, relative to the connection's base URL."""

    kind: CallKind
    method: str
    path: str
    params: dict[str, str] | None = None
    json: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str | None:
        """The key that makes sending this call again safe (EvoLink's creates), or None."""
        return next((v for k, v in self.headers.items() if k.lower() == IDEMPOTENCY_HEADER.lower()), None)


@dataclass(frozen=True)
class ErrorInfo:
    """An error body's code, message and request id, as text whatever JSON type the vendor used."""

    code: str | None
    message: str
    request_id: str | None

    def __post_init__(self) -> None:
        for name in ("code", "message", "request_id"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                object.__setattr__(self, name, str(value))


class Backend:
    """Base class of the three dialects; subclasses fill in the tables and the two translations."""

    name: ClassVar[BackendName]
    default_base_url: ClassVar[str]
    #: The path the API lives under on its host, added to a Base URL given as a bare host.
    base_path: ClassVar[str] = ""
    #: The API's status words (matched without regard to case) and the lifecycle state each one means.
    status_words: ClassVar[Mapping[str, GenerationState]]
    #: Each wire-body key ``wire_body`` builds from a request argument, with the argument(s) it comes from.
    #: The validator refuses these keys in ``extra_params``, which is merged last and would overwrite a
    #: checked value. A contract test derives this from ``wire_body`` itself, so the two cannot drift.
    reserved_body_keys: ClassVar[Mapping[str, tuple[str, ...]]]
    supports_cancel: ClassVar[bool] = False
    supports_idempotency: ClassVar[bool] = False
    #: HTTP statuses of the probe call that prove the key was accepted (a 404 for an unknown id is fine).
    probe_ok_statuses: ClassVar[frozenset[int]] = frozenset({200})
    _status_call: ClassVar[tuple[str, str]]

    def cancel_decision(self, generation_id: str, generation: Generation | None) -> tuple[bool, str]:
        """Whether to send a cancel for ``generation`` (last seen as given; None where this API cannot
        cancel), and what the outcome is, for the log and the error message. ModelArk cancels queued tasks
        only: a DELETE of a finished one could remove its record, and the video with it."""
        if not self.supports_cancel or generation is None:
            return False, f"{self.name} cannot cancel generations; {generation_id} keeps running there"
        if generation.state == "queued":
            return True, f"generation {generation_id} was cancelled on {self.name} while still queued"
        if generation.is_terminal:
            return False, f"generation {generation_id} had already ended ({generation.state})"
        return False, (
            f"generation {generation_id} is already rendering; {self.name} cancels only queued generations, "
            "so it finishes (and is billed) there"
        )

    def mode(self, request: VideoRequest) -> Mode:
        limits = limits_for(self.name, request.model) or generic_limits(self.name, request.model)
        return limits.mode_for(request)

    def wire_body(self, request: VideoRequest) -> dict[str, Any]:
        raise NotImplementedError

    def create_call(self, request: VideoRequest, idempotency_key: str | None = None) -> ApiCall:
        raise NotImplementedError

    def status_call(self, generation_id: str) -> ApiCall:
        method, path = self._status_call
        return ApiCall("poll", method, path.format(id=generation_id))

    def cancel_call(self, generation_id: str) -> ApiCall:
        raise SeedanceUnsupportedError(
            f"{self.name} has no cancel endpoint; generation {generation_id} keeps running on the vendor side"
        )

    def probe_call(self) -> ApiCall:
        """An authenticated call that spends no credits, for ``test_connection``."""
        raise NotImplementedError

    def parse_generation(
        self, body: dict[str, Any], *, fallback_id: str | None = None, model: str | None = None
    ) -> Generation:
        raise NotImplementedError

    def parse_error(self, body: Any, headers: dict[str, str]) -> ErrorInfo:
        raise NotImplementedError

    def state_of(self, word: str | None) -> tuple[GenerationState, bool]:
        """The lifecycle state a status word of this API means, and whether the word is a known one."""
        return map_status(self.status_words, word)

    def probe_accepted(self, status_code: int, body: Any) -> bool:
        """Whether the probe call's answer (HTTP status, parsed JSON body) shows this API accepted the key.

        A wrong backend or host answers with another status or another body shape.
        """
        if status_code not in self.probe_ok_statuses or not isinstance(body, dict):
            return False
        return status_code == 200 or self.is_error_body(body)

    def is_error_body(self, body: dict[str, Any]) -> bool:
        """Whether a JSON object has this API's error shape (for a probe answered 404 or 400)."""
        return False

    def api_error(self, status_code: int, content: bytes, headers: dict[str, str]) -> SeedanceAPIError:
        """The typed error for an HTTP error answer, built from the API's own error body."""
        try:
            body: Any = json.loads(content) if content else None
        except ValueError:
            body = None
        if body is None:
            # cut long before the scrub's own bound, so a key crossing the cut is still found and redacted
            text = content[:8000].decode("utf-8", "replace").strip() or "no error body"
            info = ErrorInfo(None, text, _request_id(headers))
        else:
            info = self.parse_error(body, headers)
        kwargs: dict[str, Any] = {
            "status_code": status_code,
            "code": info.code,
            "request_id": info.request_id or _request_id(headers),
            "backend": self.name,
        }
        if status_code in (401, 403):
            return SeedanceAuthError(info.message, **kwargs)
        if status_code == 402:
            return SeedanceQuotaError(info.message, **kwargs)
        if status_code == 404:
            return SeedanceNotFoundError(info.message, **kwargs)
        if status_code == 429:
            return SeedanceRateLimitError(info.message, retry_after=parse_retry_after(headers), **kwargs)
        if status_code >= 500:
            return SeedanceServerError(info.message, **kwargs)
        if 400 <= status_code < 500:
            return SeedanceBadRequestError(info.message, **kwargs)
        return SeedanceAPIError(info.message, **kwargs)


def parse_retry_after(headers: dict[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header, read by the transport's one parser (uncapped here: the caller
    decides how long it waits)."""
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after")
    return retry_after_seconds(value)


def _request_id(headers: dict[str, str]) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in ("x-request-id", "request-id", "x-tt-logid", "x-client-request-id"):
        if lowered.get(name):
            return lowered[name]
    return None


def get_path(mapping: Any, *path: str) -> Any:
    """``mapping[path[0]][path[1]]...`` or None when any step is missing or not a dict."""
    current = mapping
    for key in path:
        if not isinstance(current, dict):
            return None
        current = current.get(key)
    return current


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def as_int(value: Any) -> int | None:
    number = as_float(value)
    return None if number is None else int(number)


def drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}
