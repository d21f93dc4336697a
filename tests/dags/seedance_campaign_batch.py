"""Campaign DAGs that render their takes through the batch operator (``Render(batch=True)``), beside the same
campaign rendered by mapped tasks, on BytePlus ModelArk in the emulator (Seedance 1.5 pro: drafts first).

``seedance_campaign_mapped`` and ``seedance_campaign_batch`` differ only in ``render.batch``: one take renders, one
fails for good (the emulator's ``[fail:...]`` prompt tag: a content policy). ``seedance_campaign_batch_budget``
has a budget its first take does not fit once every render is counted at the dearest estimate: that take is
skipped for budget, with its reason. Nobody reviews: the reviews wait 2 seconds, then time out. Each campaign
writes under its own prefix, so that no run prices another's renders."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_seedance.campaign import Budget, Output, Render, Review, SeedanceCampaign

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
