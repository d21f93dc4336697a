"""``SeedancePlugin``: the app and the views the api-server and the UI load (Airflow 3.1+)."""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_seedance.plugin.addresses import URL_PREFIX

#: The UI fills these in for the tab it shows (url-encoded).
_IDS = "dag_id={DAG_ID}&run_id={RUN_ID}"


class SeedanceApp:
    """The ASGI app, imported on its first request: every Airflow process loads plugins (the scheduler, each
    task), and only the api-server serves this one, so nothing else pays for FastAPI's routes and templates."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from airflow_provider_seedance.plugin.app import app

        await app(scope, receive, send)


class SeedancePlugin(AirflowPlugin):
    """The Seedance tab on DAG-run and task-instance pages, and the spend across runs in the navigation."""

    name = "seedance"
    fastapi_apps = [{"app": SeedanceApp(), "url_prefix": URL_PREFIX, "name": "Seedance renders"}]

    external_views = [
        {
            "name": "Seedance",
            "href": f"{URL_PREFIX}/run?{_IDS}",
            "destination": "dag_run",
            "url_route": "seedance-run",
        },
        {
            "name": "Seedance",
            "href": f"{URL_PREFIX}/task?{_IDS}&task_id={{TASK_ID}}&map_index={{MAP_INDEX}}",
            "destination": "task_instance",
            "url_route": "seedance-task",
        },
        {
            "name": "Seedance renders",
            "href": f"{URL_PREFIX}/overview",
            "destination": "nav",
            "url_route": "seedance-renders",
        },
    ]
