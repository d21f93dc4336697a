"""The installed package registers with Airflow: `airflow providers list` and the `seedance` connection type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

AIRFLOW = str(Path(sys.executable).parent / "airflow")


@pytest.mark.usefixtures("airflow_db")
def test_airflow_lists_the_provider_and_its_connection_type():
    providers = subprocess.run(
        [AIRFLOW, "providers", "list", "-o", "plain"], capture_output=True, text=True, check=True
    )
    assert "airflow-provider-seedance" in providers.stdout
    hooks = subprocess.run([AIRFLOW, "providers", "hooks", "-o", "plain"], capture_output=True, text=True, check=True)
    line = next(line for line in hooks.stdout.splitlines() if line.startswith("seedance "))
    assert "airflow_provider_seedance.hooks.seedance.SeedanceHook" in line
    assert "Seedance" in line
