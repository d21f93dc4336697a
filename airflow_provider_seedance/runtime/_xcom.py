"""XCom read and written from an event loop (a trigger), on every Airflow this provider supports: Airflow 3.2+
has ``XCom.aget_one`` / ``XCom.aset`` on the triggerer's async channel; 3.1 (and ``dag.test()``'s in-process
supervisor, which has no async channel) only the sync calls, run in a thread as ``BaseHook`` does there.
"""

from __future__ import annotations

from typing import Any, TypedDict


class TaskInstanceKey(TypedDict):
    """The task instance an XCom belongs to: what a trigger's kwargs carry to reach it (ids, no secret)."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int


def ti_key_of(ti: Any) -> TaskInstanceKey:
    """A running task instance's key, for a trigger to read and write that task instance's XComs."""
    return {"dag_id": ti.dag_id, "task_id": ti.task_id, "run_id": ti.run_id, "map_index": int(ti.map_index)}


def _xcom() -> Any:
    from airflow.sdk.execution_time.xcom import XCom

    return XCom


def _has_async_channel() -> bool:
    from airflow.sdk.execution_time import task_runner

    return hasattr(getattr(task_runner, "SUPERVISOR_COMMS", None), "asend")


async def aget_xcom(key: str, ti_key: TaskInstanceKey) -> Any:
    """The task instance's XCom ``key``, or None."""
    xcom = _xcom()
    if hasattr(xcom, "aget_one") and _has_async_channel():
        return await xcom.aget_one(key=key, **ti_key)
    from asgiref.sync import sync_to_async

    return await sync_to_async(xcom.get_one)(key=key, **ti_key)


async def aset_xcom(key: str, value: Any, ti_key: TaskInstanceKey) -> None:
    """Write the task instance's XCom ``key`` (replacing the value there)."""
    xcom = _xcom()
    if hasattr(xcom, "aset") and _has_async_channel():
        await xcom.aset(key, value, **ti_key)
        return
    from asgiref.sync import sync_to_async

    await sync_to_async(xcom.set)(key, value, **ti_key)
