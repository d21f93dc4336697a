"""A batch's connections (its own, then ``fallback_conn_ids``): each item's request mapped and validated for
every fallback before any create, and the try's failover gate: once a connection refused a create for sure,
the items after it go straight to the next connection instead of each paying a refused request first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_seedance.contract.batch import item_digest
from airflow_provider_seedance.contract.limits import with_vendor_expiry
from airflow_provider_seedance.exceptions import (
    SeedanceAuthError,
    SeedanceConnectionError,
    SeedanceError,
    SeedanceQuotaError,
    SeedanceRateLimitError,
    failure_reason,
)
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.models import VideoRequest
from airflow_provider_seedance.operators._fallbacks import fallback_hooks, fallback_leg, rendered_mapping
from airflow_provider_seedance.runtime import _metrics as metrics
from airflow_provider_seedance.runtime._compat import AirflowException

_LOG = logging.getLogger(__name__)
#: An item's request on one connection and its digest (part of that create's idempotency key).
Leg = tuple[VideoRequest, str]


@dataclass
class BatchConnections:
    """The task's own hook first, then one per fallback (each connection read once, before any create), and
    any connection an earlier try's record names that is no longer listed (polled there, never created on)."""

    hooks: list[SeedanceHook]
    user_map: dict[str, str] = field(default_factory=dict)
    #: How many of ``hooks`` are the task's own and its fallbacks: the connections creates may go to.
    listed: int = 1
    _warned: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, hook: SeedanceHook, conn_ids: Any, models: Any) -> BatchConnections:
        """``fallback_conn_ids`` and ``fallback_models`` as rendered, each connection read (a missing one is
        refused naming its place in ``fallback_conn_ids``)."""
        hooks = [hook, *fallback_hooks(hook, conn_ids)]
        return cls(hooks, rendered_mapping(models, "fallback_models"), len(hooks))

    @property
    def listed_hooks(self) -> list[SeedanceHook]:
        """The task's own hook and its fallbacks' (not those only an earlier try's record names)."""
        return self.hooks[: self.listed]

    @property
    def conn_ids(self) -> list[str]:
        return [hook.seedance_conn_id for hook in self.hooks]

    def adopt(self, conn_ids: Sequence[str]) -> None:
        """Add a hook for each connection of ``conn_ids`` (the record's, the event's) not listed any more."""
        known = self.conn_ids
        self.hooks.extend(SeedanceHook(conn_id) for conn_id in conn_ids if conn_id not in known)

    def fallback_legs(self, request: VideoRequest, seconds_left: float, log: Any) -> tuple[Leg, ...]:
        """``request`` (validated on the task's own connection) on each fallback: its model mapped, validated
        against that backend's limits (a refusal names the fallback), its vendor expiry set; each warning
        logged once per batch."""
        primary = self.hooks[0].backend.name
        legs = []
        for index, hook in enumerate(self.listed_hooks[1:]):
            route, warnings = fallback_leg(index, hook, request, primary, self.user_map)
            for warning in set(warnings) - self._warned:
                self._warned.add(warning)
                (log or _LOG).warning("%s", warning)
            declared = hook.declared_models(hook.backend)
            mapped = with_vendor_expiry(route.backend.name, route.request, seconds_left, declared)
            legs.append((mapped, item_digest(route.backend.name, mapped)))
        return tuple(legs)

    def facts(self, conn_index: int | None) -> dict[str, Any]:
        """The ``conn_id`` and ``backend`` of an item's result (both None when nothing was sent)."""
        if conn_index is None or not 0 <= conn_index < len(self.hooks):
            return {"conn_id": None, "backend": None}
        hook = self.hooks[conn_index]
        try:
            backend: str | None = hook.backend.name
        except (SeedanceError, AirflowException):  # a connection deleted since: the result still names it
            backend = None
        return {"conn_id": hook.seedance_conn_id, "backend": backend}


def account_wide(exc: SeedanceError) -> bool:
    """Whether a sure refusal holds for every model on that connection (no credits, the key refused, rate
    limited, the connection down), not just for the model asked (a 403, 404 or 400 about the model)."""
    if isinstance(exc, SeedanceAuthError):
        return exc.status_code == 401
    return isinstance(exc, (SeedanceQuotaError, SeedanceRateLimitError, SeedanceConnectionError))


@dataclass
class FailoverGate:
    """The connections that refused a create for sure in this try: the whole connection (402, 401, 429, down),
    or one model there (403, 404, model not offered). An item's creates skip what is closed to it."""

    connections: BatchConnections
    log: Any
    #: (connection, model or None for all) -> why it closed, and whether a retry may find it open again
    _closed: dict[tuple[int, str | None], tuple[str, bool]] = field(default_factory=dict)

    def is_open(self, conn_index: int, model: str) -> bool:
        return (conn_index, None) not in self._closed and (conn_index, model) not in self._closed

    def first_open(self, start: int, legs: Sequence[Leg]) -> int | None:
        """The first connection from ``start`` still open to the item (``legs``: its request on each), or None."""
        return next((k for k in range(start, len(legs)) if self.is_open(k, legs[k][0].model)), None)

    def refused(self, conn_index: int, legs: Sequence[Leg], exc: SeedanceError, reason: str) -> int | None:
        """A sure refusal on ``conn_index``: close it (logged once), count the fallback; the next connection
        open to the item, or None when none is left."""
        model = legs[conn_index][0].model
        scope = (conn_index, None if account_wide(exc) else model)
        following = self.first_open(conn_index + 1, legs)
        if following is not None:
            metrics.fell_back(self.connections.hooks[conn_index].backend.name, model, metrics.error_kind(exc))
        if scope not in self._closed:
            where = self.connections.conn_ids[conn_index]
            self._closed[scope] = (f"{failure_reason(exc)} on {where!r}", exc.retryable)
            self._log_closed(conn_index, scope[1], reason, following)
        return following

    def why_closed(self) -> tuple[str, bool]:
        """Why an item was not sent at all (every connection open to it had refused other items for sure), and
        whether a retry may send it (when one of those refusals was transient: a 429, a connection down)."""
        refusals = "; ".join(text for text, _ in self._closed.values())
        retryable = any(retryable for _, retryable in self._closed.values())
        return f"not sent: every connection refused this try's creates for sure ({refusals})", retryable

    def _log_closed(self, conn_index: int, model: str | None, reason: str, following: int | None) -> None:
        hook = self.connections.hooks[conn_index]
        which = f"items of model {model!r}" if model else "items"
        where = (
            f"go straight to connection {self.connections.conn_ids[following]!r}"
            if following is not None
            else "are not sent (no connection is left)"
        )
        self.log.warning(
            "Seedance create on connection %r (%s) was refused, so nothing was created or billed there: %s. The "
            "remaining %s of this try %s",
            hook.seedance_conn_id,
            hook.backend.name,
            reason,
            which,
            where,
        )
