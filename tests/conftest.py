"""Test session setup: a private AIRFLOW_HOME (SQLite) so tests never touch a real deployment.

The environment is set before anything imports Airflow; ``airflow db migrate`` runs once, on first use
of the ``airflow_db`` fixture.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

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

_migrated = False


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata database under the session's AIRFLOW_HOME."""
    global _migrated
    if not _migrated:
        airflow = Path(sys.executable).parent / "airflow"
        result = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        _migrated = True
    return _HOME
