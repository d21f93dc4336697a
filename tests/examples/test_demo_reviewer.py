"""The demo's REST API reviewer (``scripts/demo.py``, also the examples' reviewer) against a stand-in for
Airflow's HITL endpoints over real HTTP: it answers a review only once its task is parked.

Answered while the task still runs, Airflow 3.3.2 on SQLite can record the answer and park the task anyway,
so ``airflow dags test`` waits forever for an answer it already has (a CI run timed out that way)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from tests.examples.conftest import demo_script


def _detail(task_id: str, state: str) -> dict[str, Any]:
    ti = {"task_id": task_id, "map_index": 0, "dag_run_id": "manual__1", "state": state}
    return {"subject": f"Review {task_id}", "options": ["Approve", "Reject"], "task_instance": ti}


class _Hitl(BaseHTTPRequestHandler):
    details: list[dict[str, Any]] = []
    patched: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # /auth/token
        self.rfile.read(int(self.headers["Content-Length"]))
        self._json({"access_token": "t"})

    def do_GET(self) -> None:  # the open reviews
        self._json({"hitl_details": [d for d in self.details if d["task_instance"]["task_id"] not in self.patched]})

    def do_PATCH(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.patched.append(self.path.split("/taskInstances/")[1].split("/")[0])
        self._json({})


@pytest.fixture
def hitl_api() -> Iterator[SimpleNamespace]:
    _Hitl.details = [_detail("still_running", "running"), _detail("parked", "awaiting_input")]
    _Hitl.patched = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hitl)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", password="p", wait_healthy=lambda: None)
    finally:
        server.shutdown()
        server.server_close()


def test_a_review_is_answered_only_once_its_task_is_parked(hitl_api):
    demo = demo_script()
    stop, answered = threading.Event(), []
    thread = threading.Thread(target=demo.answer_reviews, args=(hitl_api, stop, answered), daemon=True)
    thread.start()
    try:
        for _ in range(600):  # a hang guard of 30 s; the reviewer polls every second
            if answered:
                break
            stop.wait(0.05)
        assert answered == ["Review parked"]
        # The running task parks: the next listing answers it too.
        _Hitl.details[0]["task_instance"]["state"] = "awaiting_input"
        for _ in range(600):  # a hang guard of 30 s; the reviewer polls every second
            if len(answered) == 2:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert answered == ["Review parked", "Review still_running"]
    assert _Hitl.patched == ["parked", "still_running"]
