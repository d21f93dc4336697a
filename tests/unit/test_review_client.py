"""The provider's REST API reviewer (``review_client``: ``seedance-review``, the reviewer of ``make demo`` and of
the example tests) against a stand-in for Airflow's HITL endpoints over real HTTP: it answers a review only
once its task is parked, with a note only where the review takes one. (The real api-server answers it in
tests/examples/test_local_review.py.)

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

from airflow_provider_seedance.review_client import ReviewClient, ReviewError, approve_first, main


def _detail(task_id: str, state: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    ti = {"dag_id": "d", "task_id": task_id, "map_index": 0, "dag_run_id": "manual__1", "state": state}
    return {"subject": f"Review {task_id}", "options": ["Approve", "Reject"], "task_instance": ti, "params": params}


class _Hitl(BaseHTTPRequestHandler):
    details: list[dict[str, Any]] = []
    patched: list[str] = []
    bodies: list[Any] = []

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
        login = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if login["password"] != "p":
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._json({"access_token": "t"})

    def do_GET(self) -> None:  # the open reviews
        self._json({"hitl_details": [d for d in self.details if d["task_instance"]["task_id"] not in self.patched]})

    def do_PATCH(self) -> None:
        self.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.patched.append(self.path.split("/taskInstances/")[1].split("/")[0])
        self._json({})


@pytest.fixture
def hitl_api() -> Iterator[SimpleNamespace]:
    _Hitl.details = [_detail("still_running", "running"), _detail("parked", "awaiting_input")]
    _Hitl.patched = []
    _Hitl.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hitl)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()


def _answer_in_background(url: str, stop: threading.Event, answered: list[str]) -> threading.Thread:
    def run() -> None:
        with ReviewClient(url, username="u", password="p") as client:
            for detail, _option in client.answer_open(approve_first, stop=stop, interval=0.05):
                answered.append(detail["subject"])

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _wait_until(done: Any, stop: threading.Event) -> None:
    """Until ``done()`` is true, for at most 30 s (a hang guard: the assertions after it say what was missed)."""
    for _ in range(600):
        if done():
            return
        stop.wait(0.05)


def test_a_review_is_answered_only_once_its_task_is_parked(hitl_api):
    stop, answered = threading.Event(), []
    thread = _answer_in_background(hitl_api.url, stop, answered)
    try:
        _wait_until(lambda: answered, stop)
        assert answered == ["Review parked"]
        # The running task parks: the next listing answers it too.
        _Hitl.details[0]["task_instance"]["state"] = "awaiting_input"
        _wait_until(lambda: len(answered) == 2, stop)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert answered == ["Review parked", "Review still_running"]
    assert _Hitl.patched == ["parked", "still_running"]


def test_watching_a_review_is_answered_one_listing_after_it_was_first_seen_parked(hitl_api, monkeypatch):
    listings: list[int] = []
    original = _Hitl.do_GET

    def counting_get(self: _Hitl) -> None:
        listings.append(len(_Hitl.patched))
        original(self)

    monkeypatch.setattr(_Hitl, "do_GET", counting_get)
    stop, answered = threading.Event(), []
    thread = _answer_in_background(hitl_api.url, stop, answered)
    try:
        _wait_until(lambda: answered, stop)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert answered[:1] == ["Review parked"]
    assert listings[:2] == [0, 0], "answered in the first listing that showed it parked"


def test_once_through_what_is_listed_parked_is_answered_at_once(hitl_api):
    with ReviewClient(hitl_api.url, username="u", password="p") as client:
        answered = [d["subject"] for d, _ in client.answer_open(approve_first)]
    assert answered == ["Review parked"]


def test_a_note_is_sent_only_to_a_review_that_takes_one(hitl_api):
    with ReviewClient(hitl_api.url, username="u", password="p") as client:
        takes_note = _detail("with_note", "awaiting_input", {"note": {"value": None}})
        assert client.answer(takes_note, "Reject", "warmer light")
        assert client.answer(_detail("plain", "awaiting_input"), "Approve")
        with pytest.raises(ReviewError, match="takes no note"):
            client.answer(_detail("plain", "awaiting_input"), "Approve", "a note")
        with pytest.raises(ReviewError, match="'Maybe' is not an option of 'Review plain'"):
            client.answer(_detail("plain", "awaiting_input"), "Maybe")
    assert _Hitl.bodies == [
        {"chosen_options": ["Reject"], "params_input": {"note": "warmer light"}},
        {"chosen_options": ["Approve"], "params_input": {}},
    ]


def test_the_command_lists_and_answers_one_task_only(hitl_api, monkeypatch, capsys):
    monkeypatch.setenv("SEEDANCE_REVIEW_PASSWORD", "p")
    assert main(["--url", hitl_api.url, "list"]) == 0
    assert "1 open review(s)" in capsys.readouterr().out
    _Hitl.details[0]["task_instance"]["state"] = "deferred"  # parked on Airflow 3.1/3.2
    assert main(["--url", hitl_api.url, "answer", "Reject", "--task-id", "parked"]) == 0
    assert "1 review(s) answered" in capsys.readouterr().out
    assert _Hitl.patched == ["parked"]


def test_a_refused_login_is_an_error_naming_the_user(hitl_api, monkeypatch, capsys):
    monkeypatch.setenv("SEEDANCE_REVIEW_PASSWORD", "wrong")
    assert main(["--url", hitl_api.url, "--username", "ana", "list"]) == 2
    assert "login as 'ana'" in capsys.readouterr().err
