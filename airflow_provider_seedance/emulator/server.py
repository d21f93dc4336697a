"""Test helpers: EmulatorServer runs the emulator with uvicorn in a background thread of this
process; EmulatorProcess runs ``python -m airflow_provider_seedance.emulator`` as a subprocess."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx
import uvicorn

from .app import create_app, emulator_from_app
from .cli import bind_socket
from .runtime import Emulator, EmulatorConfig

BACKENDS = ("evolink", "aimlapi", "modelark")
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


class _ControlClient:
    """The control-endpoint API shared by both helpers."""

    url: str = ""
    verify_tls: bool = True

    def base_url(self, backend: str) -> str:
        """The base URL a client of that backend should use."""
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
        return self.url + "/api/v3" if backend == "modelark" else self.url

    _http: httpx.Client | None = None

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        if self._http is None:
            self._http = httpx.Client(timeout=10.0, verify=self.verify_tls)
        response = self._http.request(method, f"{self.url}/_emulator/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def _close_http(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def requests(self) -> list[dict[str, Any]]:
        """The request log (oldest first)."""
        result: list[dict[str, Any]] = self._control("GET", "requests")
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._control("GET", "stats")
        return result

    def set_faults(self, faults: dict[str, Any] | None) -> None:
        """Replace the server-wide fault configuration ({} or None disables faults)."""
        self._control("POST", "faults", faults or {})

    def reset(self) -> None:
        """Clear tasks, request log, counters and faults."""
        self._control("POST", "reset")

    def force_cancel(self, task_id: str) -> dict[str, Any]:
        """Cancel any non-finished task, whatever its dialect."""
        result: dict[str, Any] = self._control("POST", f"tasks/{task_id}/cancel")
        return result

    def finish(self, task_id: str) -> dict[str, Any]:
        """End a non-finished task's render now: its next poll sees it end as its prompt says."""
        result: dict[str, Any] = self._control("POST", f"tasks/{task_id}/finish")
        return result

    def healthy(self) -> bool:
        try:
            return bool(self._control("GET", "health").get("status") == "ok")
        except (httpx.HTTPError, ValueError):
            return False

    def _wait_healthy(self, timeout: float, alive: Any) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return
            if not alive():
                break
            time.sleep(0.05)
        raise RuntimeError(f"seedance emulator at {self.url} did not become healthy")


class EmulatorServer(_ControlClient):
    """``with EmulatorServer(api_key="k", render_seconds=0.5) as emu: ...`` (uvicorn in a thread)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        startup_timeout: float = 10.0,
        **options: Any,
    ) -> None:
        self.host = host
        self.port = port
        self.log_level = log_level
        self.startup_timeout = startup_timeout
        self.config = EmulatorConfig(**options)
        self.app = create_app(self.config)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def emulator(self) -> Emulator:
        """The in-process runtime state (store, faults, cache)."""
        return emulator_from_app(self.app)

    def start(self) -> EmulatorServer:
        sock = bind_socket(self.host, self.port)
        self._socket = sock
        self.port = sock.getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            loop="asyncio",
            lifespan="off",
            interface="asgi3",
            timeout_graceful_shutdown=1,
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"seedance-emulator-{self.port}", daemon=True
        )
        self._thread.start()
        thread = self._thread
        self._wait_healthy(self.startup_timeout, lambda: thread.is_alive())
        return self

    def stop(self) -> None:
        self._close_http()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class EmulatorProcess(_ControlClient):
    """Same interface as EmulatorServer, but a separate ``python -m ...emulator`` process."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        render_seconds: float = 6.0,
        link_ttl_seconds: float = 86400.0,
        faults: dict[str, Any] | None = None,
        seed: int | None = None,
        aiml_success_word: str = "completed",
        models: Mapping[str, Any] | str | None = None,
        log_level: str = "warning",
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 30.0,
    ) -> None:
        args = [
            "--host",
            host,
            "--port",
            str(port),
            "--render-seconds",
            str(render_seconds),
            "--link-ttl",
            str(link_ttl_seconds),
            "--aiml-success-word",
            aiml_success_word,
            "--log-level",
            log_level,
        ]
        if api_key is not None:
            args += ["--api-key", api_key]
        if faults:
            args += ["--faults", json.dumps(faults)]
        if seed is not None:
            args += ["--seed", str(seed)]
        if models:  # else the process reads AIRFLOW__SEEDANCE__MODELS, as the command line does
            args += ["--models", models if isinstance(models, str) else json.dumps(models)]
        self.args = [*args, *extra_args]
        self.verify_tls = "--ssl-certfile" not in extra_args  # the emulator's own self-signed cert
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[str] | None = None
        self._stderr: IO[bytes] | None = None

    def start(self) -> EmulatorProcess:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH")) if p)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "airflow_provider_seedance.emulator", *self.args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            text=True,
        )
        line = _first_line(self.process.stdout, self.startup_timeout)
        if not line or "://" not in line:
            self.stop()
            raise RuntimeError(f"seedance emulator process failed to start: {self._error_text() or line}")
        self.url = line.strip().rsplit(" ", 1)[-1].rstrip("/")
        process = self.process
        self._wait_healthy(self.startup_timeout, lambda: process.poll() is None)
        return self

    def _error_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace").strip()

    def stop(self) -> None:
        self._close_http()
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
        self.process = None
        self._stderr = None

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _first_line(stream: IO[str] | None, timeout: float) -> str:
    """Read the first stdout line without blocking forever, then keep draining in the background."""
    if stream is None:
        return ""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        try:
            for index, text in enumerate(stream):
                if index == 0:
                    lines.put(text)
        except (OSError, ValueError):
            pass
        lines.put("")

    threading.Thread(target=pump, name="seedance-emulator-stdout", daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""
