"""The metrics module on its own: error kinds, tag values safe on the wire, and a failing facility dropped."""

from __future__ import annotations

import pytest

from airflow_provider_seedance.exceptions import (
    SeedanceAuthError,
    SeedanceConnectionError,
    SeedanceError,
    SeedanceRateLimitError,
    SeedanceServerError,
)
from airflow_provider_seedance.runtime import _metrics as metrics


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (SeedanceRateLimitError("slow down", status_code=429), "rate_limit"),
        (SeedanceServerError("oops", status_code=503), "server"),
        (SeedanceConnectionError("reset"), "connection"),
        (SeedanceAuthError("no", status_code=401), "auth"),
        (SeedanceError("?"), "other"),
    ],
)
def test_error_kind(exc, kind):
    assert metrics.error_kind(exc) == kind


def test_tag_values_are_safe_on_every_wire():
    assert metrics.tags("evolink", "a,b=c d") == {"backend": "evolink", "model": "a_b_c_d"}
    assert metrics.tags(None, None, kind="server") == {"backend": "unknown", "model": "unknown", "kind": "server"}


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, object, dict[str, str]]] = []

    def incr(self, name: str, value: object, *, tags: dict[str, str]) -> None:
        self.calls.append(("incr", name, value, tags))

    def timing(self, name: str, value: object, *, tags: dict[str, str]) -> None:
        self.calls.append(("timing", name, value, tags))


def test_a_render_without_credits_sends_only_its_duration(monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(metrics, "_stats", recorder)
    metrics.rendered("aimlapi", "m", 12.5, None)
    [(method, name, value, tags)] = recorder.calls
    assert (method, name, tags) == ("timing", "seedance.render_duration", {"backend": "aimlapi", "model": "m"})
    assert value.total_seconds() == 12.5


def test_a_failing_stats_facility_never_fails_the_caller(monkeypatch, caplog):
    class Broken:
        def incr(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("statsd is down")

    monkeypatch.setattr(metrics, "_stats", Broken())
    monkeypatch.setattr(metrics, "_failed", False)
    metrics.created("evolink", "m")
    metrics.polled("evolink", "m")
    assert caplog.text.count("statsd is down") == 1
