"""The operator's failover I/O: the connections to try, each fallback checked before anything is sent, and
the creates in turn, falling over only when ``failover.refusal`` says nothing was created."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from airflow_provider_seedance.contract.failover import FallbackAttempt, Route, check_conn_ids, fallback_route, refusal
from airflow_provider_seedance.contract.limits import with_vendor_expiry
from airflow_provider_seedance.contract.submission import SubmissionState
from airflow_provider_seedance.exceptions import SeedanceError, SeedanceValidationError
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.models import BackendName, Generation, VideoRequest
from airflow_provider_seedance.runtime import _metrics as metrics
from airflow_provider_seedance.runtime._compat import AirflowException

#: The XCom key of the connection that accepted and the refusals before it, read back after a deferral.
ROUTE_XCOM_KEY = "seedance_route"
#: One connection to try: its hook and its route (the request as its backend's model renders it).
Leg = tuple[SeedanceHook, Route]
#: Sends one create on a hook; returns the generation and the submission number.
Submit = Callable[[SeedanceHook, VideoRequest], tuple[Generation, int]]


def fallback_args(conn_ids: Any, models: Any) -> tuple[Any, Any]:
    """The operator's ``fallback_conn_ids`` and ``fallback_models`` as stored: a list and a dict, while a
    template string or an XComArg stays as given (rendered, it becomes a list and a mapping)."""
    ids = list(conn_ids) if isinstance(conn_ids, (list, tuple)) else conn_ids or []
    return ids, dict(models) if isinstance(models, dict) else models or {}


def rendered_list(value: Any, name: str) -> list[str]:
    """A rendered ``fallback_conn_ids``: a list, or a string holding one (``"a,b"``, ``"['a', 'b']"``)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            value = _literal(text, name)
        else:
            return [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise SeedanceValidationError(name, value, "must be a list of connection ids")
    return [str(item) for item in value]


def rendered_mapping(value: Any, name: str) -> dict[str, str]:
    """A rendered ``fallback_models``: a mapping, or a string holding one (JSON or a Python literal)."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        value = _literal(value.strip(), name)
    if not isinstance(value, Mapping):
        raise SeedanceValidationError(name, value, "must be a mapping of connection id (or backend) to model id")
    return {str(key): str(model) for key, model in value.items() if model not in (None, "")}


def _literal(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise SeedanceValidationError(name, text, "is not a list or mapping literal") from None


def plan_legs(hook: SeedanceHook, request: VideoRequest, conn_ids: Any, models: Any, log: Any) -> list[Leg]:
    """The task's own connection, then each fallback with its model mapped and its request validated against
    its backend's limits: a bad fallback fails the task here, before any request is sent."""
    fallbacks = fallback_hooks(hook, conn_ids)
    user_map = rendered_mapping(models, "fallback_models")
    legs: list[Leg] = [(hook, Route(hook.seedance_conn_id, hook.backend, request))]
    for index, fallback in enumerate(fallbacks):
        route, warnings = fallback_leg(index, fallback, request, hook.backend.name, user_map)
        for warning in warnings:
            log.warning("%s", warning)
        legs.append((fallback, route))
    return legs


def fallback_hooks(hook: SeedanceHook, conn_ids: Any) -> list[SeedanceHook]:
    """A hook per rendered ``fallback_conn_ids``, each connection read: a missing one is refused here, naming
    its place in the list."""
    hooks = []
    for index, conn_id in enumerate(
        check_conn_ids(hook.seedance_conn_id, rendered_list(conn_ids, "fallback_conn_ids"))
    ):
        fallback = SeedanceHook(conn_id)
        try:
            fallback.settings  # noqa: B018 - read now, so that a missing connection fails before any request
        except AirflowException as exc:  # Airflow's "connection not defined" (AirflowNotFoundException)
            raise SeedanceValidationError(
                f"fallback_conn_ids[{index}]", conn_id, f"{type(exc).__name__}: {exc}"
            ) from None
        hooks.append(fallback)
    return hooks


def fallback_leg(
    index: int, fallback: SeedanceHook, request: VideoRequest, source: BackendName, user_map: Mapping[str, str]
) -> tuple[Route, list[str]]:
    """Fallback ``index``'s route for ``request`` (``failover.fallback_route``: its model mapped, validated
    against its backend's limits and declared models) and the validator's warnings."""
    settings = fallback.settings
    return fallback_route(
        index,
        fallback.seedance_conn_id,
        settings.backend,
        request,
        source,
        user_map=user_map,
        default_model=settings.default_model,
        models=fallback.declared_models(settings.backend),
    )


def with_deadline(legs: Sequence[Leg], seconds_left: float) -> list[Leg]:
    """Each leg's request with its backend's own expiry set to the time left until our deadline (ModelArk's
    ``execution_expires_after``; other backends have none), so a fallback is never sent a field it lacks."""
    return [
        (
            hook,
            replace(
                route,
                request=with_vendor_expiry(
                    route.backend.name, route.request, seconds_left, hook.declared_models(hook.backend)
                ),
            ),
        )
        for hook, route in legs
    ]


def submit_in_turn(legs: Sequence[Leg], submit: Submit, log: Any) -> tuple[Leg, Generation, int, list[FallbackAttempt]]:
    """Create on each leg in turn until one accepts; fall over only on a sure refusal. Returns the leg that
    accepted, its generation, its submission number and the refusals before it."""
    attempts: list[FallbackAttempt] = []
    for position, (hook, route) in enumerate(legs):
        try:
            generation, submissions = submit(hook, route.request)
        except SeedanceError as exc:
            reason = refusal(exc, [hook.settings.api_key])
            rest = legs[position + 1 :]
            if reason is None or not rest:
                raise _explained(exc, attempts, rest, sure=reason is not None) from None
            attempts.append(_attempt(route, reason))
            _log_fallback(log, route, reason, rest[0][1])
            metrics.fell_back(route.backend.name, route.request.model, metrics.error_kind(exc))
            continue
        return (hook, route), generation, submissions, attempts
    raise AssertionError("no connection to submit to")  # plan_legs always returns the task's own


def _attempt(route: Route, reason: str) -> FallbackAttempt:
    return FallbackAttempt(conn_id=route.conn_id, backend=route.backend.name, model=route.request.model, refused=reason)


def _log_fallback(log: Any, route: Route, reason: str, following: Route) -> None:
    log.warning(
        "Seedance create on connection %r (%s, %s) was refused, so nothing was created or billed there: %s. "
        "Falling over to connection %r (%s, %s)",
        route.conn_id,
        route.backend.name,
        route.request.model,
        reason,
        following.conn_id,
        following.backend.name,
        following.request.model,
    )


def _explained(
    exc: SeedanceError, attempts: list[FallbackAttempt], rest: Sequence[Leg], *, sure: bool
) -> SeedanceError:
    """The create's own error, saying which connections refused before it and why no fallback follows."""
    notes = []
    if attempts:
        notes.append("earlier refusals: " + "; ".join(f"{a.conn_id} ({a.backend}): {a.refused}" for a in attempts))
    if rest and not sure:
        names = ", ".join(repr(route.conn_id) for _, route in rest)
        notes.append(f"not falling over to {names}: this create may have reached the API, and another could bill twice")
    if notes:
        exc.args = (f"{exc} [{'; '.join(notes)}]",)
    return exc


def accepted_hook(legs: Sequence[Leg], state: SubmissionState) -> tuple[SeedanceHook, str | None]:
    """The hook of the connection that accepted the stored generation (the task's own for a version 1
    record), and the model rendered there."""
    conn_id = state.conn_id or legs[0][0].seedance_conn_id
    hook = next((hook for hook, route in legs if route.conn_id == conn_id), None)
    return hook or SeedanceHook(conn_id), state.model


def route_facts(conn_id: str, attempts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What the XCom result adds: the connection that rendered and the refusals before it."""
    return {"seedance_conn_id": conn_id, "attempts": [dict(attempt) for attempt in attempts]}


def remember_route(context: Any, route: dict[str, Any], failover: bool) -> None:
    """Keep the route in XCom for the worker that resumes after the trigger (only with fallbacks)."""
    if failover:
        context["ti"].xcom_push(key=ROUTE_XCOM_KEY, value=route)


def recalled_route(context: Any, conn_id: str, failover: bool) -> dict[str, Any]:
    """The route kept before deferring; the task's own connection when it has no fallbacks."""
    ti = context["ti"]
    # this instance's own: without map_indexes a mapped task's pull answers every instance's, as a list
    route = ti.xcom_pull(task_ids=ti.task_id, key=ROUTE_XCOM_KEY, map_indexes=ti.map_index) if failover else None
    return dict(route) if isinstance(route, dict) else route_facts(conn_id, [])
