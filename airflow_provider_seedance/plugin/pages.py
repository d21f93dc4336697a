"""The Seedance tab's HTML: Jinja templates (``templates/``) with autoescape on, rendered to text. Pure.

Every value a page shows came from an XCom or a vendor: autoescape makes it text, never markup, and the
links the templates build go through ``plugin.addresses`` (ids quoted, never a file path).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from airflow_provider_seedance.plugin.addresses import batch_page_query
from airflow_provider_seedance.plugin.batches import PAGE_SIZE

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_TEMPLATES.filters["segment"] = lambda value: quote(str(value), safe="")  # one path segment of a link


def _batch_query(batch: Any, status: str | None = None, page: int = 1, per_page: int | None = None) -> str:
    """The query string of a batch's task tab at ``page`` of ``status`` (all statuses by default)."""
    return batch_page_query(batch.dag_id, batch.run_id, batch.task_id, batch.map_index, status, page, per_page)


_TEMPLATES.globals["batch_query"] = _batch_query
_TEMPLATES.globals["default_page_size"] = PAGE_SIZE


def render_page(name: str, airflow: str = "", **values: Any) -> str:
    """Template ``name`` rendered with ``values``; ``airflow`` is the base of links back into Airflow's UI."""
    return _TEMPLATES.get_template(name).render(airflow=airflow, **values)
