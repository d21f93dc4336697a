"""The Seedance tab's FastAPI app, mounted by the api-server at ``/seedance`` (see ``plugin.seedance``).

Routes (every one behind Airflow's auth manager: read access to the DAG and its XComs, as Airflow's own XCom
reads ask, else 403; no token, 401):

* ``GET /seedance/run?dag_id=&run_id=``: every render of a DAG run, playable (the DAG-run tab), and each batch
  task's counts per status with its first items;
* ``GET /seedance/task?dag_id=&run_id=&task_id=&map_index=``: the same for one task instance (its tab); for a
  batch, one page of its items (``&status=`` one status word, ``&page=`` from 1, ``&per_page=`` up to 96);
* ``GET /seedance/media?dag_id=&run_id=&task_id=&map_index=``: the video the task's result names, streamed
  with HTTP Range (206) support (``&item_index=``: the one a batch's item names); ``GET /seedance/poster?...``:
  one frame of it as JPEG (PyAV installed);
* ``GET /seedance/overview``: spend per run and per campaign, renders and failures by backend and reason,
  batch items included, over the DAGs the user may read (the navigation entry).

Which file is served is never chosen by the request: it names a task instance (and an item index), whose own
result names the file. Ids go in the query string, so a run id with a ``/`` in it routes as well as any other.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Iterator
from typing import Annotated, Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from airflow_provider_seedance.plugin import media, queries
from airflow_provider_seedance.plugin.addresses import literal_query
from airflow_provider_seedance.plugin.batches import (
    RUN_PREVIEW,
    Batch,
    Selection,
    batch_item,
    batches_of,
    previewed,
    split_rows,
)
from airflow_provider_seedance.plugin.campaigns import campaign_names, with_review_state
from airflow_provider_seedance.plugin.pages import render_page
from airflow_provider_seedance.plugin.ranges import RangeNotSatisfiable, parse_range
from airflow_provider_seedance.plugin.renders import Render, find_render, renders_of
from airflow_provider_seedance.plugin.spend import overview

_DAG_READ = [Depends(requires_access_dag("GET", DagAccessEntity.XCOM))]
#: On every video and poster: never sniffed into another type, never a document that runs script.
_MEDIA_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}

DagId = Annotated[str, Query(min_length=1, max_length=250)]


def _literal_run_id(request: Request, run_id: Annotated[str, Query(min_length=1, max_length=250)]) -> str:
    """The run id with a ``+`` read as a plus: Airflow 3.1's UI sends it unencoded (``literal_query``)."""
    return literal_query(request.url.query).get("run_id", run_id)


RunId = Annotated[str, Depends(_literal_run_id)]
TaskId = Annotated[str, Query(min_length=1, max_length=250)]


def _map_index(map_index: Annotated[str, Query(max_length=12)] = "-1") -> int:
    """The map index; -1 (not mapped) when the UI left ``{MAP_INDEX}`` unfilled, as it does on the tab of a
    task that is not mapped (its page has no map index)."""
    return int(map_index) if re.fullmatch(r"-1|[0-9]{1,9}", map_index) else -1


MapIndex = Annotated[int, Depends(_map_index)]


def _item_index(item_index: Annotated[str | None, Query(max_length=12)] = None) -> int | None:
    """A batch's item index (from 0), or None: the task's own result. Anything but digits names no item."""
    if item_index is None:
        return None
    if not re.fullmatch(r"[0-9]{1,9}", item_index):
        raise HTTPException(404, "no such item in this task instance's batch")
    return int(item_index)


ItemIndex = Annotated[int | None, Depends(_item_index)]
Status = Annotated[str | None, Query(max_length=20)]
Page = Annotated[str | None, Query(max_length=12)]

app = FastAPI(title="Seedance renders", docs_url=None, redoc_url=None, openapi_url=None)


def _airflow_base() -> str:
    from airflow.configuration import conf

    return (conf.get("api", "base_url", fallback="") or "").rstrip("/")


def _page(name: str, **values: Any) -> HTMLResponse:
    html = render_page(name, _airflow_base(), **values)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _shown(
    session: Any, dag_id: str, run_id: str, selection: Selection, task_id: str | None = None, map_index: int = -1
) -> tuple[list[Render], list[Batch]]:
    """The renders and the batches of a run (of a task instance), each render and page item looked up."""
    mapped = map_index if task_id is not None and map_index >= 0 else None
    with contextlib.closing(queries.run_rows(session, dag_id, run_id, task_id, mapped)) as rows:
        plain, found, _ = split_rows(rows, selection)
    batches = batches_of(found)
    if task_id is None:
        batches = previewed(batches)
    renders = renders_of(plain)
    if mapped is not None:
        renders = [r for r in renders if r.map_index == mapped]
    items = [item for batch in batches for item in batch.items]
    for render in with_review_state([*renders, *items], plain):
        render.present = bool(render.output_path) and media.locate(render.output_path or "") is not None
    return renders, batches


@app.get("/run", response_class=HTMLResponse, dependencies=_DAG_READ)
def run_page(dag_id: DagId, run_id: RunId, session: SessionDep) -> HTMLResponse:
    renders, batches = _shown(session, dag_id, run_id, Selection(size=RUN_PREVIEW))
    return _page("run.html", dag_id=dag_id, run_id=run_id, task_id=None, renders=renders, batches=batches)


@app.get("/task", response_class=HTMLResponse, dependencies=_DAG_READ)
def task_page(
    dag_id: DagId,
    run_id: RunId,
    task_id: TaskId,
    session: SessionDep,
    map_index: MapIndex,
    status: Status = None,
    page: Page = None,
    per_page: Page = None,
) -> HTMLResponse:
    renders, batches = _shown(session, dag_id, run_id, Selection.of(status, page, per_page), task_id, map_index)
    return _page("run.html", dag_id=dag_id, run_id=run_id, task_id=task_id, renders=renders, batches=batches)


def _render(session: Any, dag_id: str, run_id: str, task_id: str, map_index: int, item_index: int | None) -> Render:
    """The render (or batch item) a media request names: its task instance's own result says which file."""
    rows = list(queries.run_rows(session, dag_id, run_id, task_id, map_index))
    if item_index is None:
        render = find_render(renders_of(rows), task_id, map_index)
    else:
        render = batch_item(rows, task_id, map_index, item_index)
    if render is None or not render.output_path:
        what = "task instance" if item_index is None else f"item {item_index} of this task instance's batch"
        raise HTTPException(404, f"no saved video for this {what}")
    return render


def _located(render: Render) -> media.MediaFile:
    found = media.locate(render.output_path or "")
    if found is None:
        raise HTTPException(404, f"the video of generation {render.generation_id} is missing")
    return found


@app.api_route("/media", methods=["GET", "HEAD"], dependencies=_DAG_READ)
def video(
    request: Request,
    dag_id: DagId,
    run_id: RunId,
    task_id: TaskId,
    session: SessionDep,
    map_index: MapIndex,
    item_index: ItemIndex,
) -> Response:
    render = _render(session, dag_id, run_id, task_id, map_index, item_index)
    found = _located(render)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=300", **_MEDIA_HEADERS}
    try:
        wanted = parse_range(request.headers.get("range"), found.size)
    except RangeNotSatisfiable as exc:
        return Response(status_code=416, headers={**headers, "Content-Range": exc.content_range})
    start, length, status = (0, found.size, 200) if wanted is None else (wanted.start, wanted.length, 206)
    if wanted is not None:
        headers["Content-Range"] = wanted.content_range
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=found.content_type)
    handle = media.open_at(found, start)
    if handle is None:
        raise HTTPException(404, f"the video of generation {render.generation_id} is missing")
    body: Iterator[bytes] = media.chunks(handle, length)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=found.content_type)


#: Posters decoded at once (each request waits its turn): a page of renders asks for all of theirs together.
_DECODING = threading.BoundedSemaphore(2)


@functools.lru_cache(maxsize=64)  # small JPEGs (at most 960 pixels a side)
def _poster(output_path: str, size: int) -> bytes | None:
    from airflow_provider_seedance.campaign.posters import poster_jpeg

    found = media.locate(output_path)
    if found is None or found.size != size:
        return None
    with _DECODING:
        return poster_jpeg(found.path)


@app.get("/poster", dependencies=_DAG_READ)
def poster(
    dag_id: DagId, run_id: RunId, task_id: TaskId, session: SessionDep, map_index: MapIndex, item_index: ItemIndex
) -> Response:
    render = _render(session, dag_id, run_id, task_id, map_index, item_index)
    jpeg = _poster(render.output_path or "", _located(render).size)
    if jpeg is None:
        raise HTTPException(404, "no poster (PyAV and Pillow make one)")
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300", **_MEDIA_HEADERS})


@app.get("/overview", response_class=HTMLResponse)
def overview_page(user: GetUserDep, session: SessionDep) -> HTMLResponse:
    from airflow.api_fastapi.app import get_auth_manager

    dag_ids = get_auth_manager().get_authorized_dag_ids(user=user, method="GET")
    with contextlib.closing(queries.overview_rows(session, dag_ids)) as rows:  # newest first, bounded
        plain, found, partial = split_rows(rows, Selection(size=0), queries.MAX_OVERVIEW_ITEMS)
    summary = overview(renders_of(plain), campaign_names(plain), batches_of(found), partial)
    return _page(
        "overview.html", summary=summary, max_rows=queries.MAX_OVERVIEW_ROWS, max_items=queries.MAX_OVERVIEW_ITEMS
    )
