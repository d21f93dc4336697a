"""The installed package registers with Airflow: `airflow providers list` and the `seedance` connection type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

AIRFLOW = str(Path(sys.executable).parent / "airflow")
ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.usefixtures("airflow_db")
def test_the_plugin_is_registered_once_and_the_task_sdk_loads_the_plugins_after_it():
    """One distribution provides the `seedance` plugin: Airflow 3.3's task SDK stops registering entry-point
    plugins at the first duplicate name, so a second copy (a stale ``*.egg-info`` of an editable install on
    ``sys.path``) would silently drop the plugins after it, OpenLineage's listener among them."""
    from importlib import metadata

    assert str(ROOT) in sys.path  # the checkout is importable here, as in the deployment's components
    ours = [
        (e.value, str(dist.locate_file("")))
        for dist in metadata.distributions()  # every copy on sys.path, as Airflow reads them
        for e in dist.entry_points
        if e.group == "airflow.plugins" and e.name == "seedance"
    ]
    assert [value for value, _ in ours] == ["airflow_provider_seedance.plugin.seedance:SeedancePlugin"], (
        f"the seedance plugin is provided {len(ours)} times ({ours}): remove a stale airflow_provider_seedance.egg-info"
    )
    listed = subprocess.run([AIRFLOW, "plugins", "-o", "plain"], capture_output=True, text=True, check=True)
    assert "seedance" in listed.stdout and "already registered" not in listed.stdout + listed.stderr
