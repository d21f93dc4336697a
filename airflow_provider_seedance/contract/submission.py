"""What the operator persists about the generation it submitted, as a versioned model.

Saved in Airflow's task state store (3.3+) the moment the API returns an id, and read back by every later
try of the same task instance to reattach instead of paying again. ``version`` lets a later release read
what an earlier one wrote: records without it (written by 0.1.0) read as version 1. Version 2 adds the
connection that accepted the create (a fallback, with ``fallback_conn_ids``), the model it renders and the
connections that refused before it; a version 1 record means the task's own ``seedance_conn_id``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from airflow_provider_seedance.models import Generation, VideoRequest

#: The task state store key (unchanged since 0.1.0, so older records are found).
STATE_KEY = "seedance_generation"


class SubmissionState(BaseModel):
    """One task instance's submitted generation: its id, where, for which request, when, until when."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: Literal[1, 2] = 2
    generation_id: str | None = None
    backend: str | None = None
    #: ``request_hash(backend, request)``: a changed request (a new prompt after clearing) never reattaches.
    request_hash: str | None = None
    #: How many creates this task instance has made; part of EvoLink's idempotency key.
    submissions: int = 0
    #: Unix time of the create, and the wall-clock deadline (``submitted_at + timeout``).
    submitted_at: float = 0.0
    deadline: float = 0.0
    #: Version 2: the connection that accepted the create (None: the task's ``seedance_conn_id``), the model
    #: rendered there, and the connections that surely refused before it (``failover.FallbackAttempt`` dicts).
    conn_id: str | None = None
    model: str | None = None
    attempts: tuple[dict[str, str], ...] = ()
    #: Added within version 2 (older releases ignore it): the generation as the API first reported it
    #: succeeded (``Generation`` fields, without ``raw``), and when. A vendor that later reports it running
    #: again cannot take the video link back (``operators.seedance``).
    completed: dict[str, Any] | None = None
    completed_at: float | None = None

    def with_completion(self, generation: Generation, now: float) -> SubmissionState:
        """This state remembering ``generation``'s success (the first one seen is kept)."""
        if self.completed is not None or generation.id != self.generation_id:
            return self
        return self.model_copy(
            update={"completed": generation.model_dump(mode="json", exclude={"raw"}), "completed_at": now}
        )

    def completion(self) -> Generation | None:
        """The success recorded for this state's generation, if any."""
        if not self.completed:
            return None
        generation = Generation.model_validate(self.completed)
        return generation if generation.id == self.generation_id else None

    @classmethod
    def load(cls, store: Any, request_hash: str) -> SubmissionState:
        """The stored state for this request (its hash is of the task's own request, on its own connection,
        wherever it was accepted); an empty one without a store, a record, or for another request
        (which keeps only the submission count, so a new key is used)."""
        if store is None:
            return cls()
        raw = store.get(STATE_KEY)
        if not isinstance(raw, dict) or not raw.get("generation_id"):
            return cls()
        state = cls.model_validate({"version": 1, **raw})  # 0.1.0 wrote no version
        if state.request_hash != request_hash:
            return cls(submissions=state.submissions)
        return state

    def save(self, store: Any) -> None:
        if store is not None:
            store.set(STATE_KEY, self.model_dump(mode="json"))


#: Request fields added after 0.1.0: left out of the digest while unset, so a request 0.1.0 hashed hashes the
#: same (a changed digest would resubmit, and pay for, a generation in flight across an upgrade).
ADDED_FIELDS = (
    "priority",
    "safety_identifier",
    "frames",
    "output_format",
    "omni_reference_task_type",
    "draft",
    "draft_generation_id",
)
#: Left out always: the vendor's expiry changes when the render is given up on, not what is rendered, and it
#: follows the task's ``timeout`` by default.
UNHASHED_FIELDS = ("execution_expires_after",)


def request_hash(backend: str, request: VideoRequest) -> str:
    """A digest of the backend and every request field that says what is rendered: equal requests, equal
    hashes, across processes and releases."""
    fields = request.model_dump(mode="json", exclude=set(UNHASHED_FIELDS))
    fields = {k: v for k, v in fields.items() if k not in ADDED_FIELDS or v not in (None, False)}
    payload = json.dumps([backend, fields], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()
