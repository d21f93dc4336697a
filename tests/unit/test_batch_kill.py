"""A batch killed while it waits (the task marked failed or success, or cleared): the trigger's ``on_kill`` in the
triggerer, the operator's on the worker. Each unfinished generation is cancelled where its API can (ModelArk,
while queued), and no request goes to an API that cannot cancel. Faked at the HTTP boundary (respx)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_seedance.operators.batch import SeedanceBatchGenerateVideosOperator
from airflow_provider_seedance.runtime._compat import AirflowException
from airflow_provider_seedance.triggers.batch import SeedanceBatchTrigger

ARK = "http://ark.batch-kill.test/api/v3"
ARK_TASKS = ARK + "/contents/generations/tasks"
EVO = "http://evo.batch-kill.test"


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> None:
    for conn_id, host, backend in [("seedance_ark", ARK, "modelark"), ("seedance_evo", EVO, "evolink")]:
        extra = {"backend": backend, "max_retries": 0}
        conn = {"conn_type": "seedance", "password": f"sk-{backend}-KILL", "host": host, "extra": extra}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


class FakeTI:
    dag_id, task_id, run_id, map_index, try_number = "d", "render", "r", -1, 1

    def xcom_push(self, key: str, value: Any) -> None:
        return None


class DictStore(dict):  # type: ignore[type-arg]
    def set(self, key: str, value: Any) -> None:
        self[key] = json.loads(json.dumps(value))


def ark_task(generation_id: str, status: str) -> httpx.Response:
    return httpx.Response(200, json={"id": generation_id, "status": status})


def batch_trigger(**kwargs: Any) -> SeedanceBatchTrigger:
    return SeedanceBatchTrigger(
        generation_ids=["a", "b", "", "c"],
        deadline=time.time() + 600,
        seedance_conn_id="seedance_ark",
        fallback_conn_ids=["seedance_evo"],
        conn_indexes={"3": 1},  # c was created on the EvoLink fallback
        **kwargs,
    )


async def test_a_killed_trigger_cancels_its_queued_modelark_generations_and_asks_evolink_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with respx.mock(assert_all_called=True) as api:  # any request to EvoLink would fail: no route for it
        api.get(f"{ARK_TASKS}/a").mock(return_value=ark_task("a", "queued"))
        api.get(f"{ARK_TASKS}/b").mock(return_value=ark_task("b", "running"))
        cancel = api.delete(f"{ARK_TASKS}/a").mock(return_value=httpx.Response(200, json={}))
        await batch_trigger().on_kill()
    assert cancel.call_count == 1
    logged = capsys.readouterr().out  # the trigger's log (structlog, to standard output here)
    assert "1 of 2 unfinished generations on modelark cancelled while queued" in logged
    assert "evolink cannot cancel generations; 1 unfinished keep rendering there" in logged


async def test_a_trigger_told_not_to_cancel_sends_nothing_when_killed() -> None:
    trigger = batch_trigger(cancel_on_kill=False)
    assert trigger.serialize()[1]["cancel_on_kill"] is False
    with respx.mock() as api:
        await SeedanceBatchTrigger(**trigger.serialize()[1]).on_kill()
    assert api.calls.call_count == 0


def test_a_batch_killed_while_waiting_on_the_worker_cancels_what_is_still_queued() -> None:
    cancelled: set[str] = set()
    created = iter(range(100))

    def create(request: httpx.Request) -> httpx.Response:
        return ark_task(f"g{next(created)}", "queued")

    def status(request: httpx.Request) -> httpx.Response:
        generation_id = request.url.path.rsplit("/", 1)[-1]
        return ark_task(generation_id, "cancelled" if generation_id in cancelled else "queued")

    def cancel(request: httpx.Request) -> httpx.Response:
        cancelled.add(request.url.path.rsplit("/", 1)[-1])
        return httpx.Response(200, json={})

    op = SeedanceBatchGenerateVideosOperator(
        task_id="render",
        seedance_conn_id="seedance_ark",
        requests=[{"prompt": "a kite"}, {"prompt": "a boat"}],
        defaults={"model": "dreamina-seedance-2-0-fast-260128", "duration": 5},
        deferrable=False,
        poll_interval=0.05,
    )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            op.execute({"ti": FakeTI(), "task_state_store": DictStore()})  # type: ignore[arg-type]
        except BaseException as exc:  # the task's end, checked below
            errors.append(exc)

    with respx.mock() as api:
        api.post(ARK_TASKS).mock(side_effect=create)
        polls = api.get(url__startswith=ARK_TASKS + "/").mock(side_effect=status)
        api.delete(url__startswith=ARK_TASKS + "/").mock(side_effect=cancel)
        waiting = threading.Thread(target=run)
        waiting.start()
        deadline = time.monotonic() + 30
        while polls.call_count < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        op.on_kill()
        waiting.join(30)
    assert cancelled == {"g0", "g1"}
    assert not waiting.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], AirflowException), errors  # both items ended cancelled
