"""Render times read back from earlier runs' XCom results (``_run_history``), and what of them reaches the
trigger's kwargs: two numbers, never the prompt."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator
from airflow_provider_seedance.polling._plan import REMEMBERED_FIRST_FRACTION
from airflow_provider_seedance.polling._render_memory import SAMPLES
from airflow_provider_seedance.polling._run_history import WarmStart, latest_results, warm_start

try:
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow 3.1
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef,attr-defined]

BASE = "http://api.history.test/api/v3"
TASKS = BASE + "/contents/generations/tasks"
MODEL = "seedance-1-0-pro-fast-251015"
PROMPT = "a lighthouse at dawn, secret campaign brief"
LOG = logging.getLogger("test_run_history")


def earlier(render_s: float | None, history: list[float] | None = None, **overrides: Any) -> dict[str, Any]:
    """An earlier run's XCom result of this task, as the operator returns it."""
    result = {
        "generation_id": "cgt-old",
        "backend": "modelark",
        "model": MODEL,
        "status": "succeeded",
        "duration": 5,
        "quality": None,
        "service_tier": None,
        "prompt": "an earlier prompt",
        "render_s": render_s,
        "render_history": history or [],
    }
    return {**result, **overrides}


class HistoryTI:
    """A task instance whose previous DAG run returned ``previous`` (one result, a list of mapped ones, or
    None); its ``xcom_pull`` answers for that run only."""

    dag_id, task_id, run_id = "d", "t", "r"

    def __init__(self, previous: Any, map_index: int = -1, *, has_previous_run: bool = True) -> None:
        self.previous = previous
        self.map_index = map_index
        self.has_previous_run = has_previous_run
        self.pulls: list[dict[str, Any]] = []
        self.xcom: dict[str, Any] = {}

    def get_previous_dagrun(self, state: str | None = None) -> Any:
        return SimpleNamespace(run_id="scheduled__yesterday") if self.has_previous_run else None

    def xcom_pull(self, **kwargs: Any) -> Any:
        self.pulls.append(kwargs)
        return self.previous if kwargs.get("run_id") == "scheduled__yesterday" else None

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


class Request:
    model, duration, quality, service_tier, prompt = MODEL, 5, None, None, PROMPT


def test_an_unmapped_task_reads_its_result_of_the_previous_run():
    ti = HistoryTI(earlier(60.0, [58.0, 62.0]))
    warm = warm_start({"ti": ti}, "modelark", Request(), LOG)
    assert warm.samples == (58.0, 62.0, 60.0) and warm.typical == 60.0
    # One read without a map index: the slice read, which answers [] instead of logging "XCom not found".
    assert ti.pulls == [{"task_ids": "t", "run_id": "scheduled__yesterday"}]


def test_a_mapped_task_reads_every_map_index_of_the_previous_run_once_bounded_by_the_memorys_window():
    ti = HistoryTI([earlier(50.0 + i) for i in range(100)], map_index=7)
    warm = warm_start({"ti": ti}, "modelark", Request(), LOG)
    assert len(ti.pulls) == 1 and len(warm.samples) == SAMPLES
    assert warm.typical == pytest.approx(139.5)  # the last 20 of them
    # A failed instance (no result) is simply absent; three results are enough to trust.
    few = HistoryTI([earlier(60.0), earlier(62.0), earlier(64.0)], map_index=1)
    assert warm_start({"ti": few}, "modelark", Request(), LOG).typical == 62.0


def test_no_previous_run_or_no_result_in_it_polls_cold():
    assert latest_results(HistoryTI(None)) == []
    assert latest_results(HistoryTI([earlier(60.0)] * 3, has_previous_run=False)) == []
    assert warm_start({"ti": HistoryTI(None)}, "modelark", Request(), LOG) == WarmStart()


def test_an_unreadable_history_polls_cold_and_says_why(caplog):
    class Broken(HistoryTI):
        def get_previous_dagrun(self, **kwargs: Any) -> Any:
            raise RuntimeError("XCom backend down")

    with caplog.at_level(logging.WARNING, logger=LOG.name):
        assert warm_start({"ti": Broken({})}, "modelark", Request(), LOG) == WarmStart()
    assert "XCom backend down" in caplog.text
    assert warm_start({}, "modelark", Request(), LOG) == WarmStart()  # no task instance at all


def test_the_trigger_gets_two_numbers_and_the_result_keeps_the_times():
    warm = WarmStart((58.0, 62.0, 60.0))
    assert warm.trigger_kwargs() == {"typical_time": 60.0, "typical_samples": 3}
    assert WarmStart((60.0,)).trigger_kwargs() == {"typical_time": None, "typical_samples": 0}  # not trusted
    assert warm.result_fields(59.1234) == {"render_s": 59.123, "render_history": [58.0, 62.0, 60.0]}
    assert WarmStart().result_fields(None) == {"render_s": None, "render_history": []}


@pytest.fixture
def modelark(monkeypatch: pytest.MonkeyPatch) -> str:
    conn = {"conn_type": "seedance", "password": "sk-history", "host": BASE, "extra": {"backend": "modelark"}}
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_HISTORY", json.dumps(conn))
    return "seedance_history"


def test_the_operator_defers_with_the_typical_time_and_no_prompt_and_returns_the_times(modelark):
    ti = HistoryTI(earlier(60.0, [58.0, 61.0, 63.0, 59.0]))
    op = SeedanceGenerateVideoOperator(
        task_id="t", seedance_conn_id=modelark, model=MODEL, prompt=PROMPT, duration=5, deferrable=True
    )
    context = {"ti": ti, "task_state_store": None}
    with respx.mock() as api:
        api.post(TASKS).mock(return_value=httpx.Response(200, json={"id": "cgt-7"}))
        with pytest.raises(TaskDeferred) as deferred:
            op.execute(context)
    kwargs = deferred.value.trigger.serialize()[1]
    assert kwargs["typical_time"] == 60.0 and kwargs["typical_samples"] == 5
    assert PROMPT not in json.dumps(kwargs) and "lighthouse" not in json.dumps(kwargs)
    assert "sk-history" not in json.dumps(kwargs)

    event = {
        "status": "success",
        "generation_id": "cgt-7",
        "message": "ok",
        "generation": {"id": "cgt-7", "backend": "modelark", "model": MODEL, "state": "succeeded", "status": "x"},
        "elapsed_s": 63.0,
        "render_s": 61.5,
    }
    result = op.execute_complete(context, event)
    assert (result["render_s"], result["render_history"]) == (61.5, [58.0, 61.0, 63.0, 59.0, 60.0])
    assert (result["duration"], result["quality"], result["service_tier"]) == (5, None, None)
    # What this run returns is what the next one reads.
    assert warm_start({"ti": HistoryTI(result)}, "modelark", Request(), LOG).typical == 60.5


def test_the_worker_side_wait_starts_from_earlier_runs_too(modelark):
    ti = HistoryTI(earlier(60.0, [58.0, 61.0, 63.0, 59.0]))
    op = SeedanceGenerateVideoOperator(
        task_id="t", seedance_conn_id=modelark, model=MODEL, prompt=PROMPT, duration=5, deferrable=False
    )
    slept: list[float] = []
    answers = [{"id": "cgt-8", "status": "running"}, {"id": "cgt-8", "status": "succeeded", "content": {}}]
    with respx.mock() as api, pytest.MonkeyPatch.context() as mp:
        # Time injected as the wait's own defaults (bound when the hook module was imported).
        mp.setitem(SeedanceHook.wait_for_generation.__kwdefaults__, "sleep", slept.append)
        api.post(TASKS).mock(return_value=httpx.Response(200, json={"id": "cgt-8"}))
        api.get(TASKS + "/cgt-8").mock(side_effect=[httpx.Response(200, json=a) for a in answers])
        result = op.execute({"ti": ti, "task_state_store": None})
    assert slept[0] == pytest.approx(REMEMBERED_FIRST_FRACTION * 60.0, abs=1.0)
    assert result["render_history"] == [58.0, 61.0, 63.0, 59.0, 60.0] and result["render_s"] is not None
