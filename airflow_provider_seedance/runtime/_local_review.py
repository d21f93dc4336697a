"""Reviews under ``airflow dags test`` (``dag.test()``): a timeout that holds and a SIGTERM that ends the run.

Airflow 3.3 parks a waiting Human-in-the-loop task in ``awaiting_input`` and leaves its response timeout to
the scheduler's sweep. ``dag.test()`` runs no scheduler, so a review nobody answers waits for ever, printing
"Waiting for Human-in-the-loop input" once a second; and the SIGTERM handler the in-process task runner left
behind calls the last task's ``on_kill`` instead of ending the command. Here, for a local run only, a daemon
thread applies the scheduler's own sweep once a review's deadline has passed (its defaults become the
answer, or the task fails with ``HITLTimeoutError``), and SIGTERM ends the process as it normally would.

Airflow 3.1 and 3.2 defer the review to ``HITLTrigger``, which ``dag.test()`` runs inline with its own
timeout: nothing to do there.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import timedelta
from typing import Any

log = logging.getLogger(__name__)

#: ``dag.test()`` (and so ``airflow dags test``) records its runs as triggered by this user.
LOCAL_TEST_USER = "dag_test"
#: How often the sweep runs once a deadline has passed (the scheduler's loop runs it about as often).
SWEEP_INTERVAL_S = 1.0
#: A deadline is kept (swept for) this long after it passed: the task is parked only after ``execute`` returns,
#: and on a loaded machine a sweep can find it not parked yet, or meet a locked SQLite database, for a while.
DEADLINE_GRACE_S = 600.0

_lock = threading.Lock()
_deadlines: list[float] = []
_thread: threading.Thread | None = None


def parks_in_awaiting_input() -> bool:
    """Whether this Airflow parks a review in ``awaiting_input`` (3.3+) rather than deferring it."""
    try:
        from airflow.sdk.exceptions import TaskAwaitingInput  # noqa: F401
    except ImportError:
        return False
    return True


def is_local_test_run(context: Any) -> bool:
    """Whether the task runs under ``dag.test()`` / ``airflow dags test`` (no scheduler, no triggerer)."""
    dag_run = context.get("dag_run")
    return getattr(dag_run, "triggering_user_name", None) == LOCAL_TEST_USER


def guard(timeout: timedelta | None, task_id: str) -> None:
    """Make a review of a local run end: its timeout applied without a scheduler, SIGTERM honoured."""
    _stop_on_sigterm()
    if timeout is None:
        log.warning(
            "Review %s has no response_timeout: under airflow dags test it waits until it is answered (in the "
            "Airflow UI's Required Actions, or with `seedance-review answer`); Ctrl-C or SIGTERM ends the run.",
            task_id,
        )
        return
    log.info(
        "Local run (airflow dags test, no scheduler): the provider applies this review's timeout itself, in %s",
        timeout,
    )
    with _lock:
        _deadlines.append(time.monotonic() + max(timeout.total_seconds(), 0.0))
        global _thread
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_sweep_when_due, name="seedance-local-review-timeouts", daemon=True)
            _thread.start()


def _sweep_when_due() -> None:
    while True:
        now = time.monotonic()
        with _lock:
            _deadlines[:] = [d for d in _deadlines if d > now - DEADLINE_GRACE_S]
            if not _deadlines:
                global _thread
                _thread = None
                return
            due = min(_deadlines) <= now
        if due:
            try:
                sweep()
            except Exception:  # a local convenience: never break the run for it
                log.exception("Could not apply the review timeouts of this local run")
        time.sleep(SWEEP_INTERVAL_S)


class _Sweeper:
    log = log


def sweep() -> None:
    """Resolve every review past its deadline as the scheduler does (``check_awaiting_input_timeouts``)."""
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner

    SchedulerJobRunner.check_awaiting_input_timeouts(_Sweeper())  # type: ignore[arg-type]


def _stop_on_sigterm() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGTERM, _end_process)


def _end_process(signum: int, frame: Any) -> None:
    log.warning("SIGTERM while a review was waiting: ending this local run (airflow dags test)")
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
