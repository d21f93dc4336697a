"""Fixtures for the example DAGs: a private Airflow home whose dags folder is ``example_dags/``, and a helper
that runs ``airflow dags test`` in a subprocess against the emulator, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_seedance.emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "example_dags"
AIRFLOW = Path(sys.executable).parent / "airflow"
API_KEY = "sk-example-KESTREL-51b9e0"


def airflow_env(home: Path, **extra: str) -> dict[str, str]:
    """The test process's environment minus every Airflow setting, plus a private home on example_dags."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SEEDANCE_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLES),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            **extra,
        }
    )
    return env


@pytest.fixture(scope="session")
def examples_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite Airflow home for the example DAGs (shared by the demo test)."""
    home = tmp_path_factory.mktemp("examples-airflow")
    result = subprocess.run(
        [str(AIRFLOW), "db", "migrate"], env=airflow_env(home), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return home


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(api_key=API_KEY, render_seconds=1.0) as server:
        yield server


def dags_test(
    home: Path, emulator: EmulatorServer, output: Path, dag_id: str, *, backend: str = "evolink", conf: Any = None
) -> subprocess.CompletedProcess[str]:
    """``airflow dags test <dag_id>`` with ``seedance_default`` on the emulator and the output root in ``output``."""
    connection = {
        "conn_type": "seedance",
        "password": API_KEY,
        "host": emulator.base_url(backend),
        "extra": {"backend": backend},
    }
    env = airflow_env(
        home,
        AIRFLOW_CONN_SEEDANCE_DEFAULT=json.dumps(connection),
        AIRFLOW_VAR_SEEDANCE_OUTPUT_ROOT=output.as_uri(),
    )
    command = [str(AIRFLOW), "dags", "test", dag_id]
    if conf is not None:
        command += ["--conf", json.dumps(conf)]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
