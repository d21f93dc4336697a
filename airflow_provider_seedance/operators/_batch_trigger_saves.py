"""A batch's saves in the triggerer (``save_in_triggerer``), the worker's side: the save plan it leaves in XCom
before deferring, and on resume each succeeded item's result read from the trigger's ledger (XCom), so the
resumed step downloads nothing; an item the ledger lacks is saved on the worker, as without the option.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow_provider_seedance.contract.batch import BatchItemResult
from airflow_provider_seedance.contract.batch_saves import (
    SAVE_PLAN_XCOM_KEY,
    SAVES_XCOM_KEY,
    SaveIndex,
    SaveLedger,
    SavePlan,
    TriggerSave,
    plan_digest,
    saves_key,
)
from airflow_provider_seedance.operators._batch_items import BatchItem
from airflow_provider_seedance.operators._batch_routes import BatchConnections
from airflow_provider_seedance.runtime.storage import has_file_of_size, to_object_path

log = logging.getLogger(__name__)

#: A succeeded item waiting for its save: ``(item, generation_id, conn_index)``.
Succeeded = tuple[BatchItem, str, int]


def push_save_plan(ti: Any, items: list[BatchItem], ids: list[str]) -> str:
    """Where the trigger saves each item it waits for (only paths and indexes: the kwargs stay small), resolved
    here as the worker sees them (a relative path or ``~`` means the worker's, not the triggerer's), and the
    ledger's index, empty: a first run of the trigger finds no earlier save. Returns the plan's digest, for
    the trigger's kwargs (a plan changed in XCom since is refused)."""
    paths = {
        str(item.index): str(to_object_path(item.output_path)) for item in items if ids[item.index] and item.output_path
    }
    plan = SavePlan(paths=paths).model_dump(mode="json")
    ti.xcom_push(key=SAVE_PLAN_XCOM_KEY, value=plan)
    ti.xcom_push(key=SAVES_XCOM_KEY, value=SaveIndex().model_dump(mode="json"))
    return plan_digest(plan)


def read_ledger(ti: Any) -> SaveLedger:
    """What the trigger saved, from the shards its index lists in this task instance's XCom."""
    own = {"task_ids": ti.task_id, "map_indexes": ti.map_index}  # a mapped task's own row, not every index's
    index = SaveIndex.read(ti.xcom_pull(key=SAVES_XCOM_KEY, **own))
    return SaveLedger.from_shards([ti.xcom_pull(key=saves_key(n), **own) for n in index.shards])


def saved_by_trigger(
    ledger: SaveLedger, succeeded: list[Succeeded], connections: BatchConnections
) -> tuple[list[BatchItemResult], list[Succeeded]]:
    """The results of the succeeded items the trigger saved (or failed to save for good), and the items for the
    worker to save: those it has no record of, those whose save failed in a way worth retrying (the worker
    downloads them once), and those recorded as saved whose file is not there with that size as seen from
    the worker (the ledger is checked, not trusted)."""
    results: list[BatchItemResult] = []
    missing: list[Succeeded] = []
    for item, generation_id, conn_index in succeeded:
        save = ledger.get(item.index)
        if save is None or save.generation_id != generation_id or not _usable(save, item):
            missing.append((item, generation_id, conn_index))
            continue
        results.append(
            BatchItemResult(
                item_index=item.index,
                name=item.name,
                generation_id=generation_id,
                **connections.facts(conn_index),
                **save.model_dump(exclude={"sha256", "generation_id"}),
            )
        )
    return results, missing


def _usable(save: TriggerSave, item: BatchItem) -> bool:
    """Whether the trigger's outcome for ``item`` stands as it is (else the worker saves the item)."""
    if save.status == "error":
        return not save.retryable
    if save.output_path is None:
        return not item.output_path  # a link kept where the worker wanted a file: not saved
    if has_file_of_size(save.output_path, save.size_bytes):
        return True
    log.warning(
        "Item %d: the triggerer recorded it saved, but no file of %s bytes is at its path as seen from the "
        "worker; the worker saves it",
        item.index,
        save.size_bytes,
    )
    return False
