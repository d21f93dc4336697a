"""Fixtures for the example DAGs: a private Airflow home whose dags folder is ``example_dags/``, and a helper
that runs ``airflow dags test`` in a subprocess against the emulator, as a user would."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from airflow_provider_seedance.emulator.server import EmulatorServer
from tests.airflow_db import migrated_database

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
    migrated_database(home / "airflow.db")
    return home


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(api_key=API_KEY, render_seconds=1.0) as server:
        yield server


def demo_script() -> ModuleType:
    """``scripts/demo.py`` as a module: its api-server and REST API reviewer serve the tests too."""
    spec = importlib.util.spec_from_file_location("seedance_demo_script", ROOT / "scripts" / "demo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def review_api(examples_home: Path) -> Iterator[Any]:
    """An Airflow api-server on the examples' database: the pipeline's reviews are answered through it."""
    demo = demo_script()
    runner = demo.Runner(airflow_env(examples_home), examples_home / "api-runner.log")
    api = demo.ApiServer(runner, examples_home).start()
    try:
        yield api
    finally:
        api.stop()


@contextlib.contextmanager
def reviewing(api: Any, choose: Callable[[dict[str, Any]], tuple[str, str]]) -> Iterator[list[str]]:
    """A reviewer answering every open review through the REST API while the block runs."""
    demo = demo_script()
    stop, answered = threading.Event(), []
    thread = threading.Thread(target=demo.answer_reviews, args=(api, stop, answered, choose), daemon=True)
    thread.start()
    try:
        yield answered
    finally:
        stop.set()
        thread.join(timeout=30)


def dags_test(
    home: Path,
    emulator: EmulatorServer,
    output: Path,
    dag_id: str,
    *,
    backend: str = "evolink",
    conf: Any = None,
    api: Any = None,
) -> subprocess.CompletedProcess[str]:
    """``airflow dags test <dag_id>`` with ``seedance_default`` on the emulator and the output root in ``output``
    (and the review api-server's settings, when one answers the reviews)."""
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
    if api is not None:
        env.update({k: v for k, v in api.runner.env.items() if k.startswith("AIRFLOW__")})
    command = [str(AIRFLOW), "dags", "test", dag_id]
    if conf is not None:
        command += ["--conf", json.dumps(conf)]
    # The timeout is a hang guard (the longest of these runs takes about 80 s on an idle machine, 140-150 s in
    # CI with both cores busy), below the example modules' pytest-timeout of 600 s so that the output survives;
    # it is kept in the Airflow home and its end is shown on a failure.
    log = home / f"dags-test-{dag_id}.log"
    try:
        result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=420, check=False)
    except subprocess.TimeoutExpired as expired:
        text = "".join(
            part.decode(errors="replace") if isinstance(part, bytes) else part or ""
            for part in (expired.output, expired.stderr)
        )
        log.write_text(text)
        pytest.fail(f"airflow dags test {dag_id} ran over {expired.timeout:.0f} s; its output ends:\n{text[-8000:]}")
    log.write_text(result.stdout + result.stderr)
    return result
