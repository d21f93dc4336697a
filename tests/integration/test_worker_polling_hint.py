"""Issue 20: a task that polls on its worker only because ``[operators] default_deferrable`` is off says so,
with the setting that fixes it; one that asks for worker polling (``deferrable=False``) is not nagged."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator
from tests.integration.conftest import API_KEY


class FakeTI:
    dag_id, task_id, run_id, map_index = "hint", "t", "r", -1

    def xcom_push(self, key: str, value: Any) -> None:
        pass


@pytest.mark.parametrize(("deferrable", "warned"), [(None, True), (False, False)])
def test_polling_on_the_worker_by_default_says_how_to_defer(
    emulator, monkeypatch, capfd, caplog, deferrable, warned
) -> None:
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    conn = {"conn_type": "seedance", "password": API_KEY, "host": emulator.base_url("evolink")}
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_HINT", json.dumps({**conn, "extra": {"backend": "evolink"}}))
    operator = SeedanceGenerateVideoOperator(
        task_id="t",
        seedance_conn_id="seedance_hint",
        model="seedance-2.0-fast-text-to-video",
        prompt="a kite",
        duration=5,
        poll_interval=0.5,
        **({} if deferrable is None else {"deferrable": deferrable}),
    )
    assert operator.deferrable is False
    result = operator.execute({"ti": FakeTI(), "task": operator})
    assert result["status"] == "succeeded"
    out, err = capfd.readouterr()
    printed = out + err + caplog.text
    assert ("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE=True" in printed) is warned
    assert ("holding its slot for the whole render" in printed) is warned
