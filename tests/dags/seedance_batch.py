"""Test DAGs for the batch operator: a whole batch, a refused item, partial failures under each policy, a retry
after a crash halfway through the creates, a budget that skips the items past it, and failover per item from
an account out of credits (``seedance_broke``, ModelArk) to EvoLink, with a crash halfway too."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_seedance.contract.budget import spend_refusal
from airflow_provider_seedance.operators.batch import SeedanceBatchGenerateVideosOperator

OUTPUT = os.environ.get("SEEDANCE_TEST_OUTPUT", "/tmp/seedance-test-output")
START = datetime(2026, 1, 1)
FAST = {"retry_delay": timedelta(seconds=0)}
EVOLINK = {"model": "seedance-2.0-fast-text-to-video", "duration": 4}
AIMLAPI = {"model": "bytedance/seedance-1-0-pro-fast"}
#: ModelArk's model, rendered on the EvoLink fallback as seedance-2.0-fast-text-to-video.
MODELARK = {"model": "dreamina-seedance-2-0-fast-260128", "duration": 4}


def dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=None, start_date=START, catchup=False, default_args=FAST, tags=["test"])


class CrashingBatch(SeedanceBatchGenerateVideosOperator):
    """Its first try dies right before the create of item ``crash_at``, as a worker killed halfway through the
    creates would (without killing the test process); later tries run as the operator does."""

    def __init__(self, *, crash_at: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.crash_at = crash_at

    def _key_of(self, context: Any) -> Any:
        key_of = super()._key_of(context)
        first_try = context["ti"].try_number == 1

        def key(item: Any, conn_index: int, submissions: int) -> str:
            if first_try and item.index >= self.crash_at:
                raise RuntimeError(f"simulated crash before the create of item {item.index}")
            return str(key_of(item, conn_index, submissions))

        return key


with dag("seedance_batch_catalog") as batch_catalog:

    @task
    def catalog() -> list[dict[str, Any]]:
        return [{"name": f"sku-{n:03d}", "prompt": f"product {n} on a white table"} for n in range(20)]

    SeedanceBatchGenerateVideosOperator(
        task_id="render",
        seedance_conn_id="seedance_evolink",
        requests=catalog(),
        defaults=EVOLINK,
        output_path=OUTPUT + "/batch/catalog/{name}.mp4",
        max_concurrency=6,
        poll_interval=0.5,
    )

with dag("seedance_batch_refused") as batch_refused:
    SeedanceBatchGenerateVideosOperator(
        task_id="render",
        seedance_conn_id="seedance_evolink",
        requests=[
            {"prompt": "a red chair"},
            {"prompt": "a blue chair", "colour": "blue"},
            {"prompt": "a green chair"},
            {"prompt": "a white chair", "duration": 99},
        ],
        defaults=EVOLINK,
        output_path=OUTPUT + "/batch/refused/{item_index}.mp4",
        retries=2,
    )


def failing_items(prefix: str) -> list[dict[str, Any]]:
    """Six items: two fail for good (a content policy), one transiently (a service error)."""
    prompts = [f"{prefix} lamp {n}" for n in range(6)]
    prompts[1] = "[fail:content_policy_violation] " + prompts[1]
    prompts[4] = "[fail:content_policy_violation] " + prompts[4]
    prompts[5] = "[fail:service_error] " + prompts[5]
    return [{"prompt": prompt} for prompt in prompts]


for _name, _policy in [("any", "any"), ("never", "never"), ("share_60", 0.6), ("share_20", 0.2)]:
    with dag(f"seedance_batch_policy_{_name}") as _policy_dag:
        SeedanceBatchGenerateVideosOperator(
            task_id="render",
            seedance_conn_id="seedance_evolink",
            requests=failing_items(_name),
            defaults=EVOLINK,
            output_path=OUTPUT + f"/batch/policies/{_name}/{{item_index}}.mp4",
            failure_policy=_policy,
            poll_interval=0.5,
            deferrable=_name != "share_20",  # the worker-side wait too
            retries=1,
        )
    globals()[f"batch_policy_{_name}"] = _policy_dag

with dag("seedance_batch_crash") as batch_crash:
    for backend, defaults in [("aimlapi", AIMLAPI), ("evolink", EVOLINK)]:
        CrashingBatch(
            task_id=backend,
            seedance_conn_id=f"seedance_{backend}",
            requests=[{"prompt": f"{backend} mug {n}"} for n in range(12)],
            defaults=defaults,
            output_path=OUTPUT + f"/batch/crash/{backend}/{{item_index}}.mp4",
            crash_at=5,
            max_concurrency=1,  # the creates in item order: exactly items 0-4 are accepted before the crash
            poll_interval=0.5,
            retries=1,
        )

with dag("seedance_batch_uncertain") as batch_uncertain:
    SeedanceBatchGenerateVideosOperator(
        task_id="render",
        seedance_conn_id="seedance_aimlapi",  # no idempotency key: a create answered 500 may have been billed
        requests=[
            {"prompt": "kettle 0"},
            {"prompt": "kettle 1"},
            {"prompt": "kettle 2"},
            {"prompt": "[fail:service_error] kettle 3"},
        ],
        defaults=AIMLAPI,
        output_path=OUTPUT + "/batch/uncertain/{item_index}.mp4",
        max_concurrency=1,  # the creates in item order: the test's one faulty create is item 0's
        poll_interval=0.5,
        retries=1,
    )


class ItemBudget:
    """A try's budget of ``max_credits``: each item is estimated at 2 credits a second and committed when it is
    admitted (``contract.budget.spend_refusal``, as a run's budget in the marketing example)."""

    def __init__(self, max_credits: float) -> None:
        self.max_credits = max_credits
        self.committed: dict[tuple[int, int], float] = {}

    def __call__(self, context: Any, request: Any) -> str | None:
        ti, estimate = context["ti"], 2.0 * request.duration
        key = (int(ti.map_index), int(ti.try_number))  # one budget per mapped instance and try
        spent = self.committed.get(key, 0.0)
        reason = spend_refusal(self.max_credits, spent, estimate)
        if reason is None:
            self.committed[key] = spent + estimate
        return reason


with dag("seedance_batch_budget") as batch_budget:
    SeedanceBatchGenerateVideosOperator(
        task_id="render",
        seedance_conn_id="seedance_evolink",
        requests=[{"prompt": f"a teapot, take {n}", "duration": 5} for n in range(5)],
        defaults=EVOLINK,
        max_concurrency=3,
        poll_interval=0.5,
        spend_check=ItemBudget(30),
    )


with dag("seedance_batch_budget_mapped") as batch_budget_mapped:
    # two mapped batches, each with items its budget skips before deferring: each resumes with its own
    SeedanceBatchGenerateVideosOperator.partial(
        task_id="render",
        seedance_conn_id="seedance_evolink",
        defaults=EVOLINK,
        max_concurrency=3,
        poll_interval=0.5,
        spend_check=ItemBudget(30),
    ).expand(requests=[[{"prompt": f"a teapot {m}, take {n}", "duration": 5} for n in range(5)] for m in range(2)])


with dag("seedance_batch_failover") as batch_failover:
    CrashingBatch(
        task_id="render",
        seedance_conn_id="seedance_broke",  # ModelArk, on an emulator whose account answers 402 to every create
        fallback_conn_ids=["seedance_evolink"],
        requests=[{"name": f"scarf-{n}", "prompt": f"a folded scarf, colour {n}"} for n in range(6)],
        defaults=MODELARK,
        output_path=OUTPUT + "/batch/failover/{name}.mp4",
        crash_at=3,
        max_concurrency=1,  # the creates in item order: items 0-2 accepted before the crash, one 402 per try
        poll_interval=0.5,
        retries=1,
    )
