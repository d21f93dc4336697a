"""SeedanceGenerationSensor on the worker against a faked API: what elapsed time it logs and returns.

Elapsed comes from the generation's own timestamps where the API gives them (EvoLink ``created``, ModelArk
``created_at``/``updated_at``), else from the first poke, which reschedule mode must remember across
reschedules (a fresh operator each time), and from the trigger's event in deferrable mode. Never from the
operator's construction (DAG parse time).
"""

from __future__ import annotations

import json
import types
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx

import airflow_provider_seedance.sensors.seedance as sensor_module
from airflow_provider_seedance.contract.events import GenerationEvent
from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.sensors.seedance import SeedanceGenerationSensor

BASE = "http://api.sensor.test"
T0 = 1_790_000_000.0  # a fixed "now" on the wall clock
STATUS = {
    "aimlapi": BASE + "/v2/video/generations",
    "modelark": BASE + "/api/v3/contents/generations/tasks/g1",
    "evolink": BASE + "/v1/tasks/g1",
}
RUNNING = {
    "aimlapi": {"id": "g1", "status": "generating"},
    "modelark": {"id": "g1", "status": "running", "created_at": int(T0 - 100), "updated_at": int(T0 - 90)},
    "evolink": {"id": "g1", "status": "processing", "progress": 50, "created": int(T0 - 100)},
}
DONE = {
    "aimlapi": {"id": "g1", "status": "completed", "video": {"url": "https://cdn.test/g1.mp4"}},
    "modelark": {
        "id": "g1",
        "status": "succeeded",
        "content": {"video_url": "https://cdn.test/g1.mp4"},
        "created_at": int(T0 - 100),
        "updated_at": int(T0 - 10),
    },
    "evolink": {"id": "g1", "status": "completed", "results": ["https://cdn.test/g1.mp4"], "created": int(T0 - 100)},
}


class FakeTI:
    def __init__(self, start_date: datetime | None = None, first_reschedule: datetime | None = None) -> None:
        self.xcom: dict[str, object] = {}
        self.start_date = start_date
        self.first_reschedule = first_reschedule

    def xcom_push(self, key: str, value: object) -> None:
        self.xcom[key] = value

    def get_first_reschedule_date(self, context: Any) -> datetime | None:
        return self.first_reschedule


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The sensor module's wall clock, moved by hand."""
    now = [T0]
    monkeypatch.setattr(sensor_module, "time", types.SimpleNamespace(time=lambda: now[0]))
    return now


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    logged: list[str] = []

    class Log:
        def info(self, message: str, *args: Any) -> None:
            logged.append(message % args)

        warning = info

    monkeypatch.setattr(SeedanceGenerationSensor, "log", property(lambda self: Log()))
    return logged


def connect(monkeypatch: pytest.MonkeyPatch, backend: str) -> str:
    conn = {"conn_type": "seedance", "password": "sk-sensor", "host": BASE, "extra": {"backend": backend}}
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_SENSOR", json.dumps(conn))
    return "seedance_sensor"


def sensor(conn_id: str, **kwargs: Any) -> SeedanceGenerationSensor:
    return SeedanceGenerationSensor(task_id="wait", generation_id="g1", seedance_conn_id=conn_id, **kwargs)


def poke(op: SeedanceGenerationSensor, backend: str, body: dict[str, Any], context: dict[str, Any]) -> Any:
    with respx.mock() as api:
        api.get(STATUS[backend]).mock(return_value=httpx.Response(200, json=body))
        return op.poke(context)


def test_without_api_timestamps_elapsed_counts_from_the_first_poke_not_from_parse_time(monkeypatch, clock, lines):
    """AIML API gives no timestamps. The DAG was parsed long before the first poke."""
    op = sensor(connect(monkeypatch, "aimlapi"))
    clock[0] += 1000  # parse -> run
    context = {"ti": FakeTI()}
    assert poke(op, "aimlapi", RUNNING["aimlapi"], context) is False
    clock[0] += 30
    result = poke(op, "aimlapi", DONE["aimlapi"], context)
    assert result.is_done and result.xcom_value["elapsed_s"] == 30.0
    assert lines[0] == "Seedance g1: running (generating), elapsed 0s"
    assert lines[1].endswith("elapsed 30s")


def test_reschedule_mode_counts_from_the_first_poke_across_reschedules(monkeypatch, clock, lines):
    """Each reschedule runs a fresh operator: the first poke's time comes from the task instance."""
    first = datetime.fromtimestamp(T0 - 200, timezone.utc)
    context = {"ti": FakeTI(start_date=datetime.fromtimestamp(T0 - 5, timezone.utc), first_reschedule=first)}
    context["task_reschedule_count"] = 4
    result = poke(sensor(connect(monkeypatch, "aimlapi"), mode="reschedule"), "aimlapi", DONE["aimlapi"], context)
    assert result.xcom_value["elapsed_s"] == 200.0
    assert lines == ["Seedance g1: succeeded (completed), elapsed 200s"]


def test_the_first_poke_falls_back_to_the_task_instance_start(monkeypatch, clock, lines):
    """Reschedule mode's first run has no reschedule yet; poke mode has one run: the try's start date."""
    context = {"ti": FakeTI(start_date=datetime.fromtimestamp(T0 - 2, timezone.utc))}
    result = poke(sensor(connect(monkeypatch, "aimlapi"), mode="reschedule"), "aimlapi", DONE["aimlapi"], context)
    assert result.xcom_value["elapsed_s"] == 2.0


@pytest.mark.parametrize(
    ("backend", "running_line", "elapsed_s"),
    [
        # ModelArk: from created_at to now while it runs, to updated_at once it has ended.
        ("modelark", "Seedance g1: running (running), elapsed 100s", 90.0),
        # EvoLink: from created to now; at 50% after 100 s, the progress predicts 100 s more.
        ("evolink", "Seedance g1: running (processing), 50%, elapsed 100s, ETA 100s", 110.0),
    ],
)
def test_elapsed_comes_from_the_generations_own_timestamps(monkeypatch, clock, lines, backend, running_line, elapsed_s):
    op = sensor(connect(monkeypatch, backend))
    context = {"ti": FakeTI(start_date=datetime.fromtimestamp(T0 - 1, timezone.utc))}
    assert poke(op, backend, RUNNING[backend], context) is False
    clock[0] += 10
    result = poke(op, backend, DONE[backend], context)
    assert lines[0] == running_line
    assert result.xcom_value["elapsed_s"] == elapsed_s


def test_deferrable_mode_returns_the_triggers_elapsed(monkeypatch, clock):
    op = sensor(connect(monkeypatch, "aimlapi"), deferrable=True)
    generation = Generation(
        id="g1", backend="aimlapi", state="succeeded", status="completed", video_url="https://cdn.test/g1.mp4"
    )
    event = GenerationEvent(
        status="success", generation_id="g1", message="ok", generation=generation, polls=3, elapsed_s=42.5
    )
    result = op.execute_complete({"ti": FakeTI()}, event.model_dump(mode="json"))
    assert result["elapsed_s"] == 42.5
