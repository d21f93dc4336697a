"""A real multi-process Airflow for the deployment suite, driven from outside like a user would.

``Deployment`` creates a fresh PostgreSQL database, migrates it with ``airflow db migrate``, then
starts the api-server, the scheduler, the dag-processor and two triggerers as separate processes, each in
its own process group and with its own log file under a temporary AIRFLOW_HOME. With
``executor="CeleryExecutor"`` it also starts Celery workers (``airflow celery worker``, each its own process
tree with its own hostname) on a Redis or RabbitMQ broker, on a queue of their own.
Tests talk to it only through the REST API (JWT from the simple auth manager), the ``airflow`` CLI,
the files a user can see (logs, saved videos) and the metadata database (read-only checks).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.deployment.processes import Service, cmdline, descendants, free_port

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DAGS_FOLDER = HERE / "dags"
#: The example DAGs are a second bundle, so the review scenario runs the marketing pipeline as shipped.
EXAMPLES_FOLDER = REPO / "example_dags"
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
VENV_BIN = Path(sys.executable).parent
AIRFLOW = str(VENV_BIN / "airflow")

PG_HOST = os.environ.get("SEEDANCE_DEPLOY_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("SEEDANCE_DEPLOY_PG_PORT", "5432"))
PG_USER = os.environ.get("SEEDANCE_DEPLOY_PG_USER", "postgres")

ADMIN_USER = "admin"
ADMIN_PASSWORD = "seedance-deploy-" + secrets.token_hex(6)
BACKENDS = ("evolink", "aimlapi", "modelark")

POSTGRES_HELP = f"""\
The deployment suite needs a PostgreSQL server for Airflow's metadata database, reachable at
{PG_HOST}:{PG_PORT} as user {PG_USER!r} without a password (trust auth), and it could not connect:

    {{error}}

On this machine (Debian, PostgreSQL installed):
    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start

Where PostgreSQL is not installed (Debian/Ubuntu, as root):
    apt-get update && apt-get install -y postgresql
    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
    # trust auth for local TCP connections (test machines only):
    sed -i 's/^\\(host.*127.0.0.1\\/32\\s*\\)\\S*$/\\1trust/' /etc/postgresql/*/main/pg_hba.conf
    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main reload

Or point the suite at another server: SEEDANCE_DEPLOY_PG_HOST / _PG_PORT / _PG_USER.
(`scripts/ensure-system-deps.sh` installs and starts it.)
"""


BROKER_HELP = """\
The Celery deployment of the suite needs a {kind} broker at {url}, and it did not answer:

    {{error}}

Machines of this project's kind start it before every session and CI run; when it is not running:
{start}
(Debian/Ubuntu: `apt-get install -y {package}` first where it is not installed.)
"""
REDIS_URL = os.environ.get("SEEDANCE_DEPLOY_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("SEEDANCE_DEPLOY_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
BROKERS = {
    "redis": (
        REDIS_URL,
        "redis-server",
        '    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \\\n'
        "        --dir /var/lib/redis --logfile /var/log/redis/ci.log",
    ),
    "rabbitmq": (RABBITMQ_URL, "rabbitmq-server", "    rabbitmq-server -detached"),
}


class DeploymentError(AssertionError):
    """The deployment could not be brought up or did not do what was asked in time."""


# -- PostgreSQL ------------------------------------------------------------------------------------


def _psycopg2() -> Any:
    try:
        import psycopg2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DeploymentError(
            "psycopg2 is not installed in this virtualenv: `.venv/bin/pip install psycopg2-binary` "
            f"(it is in the project's dev extra). ({exc})"
        ) from None
    return psycopg2


def pg_connect(dbname: str = "postgres") -> Any:
    psycopg2 = _psycopg2()
    try:
        conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        raise DeploymentError(POSTGRES_HELP.format(error=str(exc).strip())) from None
    conn.autocommit = True
    return conn


def create_database() -> str:
    name = "seedance_deploy_" + secrets.token_hex(4)
    conn = pg_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    return name


def drop_database(name: str) -> None:
    conn = pg_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        conn.close()


def check_broker(kind: str) -> str:
    """The broker URL of ``kind`` (redis, rabbitmq) once it answers; a how-to-start message when not."""
    url, package, start = BROKERS[kind]
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        raise DeploymentError(
            BROKER_HELP.format(kind=kind, url=url, start=start, package=package).format(error=exc)
        ) from None
    return url


# -- the deployment --------------------------------------------------------------------------------


@dataclass
class Deployment:
    """Everything one test session starts. Use ``start()`` / ``stop()`` (idempotent, kills on failure)."""

    connections: dict[str, dict[str, Any]]
    parallelism: int = 6
    triggerers: int = 2
    executor: str = "LocalExecutor"
    broker_url: str = ""
    celery_workers: int = 2
    worker_concurrency: int = 8
    extra_env: dict[str, str] = field(default_factory=dict)
    home: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="seedance-deploy-")))
    database: str | None = None
    services: dict[str, Service] = field(default_factory=dict)
    api_port: int = 0
    fernet_key: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    stopped: bool = False
    _client: httpx.Client | None = None
    _token: str | None = None
    _secrets: dict[str, str] = field(default_factory=dict)

    # -- configuration ---------------------------------------------------------------------------

    @property
    def celery(self) -> bool:
        return self.executor == "CeleryExecutor"

    @property
    def queue(self) -> str:
        return "seedance-" + self._secret("queue")[:8].lower().replace("_", "x").replace("-", "y")

    @property
    def workers(self) -> list[str]:
        return [f"worker-{index}" for index in range(1, self.celery_workers + 1)] if self.celery else []

    @property
    def output_dir(self) -> Path:
        return self.home / "videos"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def service_logs_dir(self) -> Path:
        return self.home / "service-logs"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def sql_alchemy_conn(self) -> str:
        return f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.database}"

    def _base_env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "PYTEST", "SEEDANCE_TEST")) and k not in ("PYTHONPATH",)
        }
        support = self.home / "support"
        bundles = [
            {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
            {"name": "examples", "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(EXAMPLES_FOLDER)}},
        ]
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                # the checkout under test first: the provider the components import is this one, whatever
                # checkout the virtualenv's editable install points at
                "PYTHONPATH": os.pathsep.join([str(support), str(REPO)]),
                "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
                "PYTHONUNBUFFERED": "1",
                "SEEDANCE_DEPLOY_OUTPUT": str(self.output_dir),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.sql_alchemy_conn,
                "AIRFLOW__CORE__EXECUTOR": self.executor,
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__CORE__FERNET_KEY": self.fernet_key,
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "seedance_deploy_support.hostname",
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                # Two triggerers run here: renders defer unless a task says otherwise.
                "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                "AIRFLOW__API__BASE_URL": self.api_url,
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__SECRET_KEY": self._secret("api"),
                "AIRFLOW__API_AUTH__JWT_SECRET": self._secret("jwt"),
                "AIRFLOW__API_AUTH__JWT_EXPIRATION_TIME": "36000",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
                "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
                "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "600",
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "1",  # Airflow's default; 0.25 cost 4x the idle CPU
                "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
                "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "6",
                "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
            }
        )
        if self.celery:
            env.update(
                {
                    "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
                    "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.database}",
                    "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
                    "AIRFLOW__CELERY__OPERATION_TIMEOUT": "10",
                    # a queue of this deployment's own: nothing left in a shared broker reaches it
                    "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
                    # a worker SIGKILLed while holding tasks: the scheduler fails them after this and retries
                    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
                    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "180",
                    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "15",
                }
            )
        for conn_id, conn in self.connections.items():
            env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
        env.update(self.extra_env)
        return env

    def _secret(self, name: str) -> str:
        return self._secrets.setdefault(name, secrets.token_urlsafe(64))

    def _write_support_files(self) -> None:
        support = self.home / "support"
        support.mkdir(parents=True, exist_ok=True)
        # Lets each triggerer record a distinct hostname in the job table, so the suite knows which
        # process holds which trigger (the job table has no pid).
        (support / "seedance_deploy_support.py").write_text(
            '"""hostname_callable for the deployment suite."""\n'
            "import os\n"
            "import socket\n\n\n"
            "def hostname():\n"
            '    return os.environ.get("SEEDANCE_DEPLOY_HOSTNAME") or socket.getfqdn()\n'
        )
        (self.home / "passwords.json").write_text(json.dumps({ADMIN_USER: ADMIN_PASSWORD}) + "\n")

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Deployment:
        from cryptography.fernet import Fernet

        started = time.monotonic()
        self.fernet_key = Fernet.generate_key().decode()
        self.api_port = free_port()
        self.service_logs_dir.mkdir(parents=True, exist_ok=True)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._write_support_files()
        self.database = create_database()
        try:
            self._migrate()
            self.timings["migrate_s"] = time.monotonic() - started
            env = self._base_env()
            self._add("api-server", [AIRFLOW, "api-server", "--port", str(self.api_port), "--host", "127.0.0.1"], env)
            self._add("scheduler", [AIRFLOW, "scheduler"], env)
            self._add("dag-processor", [AIRFLOW, "dag-processor"], env)
            for index in range(1, self.triggerers + 1):
                name = f"triggerer-{index}"
                trigger_env = dict(env)
                trigger_env["SEEDANCE_DEPLOY_HOSTNAME"] = name
                trigger_env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(free_port())
                self._add(name, [AIRFLOW, "triggerer"], trigger_env)
            for name in self.workers:
                self._add(name, self._worker_argv(name), self._worker_env(name, env))
            self._wait_api()
            self.timings["startup_s"] = time.monotonic() - started
        except BaseException:
            self.stop()
            raise
        return self

    def _worker_argv(self, name: str) -> list[str]:
        return [
            AIRFLOW,
            "celery",
            "worker",
            "--celery-hostname",
            f"{name}@seedance",
            "--queues",
            self.queue,
            "--concurrency",
            str(self.worker_concurrency),
            "--without-mingle",
            "--without-gossip",
        ]

    def _worker_env(self, name: str, env: dict[str, str]) -> dict[str, str]:
        worker_env = dict(env)
        worker_env["SEEDANCE_DEPLOY_HOSTNAME"] = name  # task instances record it: who holds which task
        worker_env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(free_port())
        return worker_env

    def wait_worker_ready(self, name: str, timeout: float = 180.0) -> None:
        """Until the Celery worker logged that it consumes (``... ready.``) since its last start."""
        service = self.services[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_services()
            if f"{name}@seedance ready" in service.log_text()[service.log_offset :]:
                return
            time.sleep(0.5)
        raise DeploymentError(f"{name} did not report ready within {timeout:.0f}s")

    def switch_broker(self, broker_url: str) -> None:
        """The scheduler and every worker again on another broker (the rest does not talk to it)."""
        self.broker_url = broker_url
        names = ["scheduler", *self.workers]
        self._stop_all([self.services[name] for name in names])
        for name in names:
            service = self.services[name]
            env = dict(service.env, AIRFLOW__CELERY__BROKER_URL=broker_url)
            self._add(name, service.argv, env)
        for name in self.workers:
            self.wait_worker_ready(name)

    def restart(self, name: str) -> Service:
        """Start a (killed) component again with the same command and environment."""
        old = self.services[name]
        old.stop()
        return self._add(name, old.argv, old.env)

    def _add(self, name: str, argv: list[str], env: dict[str, str]) -> Service:
        service = Service(name, argv, env, self.service_logs_dir / f"{name}.log").start()
        self.services[name] = service
        return service

    def _migrate(self) -> None:
        result = subprocess.run(
            [AIRFLOW, "db", "migrate"],
            env=self._base_env(),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        (self.service_logs_dir / "db-migrate.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise DeploymentError(f"airflow db migrate failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")

    def _wait_api(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_services()
            try:
                if httpx.get(f"{self.api_url}/api/v2/monitor/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise DeploymentError(f"the api-server did not answer on {self.api_url} within {timeout:.0f}s")

    def check_services(self) -> None:
        """Fail loudly when a component died on its own (not killed by a test)."""
        for service in self.services.values():
            if not service.killed and service.process is not None and service.process.poll() is not None:
                raise DeploymentError(
                    f"{service.name} exited with status {service.process.returncode}; its log ends with:\n"
                    + service.log_text()[-6000:]
                )

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._stop_all(list(reversed(list(self.services.values()))))
        if self.database:
            with contextlib.suppress(Exception):
                drop_database(self.database)
            self.database = None

    @staticmethod
    def _stop_all(services: list[Service], grace: float = 15.0) -> None:
        """SIGTERM to all at once, then the same ``grace`` seconds for all to exit (one after another, the
        Celery deployment's workers, triggerers and scheduler each took seconds)."""
        for service in services:
            service.terminate()
        deadline = time.monotonic() + grace
        for service in services:
            service.stop(grace=max(0.0, deadline - time.monotonic()))

    def cleanup_home(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    # -- REST API --------------------------------------------------------------------------------

    def token(self) -> str:
        if self._token is None:
            response = httpx.post(
                f"{self.api_url}/auth/token",
                json={"username": ADMIN_USER, "password": ADMIN_PASSWORD},
                timeout=30,
            )
            if response.status_code >= 300:
                raise DeploymentError(f"login failed: HTTP {response.status_code} {response.text[:500]}")
            self._token = response.json()["access_token"]
        return self._token

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                base_url=self.api_url,
                headers={"Authorization": f"Bearer {self.token()}"},
                timeout=60,
            )
        return self._client

    def api(self, method: str, path: str, *, ok: Iterable[int] = (200,), **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        if response.status_code not in tuple(ok):
            raise DeploymentError(f"{method} {path}: HTTP {response.status_code} {response.text[:2000]}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text

    def wait_for_dag(self, dag_id: str, timeout: float = 180.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_services()
            response = self.client.get(f"/api/v2/dags/{dag_id}")
            if response.status_code == 200:
                return dict(response.json())
            errors = self.api("GET", "/api/v2/importErrors")
            if errors and errors.get("import_errors"):
                raise DeploymentError(f"DAG import errors: {json.dumps(errors['import_errors'], indent=1)[:4000]}")
            time.sleep(1)
        raise DeploymentError(f"DAG {dag_id} was not parsed within {timeout:.0f}s")

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any], run_id: str) -> str:
        self.wait_for_dag(dag_id)
        self.unpause(dag_id)
        body = {"dag_run_id": run_id, "logical_date": None, "conf": conf}
        self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body)
        return run_id

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run, page by page (the API serves at most ``[api] maximum_page_limit``,
        100 by default, per page)."""
        found: list[dict[str, Any]] = []
        while True:
            body = self.api(
                "GET",
                f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                params={"limit": 100, "offset": len(found), "order_by": "map_index"},
            )
            page = list(body["task_instances"])
            found += page
            if not page or len(found) >= int(body.get("total_entries", 0)):
                return found

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        *,
        timeout: float = 300.0,
        on_poll: Callable[[list[dict[str, Any]]], None] | None = None,
        interval: float = 1.0,
    ) -> dict[str, Any]:
        """Poll the run until it ends; ``on_poll`` sees the task instances at every poll."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_services()
            run = self.dag_run(dag_id, run_id)
            if on_poll is not None:
                on_poll(self.task_instances(dag_id, run_id))
            if run["state"] in ("success", "failed"):
                return run
            if time.monotonic() > deadline:
                states = sorted(
                    (ti["task_id"], ti["map_index"], ti["state"]) for ti in self.task_instances(dag_id, run_id)
                )
                raise DeploymentError(f"run {dag_id}/{run_id} still {run['state']} after {timeout:.0f}s: {states}")
            time.sleep(interval)

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        body = self.api(
            "GET",
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
            params={"map_index": map_index, "deserialize": True},
        )
        value = body["value"]
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return json.loads(value)
        return value

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        """The task log as the UI shows it (worker and triggerer parts), one text line per event."""
        response = self.client.get(
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"map_index": map_index, "full_content": True},
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            raise DeploymentError(f"task log: HTTP {response.status_code} {response.text[:500]}")
        return format_log_events(response.json().get("content", []))

    # -- processes and files a user can see ------------------------------------------------------

    def task_process(self, ti_id: str) -> int | None:
        """The pid of the task process running ``ti_id`` (its title is ``airflow worker -- <ti id>``)."""
        wanted = f"airflow worker -- {ti_id}"
        for name in ["scheduler", *self.workers]:
            service = self.services.get(name)
            if service is None or not service.alive():
                continue
            for pid in descendants(service.pid):
                if cmdline(pid) == wanted:
                    return pid
        return None

    def log_files(self) -> list[Path]:
        return sorted(p for p in self.home.rglob("*") if p.is_file() and (p.suffix == ".log" or ".log" in p.name))

    def task_log_files(self, since: float = 0.0) -> list[Path]:
        return sorted(p for p in self.logs_dir.rglob("*") if p.is_file() and p.stat().st_mtime >= since)

    # -- metadata database (read-only checks) ----------------------------------------------------

    @contextlib.contextmanager
    def db(self) -> Iterator[Any]:
        assert self.database
        conn = pg_connect(self.database)
        try:
            yield conn
        finally:
            conn.close()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.db() as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def decrypt(self, value: str) -> str:
        from cryptography.fernet import Fernet

        if value.startswith("{"):
            return value
        return Fernet(self.fernet_key.encode()).decrypt(value.encode()).decode()

    def triggers(self) -> list[dict[str, Any]]:
        """Rows of the trigger table with decrypted kwargs and the hostname of the assigned triggerer."""
        rows = self.query(
            "SELECT t.id, t.classpath, t.kwargs, t.triggerer_id, j.hostname "
            "FROM trigger t LEFT JOIN job j ON j.id = t.triggerer_id ORDER BY t.id"
        )
        result = []
        for trigger_id, classpath, kwargs, triggerer_id, hostname in rows:
            plain = self.decrypt(kwargs)
            result.append(
                {
                    "id": trigger_id,
                    "classpath": classpath,
                    "kwargs_raw": plain,
                    "kwargs": _plain_kwargs(json.loads(plain)),
                    "triggerer_id": triggerer_id,
                    "hostname": hostname,
                }
            )
        return result

    def dump_database(self) -> dict[str, str]:
        """Every table of the metadata database as text (one string per table); trigger kwargs decrypted."""
        dump: dict[str, str] = {}
        with self.db() as conn, conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            tables = [row[0] for row in cur.fetchall()]
            for table in tables:
                cur.execute(f'SELECT t::text FROM "{table}" t')
                dump[table] = "\n".join(row[0] for row in cur.fetchall())
        dump["trigger (decrypted kwargs)"] = "\n".join(t["kwargs_raw"] for t in self.triggers())
        return dump


@dataclass
class RunWatch:
    """One DAG run triggered through the REST API, and what was seen of its task instances meanwhile."""

    deploy: Deployment
    dag_id: str
    run_id: str
    started: float = field(default_factory=time.time)
    states_seen: dict[int, set[str]] = field(default_factory=dict)
    triggerers_seen: dict[int, set[str]] = field(default_factory=dict)
    latest: list[dict[str, Any]] = field(default_factory=list)
    run: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def trigger(cls, deploy: Deployment, dag_id: str, items: list[dict[str, Any]], label: str) -> RunWatch:
        run_id = f"{label}-{secrets.token_hex(3)}"
        deploy.trigger(dag_id, {"items": items}, run_id)
        return cls(deploy, dag_id, run_id)

    def observe(self, tis: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        tis = self.deploy.task_instances(self.dag_id, self.run_id) if tis is None else tis
        self.latest = tis
        for ti in tis:
            if ti["task_id"] != "generate":
                continue
            index = int(ti["map_index"])
            self.states_seen.setdefault(index, set()).add(str(ti["state"]))
            job = ti.get("triggerer_job") or {}
            if job.get("hostname"):
                self.triggerers_seen.setdefault(index, set()).add(str(job["hostname"]))
        return tis

    def wait(self, timeout: float = 300.0) -> dict[str, Any]:
        self.run = self.deploy.wait_for_run(self.dag_id, self.run_id, timeout=timeout, on_poll=self.observe)
        self.observe()
        return self.run

    def generate_tis(self) -> list[dict[str, Any]]:
        return sorted((ti for ti in self.observe() if ti["task_id"] == "generate"), key=lambda ti: ti["map_index"])

    def deferred_indexes(self) -> set[int]:
        return {index for index, states in self.states_seen.items() if "deferred" in states}

    def xcom(self, map_index: int, key: str = "return_value") -> Any:
        return self.deploy.xcom(self.dag_id, self.run_id, "generate", key=key, map_index=map_index)

    def log(self, map_index: int, try_number: int = 1) -> str:
        return self.deploy.task_log(self.dag_id, self.run_id, "generate", try_number, map_index)


def _plain_kwargs(value: Any) -> Any:
    """Airflow's serde wraps values ({"__classname__": ..., "__data__": ...}); unwrap for assertions."""
    if isinstance(value, dict):
        if "__data__" in value:
            return _plain_kwargs(value["__data__"])
        if "__var" in value:
            return _plain_kwargs(value["__var"])
        return {k: _plain_kwargs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_kwargs(v) for v in value]
    return value


_LOG_META = {
    "timestamp",
    "event",
    "level",
    "logger",
    "filename",
    "lineno",
    "dag_id",
    "task_id",
    "run_id",
    "ti_id",
    "map_index",
    "try_number",
}


def format_log_events(events: list[Any]) -> str:
    """Structured log events (the REST API's JSON log) as plain text lines, extras included."""
    lines = []
    for event in events:
        if not isinstance(event, dict):
            lines.append(str(event))
            continue
        extras = {k: v for k, v in event.items() if k not in _LOG_META}
        head = " ".join(str(event[k]) for k in ("timestamp", "level", "logger") if event.get(k))
        text = f"{head}: {event.get('event', '')}" if head else str(event.get("event", ""))
        if extras:
            text += " " + json.dumps(extras, default=str)
        lines.append(text)
    return "\n".join(lines)


def tail(text: str, lines: int = 80) -> str:
    return "\n".join(text.splitlines()[-lines:])
