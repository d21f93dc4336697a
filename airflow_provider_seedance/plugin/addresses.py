"""Addresses of the Seedance tab's pages, for links from elsewhere (a review's body, the gallery). Pure.

The app is mounted at ``URL_PREFIX`` (``/seedance``) on the api-server; ``base_url`` is Airflow's ``[api] base_url``
(empty: a link relative to the api-server, which works from Airflow's own pages).
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlencode

URL_PREFIX = "/seedance"


def _query(ids: dict[str, object]) -> str:
    # %20 for a space, never "+": the app reads a "+" as a plus (see literal_query)
    return urlencode(ids, quote_via=quote)


def run_page(dag_id: str, run_id: str, base_url: str = "") -> str:
    """A run's Seedance page."""
    return f"{base_url.rstrip('/')}{URL_PREFIX}/run?{_query({'dag_id': dag_id, 'run_id': run_id})}"


def task_instance_query(dag_id: str, run_id: str, task_id: str, map_index: int, item_index: int | None = None) -> str:
    """The query string naming one task instance (the media and poster routes), and one item of its batch."""
    ids: dict[str, object] = {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index}
    if item_index is not None:
        ids["item_index"] = item_index
    return _query(ids)


def batch_page_query(
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int,
    status: str | None = None,
    page: int = 1,
    per_page: int | None = None,
) -> str:
    """The query string of a batch task's tab (``/seedance/task``) at one page, of one status or of all."""
    ids: dict[str, object] = {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index}
    optional = {"status": status, "page": page if page > 1 else None, "per_page": per_page}
    ids.update((name, value) for name, value in optional.items() if value)
    return _query(ids)


def literal_query(query: str) -> dict[str, str]:
    """A query string's values with a ``+`` read as a plus, not a space.

    Airflow 3.1's UI puts the DAG and run ids into a tab's address as they are, unencoded, and a run id holds
    a ``+`` (``manual__2026-12-01T09:00:00+00:00``); form decoding would turn it into a space and name no run.
    Every address this package builds encodes a space as ``%20``, and Airflow 3.3 encodes every id."""
    values: dict[str, str] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        values.setdefault(unquote(name), unquote(value))
    return values


def run_page_template(base_url: str = "") -> str:
    """:func:`run_page` as a Jinja template of the running task's DAG and run (for a templated HITL body)."""
    ids = "dag_id={{ dag.dag_id | urlencode }}&run_id={{ run_id | urlencode }}"
    return f"{base_url.rstrip('/')}{URL_PREFIX}/run?{ids}"


def anchor(generation_id: str) -> str:
    """The fragment of a render on a run's page (its section's ``id``)."""
    return "generation-" + quote(generation_id, safe="")
