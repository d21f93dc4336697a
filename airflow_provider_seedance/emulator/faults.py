"""Fault injection: per-request-kind rates of HTTP errors, slow answers, dropped connections,
malformed bodies, lost create answers and truncated downloads; deterministic with a seed."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

SCOPES = ("create", "poll", "download", "cancel", "list")
NAMED_FAULTS = ("slow", "drop", "reset", "malformed", "500_after_create", "truncate")
SCOPE_ONLY = {"500_after_create": "create", "truncate": "download"}
SCOPE_SETTINGS = ("retry_after", "slow_seconds", "limit")
_STATUS_RE = re.compile(r"^[45]\d\d$")
DEFAULT_RETRY_AFTER = 1.0
DEFAULT_SLOW_SECONDS = 2.0


class FaultConfigError(ValueError):
    """The fault configuration is not understood."""


@dataclass(frozen=True)
class Fault:
    """One fault to apply to the current request."""

    name: str
    retry_after: float
    slow_seconds: float

    @property
    def status(self) -> int | None:
        """The HTTP status for plain HTTP-error faults ("429", "503", ...)."""
        return int(self.name) if _STATUS_RE.match(self.name) else None


@dataclass
class _Scope:
    rates: list[tuple[str, float]]
    retry_after: float
    slow_seconds: float
    limit: int | None
    rng: random.Random
    injected: int = 0


@dataclass
class FaultInjector:
    """Draws at most one fault per request from the configured rates."""

    config: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    _scopes: dict[str, _Scope] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.configure(self.config)

    def configure(self, config: dict[str, Any] | None) -> None:
        """Replace the whole configuration (and restart the random sequences)."""
        if config is not None and not isinstance(config, dict):
            raise FaultConfigError("fault config must be a JSON object")
        config = dict(config or {})
        seed = config.get("seed", self.seed)
        retry_after = _number(config.get("retry_after", DEFAULT_RETRY_AFTER), "retry_after")
        slow = _number(config.get("slow_seconds", DEFAULT_SLOW_SECONDS), "slow_seconds")
        scopes: dict[str, _Scope] = {}
        for key, value in config.items():
            if key in ("seed", "retry_after", "slow_seconds"):
                continue
            if key not in SCOPES:
                raise FaultConfigError(f"unknown fault scope {key!r}; expected one of {', '.join(SCOPES)}")
            if not isinstance(value, dict):
                raise FaultConfigError(f"faults.{key} must be an object of rates")
            scopes[key] = _parse_scope(key, value, retry_after, slow, seed)
        self.config = config
        self._scopes = scopes

    def draw(self, scope: str) -> Fault | None:
        """The fault for one request of this kind, or None."""
        state = self._scopes.get(scope)
        if state is None or not state.rates:
            return None
        if state.limit is not None and state.injected >= state.limit:
            return None
        roll = state.rng.random()
        total = 0.0
        for name, rate in state.rates:
            total += rate
            if roll < total:
                state.injected += 1
                return Fault(name, state.retry_after, state.slow_seconds)
        return None


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise FaultConfigError(f"{name} must be a number >= 0")
    return float(value)


def _parse_scope(scope: str, spec: dict[str, Any], retry_after: float, slow: float, seed: Any) -> _Scope:
    rates: list[tuple[str, float]] = []
    for name, rate in spec.items():
        if name in SCOPE_SETTINGS:
            continue
        if not (_STATUS_RE.match(name) or name in NAMED_FAULTS):
            raise FaultConfigError(f"unknown fault {name!r} in faults.{scope}")
        only = SCOPE_ONLY.get(name)
        if only is not None and only != scope:
            raise FaultConfigError(f"fault {name!r} only applies to faults.{only}")
        value = _number(rate, f"faults.{scope}.{name}")
        if value > 1:
            raise FaultConfigError(f"faults.{scope}.{name} must be a rate between 0 and 1")
        rates.append((name, value))
    if sum(rate for _, rate in rates) > 1.0 + 1e-9:
        raise FaultConfigError(f"the rates in faults.{scope} add up to more than 1")
    limit = spec.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise FaultConfigError(f"faults.{scope}.limit must be an integer >= 0")
    rng = random.Random() if seed is None else random.Random(f"{seed}:{scope}")
    return _Scope(
        rates=rates,
        retry_after=_number(spec.get("retry_after", retry_after), f"faults.{scope}.retry_after"),
        slow_seconds=_number(spec.get("slow_seconds", slow), f"faults.{scope}.slow_seconds"),
        limit=limit,
        rng=rng,
    )
