"""A run's spend read while its mapped renders finish (``budget.mapped_results``, ``budget.run_spend``), in a
real DAG run against the emulator: one finished render, then two, then all of them."""

from __future__ import annotations

import pytest

from tests.integration.conftest import load_dags, task_state, xcom

pytestmark = pytest.mark.usefixtures("airflow_db", "connections")


def test_the_spend_is_read_the_same_whatever_number_of_renders_finished(emulator, captured):
    before = emulator.stats()["creates_total"]
    run = load_dags("seedance_spend.py")["seedance_spend"].test()
    log = captured()
    states = {i: task_state(run, "render", map_index=i)[0] for i in range(3)}
    assert sorted(states.values()) == ["skipped", "success", "success"], log[-4000:]
    assert emulator.stats()["creates_total"] == before + 2
    (last,) = [i for i, state in states.items() if state == "skipped"]  # the instance that ran third
    results = [xcom(run, "render", map_index=i) for i, state in states.items() if state == "success"]
    spent = sum(float(r["credits"]) for r in results)
    assert spent > 0
    ids = ",".join(sorted(r["generation_id"] for r in results))
    reason = f"read 2 finished ({ids}): {spent:g} credits spent by 2 finished render(s)"
    assert xcom(run, "render", key="seedance_skipped", map_index=last) == reason
    assert xcom(run, "total") == {"credits": spent, "renders": 2, "skipped": [reason]}
