"""Test DAGs for a batch's saves in the triggerer (``save_in_triggerer``): the same six items saved in the trigger
and on the worker, each resumed step counting the emulator's downloads it caused; and a trigger killed after a
few saves, then run again, as a triggerer that picks up a dead one's triggers would."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG

from airflow_provider_seedance.operators.batch import SeedanceBatchGenerateVideosOperator
from tests.integration.batch_saves_support import KilledOnceTrigger, emulator_downloads

OUTPUT = os.environ.get("SEEDANCE_TEST_OUTPUT", "/tmp/seedance-test-output")
START = datetime(2026, 1, 1)
EVOLINK = {"model": "seedance-2.0-fast-text-to-video", "duration": 4}


class CountingBatch(SeedanceBatchGenerateVideosOperator):
    """Pushes ``downloads_on_resume``: the emulator's downloads during the resumed step."""

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        before = emulator_downloads()
        try:
            return super().execute_complete(context, event)
        finally:
            context["ti"].xcom_push(key="downloads_on_resume", value=emulator_downloads() - before)


class KilledTriggerBatch(CountingBatch):
    def defer(self, *, trigger: Any, **kwargs: Any) -> Any:
        killed = KilledOnceTrigger(**trigger.serialize()[1])
        return super().defer(trigger=killed, **kwargs)


def items(prefix: str) -> list[dict[str, Any]]:
    """Six items, item 4's render refused for good (a content policy)."""
    prompts = [f"{prefix} kettle {n}" for n in range(6)]
    prompts[4] = "[fail:content_policy_violation] " + prompts[4]
    return [{"prompt": prompt} for prompt in prompts]


for _name, _in_trigger in [("in_trigger", True), ("on_worker", False)]:
    with DAG(f"seedance_batch_saves_{_name}", schedule=None, start_date=START, catchup=False) as _dag:
        CountingBatch(
            task_id="render",
            seedance_conn_id="seedance_evolink",
            requests=items(_name),
            defaults=EVOLINK,
            output_path=OUTPUT + f"/batch/saves/{_name}/{{item_index}}.mp4",
            failure_policy="never",
            poll_interval=0.5,
            max_concurrency=3,
            deferrable=True,
            save_in_triggerer=_in_trigger,
        )
    globals()[f"batch_saves_{_name}"] = _dag

with DAG("seedance_batch_saves_killed", schedule=None, start_date=START, catchup=False) as batch_saves_killed:
    KilledTriggerBatch(
        task_id="render",
        seedance_conn_id="seedance_evolink",
        requests=[{"prompt": f"killed teapot {n}"} for n in range(6)],
        defaults=EVOLINK,
        output_path=OUTPUT + "/batch/killed/{item_index}.mp4",
        poll_interval=0.5,
        max_concurrency=1,
        deferrable=True,
        save_in_triggerer=True,
        retries=0,
        retry_delay=timedelta(seconds=0),
    )

with DAG("seedance_batch_saves_mapped", schedule=None, start_date=START, catchup=False) as batch_saves_mapped:
    CountingBatch.partial(
        task_id="render",
        seedance_conn_id="seedance_evolink",
        defaults=EVOLINK,
        output_path=OUTPUT + "/batch/saves/mapped/{{ ti.map_index }}/{item_index}.mp4",
        poll_interval=0.5,
        max_concurrency=3,
        deferrable=True,
        save_in_triggerer=True,
    ).expand(requests=[[{"prompt": f"mapped {m} mug {n}"} for n in range(2)] for m in range(2)])
