"""Fixtures for tests that run real DAGs with ``dag.test()`` against the emulator over real sockets."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_seedance.emulator.server import EmulatorServer

API_KEY = "sk-live-ZEBRA-7f3c9a41d2e8b6"  # distinctive, so a leak is found by grepping for it
BACKENDS = ("evolink", "aimlapi", "modelark")
DAGS = Path(__file__).parent.parent / "dags"


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(api_key=API_KEY, render_seconds=1.0) as server:
        yield server


@pytest.fixture(scope="session")
def output_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def connections(emulator: EmulatorServer, output_dir: Path) -> Iterator[None]:
    """Connections ``seedance_<backend>`` (env-var JSON form) pointing at the emulator."""
    saved = dict(os.environ)
    for backend in BACKENDS:
        conn = {
            "conn_type": "seedance",
            "password": API_KEY,
            "host": emulator.base_url(backend),
            "extra": {"backend": backend},
        }
        os.environ[f"AIRFLOW_CONN_SEEDANCE_{backend.upper()}"] = json.dumps(conn)
    os.environ["SEEDANCE_TEST_OUTPUT"] = str(output_dir)
    yield
    os.environ.clear()
    os.environ.update(saved)


def load_dags(filename: str) -> dict[str, Any]:
    """Import a DAG file of tests/dags (the configured dags folder) and return its DAGs by id."""
    from airflow.sdk import DAG

    path = DAGS / filename
    spec = importlib.util.spec_from_file_location(f"test_dags_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {value.dag_id: value for value in vars(module).values() if isinstance(value, DAG)}


def xcom(dag_run: Any, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(
            run_id=dag_run.run_id, key=key, dag_ids=dag_run.dag_id, task_ids=task_id, map_indexes=map_index
        )
        row = session.scalars(query).first()
        return None if row is None else XComModel.deserialize_value(row)


def task_state(dag_run: Any, task_id: str, map_index: int = -1) -> tuple[str | None, int]:
    ti = dag_run.get_task_instance(task_id, map_index=map_index)
    return (str(getattr(ti.state, "value", ti.state)) if ti.state else None), ti.try_number


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mp4_facts(path: Path) -> dict[str, Any]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        duration = float(container.duration or 0) / 1_000_000
        return {
            "codec": stream.codec_context.name,
            "width": stream.width,
            "height": stream.height,
            "duration": duration,
            "frames": frames,
        }


def asset_event_extras(uri: str) -> list[dict[str, Any]]:
    """The ``extra`` of every asset event recorded for the asset with this URI."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = (
            select(AssetEvent.extra).join(AssetModel, AssetEvent.asset_id == AssetModel.id).where(AssetModel.uri == uri)
        )
        return [dict(extra or {}) for extra in session.scalars(query)]


@pytest.fixture
def captured(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Any:
    """Everything logged so far: Airflow's lines reach stdout or pytest's log capture, per logging setup."""
    caplog.set_level("INFO")

    def read() -> str:
        out = capfd.readouterr()
        return out.out + out.err + caplog.text

    return read
