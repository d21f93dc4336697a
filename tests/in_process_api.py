"""One in-process execution API per process for ``dag.test()`` on Airflow 3.1, as Airflow 3.3 does.

Airflow 3.1's ``dag.test()`` builds a new ``InProcessExecutionAPI`` (a FastAPI app with Cadwyn versioning and an
a2wsgi bridge that starts an event-loop thread of its own, never stopped) for every task it runs and for every
trigger it runs inline. Airflow caches it since apache/airflow#65235 (``functools.lru_cache(maxsize=1)`` on
``supervisor.in_process_api_server``, and a trigger's client drops the previous task's DAG-bag override); the
same change, applied here to the 3.1 floor, is what Cosmos's test suite does (astronomer-cosmos#2547). It
changes how fast Airflow's test harness answers the task, not what the task or the provider does: the floor's
``dag.test()`` tests spent several times the CPU of the same tests on 3.3 building those apps.
"""

from __future__ import annotations

import functools
from typing import Any


def cache_in_process_api_server() -> bool:
    """Cache ``in_process_api_server`` where Airflow does not; True when this call installed the cache."""
    from airflow.sdk.execution_time import supervisor

    build = supervisor.in_process_api_server
    if hasattr(build, "cache_clear"):  # this Airflow caches it itself (3.3 does)
        return False
    cached = functools.lru_cache(maxsize=1)(build)
    supervisor.in_process_api_server = cached
    client = supervisor.InProcessTestSupervisor._api_client

    def api_client(dag: Any = None) -> Any:
        if dag is None:  # a trigger's client: no DAG bag left over from the task before it (as upstream)
            from airflow.api_fastapi.common.dagbag import dag_bag_from_app

            cached().app.dependency_overrides.pop(dag_bag_from_app, None)
        return client(dag)

    supervisor.InProcessTestSupervisor._api_client = staticmethod(api_client)
    return True
