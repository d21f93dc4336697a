"""Scenario 2: a fault storm on the polls (429 + Retry-After, 5xx, slow, dropped and reset connections,
malformed bodies) and on the downloads; every generation still succeeds, nothing is created twice."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.deployment.conftest import emulator_counts, fill_row, verify_video
from tests.deployment.harness import BACKENDS, Deployment, RunWatch

pytestmark = pytest.mark.timeout(900)

GENERATIONS = 12
STORM = {
    "poll": {
        "429": 0.25,
        "500": 0.05,
        "502": 0.05,
        "503": 0.1,
        "slow": 0.1,
        "drop": 0.1,
        "reset": 0.05,
        "malformed": 0.05,
        "retry_after": 1,
        "slow_seconds": 3,
    },
    "download": {"429": 0.15, "503": 0.15, "slow": 0.1, "retry_after": 1, "slow_seconds": 2},
}


def test_fault_storm(deploy: Deployment, emulator: Any, scenario: Any) -> None:
    row = scenario("2 fault storm (75% of polls fail)")
    emulator.set_faults(STORM)
    items = [
        {"backend": BACKENDS[i % 3], "prompt": f"[render:{12 + i % 4}] a lighthouse in a storm, take {i}"}
        for i in range(GENERATIONS)
    ]
    watch = RunWatch.trigger(deploy, "seedance_deploy_batch", items, "storm")
    run = watch.wait(timeout=480)
    tis = watch.generate_tis()
    counts = emulator_counts(emulator)
    fill_row(row, tis, counts, run)
    row.deferred = len(watch.deferred_indexes())
    injected = Counter(f"{r['kind']}:{r['fault']}" for r in counts["log"] if r.get("fault"))
    poll_faults = sum(n for key, n in injected.items() if key.startswith("poll:"))
    row.notes = f"{poll_faults}/{counts['polls']} polls faulted; " + ", ".join(
        f"{k} {v}" for k, v in sorted(injected.items())
    )

    assert run["state"] == "success", f"run ended {run['state']}: {[(ti['map_index'], ti['state']) for ti in tis]}"
    assert row.succeeded == GENERATIONS
    for ti in tis:
        verify_video(watch.xcom(ti["map_index"]))
    assert counts["creates"] == GENERATIONS, counts["stats"]
    assert counts["create_posts"] == GENERATIONS
    # the storm really happened: most polls were answered with a fault, of every kind configured
    assert poll_faults >= counts["polls"] * 0.5, injected
    for kind in ("429", "503", "slow", "drop"):
        assert injected[f"poll:{kind}"] > 0, f"no poll:{kind} fault was injected: {injected}"
