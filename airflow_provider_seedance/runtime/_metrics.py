"""The provider's metrics, sent through Airflow's own stats facility: StatsD, DogStatsD or OpenTelemetry,
whichever ``[metrics]`` configures (nothing when none is on). The provider only calls the facility; every
name is under ``seedance.`` and every metric is tagged ``backend`` and ``model``. The README lists them.

Airflow is imported on the first metric, not at import time, and a metric never fails a task: an error in
the stats facility is logged once and dropped.
"""

from __future__ import annotations

import datetime
import logging
import re
from typing import Any

from airflow_provider_seedance.exceptions import (
    SeedanceAPIError,
    SeedanceAuthError,
    SeedanceBadRequestError,
    SeedanceConnectionError,
    SeedanceError,
    SeedanceNotFoundError,
    SeedanceQuotaError,
    SeedanceRateLimitError,
    SeedanceServerError,
)

log = logging.getLogger(__name__)

PREFIX = "seedance"
CREATES = f"{PREFIX}.creates"
POLLS = f"{PREFIX}.polls"
POLL_ERRORS = f"{PREFIX}.poll_errors"
RENDER_DURATION = f"{PREFIX}.render_duration"
CREDITS = f"{PREFIX}.credits"
BYTES_SAVED = f"{PREFIX}.bytes_saved"
FALLBACKS = f"{PREFIX}.fallbacks"

#: A poll error's ``kind`` tag, most specific class first.
ERROR_KINDS: tuple[tuple[type[SeedanceError], str], ...] = (
    (SeedanceRateLimitError, "rate_limit"),
    (SeedanceServerError, "server"),
    (SeedanceConnectionError, "connection"),
    (SeedanceAuthError, "auth"),
    (SeedanceQuotaError, "quota"),
    (SeedanceNotFoundError, "not_found"),
    (SeedanceBadRequestError, "bad_request"),
    (SeedanceAPIError, "api"),
)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_stats: Any = None
_failed = False


def error_kind(exc: SeedanceError) -> str:
    """The ``kind`` tag of a failed poll: ``rate_limit``, ``server``, ``connection``, ... or ``other``."""
    return next((kind for cls, kind in ERROR_KINDS if isinstance(exc, cls)), "other")


def tags(backend: str | None, model: str | None, **more: str) -> dict[str, str]:
    """Tag values safe on every wire (StatsD with InfluxDB tags drops a metric over a ``,`` or ``=``)."""
    given = {"backend": backend or "unknown", "model": model or "unknown", **more}
    return {key: _UNSAFE.sub("_", value) for key, value in given.items()}


def created(backend: str, model: str | None) -> None:
    """A create call answered with a generation."""
    _emit("incr", CREATES, 1, tags=tags(backend, model))


def polled(backend: str, model: str | None) -> None:
    """A status request sent (answered or not)."""
    _emit("incr", POLLS, 1, tags=tags(backend, model))


def poll_failed(backend: str, model: str | None, exc: SeedanceError) -> None:
    """A status request that failed, by kind."""
    _emit("incr", POLL_ERRORS, 1, tags=tags(backend, model, kind=error_kind(exc)))


def rendered(backend: str, model: str | None, seconds: float | None, credits: float | None) -> None:
    """A render seen to succeed by a poll: how long it took (submit to success) and what it cost."""
    if seconds is not None:
        _emit("timing", RENDER_DURATION, datetime.timedelta(seconds=seconds), tags=tags(backend, model))
    if credits:
        _emit("incr", CREDITS, credits, tags=tags(backend, model))


def saved(backend: str, model: str | None, size_bytes: int) -> None:
    """A video written to ``output_path``."""
    _emit("incr", BYTES_SAVED, size_bytes, tags=tags(backend, model))


def fell_back(backend: str, model: str | None, kind: str) -> None:
    """A create surely refused on one connection (``kind`` as for poll errors), so the next one is tried."""
    _emit("incr", FALLBACKS, 1, tags=tags(backend, model, kind=kind))


def _emit(method: str, name: str, value: Any, *, tags: dict[str, str]) -> None:
    global _failed
    try:
        getattr(stats(), method)(name, value, tags=tags)
    except Exception as exc:  # a metric must never fail a generation
        if not _failed:
            _failed = True
            log.warning("Seedance metrics: the stats facility failed (%s); dropping metrics", exc)


def stats() -> Any:
    """Airflow's stats facility for this Airflow version, on first use."""
    global _stats
    if _stats is None:
        _stats = _load_stats()
    return _stats


def _load_stats() -> Any:
    try:  # Airflow 3.2+: the task SDK's facility (``airflow.stats`` is a deprecated alias of it)
        from airflow.sdk.observability import stats as sdk_stats
    except ImportError:  # Airflow 3.1: a class that builds its logger from [metrics] on first use
        from airflow.stats import Stats

        return Stats
    if getattr(sdk_stats, "_factory", True) is None:
        # Task runners, and any process importing airflow.sdk.serde, initialize it from [metrics]; a process
        # that did neither would drop every metric, so it is initialized the same way here.
        from airflow.sdk.configuration import conf
        from airflow.sdk.observability.metrics import stats_utils

        sdk_stats.initialize(
            factory=stats_utils.get_stats_factory(),
            export_legacy_names=conf.getboolean("metrics", "legacy_names_on", fallback=True),
        )
    return sdk_stats
