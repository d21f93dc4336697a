"""A batch's second worker step and its retries, where the connections matter: the resume's connections are
the ones the trigger's event names (the list as it was when the try deferred, whatever the fields render to
now), and a failed batch with fallbacks is not retried where no task state store keeps each item's connection.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_seedance.contract.batch import BatchEvent
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.operators._batch_routes import BatchConnections

#: Why a failed batch is not retried without a task state store on an API without an idempotency key.
UNSAFE_RETRY = (
    "not retried: without a task state store (Airflow 3.3+) and with no idempotency key on this API, a retry "
    "would create, and pay for, every item again; clear the task, or render the failed items in a new batch"
)
#: Why a failed batch with fallbacks is not retried without a task state store.
UNSAFE_FAILOVER_RETRY = (
    "not retried: with fallback_conn_ids and without a task state store (Airflow 3.3+), a retry cannot know which "
    "connection rendered each item and would create, and pay for, on the task's own connection the items a "
    "fallback rendered; clear the task, or render the failed items in a new batch"
)


def resume_connections(seedance_conn_id: str, event: BatchEvent) -> BatchConnections:
    """A hook for each connection the event names, in its order (an older trigger's event names none: the
    task's own). Only the first is validated against (``listed``): nothing is created on resume, so a fallback
    deleted or changed since, and not used, fails nothing; the event's indexes are places in this list."""
    conn_ids = event.connections or [seedance_conn_id]
    return BatchConnections([SeedanceHook(conn_id) for conn_id in conn_ids], listed=1)


def retry_refusal(connections: BatchConnections, store: Any) -> str | None:
    """Why a failed batch must not be retried (without a store a retry starts from nothing), or None."""
    if store is not None:
        return None
    if len(connections.hooks) > 1:
        return UNSAFE_FAILOVER_RETRY
    if not connections.hooks[0].backend.supports_idempotency:
        return UNSAFE_RETRY
    return None
