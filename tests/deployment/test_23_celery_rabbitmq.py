"""Scenario 23 (Celery): the happy path again with RabbitMQ as the broker (127.0.0.1:5672, guest/guest):
the scheduler and both Celery workers restarted on it. Runs last: the deployment stays on RabbitMQ.

Then the Celery secrets scan: the API key appears nowhere the Celery deployment wrote in scenarios 20-23 (a
campaign, a worker SIGKILLed, a triggerer SIGKILLed and the scheduler restarted, this run): the Celery
workers' logs, the task logs they wrote, the other components' logs, the metadata database with Celery's
result tables (bytea, scanned as hex too), and what is left in the Redis broker (kombu bodies decoded)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.deployment.conftest import emulator_counts, fill_row, half_written, verify_video
from tests.deployment.harness import BACKENDS, REDIS_URL, Deployment, RunWatch, check_broker
from tests.deployment.secrets_scan import home_texts, leaks_in, redis_texts

pytestmark = pytest.mark.timeout(900)

GENERATIONS = 12


def test_celery_on_rabbitmq(celery_deploy: Deployment, emulator: Any, celery_scenario: Any) -> None:
    deploy = celery_deploy
    row = celery_scenario(f"23 Celery on RabbitMQ (mapped x{GENERATIONS}), secrets scan")
    deploy.switch_broker(check_broker("rabbitmq"))
    for name in deploy.workers:
        banner = deploy.services[name].log_text()[deploy.services[name].log_offset :]
        assert "amqp://guest:**@127.0.0.1:5672" in banner, f"{name} is not on RabbitMQ:\n{banner[-3000:]}"
    items = [
        {"backend": BACKENDS[i % 3], "prompt": f"[render:{4 + i % 3}] a tram in the rain, take {i}"}
        for i in range(GENERATIONS)
    ]
    watch = RunWatch.trigger(deploy, "seedance_deploy_batch", items, "rabbitmq")
    run = watch.wait(timeout=600)
    tis = watch.generate_tis()
    counts = emulator_counts(emulator)
    fill_row(row, tis, counts, run)
    row.deferred = len(watch.deferred_indexes())
    workers = Counter(str(ti.get("hostname")) for ti in tis)
    row.notes = f"broker amqp://127.0.0.1:5672; finished on {dict(sorted(workers.items()))}"

    assert run["state"] == "success", [(ti["map_index"], ti["state"]) for ti in tis]
    assert row.succeeded == GENERATIONS
    for ti in tis:
        verify_video(watch.xcom(ti["map_index"]))
    assert counts["creates"] == GENERATIONS == counts["create_posts"], counts["stats"]
    assert row.retries == 0
    assert watch.deferred_indexes() == set(range(GENERATIONS))
    assert set(workers) <= set(deploy.workers)
    assert half_written(deploy.output_dir) == []

    scan_for_the_api_key(deploy, [watch.xcom(ti["map_index"], key="seedance_generation_id") for ti in tis], row)


def scan_for_the_api_key(deploy: Deployment, generation_ids: list[str], row: Any) -> None:
    dump = deploy.dump_database()
    texts = home_texts(deploy)
    broker = redis_texts(REDIS_URL)
    leaks = [leak for table, text in dump.items() for leak in leaks_in(f"table {table}", text)]
    leaks += [leak for name, text in {**texts, **broker}.items() for leak in leaks_in(name, text)]
    row.notes += (
        f"; secrets scan: {len(dump)} tables, {len(texts)} files ({sum(len(t) for t in texts.values()) // 1024} KiB),"
        f" {len(broker)} Redis keys"
    )
    assert not leaks, "the API key leaked:\n" + "\n".join(leaks)

    # positive controls: the scan read what the Celery workers wrote
    task_logs = "\n".join(text for name, text in texts.items() if name.startswith("logs/dag_id="))
    assert all(g in task_logs for g in generation_ids), generation_ids
    worker_logs = {name: texts.get(f"service-logs/{name}.log", "") for name in deploy.workers}
    assert all("ready." in text for text in worker_logs.values()), worker_logs.keys()
    assert any("Task execute_workload[" in text for text in worker_logs.values()), "no task in the worker logs"
    assert dump.get("celery_taskmeta"), "Celery's result table is empty: the scan missed the result backend"
    assert "AIRFLOW_CONN_SEEDANCE_EVOLINK" not in "".join(dump.values())
