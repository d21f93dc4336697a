"""Scenario 24 (Celery): the API key appears nowhere the Celery deployment wrote: the Celery workers' logs,
the task logs they wrote, the other components' logs, the metadata database with Celery's result tables
(bytea, scanned as hex too), and what is left in the Redis broker (kombu message bodies decoded). It runs a
small batch of its own on the broker in use, then scans everything, including what scenarios 20-23 left
(a campaign, a worker SIGKILLed, a triggerer SIGKILLed and the scheduler restarted, the RabbitMQ switch)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deployment.conftest import emulator_counts, fill_row
from tests.deployment.harness import BACKENDS, REDIS_URL, Deployment, RunWatch
from tests.deployment.secrets_scan import home_texts, leaks_in, redis_texts

pytestmark = pytest.mark.timeout(600)


def test_api_key_never_reaches_celery_logs_results_or_broker(
    celery_deploy: Deployment, emulator: Any, celery_scenario: Any
) -> None:
    deploy = celery_deploy
    row = celery_scenario("24 Celery secrets scan")
    items = [{"backend": BACKENDS[i % 3], "prompt": f"[render:3] a lighthouse at dusk, take {i}"} for i in range(3)]
    watch = RunWatch.trigger(deploy, "seedance_deploy_batch", items, "celery-secrets")
    run = watch.wait(timeout=300)
    tis = watch.generate_tis()
    fill_row(row, tis, emulator_counts(emulator), run)
    generation_ids = [watch.xcom(ti["map_index"], key="seedance_generation_id") for ti in tis]
    dump = deploy.dump_database()
    texts = home_texts(deploy)
    broker = redis_texts(REDIS_URL)

    leaks = [leak for table, text in dump.items() for leak in leaks_in(f"table {table}", text)]
    leaks += [leak for name, text in {**texts, **broker}.items() for leak in leaks_in(name, text)]
    task_logs = "\n".join(text for name, text in texts.items() if name.startswith("logs/dag_id="))
    row.notes = (
        f"{len(dump)} tables, {len(texts)} files ({sum(len(t) for t in texts.values()) // 1024} KiB), "
        f"{len(broker)} Redis keys"
    )
    assert not leaks, "the API key leaked:\n" + "\n".join(leaks)

    # positive controls: the scan read what the Celery workers wrote
    assert run["state"] == "success"
    assert all(g in task_logs for g in generation_ids), generation_ids
    worker_logs = {name: texts.get(f"service-logs/{name}.log", "") for name in deploy.workers}
    assert all("ready." in text for text in worker_logs.values()), worker_logs.keys()
    assert any("Task execute_workload[" in text for text in worker_logs.values()), "no task in the worker logs"
    assert dump.get("celery_taskmeta"), "Celery's result table is empty: the scan missed the result backend"
    assert "AIRFLOW_CONN_SEEDANCE_EVOLINK" not in "".join(dump.values())
