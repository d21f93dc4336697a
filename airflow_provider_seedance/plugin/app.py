"""The Seedance tab's FastAPI app, mounted by the api-server at ``/seedance`` (see ``plugin.seedance``).

Routes (every one behind Airflow's auth manager: read access to the DAG and its XComs, as Airflow's own XCom
reads ask, else 403; no token, 401):

* ``GET /seedance/run?dag_id=&run_id=``: every render of a DAG run, playable (the DAG-run tab);
* ``GET /seedance/task?dag_id=&run_id=&task_id=&map_index=``: the same for one task instance (its tab);
* ``GET /seedance/media?dag_id=&run_id=&task_id=&map_index=``: the video the task's result names, streamed
  with HTTP Range (206) support; ``GET /seedance/poster?...``: one frame of it as JPEG (PyAV installed);
* ``GET /seedance/overview``: spend per run and per campaign, renders and failures by backend and reason,
  over the DAGs the user may read (the navigation entry).

Which file is served is never chosen by the request: it names a task instance, whose own result names the
file. Ids go in the query string, so a run id with a ``/`` in it routes as well as any other.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from airflow_provider_seedance.plugin import media, queries
from airflow_provider_seedance.plugin.addresses import literal_query
from airflow_provider_seedance.plugin.campaigns import campaign_names, with_review_state
from airflow_provider_seedance.plugin.ranges import RangeNotSatisfiable, parse_range
from airflow_provider_seedance.plugin.renders import Render, find_render, overview, renders_of

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_TEMPLATES.filters["segment"] = lambda value: quote(str(value), safe="")  # one path segment of a link
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

app = FastAPI(title="Seedance renders", docs_url=None, redoc_url=None, openapi_url=None)


def _airflow_base() -> str:
    from airflow.configuration import conf

    return (conf.get("api", "base_url", fallback="") or "").rstrip("/")


def _page(name: str, **values: Any) -> HTMLResponse:
    html = _TEMPLATES.get_template(name).render(airflow=_airflow_base(), **values)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _shown(session: Any, dag_id: str, run_id: str, task_id: str | None = None) -> list[Render]:
    rows = queries.run_rows(session, dag_id, run_id, task_id)
    renders = with_review_state(renders_of(rows), rows)
    for render in renders:
        render.present = bool(render.output_path) and media.locate(render.output_path or "") is not None
    return renders


@app.get("/run", response_class=HTMLResponse, dependencies=_DAG_READ)
def run_page(dag_id: DagId, run_id: RunId, session: SessionDep) -> HTMLResponse:
    renders = _shown(session, dag_id, run_id)
    return _page("run.html", dag_id=dag_id, run_id=run_id, task_id=None, renders=renders)


@app.get("/task", response_class=HTMLResponse, dependencies=_DAG_READ)
def task_page(dag_id: DagId, run_id: RunId, task_id: TaskId, session: SessionDep, map_index: MapIndex) -> HTMLResponse:
    renders = _shown(session, dag_id, run_id, task_id)
    if map_index >= 0:
        renders = [r for r in renders if r.map_index == map_index]
    return _page("run.html", dag_id=dag_id, run_id=run_id, task_id=task_id, renders=renders)


def _render(session: Any, dag_id: str, run_id: str, task_id: str, map_index: int) -> Render:
    render = find_render(renders_of(queries.run_rows(session, dag_id, run_id, task_id)), task_id, map_index)
    if render is None or not render.output_path:
        raise HTTPException(404, "no saved video for this task instance")
    return render


def _located(render: Render) -> media.MediaFile:
    found = media.locate(render.output_path or "")
    if found is None:
        raise HTTPException(404, f"the video of generation {render.generation_id} is missing")
    return found


@app.api_route("/media", methods=["GET", "HEAD"], dependencies=_DAG_READ)
def video(
    request: Request, dag_id: DagId, run_id: RunId, task_id: TaskId, session: SessionDep, map_index: MapIndex
) -> Response:
    render = _render(session, dag_id, run_id, task_id, map_index)
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
def poster(dag_id: DagId, run_id: RunId, task_id: TaskId, session: SessionDep, map_index: MapIndex) -> Response:
    render = _render(session, dag_id, run_id, task_id, map_index)
    jpeg = _poster(render.output_path or "", _located(render).size)
    if jpeg is None:
        raise HTTPException(404, "no poster (PyAV and Pillow make one)")
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300", **_MEDIA_HEADERS})


@app.get("/overview", response_class=HTMLResponse)
def overview_page(user: GetUserDep, session: SessionDep) -> HTMLResponse:
    from airflow.api_fastapi.app import get_auth_manager

    dag_ids = get_auth_manager().get_authorized_dag_ids(user=user, method="GET")
    rows = queries.overview_rows(session, dag_ids)
    summary = overview(renders_of(rows), campaign_names(rows))
    return _page("overview.html", summary=summary)
