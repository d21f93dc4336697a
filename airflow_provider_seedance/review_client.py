"""Answer Human-in-the-loop reviews through Airflow's REST API, from a script or the command line.

The reviewer of ``make demo`` and of the tests, and ``seedance-review`` for anyone running a review
locally (``airflow dags test`` beside an ``airflow api-server``, or ``airflow standalone``)::

    export SEEDANCE_REVIEW_PASSWORD=...            # the api-server user's password (never an argument)
    seedance-review --url http://127.0.0.1:8080 --username admin list
    seedance-review --url http://127.0.0.1:8080 --username admin answer Approve --dag-id my_dag
    seedance-review ... answer "Re-render" --note "slower pan, warmer light" --task-id campaign.review_0 --map-index 2
    seedance-review ... answer Approve --watch     # keep answering new reviews until Ctrl-C

A review is answered only once its task is parked (``awaiting_input`` on Airflow 3.3, ``deferred`` on its
trigger before): answered while the task still runs, Airflow 3.3.2 on SQLite can record the answer and then
park the task anyway, which then waits for an answer it already has; watching (``--watch``), a review is
answered one listing after it first showed up parked. Needs httpx only, no Airflow.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx

PARKED = ("awaiting_input", "deferred")
PASSWORD_ENV = "SEEDANCE_REVIEW_PASSWORD"  # noqa: S105 (the variable's name, not a password)
#: A choice: the option to answer with and a note (``""`` for none), or ``None`` to leave the review open.
Choice = tuple[str, str] | None


class ReviewError(RuntimeError):
    """The api-server refused a login or a request; the message says which and why."""


class ReviewClient:
    """A logged-in client of one api-server's HITL endpoints (``/api/v2/.../hitlDetails``)."""

    def __init__(self, url: str, *, username: str, password: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        try:
            login = httpx.post(
                f"{self.url}/auth/token", json={"username": username, "password": password}, timeout=timeout
            )
        except httpx.HTTPError as exc:
            raise ReviewError(f"cannot reach the Airflow api-server at {self.url}: {type(exc).__name__}") from None
        if login.status_code not in (200, 201):
            raise ReviewError(f"login as {username!r} at {self.url}/auth/token refused (HTTP {login.status_code})")
        token = login.json()["access_token"]
        self._http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)

    def __enter__(self) -> ReviewClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def open_reviews(self, dag_id: str = "~", run_id: str = "~") -> list[dict[str, Any]]:
        """Unanswered reviews whose task is parked, oldest run first (``~``: every DAG or run)."""
        response = self._http.get(
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/hitlDetails", params={"response_received": False}
        )
        if response.status_code != 200:
            raise ReviewError(f"listing the reviews failed (HTTP {response.status_code})")
        details = response.json().get("hitl_details", [])
        return [d for d in details if d["task_instance"]["state"] in PARKED]

    def answer(self, detail: dict[str, Any], option: str, note: str = "") -> bool:
        """Answer one review with ``option`` (one of its options) and, where it asks for one, a note.
        False when the api-server did not take it (answered meanwhile, or not parked any more)."""
        if option not in detail["options"]:
            raise ReviewError(f"{option!r} is not an option of {detail['subject']!r}: {detail['options']}")
        params = detail.get("params") or {}
        if note and "note" not in params:
            raise ReviewError(f"{detail['subject']!r} takes no note (its params: {sorted(params)})")
        ti = detail["task_instance"]
        path = (
            f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/"
            f"{ti['map_index']}/hitlDetails"
        )
        body = {"chosen_options": [option], "params_input": {"note": note} if "note" in params else {}}
        return self._http.patch(path, json=body).status_code == 200

    def answer_open(
        self,
        choose: Callable[[dict[str, Any]], Choice],
        *,
        dag_id: str = "~",
        run_id: str = "~",
        stop: threading.Event | None = None,
        interval: float = 1.0,
    ) -> Iterator[tuple[dict[str, Any], str]]:
        """Answer every open review with what ``choose(detail)`` says, yielding each review answered and its
        option; once through, or (with ``stop``) again every ``interval`` seconds until ``stop`` is set.

        Watching (with ``stop``), a review is answered from the listing after the one it first showed up
        parked in: its task sets ``awaiting_input`` just before its last steps, and an answer in between is
        the one Airflow 3.3.2 on SQLite can record and then wait for anyway. Once through (no ``stop``), what
        is listed is answered: the person who asked has seen it parked."""
        seen: set[tuple[Any, ...]] = set()
        while True:
            listed: set[tuple[Any, ...]] = set()
            for detail in self.open_reviews(dag_id, run_id):
                ti = detail["task_instance"]
                key = (ti["dag_id"], ti["dag_run_id"], ti["task_id"], ti["map_index"], ti.get("try_number"))
                listed.add(key)
                if stop is not None and key not in seen:
                    continue
                choice = choose(detail)
                if choice is not None and self.answer(detail, *choice):
                    yield detail, choice[0]
            seen = listed
            if stop is None or stop.wait(interval):
                return


def approve_first(detail: dict[str, Any]) -> Choice:
    """The first option (``Approve`` in the provider's reviews), no note."""
    return str(detail["options"][0]), ""


def describe(detail: dict[str, Any]) -> str:
    ti = detail["task_instance"]
    where = f"{ti['dag_id']} {ti['dag_run_id']} {ti['task_id']}[{ti['map_index']}]"
    return f"{where}: {detail['subject']!r}, options {detail['options']}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seedance-review",
        description="List and answer Human-in-the-loop reviews through an Airflow api-server's REST API. "
        f"The password is read from ${PASSWORD_ENV} (asked for when unset and a terminal is attached).",
    )
    parser.add_argument(
        "--url",
        default=os.environ.get("AIRFLOW__API__BASE_URL") or "http://127.0.0.1:8080",
        help="the api-server (default: $AIRFLOW__API__BASE_URL, else http://127.0.0.1:8080)",
    )
    parser.add_argument("--username", default="admin", help="an api-server user allowed to answer (default: admin)")
    parser.add_argument("--dag-id", default="~", help="only this DAG's reviews (default: every DAG)")
    parser.add_argument("--run-id", default="~", help="only this run's reviews (default: every run)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the open reviews whose task is waiting for an answer")
    answer = commands.add_parser("answer", help="answer the open reviews with OPTION")
    answer.add_argument("option", help="the option to choose, e.g. Approve, Reject, Re-render")
    answer.add_argument("--note", default="", help="the note, for reviews that take one (what to re-render)")
    answer.add_argument("--task-id", default=None, help="only this review task")
    answer.add_argument("--map-index", type=int, default=None, help="only this mapped instance")
    answer.add_argument("--watch", action="store_true", help="keep answering new reviews until interrupted")
    return parser


def _password() -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass("api-server password: ")
    raise ReviewError(f"set {PASSWORD_ENV} to the api-server user's password")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with ReviewClient(args.url, username=args.username, password=_password()) as client:
            if args.command == "list":
                reviews = client.open_reviews(args.dag_id, args.run_id)
                for detail in reviews:
                    print(describe(detail))
                print(f"{len(reviews)} open review(s)")
                return 0

            def choose(detail: dict[str, Any]) -> Choice:
                ti = detail["task_instance"]
                if args.task_id is not None and ti["task_id"] != args.task_id:
                    return None
                if args.map_index is not None and ti["map_index"] != args.map_index:
                    return None
                return str(args.option), str(args.note)

            stop = threading.Event() if args.watch else None
            answered = 0
            try:
                for detail, option in client.answer_open(choose, dag_id=args.dag_id, run_id=args.run_id, stop=stop):
                    answered += 1
                    print(f"answered {option!r}: {describe(detail)}", flush=True)
            except KeyboardInterrupt:
                pass
            print(f"{answered} review(s) answered")
            return 0
    except ReviewError as error:
        print(f"seedance-review: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
