"""The operator's persisted state: a versioned model that reads what 0.1.0 wrote."""

from __future__ import annotations

from typing import Any

from airflow_provider_seedance.contract.submission import STATE_KEY, SubmissionState, request_hash
from airflow_provider_seedance.models import VideoRequest


class Store:
    """The task state store's interface: get and set by key."""

    def __init__(self, **values: Any) -> None:
        self.values = dict(values)

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


REQUEST = VideoRequest(model="seedance-2.0-fast-text-to-video", prompt="a kite")
DIGEST = request_hash("evolink", REQUEST)
#: A record exactly as 0.1.0's operator wrote it: a bare dict, no version.
RECORD_0_1_0 = {
    "generation_id": "task-1",
    "backend": "evolink",
    "request_hash": DIGEST,
    "submissions": 2,
    "submitted_at": 1_790_000_000.5,
    "deadline": 1_790_003_600.5,
}


def test_a_record_written_by_0_1_0_reads_as_version_1():
    state = SubmissionState.load(Store(**{STATE_KEY: RECORD_0_1_0}), DIGEST)
    assert state == SubmissionState(version=1, **RECORD_0_1_0)


def test_a_saved_state_reads_back_the_same_and_carries_its_version():
    store = Store()
    state = SubmissionState(**RECORD_0_1_0)
    state.save(store)
    assert store.values[STATE_KEY]["version"] == 2
    assert SubmissionState.load(store, DIGEST) == state


def test_another_request_keeps_only_the_submission_count():
    other = request_hash("evolink", REQUEST.model_copy(update={"prompt": "a new prompt"}))
    assert other != DIGEST
    assert SubmissionState.load(Store(**{STATE_KEY: RECORD_0_1_0}), other) == SubmissionState(submissions=2)


def test_no_store_or_no_record_is_an_empty_state():
    assert SubmissionState.load(None, DIGEST) == SubmissionState()
    assert SubmissionState.load(Store(), DIGEST).generation_id is None
    SubmissionState().save(None)  # Airflow < 3.3: nothing to save to, nothing raised


def test_the_request_hash_is_stable_across_processes():
    # A fixed value: the hash is part of EvoLink's idempotency key, so a change would re-bill retries in flight.
    assert DIGEST == "5306a6829ec2bebe035c6fb93079403c060141bafa487670cd509f58a2c77d34"  # as 0.1.0 computed it
    assert request_hash("evolink", REQUEST) == request_hash("evolink", VideoRequest(**REQUEST.model_dump()))
    assert request_hash("aimlapi", REQUEST) != DIGEST


def test_version_2_names_the_connection_that_accepted_and_version_1_reads_as_the_tasks_own():
    store = Store()
    attempt = {"conn_id": "seedance_a", "backend": "modelark", "model": "m", "refused": "402 ..."}
    state = SubmissionState(**RECORD_0_1_0, conn_id="seedance_b", model="seedance-2.0-fast-text-to-video")
    state = state.model_copy(update={"attempts": (attempt,)})
    state.save(store)
    assert SubmissionState.load(store, DIGEST) == state
    old = SubmissionState.load(Store(**{STATE_KEY: RECORD_0_1_0}), DIGEST)
    assert (old.version, old.conn_id, old.model, old.attempts) == (1, None, None, ())
