"""Session fixtures of the deployment suite: the emulator process, the Airflow deployment, the counts
table printed at the end, and the Airflow logs attached to every failure.

Two deployments: ``deploy`` (LocalExecutor) serves the scenarios without "celery" in their name,
``celery_deploy`` (CeleryExecutor, Redis broker, two Celery workers) the test_2x_celery_* ones.
``--deployment local`` or ``--deployment celery`` runs one executor's scenarios only (two such processes can
run side by side: each has its own emulator, database, ports and AIRFLOW_HOME; on 2 cores that was slower than
one after the other, see the Makefile). With both, the Celery scenarios are moved to the end of the run
(``pytest_collection_modifyitems``), the Celery deployment boots in a thread while the last LocalExecutor
scenario runs (the only overlap), and the LocalExecutor one is stopped once it is up.

Knobs (environment): SEEDANCE_DEPLOY_PARALLELISM (LocalExecutor worker slots, default 6),
SEEDANCE_DEPLOY_CELERY_CONCURRENCY (slots per Celery worker, default 8),
SEEDANCE_DEPLOY_KEEP=1 (keep the temporary AIRFLOW_HOME even when everything passed).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deployment.harness import BACKENDS, Deployment, DeploymentError, check_broker, pg_connect, tail
from tests.deployment.processes import become_subreaper, descendants, kill_tree

# Distinctive and random per session, so a leak is found by grepping for it (and never matches a real key).
API_KEY = "sk-deploy-QUOKKA-" + secrets.token_hex(10)
PARALLELISM = int(os.environ.get("SEEDANCE_DEPLOY_PARALLELISM", "6"))
CELERY_CONCURRENCY = int(os.environ.get("SEEDANCE_DEPLOY_CELERY_CONCURRENCY", "8"))
DEFAULT_RENDER_S = 3.0


# -- counts table ----------------------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    outcome: str = "?"
    generations: int = 0
    succeeded: int = 0
    failed: int = 0
    create_posts: int = 0
    creates: int = 0
    polls: int = 0
    faults: int = 0
    retries: int = 0
    cancels: int = 0
    deferred: int = 0
    seconds: float = 0.0
    notes: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    setup: dict[str, float] = field(default_factory=dict)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def table(self) -> list[str]:
        columns = [
            ("scenario", "scenario"),
            ("outcome", "result"),
            ("generations", "gens"),
            ("succeeded", "ok"),
            ("failed", "failed"),
            ("create_posts", "create POSTs"),
            ("creates", "creates"),
            ("polls", "polls"),
            ("faults", "faults"),
            ("retries", "retries"),
            ("cancels", "cancels"),
            ("deferred", "deferred"),
            ("seconds", "s"),
            ("notes", "notes"),
        ]
        cells = [[title for _, title in columns]]
        for row in self.rows:
            values = []
            for name, _ in columns:
                value = getattr(row, name)
                values.append(f"{value:.0f}" if isinstance(value, float) else str(value))
            cells.append(values)
        widths = [max(len(line[i]) for line in cells) for i in range(len(columns) - 1)]
        lines = []
        for number, line in enumerate(cells):
            text = " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line[:-1])) + " | " + line[-1]
            lines.append(text)
            if number == 0:
                lines.append("-" * min(160, len(text)))
        return lines


REPORT = Report()
CURRENT: dict[str, Any] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not REPORT.rows and not REPORT.setup:
        return
    terminalreporter.section("Seedance deployment suite: counts")
    if REPORT.setup:
        terminalreporter.write_line(
            "deployment: "
            + ", ".join(f"{k} {v:.0f}" if isinstance(v, float) else f"{k} {v}" for k, v in REPORT.setup.items())
        )
    for line in REPORT.table():
        terminalreporter.write_line(line)
    for home in CURRENT.get("kept_homes", []):
        terminalreporter.write_line(f"AIRFLOW_HOME kept for inspection: {home}")


def _on_celery(item: pytest.Item) -> bool:
    return "celery_deploy" in getattr(item, "fixturenames", ())


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--deployment",
        choices=("local", "celery", "both"),
        default="both",
        help="the deployment suite's scenarios to run: the LocalExecutor ones, the CeleryExecutor ones, or both "
        "(one after the other, as `make test` runs them)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--deployment`` deselects the other executor's scenarios. The Celery scenarios last, in file order:
    their deployment replaces the LocalExecutor one. The last LocalExecutor scenario is marked to boot the
    Celery deployment beside it (``scenario``)."""
    wanted = config.getoption("--deployment")
    if wanted != "both":
        keep = [item for item in items if _on_celery(item) == (wanted == "celery")]
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep
    items.sort(key=_on_celery)
    local = [item for item in items if not _on_celery(item)]
    if local and len(local) < len(items):
        local[-1]._boot_celery_beside = True  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def report() -> Report:
    return REPORT


# -- failure diagnostics ---------------------------------------------------------------------------


def airflow_logs(deploy: Deployment, since: float, emulator: Any = None) -> str:
    """The task logs written since ``since`` (those with an error first), then the tail of every component's
    log (the api-server's without its access lines, and last): a CI report shows the head of this."""
    parts = [f"AIRFLOW_HOME: {deploy.home}  (api {deploy.api_url}, database {deploy.database})"]
    task_logs = deploy.task_log_files(since)
    failed_first = sorted(task_logs, key=lambda p: ("error" not in p.read_text(errors="replace").lower(), str(p)))
    for path in failed_first[:12]:
        parts.append(
            f"===== task log {path.relative_to(deploy.home)} =====\n{tail(path.read_text(errors='replace'), 50)}"
        )
    if len(task_logs) > 12:
        parts.append(f"... and {len(task_logs) - 12} more task log files under {deploy.logs_dir}")
    for name, service in sorted(deploy.services.items(), key=lambda item: item[0] == "api-server"):
        state = "running" if service.alive() else f"exited {service.process.returncode if service.process else '?'}"
        text = service.log_text()
        if name == "api-server":
            text = "\n".join(line for line in text.splitlines() if "[http.access]" not in line)
        lines = 25 if name in ("dag-processor", "api-server") else 60
        parts.append(f"===== {name} ({state}) {service.log_path} =====\n{tail(text, lines)}")
    if emulator is not None:
        try:
            parts.append(f"===== emulator stats =====\n{emulator.stats()}")
        except Exception as exc:  # the emulator may be the thing that broke
            parts.append(f"===== emulator stats unavailable: {exc} =====")
    return "\n".join(parts)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        for row in getattr(item, "_deploy_rows", []):
            row.outcome = "PASS" if rep.passed else "FAIL"
    if not rep.failed:
        return
    deploy = CURRENT.get("deploy")
    if deploy is None:
        return
    CURRENT["failed"] = True
    try:
        text = airflow_logs(deploy, getattr(item, "_deploy_started", 0.0), CURRENT.get("emulator"))
    except Exception as exc:
        text = f"could not collect the Airflow logs: {exc!r}"
    rep.sections.append(("Airflow logs (deployment suite)", text))


# -- the emulator and the deployment ---------------------------------------------------------------


@pytest.fixture(scope="session")
def emulator() -> Iterator[Any]:
    from airflow_provider_seedance.emulator.server import EmulatorProcess

    become_subreaper()
    process = EmulatorProcess(api_key=API_KEY, render_seconds=DEFAULT_RENDER_S).start()
    CURRENT["emulator"] = process
    try:
        yield process
    finally:
        process.stop()


def connections_for(emulator: Any) -> dict[str, dict[str, Any]]:
    return {
        f"seedance_{backend}": {
            "conn_type": "seedance",
            "password": API_KEY,
            "host": emulator.base_url(backend),
            "extra": {"backend": backend},
        }
        for backend in BACKENDS
    }


def _check_asyncpg() -> None:
    if importlib.util.find_spec("asyncpg") is None:
        raise DeploymentError(
            "asyncpg is not installed: Airflow 3.3 opens its metadata database with an async engine too "
            "(postgresql -> asyncpg). `.venv/bin/pip install asyncpg`"
        )


def _start(deployment: Deployment, label: str, dag_ids: tuple[str, ...], *, current: bool = True) -> None:
    if current:  # the one whose logs a failure shows (not a deployment booting beside a running scenario)
        CURRENT["deploy"] = deployment
    started = time.monotonic()
    try:
        deployment.start()
        for dag_id in dag_ids:
            deployment.wait_for_dag(dag_id)
    except DeploymentError as exc:
        CURRENT["failed"] = True
        shutdown(deployment)
        raise DeploymentError(f"{exc}\n\n{airflow_logs(deployment, 0.0)}") from None
    except BaseException:
        shutdown(deployment)
        raise
    REPORT.setup.update(
        {
            f"{label} migrate_s": deployment.timings.get("migrate_s", 0.0),
            f"{label} up_and_parsed_s": time.monotonic() - started,
        }
    )


def shutdown(deployment: Deployment) -> None:
    """Stop everything ``deployment`` started, drop its database; keep its home only after a failure.
    Idempotent: the Celery fixture calls it early for the LocalExecutor deployment, the fixture again."""
    if deployment.stopped:
        return
    deployment.stop()
    deployment.stopped = True
    _sweep(deployment.home)
    if CURRENT.get("failed") or os.environ.get("SEEDANCE_DEPLOY_KEEP"):
        CURRENT.setdefault("kept_homes", []).append(str(deployment.home))
    else:
        deployment.cleanup_home()


DAG_IDS = ("seedance_deploy_batch", "seedance_deploy_no_retry", "seedance_deploy_crash")


@pytest.fixture(scope="session")
def deploy(emulator: Any) -> Iterator[Deployment]:
    """The LocalExecutor deployment (PARALLELISM worker slots, two triggerers)."""
    pg_connect().close()  # fails with the how-to-start-PostgreSQL message before anything else starts
    _check_asyncpg()
    deployment = Deployment(connections=connections_for(emulator), parallelism=PARALLELISM)
    CURRENT["local"] = deployment
    _start(deployment, "local", DAG_IDS)
    REPORT.setup.update({"local parallelism": PARALLELISM, "triggerers": deployment.triggerers})
    try:
        yield deployment
    finally:
        shutdown(deployment)


CELERY_DAG_IDS = (*DAG_IDS, "seedance_deploy_pooled", "seedance_deploy_catalog")


class CeleryBoot:
    """The Celery deployment started in a thread while the last LocalExecutor scenario runs: its migrate,
    boot and parse (about a minute on a busy machine) overlap that scenario instead of following it."""

    def __init__(self, emulator: Any) -> None:
        pg_connect().close()
        _check_asyncpg()
        broker = check_broker("redis")
        check_broker("rabbitmq")  # the RabbitMQ scenario switches to it: fail now, with how to start it
        self.deployment = Deployment(
            connections=connections_for(emulator),
            executor="CeleryExecutor",
            broker_url=broker,
            celery_workers=2,
            worker_concurrency=CELERY_CONCURRENCY,
            parallelism=2 * CELERY_CONCURRENCY,
        )
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="celery-boot", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            _start(self.deployment, "celery", CELERY_DAG_IDS, current=False)
            for name in self.deployment.workers:
                self.deployment.wait_worker_ready(name)
        except BaseException as exc:  # re-raised by result(), in the fixture
            self.error = exc

    def result(self) -> Deployment:
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.deployment


def _celery_boot(emulator: Any) -> CeleryBoot:
    if "celery_boot" not in CURRENT:
        CURRENT["celery_boot"] = CeleryBoot(emulator)
    boot: CeleryBoot = CURRENT["celery_boot"]
    return boot


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A Celery deployment booted beside the last LocalExecutor scenario but never used (the run stopped
    first: ``-x``, an interrupt) is stopped too: no Airflow process or database outlives the run."""
    boot: CeleryBoot | None = CURRENT.get("celery_boot")
    if boot is not None:
        boot.thread.join()
        shutdown(boot.deployment)  # idempotent: a no-op once ``celery_deploy`` stopped it


@pytest.fixture(scope="session")
def celery_deploy(emulator: Any) -> Iterator[Deployment]:
    """The CeleryExecutor deployment: Redis broker, two Celery workers of CELERY_CONCURRENCY slots each
    (parallelism = all their slots), two triggerers; booted beside the last LocalExecutor scenario (or now,
    when none runs). Stops the LocalExecutor deployment."""
    boot = _celery_boot(emulator)
    try:
        deployment = boot.result()
    finally:
        local = CURRENT.get("local")
        if local is not None:
            shutdown(local)
    CURRENT["deploy"] = deployment
    REPORT.setup.update({"celery workers": f"2x{CELERY_CONCURRENCY}"})
    try:
        yield deployment
    finally:
        shutdown(deployment)


def _sweep(home: Path) -> None:
    """Kill what the deployment started and outlived its parent (task processes, trigger runners): every
    process re-parented to us whose environment names this deployment's AIRFLOW_HOME."""
    marker = f"AIRFLOW_HOME={home}".encode()
    for pid in descendants(os.getpid()):
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                mine = marker in handle.read().split(b"\0")
        except OSError:
            continue
        if mine:
            kill_tree(pid)
    # reap the zombies re-parented to us (we are a child subreaper)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.1)


def _scenario(request: pytest.FixtureRequest, deploy: Deployment, emulator: Any, report: Report) -> Iterator[Any]:
    if deploy.stopped:
        raise DeploymentError(
            f"the {deploy.executor} deployment was stopped to make room for the Celery one: "
            "the LocalExecutor scenarios must run before the Celery ones (see pytest_collection_modifyitems)"
        )
    CURRENT["deploy"] = deploy
    emulator.reset()
    deploy.check_services()
    if getattr(request.node, "_boot_celery_beside", False):
        _celery_boot(emulator)
    request.node._deploy_started = time.time()
    request.node._deploy_rows = []

    def new_row(name: str) -> Row:
        row = report.add(Row(name))
        request.node._deploy_rows.append(row)
        return row

    yield new_row
    emulator.set_faults({})


@pytest.fixture
def scenario(request: pytest.FixtureRequest, deploy: Deployment, emulator: Any, report: Report) -> Iterator[Any]:
    """Per test on the LocalExecutor deployment: a clean emulator (no tasks, counters or faults), the start
    time for log collection, and a function that adds the test's rows to the counts table."""
    yield from _scenario(request, deploy, emulator, report)


@pytest.fixture
def celery_scenario(
    request: pytest.FixtureRequest, celery_deploy: Deployment, emulator: Any, report: Report
) -> Iterator[Any]:
    """``scenario`` on the Celery deployment."""
    yield from _scenario(request, celery_deploy, emulator, report)


# -- shared checks ---------------------------------------------------------------------------------


def half_written(directory: Path) -> list[Path]:
    """Temporary files of unfinished saves (``.<name>.<n>.part``) left under ``directory``."""
    return sorted(p for p in directory.rglob("*.part") if p.is_file())


def verify_video(result: dict[str, Any]) -> Path:
    """The saved file is a real MP4 whose sha256 and size match the task's XCom result."""
    path = Path(urlsplit(result["output_path"]).path) if "://" in result["output_path"] else Path(result["output_path"])
    assert path.is_file(), f"video {path} was not saved: {result}"
    data = path.read_bytes()
    assert data[4:8] == b"ftyp", f"{path} is not an MP4 (no ftyp box): {data[:16]!r}"
    assert len(data) == result["size_bytes"], f"{path}: {len(data)} bytes on disk, XCom says {result['size_bytes']}"
    assert hashlib.sha256(data).hexdigest() == result["sha256"], f"{path}: sha256 differs from XCom"
    return path


def emulator_counts(emulator: Any) -> dict[str, Any]:
    """Counts from the emulator's own request log: what really reached the 'vendor'."""
    log = emulator.requests()
    stats = emulator.stats()
    create_posts = [r for r in log if r["kind"] == "create"]
    return {
        "stats": stats,
        "log": log,
        "create_posts": len(create_posts),
        "replayed": sum(1 for r in create_posts if r.get("idempotency_replayed")),
        "creates": stats["creates_total"],
        "polls": stats["polls"],
        "cancels": stats["cancels"],
        "faults": sum(1 for r in log if r.get("fault")),
    }


def max_in_flight(log: list[dict[str, Any]]) -> int:
    """Most generations in flight at once: from each create to the download of its video."""
    created = {r["task_id"]: r["ts"] for r in log if r["kind"] == "create" and r.get("task_id")}
    windows = []
    for task_id, start in created.items():
        done = [r["ts"] for r in log if r["kind"] == "download" and task_id in r["path"]]
        if done:
            windows.append((start, min(done)))
    events = sorted([(s, 1) for s, _ in windows] + [(e, -1) for _, e in windows])
    best = current = 0
    for _, delta in events:
        current += delta
        best = max(best, current)
    return best


def run_seconds(run: dict[str, Any]) -> float:
    """Wall-clock seconds of a DAG run, from the REST API's start and end dates."""
    from datetime import datetime

    start, end = run.get("start_date"), run.get("end_date")
    if not start or not end:
        return 0.0
    return (
        datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(start.replace("Z", "+00:00"))
    ).total_seconds()


def fill_row(row: Row, tis: list[dict[str, Any]], counts: dict[str, Any], run: dict[str, Any]) -> None:
    row.generations = len(tis)
    row.succeeded = sum(ti["state"] == "success" for ti in tis)
    row.failed = sum(ti["state"] == "failed" for ti in tis)
    row.create_posts, row.creates, row.polls = counts["create_posts"], counts["creates"], counts["polls"]
    row.faults, row.cancels = counts["faults"], counts["cancels"]
    row.retries = sum(max(0, ti["try_number"] - 1) for ti in tis)
    row.seconds = run_seconds(run)
