"""Test session setup: a private AIRFLOW_HOME (SQLite) so tests never touch a real deployment.

The environment is set before anything imports Airflow; ``airflow db migrate`` runs once, on first use
of the ``airflow_db`` fixture.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

from tests.airflow_db import migrated_database, remove_templates  # sets the run's id before xdist starts workers
from tests.in_process_api import cache_in_process_api_server

TESTS = Path(__file__).parent
_HOME = Path(tempfile.mkdtemp(prefix="seedance-test-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(TESTS / "dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "INFO"
# As a deployment with a triggerer sets it: the operator's ``deferrable`` follows it when not given.
os.environ["AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE"] = "True"
for key in [k for k in os.environ if k.startswith("AIRFLOW_CONN_")]:
    del os.environ[key]


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata database under the session's AIRFLOW_HOME (one migration per test run)."""
    database = _HOME / "airflow.db"
    if not database.exists():
        migrated_database(database)
    return _HOME


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # the xdist controller, or a run without xdist
        remove_templates()


@pytest.fixture(scope="session", autouse=True)
def _one_in_process_api() -> None:
    """On Airflow 3.1, ``dag.test()`` reuses one in-process execution API, as 3.3 does (tests/in_process_api.py)."""
    cache_in_process_api_server()


@pytest.fixture
def s3fs_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker with the Amazon provider but not s3fs (``pip install apache-airflow-providers-amazon``
    without its extra): the test environment has both, so the import of s3fs is refused here as Python
    refuses a module that is not installed, and no filesystem cached by an earlier test is reused."""
    from airflow.sdk.io import store

    monkeypatch.setitem(sys.modules, "s3fs", None)
    monkeypatch.setattr(store, "_STORE_CACHE", {})
