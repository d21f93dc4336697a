"""Scenario 24 (Celery): the API key appears nowhere the Celery deployment wrote: the Celery workers' logs,
the task logs they wrote, the other components' logs, the metadata database with Celery's result tables,
and what is left in the Redis broker. Runs after scenarios 20-23, so it scans what they produced (a
campaign, a worker SIGKILLed, a triggerer SIGKILLed and the scheduler restarted, the RabbitMQ switch)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deployment.harness import REDIS_URL, Deployment
from tests.deployment.secrets_scan import home_texts, leaks_in, redis_texts

pytestmark = pytest.mark.timeout(300)


def test_api_key_never_reaches_celery_logs_results_or_broker(celery_deploy: Deployment, celery_scenario: Any) -> None:
    deploy = celery_deploy
    row = celery_scenario("24 Celery secrets scan")
    dump = deploy.dump_database()
    texts = home_texts(deploy)
    broker = redis_texts(REDIS_URL)

    leaks = [leak for table, text in dump.items() for leak in leaks_in(f"table {table}", text)]
    leaks += [leak for name, text in {**texts, **broker}.items() for leak in leaks_in(name, text)]
    task_logs = [name for name in texts if name.startswith("logs/dag_id=")]
    row.notes = (
        f"{len(dump)} tables, {len(texts)} files ({len(task_logs)} task logs, "
        f"{sum(len(t) for t in texts.values()) // 1024} KiB), {len(broker)} Redis keys"
    )
    assert not leaks, "the API key leaked:\n" + "\n".join(leaks)

    # positive controls: the scan read what the Celery scenarios wrote
    worker_logs = {name: texts.get(f"service-logs/{name}.log", "") for name in deploy.workers}
    for name, text in worker_logs.items():
        assert "ready." in text and "Task airflow.providers.celery" in text, f"{name}: {text[-2000:]}"
    assert len(task_logs) >= 100, len(task_logs)
    assert dump.get("celery_taskmeta"), "Celery's result table is empty: the scan missed the result backend"
    assert "AIRFLOW_CONN_SEEDANCE_EVOLINK" not in "".join(dump.values())
