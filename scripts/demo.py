"""One-command demo (``make demo``): the marketing pipeline end to end, offline, in about a minute.

What it does, from a fresh clone:
1. creates a private Airflow home under ``.demo/airflow`` (SQLite, no example DAGs, dags folder =
   ``example_dags/``), runs ``airflow db migrate`` and creates the pool ``seedance_renders``
   (``--include-deferred``);
2. starts the Seedance emulator as its own process on port 8765 (no key, no internet needed);
3. defines the connection ``seedance_default`` for it (``AIRFLOW_CONN_SEEDANCE_DEFAULT``, never written
   to disk) and the Variable ``seedance_output_root`` (``AIRFLOW_VAR_SEEDANCE_OUTPUT_ROOT``) = ``output/``;
4. starts an Airflow api-server on the same metadata database (a free port, one demo user), so the
   pipeline's human review can be answered through Airflow's REST API;
5. runs ``airflow dags test example_seedance_marketing_pipeline`` (9 videos: 3 products x 3 channels,
   gallery, manifest), and while it waits at its review tasks (``campaign.review_0``: one per product x channel)
   answers each one through the REST API (``PATCH .../hitlDetails``), approving every clip, as a reviewer
   would in the Airflow UI's Required Actions page; then ``release`` emits the Asset event, and
   ``airflow dags test example_seedance_publish`` copies the approved clips to ``ready_to_publish/``;
6. stops the api-server and the emulator (always: also on failure and Ctrl-C) and prints where the videos
   and the gallery are, and where a reviewer would click in a real deployment.

Environment variables (all optional):
    SEEDANCE_API_KEY          a real API key: skip the emulator and render on the real backend (costs credits)
    SEEDANCE_BACKEND          evolink (default), aimlapi or modelark: the backend of SEEDANCE_API_KEY
    SEEDANCE_BASE_URL         the backend's base URL, if not its public default (e.g. another ModelArk region)
    SEEDANCE_MODEL            model id (default: the backend's fast text-to-video model)
    SEEDANCE_DEMO_MAX_VIDEOS  render at most this many videos (default: all with the emulator, 3 with a real key;
                              0 means all)
    SEEDANCE_DEMO_PORT        emulator port (default 8765; 0 picks a free one)
    SEEDANCE_DEMO_RENDER_SECONDS  emulator render time per video (default 4)
    SEEDANCE_DEMO_HOME        the demo's AIRFLOW_HOME (default .demo/airflow)
    SEEDANCE_DEMO_OUTPUT      where videos and the gallery go (default output/)

Examples:
    make demo
    SEEDANCE_DEMO_PORT=8800 make demo
    SEEDANCE_API_KEY=sk-... SEEDANCE_BACKEND=evolink make demo

Exit status: 0 success, 1 pipeline failure (the log's tail is printed), 2 port taken or bad settings,
130 interrupted.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "example_seedance_marketing_pipeline"
PUBLISH_DAG_ID = "example_seedance_publish"
POOL = ("seedance_renders", "4", "Seedance renders")
BACKENDS = ("evolink", "aimlapi", "modelark")
DEFAULT_PORT = 8765
REAL_KEY_MAX_VIDEOS = 3
# What to echo from `airflow dags test` while it runs (everything goes to the log file).
PROGRESS = (
    (re.compile(r"\[DAG TEST\] starting task_id=(\S+)"), "task"),
    (re.compile(r"Submitted Seedance generation (\S+) \((\w+), ([^)]+)\)"), "submitted"),
    (re.compile(r"Saved (\S+) \((\d+) bytes"), "saved"),
    (re.compile(r"Gallery with (\d+) videos: (\S+)"), "gallery"),
    (re.compile(r"Estimated (\S+) credits \(budget ([^)]+)\)"), "estimate"),
    (re.compile(r"Released (\S+): (\d+) approved of (\d+) clips"), "released"),
    (re.compile(r"Ready to publish: (\d+) videos of (\S+) in (\S+)"), "published"),
)
REVIEWER = "demo-reviewer"


class DemoError(Exception):
    """A problem the user can fix; the message says how. ``status`` is the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def say(text: str = "") -> None:
    print(text, flush=True)


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise DemoError(f"{name}={value!r} is not a whole number", 2) from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError:
        raise DemoError(f"{name}={value!r} is not a number", 2) from None


def check_port(port: int) -> None:
    """Fail early, naming the port and the way out, if something already listens there."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise DemoError(
                    f"Port {port} is already in use, so the Seedance emulator cannot start there.\n"
                    f"Pick another port:   SEEDANCE_DEMO_PORT=8800 make demo\n"
                    f"or any free one:     SEEDANCE_DEMO_PORT=0 make demo",
                    2,
                ) from None
            raise DemoError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", 2) from None


def airflow_env(home: Path, output: Path, connection: dict[str, Any]) -> dict[str, str]:
    """This process's environment minus any Airflow settings, plus the demo's private ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW_CONN_SEEDANCE_DEFAULT": json.dumps(connection),
            "AIRFLOW_VAR_SEEDANCE_OUTPUT_ROOT": output.as_uri(),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


class Runner:
    """Runs ``airflow`` commands with the demo's environment; their output goes to one log file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.airflow = str(Path(sys.executable).parent / "airflow")
        self.current: subprocess.Popen[str] | None = None

    def run(self, *args: str, echo: bool = False) -> None:
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"\n$ airflow {' '.join(args)}\n")
            log.flush()
            process = subprocess.Popen(
                [self.airflow, *args],
                env=self.env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
            self.current = process
            try:
                assert process.stdout is not None
                for line in process.stdout:
                    log.write(line)
                    if echo:
                        show_progress(line)
                status = process.wait()
            except BaseException:
                process.kill()
                process.wait()
                raise
        if status != 0:
            raise DemoError(f"`airflow {' '.join(args[:3])}` failed (exit status {status})\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        return "\n".join(["--- last lines of " + str(self.log_path) + " ---", *text, "---"])


def show_progress(line: str) -> None:
    for pattern, kind in PROGRESS:
        match = pattern.search(line)
        if match is None:
            continue
        if kind == "task":
            task = match.group(1).removeprefix("campaign.")
            if task != "render" and not task.startswith(("rerender_", "review_")):
                say(f"  - {task}")
        elif kind == "submitted":
            say(f"  - render: submitted {match.group(1)} ({match.group(3)})")
        elif kind == "saved":
            say(f"      saved {match.group(1).rsplit('/', 1)[-1]} ({int(match.group(2)) // 1024} KiB)")
        elif kind == "gallery":
            say(f"      gallery with {match.group(1)} videos")
        elif kind == "estimate":
            budget = "none" if match.group(2) == "None" else match.group(2)
            if "no earlier render" in line:  # the first run: no history and no credits_per_second
                say(f"      cost not estimated yet: no earlier renders of this spec (budget: {budget})")
            else:
                say(f"      estimated {match.group(1)} credits from earlier renders (budget: {budget})")
        elif kind == "released":
            say(f"      {match.group(2)} of {match.group(3)} clips approved and released")
        elif kind == "published":
            say(f"      {match.group(1)} videos ready to publish")
        return


def start_emulator(port: int, api_key: str, render_seconds: float) -> Any:
    from airflow_provider_seedance.emulator.server import EmulatorProcess

    emulator = EmulatorProcess(port=port, api_key=api_key, render_seconds=render_seconds)
    try:
        return emulator.start()
    except RuntimeError as exc:
        if "already in use" in str(exc):
            check_port(port)  # raises the friendly message
        raise DemoError(f"the Seedance emulator did not start: {exc}") from None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ApiServer:
    """``airflow api-server`` on the demo's metadata database: the REST API the demo answers the review with."""

    def __init__(self, runner: Runner, home: Path) -> None:
        self.runner = runner
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.password = secrets.token_urlsafe(12)
        self.log_path = home / "api-server.log"
        self.process: subprocess.Popen[bytes] | None = None
        (home / "passwords.json").write_text(json.dumps({REVIEWER: self.password}), encoding="utf-8")
        runner.env.update(
            {
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{REVIEWER}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            }
        )

    def start(self) -> ApiServer:
        """Starts it and returns at once: it comes up while ``airflow dags test`` parses and renders."""
        command = [self.runner.airflow, "api-server", "--port", str(self.port), "--host", "127.0.0.1"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.runner.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def wait_healthy(self, timeout: float = 180.0) -> None:
        import httpx

        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DemoError(f"the Airflow api-server exited; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/api/v2/monitor/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise DemoError(f"the Airflow api-server did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


def answer_reviews(
    api: ApiServer, stop: threading.Event, answered: list[str], choose: Callable[..., Any] | None = None
) -> None:
    """The demo's reviewer: every open review of the pipeline, answered through the REST API with what
    ``choose(hitl_detail)`` says (an option and a note; by default the first option, Approve), until ``stop``
    is set. It is the provider's ``seedance-review`` client (``airflow_provider_seedance.review_client``),
    which answers a review only once its task is parked."""
    from airflow_provider_seedance.review_client import ReviewClient, approve_first

    api.wait_healthy()
    with ReviewClient(api.url, username=REVIEWER, password=api.password) as client:
        for detail, option in client.answer_open(choose or approve_first, dag_id=DAG_ID, stop=stop):
            answered.append(detail["subject"])
            say(f"  - {detail['task_instance']['task_id']}: {detail['subject']}: {option!r} (REST API)")


def newest(folder: Path, pattern: str, since: float) -> Path | None:
    found = [p for p in folder.glob(pattern) if p.stat().st_mtime >= since]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def report(output: Path, started: float, wall_start: float) -> None:
    gallery = newest(output, "marketing/*/*/index.html", started)
    if gallery is None:
        raise DemoError(f"the pipeline finished but no gallery was written under {output}")
    manifest = json.loads((gallery.parent / "manifest.json").read_text(encoding="utf-8"))
    say("")
    say(f"{len(manifest['videos'])} videos ({manifest['model']} on {manifest['backend']}):")
    for video in manifest["videos"]:
        path = gallery.parent / video["file"]
        say(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  ({path.stat().st_size // 1024} KiB)")
    published = newest(output, "ready_to_publish/*/*/manifest.json", started)
    say("")
    say(f"Gallery:          {gallery.as_uri()}")
    say(f"Manifest:         {gallery.parent / 'manifest.json'}")
    if published is not None:
        say(f"Ready to publish: {published.parent}")
    say(f"Wall time:        {time.monotonic() - wall_start:.0f} s")


def main() -> int:
    wall_start = time.monotonic()
    started = time.time() - 1
    home = Path(os.environ.get("SEEDANCE_DEMO_HOME") or ROOT / ".demo" / "airflow").resolve()
    output = Path(os.environ.get("SEEDANCE_DEMO_OUTPUT") or ROOT / "output").resolve()
    api_key = os.environ.get("SEEDANCE_API_KEY", "").strip()
    backend = (os.environ.get("SEEDANCE_BACKEND") or "evolink").strip().lower()
    if backend not in BACKENDS:
        raise DemoError(f"SEEDANCE_BACKEND={backend!r}: expected one of {', '.join(BACKENDS)}", 2)
    real = bool(api_key)
    port = env_int("SEEDANCE_DEMO_PORT", DEFAULT_PORT)
    max_videos = env_int("SEEDANCE_DEMO_MAX_VIDEOS", REAL_KEY_MAX_VIDEOS if real else 0)
    conf: dict[str, Any] = {"max_videos": max_videos}
    if os.environ.get("SEEDANCE_MODEL"):
        conf["model"] = os.environ["SEEDANCE_MODEL"].strip()
    if not real:
        check_port(port)

    home.mkdir(parents=True, exist_ok=True)
    output.mkdir(parents=True, exist_ok=True)
    log_path = home / "demo.log"
    log_path.write_text("", encoding="utf-8")
    emulator = None
    api: ApiServer | None = None
    try:
        if real:
            connection: dict[str, Any] = {"conn_type": "seedance", "password": api_key, "extra": {"backend": backend}}
            if os.environ.get("SEEDANCE_BASE_URL"):
                connection["host"] = os.environ["SEEDANCE_BASE_URL"].strip()
            limit = f"at most {max_videos}" if max_videos else "all"
            say(f"Using the real {backend} API with SEEDANCE_API_KEY: rendering {limit} videos (this costs credits).")
        else:
            render_seconds = env_float("SEEDANCE_DEMO_RENDER_SECONDS", 4.0)
            demo_key = "demo-" + secrets.token_hex(8)
            emulator = start_emulator(port, demo_key, render_seconds)
            connection = {
                "conn_type": "seedance",
                "password": demo_key,
                "host": emulator.base_url(backend),
                "extra": {"backend": backend},
            }
            say(f"Seedance emulator ({backend} dialect) on {emulator.url}, {render_seconds:g} s per render")
        runner = Runner(airflow_env(home, output, connection), log_path)
        say(f"Airflow home {home} (log: {log_path})")
        say("Preparing the metadata database (airflow db migrate)...")
        runner.run("db", "migrate")
        runner.run("pools", "set", *POOL, "--include-deferred")
        say("Starting an Airflow api-server for the review (the REST API the demo answers through)...")
        api = ApiServer(runner, home).start()
        say(f"Running {DAG_ID} with `airflow dags test`:")
        answered = run_with_reviewer(runner, api, conf)
        say(f"Running {PUBLISH_DAG_ID}:")
        runner.run("dags", "test", PUBLISH_DAG_ID, echo=True)
        if emulator is not None:
            emulator.stop()
            emulator = None
        report(output, started, wall_start)
        say("")
        say(f"The review: the demo answered {len(answered)} review tasks itself through the REST API, approving")
        say("every clip. In a real deployment a reviewer opens the Airflow UI: Browse > Required Actions")
        say("(/required_actions?response_received=false), or the run's campaign.review_0 task > Required Actions,")
        say("plays the clips from the gallery link, and picks Approve, Reject or Re-render (with a note) per")
        say("product x channel.")
        return 0
    finally:
        if api is not None:
            api.stop()
        if emulator is not None:
            emulator.stop()


def run_with_reviewer(runner: Runner, api: ApiServer, conf: dict[str, Any]) -> list[str]:
    """``airflow dags test`` of the pipeline while a thread answers its reviews through the REST API."""
    stop = threading.Event()
    answered: list[str] = []
    failed: list[BaseException] = []

    def review() -> None:
        try:
            answer_reviews(api, stop, answered)
        except BaseException as exc:  # without a reviewer the run would wait forever: end it, say why
            failed.append(exc)
            if runner.current is not None:
                runner.current.kill()

    reviewer = threading.Thread(target=review, daemon=True)
    reviewer.start()
    try:
        runner.run("dags", "test", DAG_ID, "--conf", json.dumps(conf), echo=True)
    except DemoError as error:
        raise DemoError(f"the demo's reviewer failed: {failed[0]}\n{error}" if failed else str(error)) from None
    finally:
        stop.set()
        reviewer.join(timeout=30)
    return answered


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` cleans up like Ctrl-C: the emulator is stopped
    try:
        sys.exit(main())
    except DemoError as error:
        print(f"\ndemo: {error}", file=sys.stderr, flush=True)
        sys.exit(error.status)
    except KeyboardInterrupt:
        print("\ndemo: interrupted; the emulator was stopped", file=sys.stderr, flush=True)
        sys.exit(130)
