"""What the operator persists about the generation it submitted, as a versioned model.

Saved in Airflow's task state store (3.3+) the moment the API returns an id, and read back by every later
try of the same task instance to reattach instead of paying again. ``version`` lets a later release read
what an earlier one wrote: records without it (written by 0.1.0) read as version 1.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from airflow_provider_seedance.models import VideoRequest

#: The task state store key (unchanged since 0.1.0, so older records are found).
STATE_KEY = "seedance_generation"


class SubmissionState(BaseModel):
    """One task instance's submitted generation: its id, where, for which request, when, until when."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: Literal[1] = 1
    generation_id: str | None = None
    backend: str | None = None
    #: ``request_hash(backend, request)``: a changed request (a new prompt after clearing) never reattaches.
    request_hash: str | None = None
    #: How many creates this task instance has made; part of EvoLink's idempotency key.
    submissions: int = 0
    #: Unix time of the create, and the wall-clock deadline (``submitted_at + timeout``).
    submitted_at: float = 0.0
    deadline: float = 0.0

    @classmethod
    def load(cls, store: Any, request_hash: str) -> SubmissionState:
        """The stored state for this request; an empty one without a store, a record, or for another request
        (which keeps only the submission count, so a new key is used)."""
        if store is None:
            return cls()
        raw = store.get(STATE_KEY)
        if not isinstance(raw, dict) or not raw.get("generation_id"):
            return cls()
        state = cls.model_validate(raw)
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
