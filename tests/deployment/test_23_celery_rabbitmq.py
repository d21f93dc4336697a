"""Scenario 23 (Celery): the happy path again with RabbitMQ as the broker (127.0.0.1:5672, guest/guest):
the scheduler and both Celery workers restarted on it. The deployment stays on RabbitMQ for what follows
(the Celery secrets scan)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.deployment.conftest import emulator_counts, fill_row, half_written, verify_video
from tests.deployment.harness import BACKENDS, Deployment, RunWatch, check_broker

pytestmark = pytest.mark.timeout(900)

GENERATIONS = 12


def test_celery_on_rabbitmq(celery_deploy: Deployment, emulator: Any, celery_scenario: Any) -> None:
    deploy = celery_deploy
    row = celery_scenario(f"23 Celery on RabbitMQ (mapped x{GENERATIONS})")
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
