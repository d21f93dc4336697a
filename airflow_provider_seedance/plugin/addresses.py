"""Addresses of the Seedance tab's pages, for links from elsewhere (a review's body, the gallery). Pure.

The app is mounted at :data:`URL_PREFIX` on the api-server; ``base_url`` is Airflow's ``[api] base_url``
(empty: a link relative to the api-server, which works from Airflow's own pages).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

URL_PREFIX = "/seedance"


def run_page(dag_id: str, run_id: str, base_url: str = "") -> str:
    """A run's Seedance page."""
    return f"{base_url.rstrip('/')}{URL_PREFIX}/run?{urlencode({'dag_id': dag_id, 'run_id': run_id})}"


def run_page_template(base_url: str = "") -> str:
    """:func:`run_page` as a Jinja template of the running task's DAG and run (for a templated HITL body)."""
    ids = "dag_id={{ dag.dag_id | urlencode }}&run_id={{ run_id | urlencode }}"
    return f"{base_url.rstrip('/')}{URL_PREFIX}/run?{ids}"


def anchor(generation_id: str) -> str:
    """The fragment of a render on a run's page (its section's ``id``)."""
    return "generation-" + quote(generation_id, safe="")
