"""The metrics in real DAG runs: Airflow configured for StatsD (InfluxDB-style tags) sends to a real UDP
listener, and each ``seedance.*`` metric arrives with its backend and model tags and plausible values."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.integration.conftest import API_KEY, load_dags, task_state, xcom

pytestmark = pytest.mark.usefixtures("airflow_db", "connections")


@dataclass(frozen=True)
class Metric:
    name: str
    tags: dict[str, str]
    value: float
    kind: str  # StatsD type: c (counter), ms (timer), g (gauge)


class StatsdListener:
    """A UDP socket on 127.0.0.1 collecting every StatsD line sent to it, in a thread."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.lines: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                continue
            self.lines.extend(line for line in data.decode().splitlines() if line)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()

    def metrics(self, prefix: str = "airflow.seedance.") -> list[Metric]:
        """The ``seedance.*`` lines as parsed metrics: ``airflow.seedance.polls,backend=x,model=y:1|c``."""
        found = []
        for line in list(self.lines):
            stat, _, rest = line.partition(":")
            if not stat.startswith(prefix):
                continue
            name, *pairs = stat.split(",")
            value, _, kind = rest.partition("|")
            tags = dict(pair.split("=", 1) for pair in pairs)
            found.append(Metric(name.removeprefix("airflow."), tags, float(value), kind.split("|")[0]))
        return found


def reset_airflow_stats() -> None:
    """Airflow builds its stats client once per process from ``[metrics]``: rebuild it from the config now."""
    try:  # Airflow 3.2+
        from airflow.sdk.configuration import conf
        from airflow.sdk.observability import stats
        from airflow.sdk.observability.metrics import stats_utils

        stats.initialize(factory=stats_utils.get_stats_factory(), export_legacy_names=True)
    except ImportError:  # Airflow 3.1: the factory is chosen once, on the metaclass, the logger cached on Stats
        from airflow.configuration import conf
        from airflow.metrics import statsd_logger
        from airflow.metrics.base_stats_logger import NoStatsLogger
        from airflow.stats import Stats

        on = conf.getboolean("metrics", "statsd_on")
        type(Stats).factory = statsd_logger.get_statsd_logger if on else NoStatsLogger  # type: ignore[attr-defined]
        Stats.instance = None  # type: ignore[attr-defined]


@pytest.fixture
def statsd(monkeypatch: pytest.MonkeyPatch) -> Iterator[StatsdListener]:
    listener = StatsdListener()
    for key, value in {
        "STATSD_ON": "True",
        "STATSD_HOST": "127.0.0.1",
        "STATSD_PORT": str(listener.port),
        "STATSD_PREFIX": "airflow",
        # Plain StatsD drops tags; InfluxDB-style puts them on the wire (``name,backend=x,model=y:1|c``).
        "STATSD_INFLUXDB_ENABLED": "True",
    }.items():
        monkeypatch.setenv(f"AIRFLOW__METRICS__{key}", value)
    reset_airflow_stats()
    try:
        yield listener
    finally:
        monkeypatch.undo()
        reset_airflow_stats()
        listener.close()


@pytest.fixture
def retryless_connections(emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """``seedance_metrics_<backend>``: no client-side retries, so an injected poll error reaches the poll driver."""
    for backend in ("evolink", "modelark"):
        conn = {
            "conn_type": "seedance",
            "password": API_KEY,
            "host": emulator.base_url(backend),
            "extra": {"backend": backend, "max_retries": 0},
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_SEEDANCE_METRICS_{backend.upper()}", json.dumps(conn))


def wait_for(listener: StatsdListener, name: str, timeout: float = 5.0) -> None:
    """UDP is asynchronous: give the last datagrams a moment to land."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end and not any(m.name == name for m in listener.metrics()):
        time.sleep(0.05)


CASES = [("deferred", "evolink", "seedance-2.0-text-to-video", "429", "rate_limit")]
CASES += [("polling", "modelark", "dreamina-seedance-2-0-260128", "503", "server")]


@pytest.mark.parametrize(("wait", "backend", "model", "fault", "kind"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.usefixtures("retryless_connections")
def test_a_dag_run_sends_every_metric_with_backend_and_model_tags(
    emulator, output_dir, statsd, wait, backend, model, fault, kind
):
    dag = load_dags("seedance_metrics.py")[f"seedance_metrics_{wait}"]
    video = output_dir / dag.dag_id / "video.mp4"
    video.unlink(missing_ok=True)  # an identical file already there would count no bytes saved
    emulator.set_faults({"poll": {fault: 1.0, "limit": 1}, "retry_after": 0.1})
    try:
        run = dag.test()
    finally:
        emulator.set_faults({})
    assert task_state(run, "generate") == ("success", 1)
    result = xcom(run, "generate")
    wait_for(statsd, "seedance.bytes_saved")

    metrics = statsd.metrics()
    by_name: dict[str, list[Metric]] = {}
    for metric in metrics:
        by_name.setdefault(metric.name, []).append(metric)
    for metric in metrics:
        assert metric.tags["backend"] == backend, metric
        assert metric.tags["model"] == model, metric

    def total(name: str) -> float:
        return sum(m.value for m in by_name.get(name, []))

    assert total("seedance.creates") == 1
    assert {m.kind for m in by_name["seedance.creates"]} == {"c"}
    assert total("seedance.polls") >= 2  # the failed poll and at least the one that saw success
    errors = by_name["seedance.poll_errors"]
    assert [(m.tags["kind"], m.value) for m in errors] == [(kind, 1.0)]
    [duration] = by_name["seedance.render_duration"]
    assert duration.kind == "ms"
    assert 0 < duration.value < result["elapsed_s"] * 1000 + 1000
    if result["credits"]:
        assert total("seedance.credits") == pytest.approx(result["credits"])
    else:
        assert "seedance.credits" not in by_name
    assert total("seedance.bytes_saved") == video.stat().st_size == result["size_bytes"]
    assert set(by_name) <= {
        "seedance.creates",
        "seedance.polls",
        "seedance.poll_errors",
        "seedance.render_duration",
        "seedance.credits",
        "seedance.bytes_saved",
    }
