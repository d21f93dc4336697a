"""Campaign DAGs that render their takes through the batch operator (``Render(batch=True)``), beside the same
campaign rendered by mapped tasks, on BytePlus ModelArk in the emulator (Seedance 1.5 pro: drafts first).

``seedance_campaign_mapped`` and ``seedance_campaign_batch`` differ only in ``render.batch``: one take renders, one
fails for good (the emulator's ``[fail:...]`` prompt tag: a content policy). ``seedance_campaign_batch_budget``
has a budget its first take does not fit once every render is counted at the dearest estimate: that take is
skipped for budget, with its reason. Nobody reviews: the reviews wait 2 seconds, then time out. Each campaign
writes under its own prefix, so that no run prices another's renders.

``seedance_campaign_batch_finals`` is what a reviewer's answers lead to, without a reviewer (``dag.test()`` has
none): two drafts rendered as one batch, one approved and the other sent back with a note (``campaign.fates``, as
the campaign's ``decide`` task applies them), then the approved draft's final (from its generation id) and the
re-render as one batch."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_seedance.campaign import (
    Budget,
    Decision,
    Manifest,
    Output,
    Render,
    Review,
    SeedanceCampaign,
    fates,
)
from airflow_provider_seedance.campaign.batch_render import CampaignBatchRender
from airflow_provider_seedance.campaign.batching import outcomes
from airflow_provider_seedance.campaign.takes import Take, expand, parse_takes

PRO = "seedance-1-5-pro-251215"
REVIEW = Review(rounds=1, hours=2 / 3600)
TAKES = [
    {"name": "flask", "model": PRO, "prompt": "Steam rising from a black flask on a frosty summit.", "duration": 4},
    {"name": "pack", "model": PRO, "prompt": "[fail:content_policy_violation] A teal backpack.", "duration": 4},
]
#: ModelArk credits are tokens; at 10,000 a second the plan counts 40,000 (4 s) and 80,000 (8 s) per draft, and
#: as much again per final: 240,000 in all. Before the first create, every render still planned is counted at the
#: dearest estimate: 2 x 80,000 + the finals' 120,000 = 280,000 passes 260,000, so the first take is skipped;
#: then 80,000 + 120,000 fits, and the second renders.
BUDGET_TAKES = [
    {"name": "kite", "model": PRO, "prompt": "A red kite over a green dune.", "duration": 4},
    {"name": "lamp", "model": PRO, "prompt": "A brass lamp lit on a desk at dusk.", "duration": 8},
]


def campaign_dag(dag_id: str, takes: list[dict[str, object]], *, batch: bool, max_credits: float) -> DAG:
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["test"]) as dag:
        SeedanceCampaign(
            takes=takes,
            name=dag_id,
            output=Output(prefix=dag_id),
            budget=Budget(max_credits=max_credits, credits_per_second=10_000),
            review=REVIEW,
            render=Render(seedance_conn_id="seedance_modelark", retries=1, retry_delay=1, batch=batch),
        )
    return dag


campaign_mapped = campaign_dag("seedance_campaign_mapped", TAKES, batch=False, max_credits=1_000_000)
campaign_batch = campaign_dag("seedance_campaign_batch", TAKES, batch=True, max_credits=1_000_000)
campaign_batch_budget = campaign_dag("seedance_campaign_batch_budget", BUDGET_TAKES, batch=True, max_credits=260_000)

FINAL_TAKES = [
    {"name": "cup", "model": PRO, "prompt": "A white cup steaming on a wooden table.", "duration": 4},
    {"name": "jar", "model": PRO, "prompt": "A jar of honey in morning light.", "duration": 4},
]


def finals_folder() -> str:
    return "file://" + os.environ["AIRFLOW_VAR_SEEDANCE_OUTPUT_ROOT"] + "/finals"


with DAG("seedance_campaign_batch_finals", schedule=None, start_date=datetime(2026, 1, 1), tags=["test"]) as finals:

    @task
    def draft_takes() -> list[dict[str, Any]]:
        takes = expand(
            parse_takes(FINAL_TAKES),
            variants=1,
            drafts=True,
            takes_seed=True,
            folder=finals_folder(),
            seedance_conn_id="seedance_modelark",
        )
        return [take.model_dump(mode="json") for take in takes]

    @task
    def reviewed(takes: list[dict[str, Any]], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The cup's draft approved, the jar's sent back with a note: the cup's final and the jar's re-render."""
        folder = finals_folder()
        manifest = Manifest(campaign="finals", backend="modelark", folder=folder, root=folder, max_rerenders=1)
        manifest.seedance_conn_id = "seedance_modelark"
        parsed = [Take.model_validate(take) for take in takes]
        for take, (result, _) in zip(parsed, outcomes(parsed, results, "modelark"), strict=True):
            manifest.put(fates.clip_from_result(take, result))
        fates.review_queue(manifest, 0)
        again = fates.apply_decisions(
            manifest, 0, [Decision(kind="approve", take=1), Decision(kind="rerender", note="warmer")]
        )
        return [take.model_dump(mode="json") for take in [*fates.approve_drafts(manifest), *again]]

    takes = draft_takes()
    drafts = CampaignBatchRender(task_id="draft", takes=takes, retries=0)
    CampaignBatchRender(task_id="final", takes=reviewed(takes, drafts.output), retries=0)
