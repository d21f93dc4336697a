"""Scenario 8: failover. The ModelArk account answers every create with 402 (no credits); the task falls
over to an EvoLink account on a second emulator process (a connection added through the REST API), which
renders: one create there, none on the first, the trigger polls the fallback, the result says so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_seedance.emulator.server import EmulatorProcess
from tests.deployment.conftest import API_KEY, emulator_counts, fill_row, verify_video
from tests.deployment.harness import Deployment, RunWatch

pytestmark = pytest.mark.timeout(600)
FALLBACK_CONN = "seedance_fo_fallback"


@pytest.fixture(scope="module")
def second_account(deploy: Deployment) -> Iterator[EmulatorProcess]:
    """A second 'vendor account': its own emulator process, and a connection to it stored in the database."""
    with EmulatorProcess(api_key=API_KEY, render_seconds=3.0) as emulator:
        conn = {
            "connection_id": FALLBACK_CONN,
            "conn_type": "seedance",
            "password": API_KEY,
            "host": emulator.base_url("evolink"),
            "extra": json.dumps({"backend": "evolink"}),
        }
        deploy.api("POST", "/api/v2/connections", ok=(201,), json=conn)
        try:
            yield emulator
        finally:
            deploy.api("DELETE", f"/api/v2/connections/{FALLBACK_CONN}", ok=(204, 404))


def test_no_credits_falls_over_to_another_account(
    deploy: Deployment, emulator: Any, second_account: EmulatorProcess, scenario: Any
) -> None:
    row = scenario("8 failover: 402 on ModelArk -> EvoLink")
    emulator.set_faults({"create": {"402": 1.0}})
    item = {"backend": "modelark", "prompt": "a red kite over a beach", "fallback_conn_ids": [FALLBACK_CONN]}
    watch = RunWatch.trigger(deploy, "seedance_deploy_batch", [item], "failover")
    run = watch.wait(timeout=300)
    [ti] = watch.generate_tis()
    primary, fallback = emulator_counts(emulator), emulator_counts(second_account)
    counts = {key: primary[key] + fallback[key] for key in ("create_posts", "creates", "polls", "faults", "cancels")}
    fill_row(row, [ti], counts, run)
    row.deferred = len(watch.deferred_indexes())
    row.notes = f"primary: {primary['create_posts']} create refused (402), 0 polls; fallback: 1 create"
    assert run["state"] == "success" and ti["state"] == "success" and ti["try_number"] == 1, watch.log(0)
    assert (primary["create_posts"], primary["creates"], primary["polls"]) == (1, 0, 0)
    assert (fallback["create_posts"], fallback["creates"]) == (1, 1)
    assert fallback["polls"] >= 1 and watch.deferred_indexes() == {0}  # the trigger polled the fallback
    result = watch.xcom(0)
    assert (result["seedance_conn_id"], result["backend"], result["model"]) == (
        FALLBACK_CONN,
        "evolink",
        "seedance-2.0-fast-text-to-video",
    )
    [attempt] = result["attempts"]
    assert (attempt["conn_id"], attempt["backend"]) == ("seedance_modelark", "modelark")
    assert attempt["refused"].startswith("402")
    assert API_KEY not in json.dumps(result)
    verify_video(result)
    assert f"Falling over to connection '{FALLBACK_CONN}'" in watch.log(0)
