"""Failover policy (pure): which failed creates surely created nothing, and which model a fallback renders.

A create that may have landed (``SeedanceSubmitUncertainError``, a 5xx, a timeout after sending) is never a
reason to fall over: the render could exist and be billed on the first account, and a second one would be
billed again. The operator's ``fallback_conn_ids`` drive the I/O (``operators/_fallbacks.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from airflow_provider_seedance.contract._vendor_text import redact
from airflow_provider_seedance.contract.limits import (
    Dialect,
    ModelLimits,
    generic_limits,
    known_models,
    limits_for,
    validate_request,
)
from airflow_provider_seedance.exceptions import (
    SeedanceAPIError,
    SeedanceAuthError,
    SeedanceBadRequestError,
    SeedanceConnectionError,
    SeedanceNotFoundError,
    SeedanceQuotaError,
    SeedanceRateLimitError,
    SeedanceSubmitUncertainError,
    SeedanceValidationError,
)
from airflow_provider_seedance.models import BackendName, VideoRequest

#: Error codes with which the APIs say a model is not offered to this account (ModelArk's, EvoLink's, ...).
MODEL_CODES = frozenset(
    {
        "model_not_found",
        "model_not_supported",
        "unsupported_model",
        "invalid_model",
        "modelnotopen",
        "invalidendpointormodel.notfound",
        "invalidendpointormodel",
    }
)
_MODEL_MESSAGE = re.compile(
    r"\b(unsupported|invalid|unknown) model\b|\bmodel\b[^.;]*\b(not found|does not exist|not open|not activated)",
    re.IGNORECASE,
)
_MODE_SUFFIX = re.compile(r"-(text|image|reference)-to-video$")
_REFUSAL_MAX = 300


class FallbackAttempt(BaseModel):
    """A connection whose create was surely refused (nothing created or billed there), and why."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    conn_id: str
    backend: str
    model: str
    refused: str


@dataclass(frozen=True)
class Route:
    """One connection to try: its id, its backend, and the request as that backend's model renders it."""

    conn_id: str
    backend: Dialect
    request: VideoRequest


def refusal(exc: BaseException, secrets: Iterable[str] = ()) -> str | None:
    """Why the create surely created nothing, in one line for the log and the XCom result; None when it may
    have landed (or the failure is the request's own), so failing over could bill twice or fail again.

    ``secrets`` (the connection's key) are cut out of the line, whatever the API put in its message.
    """
    if isinstance(exc, SeedanceSubmitUncertainError):
        return None
    if isinstance(exc, SeedanceConnectionError):
        line = None if exc.may_have_created else "not sent: the connection failed before the request left"
    elif isinstance(exc, SeedanceAPIError):
        line = _api_refusal(exc)
    else:
        line = None
    if line is None:
        return None
    return redact(line, secrets)[:_REFUSAL_MAX]


def _api_refusal(exc: SeedanceAPIError) -> str | None:
    head = f"{exc.status_code} {exc.code}" if exc.code else str(exc.status_code)
    if isinstance(exc, SeedanceQuotaError):
        return f"{head}: no credits left ({exc.message})"
    if isinstance(exc, SeedanceAuthError):
        return f"{head}: the key was refused or has no access to the model ({exc.message})"
    if isinstance(exc, SeedanceRateLimitError):
        return f"{head}: rate limited after the client's retries ({exc.message})"
    if isinstance(exc, SeedanceNotFoundError):
        # the API's message gets a hint naming the URL on a 404: only the code is kept
        return f"{head}: the model or the create endpoint is not offered there"
    if isinstance(exc, SeedanceBadRequestError) and model_not_offered(exc):
        return f"{head}: the model is not offered there ({exc.message})"
    return None


def model_not_offered(exc: SeedanceAPIError) -> bool:
    """Whether a 4xx says the model is unknown or not open to this account (not that the request is bad)."""
    return (exc.code or "").lower() in MODEL_CODES or bool(_MODEL_MESSAGE.search(exc.message))


def model_family(model: str) -> str:
    """A model id without its vendor's prefix, date suffix and mode: equal across backends for one model.

    ``doubao-seedance-1.0-pro-fast``, ``bytedance/seedance-1-0-pro-fast`` and ``seedance-1-0-pro-fast-251015``
    are all ``seedance-1-0-pro-fast``; ``seedance-2.0-fast-text-to-video`` and
    ``dreamina-seedance-2-0-fast-260128`` are ``seedance-2-0-fast``.
    """
    name = model.strip().lower().rsplit("/", 1)[-1]
    name = re.sub(r"^(doubao|dreamina|bytedance)-", "", name)
    name = re.sub(r"-\d{6}$", "", name)
    return _MODE_SUFFIX.sub("", name).replace(".", "-")


def equivalent_model(request: VideoRequest, source: BackendName, target: BackendName) -> str | None:
    """The model of ``target``'s table that renders what ``request.model`` renders on ``source``: the same id
    on the same backend, else the one of the same family that offers the request's mode; None if none does."""
    if source == target:
        return request.model
    limits = limits_for(source, request.model) or generic_limits(source, request.model)
    mode = limits.mode_for(request)
    family = model_family(request.model)
    for candidate in known_models(target):
        found = limits_for(target, candidate)
        if found is not None and model_family(candidate) == family and mode in found.modes:
            return candidate
    return None


def fallback_model(
    request: VideoRequest,
    source: BackendName,
    conn_id: str,
    target: BackendName,
    *,
    user_map: Mapping[str, str],
    default_model: str | None,
) -> str:
    """The model to ask of fallback connection ``conn_id``: ``fallback_models[conn_id]``, then
    ``fallback_models[backend]``, then the table's equivalent, then the connection's ``extra.default_model``."""
    chosen = user_map.get(conn_id) or user_map.get(target)
    chosen = chosen or equivalent_model(request, source, target) or default_model
    if chosen:
        return str(chosen)
    raise SeedanceValidationError(
        "fallback_models",
        dict(user_map),
        f"no {target} equivalent of {request.model!r} is known for fallback connection {conn_id!r}: map it, "
        f"e.g. fallback_models={{{conn_id!r}: <a {target} model id>}} ({', '.join(known_models(target))}), "
        "or set the connection's extra.default_model",
        model=request.model,
    )


def fallback_route(
    index: int,
    conn_id: str,
    backend: Dialect,
    request: VideoRequest,
    source: BackendName,
    *,
    user_map: Mapping[str, str],
    default_model: str | None,
    models: Mapping[str, ModelLimits] | None = None,
) -> tuple[Route, list[str]]:
    """Fallback ``index``'s route, its request validated against its backend's limits before anything is
    sent (``models``: the limits the fallback's deployment declares); a refusal names the fallback. Returns the
    route and the validator's warnings."""
    model = fallback_model(request, source, conn_id, backend.name, user_map=user_map, default_model=default_model)
    mapped = request.model_copy(update={"model": model})
    where = f"on fallback_conn_ids[{index}] {conn_id!r} ({backend.name}, model {model!r})"
    try:
        warnings = validate_request(backend, mapped, models)
    except SeedanceValidationError as exc:
        hint = f"{where}: map another model in fallback_models[{conn_id!r}] or drop this fallback"
        raise SeedanceValidationError(exc.field, exc.value, f"{exc.limit} ({hint})", model=model) from None
    return Route(conn_id, backend, mapped), [f"{warning} ({where})" for warning in warnings]


def check_conn_ids(primary: str, fallbacks: Iterable[str]) -> list[str]:
    """The fallback connection ids as a list of distinct ids, none of them the primary one."""
    ids = [str(conn_id).strip() for conn_id in fallbacks]
    for conn_id in ids:
        if not conn_id or conn_id == primary or ids.count(conn_id) > 1:
            raise SeedanceValidationError(
                "fallback_conn_ids",
                ids,
                f"each must be a connection id, given once, other than seedance_conn_id ({primary!r})",
            )
    return ids
