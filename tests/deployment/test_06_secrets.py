"""Scenario 6: the API key (distinctive, set only in the connections' environment variables) appears
nowhere in the metadata database, in task logs or in the components' logs.

Runs after the other DAG scenarios, so the database and the logs hold everything they produced:
successes, failures, retries, deadline cancels, triggerer failover. The database is dumped twice: while
triggers are running (trigger rows exist, kwargs decrypted with the deployment's Fernet key) and at the end.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.deployment.conftest import emulator_counts, fill_row
from tests.deployment.harness import BACKENDS, Deployment, DeploymentError, RunWatch
from tests.deployment.secrets_scan import home_texts, leaks_in

pytestmark = pytest.mark.timeout(900)


def test_api_key_never_stored_or_logged(deploy: Deployment, emulator: Any, scenario: Any) -> None:
    row = scenario("6 secrets scan")
    items = [{"backend": BACKENDS[i % 3], "prompt": f"[render:15] a safe in a vault, take {i}"} for i in range(6)]
    watch = RunWatch.trigger(deploy, "seedance_deploy_batch", items, "secrets")

    deadline = time.monotonic() + 180
    while len([t for t in deploy.triggers() if "Seedance" in t["classpath"]]) < len(items):
        deploy.check_services()
        watch.observe()
        if time.monotonic() > deadline:
            raise DeploymentError(f"the triggers never all existed: {deploy.triggers()}")
        time.sleep(0.5)
    during = deploy.dump_database()
    live_triggers = [t for t in deploy.triggers() if "Seedance" in t["classpath"]]
    watch.observe()

    run = watch.wait(timeout=300)
    after = deploy.dump_database()
    texts = home_texts(deploy)
    tis = watch.generate_tis()
    fill_row(row, tis, emulator_counts(emulator), run)
    row.deferred = len(watch.deferred_indexes())
    rows_scanned = sum(text.count("\n") + bool(text) for text in after.values())
    row.notes = (
        f"{len(after)} tables / {rows_scanned} rows (twice), {len(live_triggers)} live trigger rows decrypted, "
        f"{len(texts)} files / {sum(len(t) for t in texts.values()) // 1024} KiB of logs"
    )

    leaks = []
    for label, dump in (("during", during), ("after", after)):
        for table, text in dump.items():
            leaks += leaks_in(f"table {table} ({label} the run)", text)
    for name, text in texts.items():
        leaks += leaks_in(name, text)
    assert not leaks, "the API key leaked:\n" + "\n".join(leaks)

    # positive controls: the scan does see what the runs wrote, in the places the key could have gone
    generation_ids = [watch.xcom(ti["map_index"], key="seedance_generation_id") for ti in tis]
    assert run["state"] == "success"
    assert len(live_triggers) == len(items)
    for trigger in live_triggers:
        assert trigger["kwargs"]["generation_id"] in generation_ids
        assert set(trigger["kwargs"]) <= {
            "generation_id",
            "deadline",
            "seedance_conn_id",
            "started_at",
            "poll_interval",
            "estimated_time",
            "cancel_on_kill",
            "backend",
            "render_spec",
        }, trigger["kwargs"]
        assert "prompt" not in (trigger["kwargs"].get("render_spec") or {})
    assert all(g in after["xcom"] for g in generation_ids)
    assert any("seedance_" in text for text in (after.get("rendered_task_instance_fields", ""),))
    task_logs = "\n".join(text for name, text in texts.items() if name.startswith("logs/dag_id="))
    assert all(g in task_logs for g in generation_ids)
    triggerer_logs = "\n".join(text for name, text in texts.items() if ".trigger." in name or "triggerer" in name)
    assert any(g in triggerer_logs for g in generation_ids)
    assert "AIRFLOW_CONN_SEEDANCE_EVOLINK" not in "".join(after.values())
