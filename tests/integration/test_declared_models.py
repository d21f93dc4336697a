"""A declared model end to end: the provider, its connection's extra declaring the README's example model (up
to 30 s, not in the built-in table), renders 30 s of it in a real DAG run (``dag.test()``) against an emulator
given the same JSON; the saved MP4 is 30 s long."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from airflow_provider_seedance.emulator.server import EmulatorServer
from tests.integration.conftest import API_KEY, load_dags, mp4_facts, task_state, xcom

pytestmark = pytest.mark.usefixtures("airflow_db", "connections")

#: The README's example declaration ("Models without a release"), exactly as printed there.
README_DECLARATION = json.loads("""
{"models": {"dreamina-seedance-2-5-261001": {
  "modes": ["text", "image"], "durations": [4, 30], "qualities": ["720p", "1080p"],
  "ratios": ["16:9", "9:16", "adaptive"], "optional_fields": ["duration", "quality", "aspect_ratio",
  "image_urls", "generate_audio", "execution_expires_after", "draft"], "drafts": true,
  "source": "https://docs.byteplus.com/en/docs/ModelArk/1520757"}}}
""")


@pytest.fixture
def declared_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """An emulator given the declaration, and a ModelArk connection whose extra carries the same JSON."""
    with EmulatorServer(api_key=API_KEY, render_seconds=1.0, models=README_DECLARATION) as server:
        conn = {
            "conn_type": "seedance",
            "password": API_KEY,
            "host": server.base_url("modelark"),
            "extra": {"backend": "modelark", **README_DECLARATION},
        }
        monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_DECLARED", json.dumps(conn))
        yield server


def test_a_declared_model_renders_30_seconds_in_a_dag_run(declared_emulator, output_dir, captured):
    run = load_dags("seedance_declared_models.py")["seedance_declared_model"].test()
    log = captured()
    assert task_state(run, "long_take") == ("success", 1), log[-3000:]
    result = xcom(run, "long_take")
    assert (result["model"], result["duration"], result["backend"]) == ("dreamina-seedance-2-5-261001", 30, "modelark")
    (create,) = [r for r in declared_emulator.requests() if r["kind"] == "create"]
    assert (create["dialect"], create["status"]) == ("modelark", 200)
    facts = mp4_facts(output_dir / "declared" / "long_take.mp4")
    assert facts["codec"] == "h264"
    assert abs(facts["duration"] - 30) <= 0.2
    assert "not in this provider's limits table" not in log  # declared: checked in full, no unknown-model warning
    assert API_KEY not in log
