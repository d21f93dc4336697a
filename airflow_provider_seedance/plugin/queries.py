"""The metadata database reads behind the Seedance tab, in the API server (Airflow's own session).

Only the XCom keys a render leaves are read (``return_value``, ``seedance_failure``, a failed batch's
``seedance_batch_results``, the campaign's ``folder``), a bounded number of rows at a time, so a run with
thousands of other XComs costs little. Rows come one at a time (:func:`overview_rows` streams them): a batch's
list is reduced to its counts as it is read (``plugin.batches.split_rows``), never all of them kept at once.
"""

from __future__ import annotations

from collections.abc import Collection, Generator
from typing import Any

from airflow.models.dagrun import DagRun
from airflow.models.xcom import XComModel
from sqlalchemy import and_, or_, select

from airflow_provider_seedance.plugin.batches import BATCH_RESULTS_KEY
from airflow_provider_seedance.plugin.renders import FAILURE_KEY, RESULT_KEY, XComRow

#: The campaign's plan task keeps the run's folder under this key (``campaign.tasks.FOLDER``).
CAMPAIGN_FOLDER_KEY = "folder"
KEYS = (RESULT_KEY, FAILURE_KEY, BATCH_RESULTS_KEY, CAMPAIGN_FOLDER_KEY)
#: XCom rows read for one run's tab, and for the page across runs.
MAX_RUN_ROWS = 5_000
MAX_OVERVIEW_ROWS = 20_000
#: Batch items the page across runs counts at most: it stops reading older rows once it has read that many.
MAX_OVERVIEW_ITEMS = 200_000
#: Rows fetched from the database at a time (a server-side cursor where the driver has one).
_FETCH = 50


def _value(row: Any) -> Any:
    try:
        return XComModel.deserialize_value(row)
    except Exception:  # a value this reader cannot decode is not a render
        return None


def _rows(statement: Any, session: Any) -> Generator[XComRow, None, None]:
    """The rows of ``statement``, decoded one at a time; the result is closed when the caller stops early."""
    result = session.execute(statement.execution_options(yield_per=_FETCH))
    try:
        for xcom, run_after in result:
            yield XComRow(
                dag_id=xcom.dag_id,
                run_id=xcom.run_id,
                task_id=xcom.task_id,
                map_index=xcom.map_index,
                key=xcom.key,
                value=_value(xcom),
                run_after=run_after.isoformat() if run_after is not None else "",
            )
    finally:
        result.close()


def _joined() -> Any:
    return select(XComModel, DagRun.run_after).join(DagRun, XComModel.dag_run_id == DagRun.id)


def run_rows(
    session: Any, dag_id: str, run_id: str, task_id: str | None = None, map_index: int | None = None
) -> Generator[XComRow, None, None]:
    """The render XComs of one run (of one task, of one of its map indexes, when given), in task order."""
    statement = _joined().where(XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.key.in_(KEYS))
    if task_id is not None:  # that task's renders, and the campaign's folder (its review state) from any task
        own = XComModel.task_id == task_id
        if map_index is not None:  # a mapped batch's other lists are not read
            own = and_(own, XComModel.map_index == map_index)
        statement = statement.where(or_(own, XComModel.key == CAMPAIGN_FOLDER_KEY))
    return _rows(statement.order_by(XComModel.task_id, XComModel.map_index).limit(MAX_RUN_ROWS), session)


def overview_rows(session: Any, dag_ids: Collection[str]) -> Generator[XComRow, None, None]:
    """The newest render XComs of the DAGs given (the ones the user may read), newest first."""
    if not dag_ids:
        return
    statement = (
        _joined()
        .where(XComModel.dag_id.in_(sorted(dag_ids)), XComModel.key.in_(KEYS))
        .order_by(DagRun.run_after.desc())
        .limit(MAX_OVERVIEW_ROWS)
    )
    yield from _rows(statement, session)
