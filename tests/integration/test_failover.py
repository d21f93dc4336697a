"""Failover in real DAG runs against two emulator processes: a ModelArk account that refuses (402) or loses
the create's answer, and a healthy EvoLink account as the fallback."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import airflow
import pytest
from packaging.version import Version

from airflow_provider_seedance.emulator.server import EmulatorProcess
from tests.integration.conftest import API_KEY, load_dags, mp4_facts, task_state, xcom

pytestmark = pytest.mark.usefixtures("airflow_db")
HAS_STATE_STORE = Version(airflow.__version__) >= Version("3.3")
MAPPED = "seedance-2.0-fast-text-to-video"


@pytest.fixture(scope="module")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmulatorProcess, EmulatorProcess]]:
    """Two emulator processes, each an account: connections ``seedance_fo_primary`` (ModelArk) on the
    first, ``seedance_fo_fallback`` (EvoLink) on the second."""
    saved = dict(os.environ)
    with (
        EmulatorProcess(api_key=API_KEY, render_seconds=1.0) as primary,
        EmulatorProcess(api_key=API_KEY, render_seconds=1.0) as fallback,
    ):
        for name, emulator, backend in (("PRIMARY", primary, "modelark"), ("FALLBACK", fallback, "evolink")):
            conn = {"conn_type": "seedance", "password": API_KEY, "host": emulator.base_url(backend)}
            os.environ[f"AIRFLOW_CONN_SEEDANCE_FO_{name}"] = json.dumps({**conn, "extra": {"backend": backend}})
        os.environ["SEEDANCE_TEST_OUTPUT"] = str(tmp_path_factory.mktemp("failover"))
        yield primary, fallback
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="module")
def dags(emulators):
    return load_dags("seedance_failover.py")


@pytest.fixture(autouse=True)
def fresh(emulators):
    for emulator in emulators:
        emulator.reset()
        emulator.set_faults({})


def creates(emulator: EmulatorProcess) -> int:
    return emulator.stats()["creates_total"]


def test_no_credits_on_the_first_account_renders_on_the_fallback(emulators, dags):
    primary, fallback = emulators
    primary.set_faults({"create": {"402": 1.0}})
    run = dags["seedance_failover"].test()
    assert task_state(run, "generate") == ("success", 1)
    assert (creates(primary), creates(fallback)) == (0, 1)
    assert [r["status"] for r in primary.requests() if r["kind"] == "create"] == [402]
    result = xcom(run, "generate")
    assert (result["seedance_conn_id"], result["backend"], result["model"]) == (
        "seedance_fo_fallback",
        "evolink",
        MAPPED,
    )
    [attempt] = result["attempts"]
    assert attempt["conn_id"] == "seedance_fo_primary" and attempt["backend"] == "modelark"
    assert attempt["model"] == "dreamina-seedance-2-0-fast-260128" and attempt["refused"].startswith("402")
    assert API_KEY not in json.dumps(result) and primary.url not in json.dumps(result)
    assert mp4_facts(Path(result["output_path"]))["codec"] == "h264"


def test_a_retry_reattaches_to_the_fallback_that_accepted(emulators, dags, captured):
    primary, fallback = emulators
    primary.set_faults({"create": {"402": 1.0}})
    fallback.set_faults({"download": {"truncate": 1.0, "limit": 1}})  # the first save fails: a retry
    run = dags["seedance_failover"].test()
    log = captured()
    assert task_state(run, "generate") == ("success", 2), log[-3000:]
    assert creates(fallback) == 1  # never a second render on the fallback
    assert creates(primary) == 0
    if HAS_STATE_STORE:
        assert "Reattaching to generation" in log
        assert len([r for r in primary.requests() if r["kind"] == "create"]) == 1  # not asked again
    else:
        # no task state store: the retry asks the first account again (refused again), then the fallback
        # under the same Idempotency-Key, which replays the task instead of creating a second one
        assert any(r.get("idempotency_replayed") for r in fallback.requests())
    assert xcom(run, "generate")["seedance_conn_id"] == "seedance_fo_fallback"


def test_a_create_that_may_have_landed_never_falls_over(emulators, dags, captured):
    primary, fallback = emulators
    primary.set_faults({"create": {"500_after_create": 1.0}})  # created there, but the answer is lost
    run = dags["seedance_failover_uncertain"].test()
    log = captured()
    assert task_state(run, "generate") == ("failed", 1), log[-3000:]  # final: retries=2 unused
    assert (creates(primary), creates(fallback)) == (1, 0)
    assert fallback.requests() == []
    assert "not falling over to 'seedance_fo_fallback'" in log


def test_mapped_renders_that_fell_over_each_resume_on_the_fallback(emulators, dags, captured):
    # each mapped instance keeps its route in XCom before deferring and reads it back on resume: its own,
    # not the list of every instance's (an unqualified xcom_pull of a mapped task answers all map indexes)
    primary, fallback = emulators
    primary.set_faults({"create": {"402": 1.0}})
    run = dags["seedance_failover_mapped"].test()
    log = captured()
    results = [xcom(run, "generate", map_index=index) for index in range(3)]
    assert [task_state(run, "generate", index) for index in range(3)] == [("success", 1)] * 3, log[-3000:]
    assert (creates(primary), creates(fallback)) == (0, 3)
    assert [r["seedance_conn_id"] for r in results] == ["seedance_fo_fallback"] * 3
    assert len({r["generation_id"] for r in results}) == 3
    for result in results:
        assert mp4_facts(Path(result["output_path"]))["codec"] == "h264"
