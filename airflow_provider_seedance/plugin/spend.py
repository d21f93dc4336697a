"""Spend across runs, for the *Seedance renders* page: single renders and batch items alike. Pure.

Per run (oldest first) the renders, failures and credits; per campaign the credits; per backend the renders,
failures by reason, pending and skipped items. A batch counts every item it holds (``plugin.batches`` sums
them up as it reads the list), a single render counts once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from airflow_provider_seedance.plugin.batches import Batch
from airflow_provider_seedance.plugin.renders import Render

#: Batch item statuses the page counts as failures (``skipped`` is a budget's choice, not a failure).
FAILED = ("failed", "timeout", "error")


@dataclass
class RunSpend:
    """One run's renders (single ones and batch items) summed up, for the page across runs."""

    dag_id: str
    run_id: str
    run_after: str
    renders: int = 0
    failures: int = 0
    credits: float = 0.0
    campaign: str | None = None
    #: Of them, items of batches (any status).
    batch_items: int = 0


@dataclass
class Overview:
    runs: list[RunSpend] = field(default_factory=list)
    #: (backend, outcome) -> count, where the outcome is "rendered", "pending", "skipped" or a failure's reason.
    outcomes: dict[tuple[str, str], int] = field(default_factory=dict)
    #: campaign (the DAG id, or the campaign's name) -> credits, over the runs shown.
    campaigns: dict[str, float] = field(default_factory=dict)
    #: Reading stopped at a bound before the oldest results (the page says so).
    partial: bool = False


def _add_render(spend: RunSpend, outcomes: dict[tuple[str, str], int], render: Render) -> None:
    backend = render.backend or "unknown"
    if render.failure:
        spend.failures += 1
        outcomes[(backend, render.failure)] += 1
    elif render.status in (None, "succeeded"):
        spend.renders += 1
        spend.credits += render.credits or 0.0
        outcomes[(backend, "rendered")] += 1
    else:  # a submit that did not wait (queued, running): its sensor's result counts once it is done
        outcomes[(backend, "pending")] += 1


def _add_batch(spend: RunSpend, outcomes: dict[tuple[str, str], int], batch: Batch) -> None:
    spend.renders += batch.counts.get("succeeded", 0)
    spend.failures += sum(batch.counts.get(status, 0) for status in FAILED)
    spend.credits += batch.credits
    spend.batch_items += batch.total
    for key, count in batch.outcomes.items():
        outcomes[key] += count


def overview(
    renders: Iterable[Render],
    campaigns: Mapping[tuple[str, str], str] | None = None,
    batches: Iterable[Batch] = (),
    partial: bool = False,
) -> Overview:
    """Spend per run (oldest first) and per campaign, and renders and failures by backend and reason."""
    runs: dict[tuple[str, str], RunSpend] = {}
    outcomes: dict[tuple[str, str], int] = defaultdict(int)
    names = campaigns or {}

    def spend_of(dag_id: str, run_id: str, run_after: str) -> RunSpend:
        key = (dag_id, run_id)
        return runs.setdefault(key, RunSpend(dag_id, run_id, run_after, campaign=names.get(key)))

    for render in renders:
        _add_render(spend_of(render.dag_id, render.run_id, render.run_after), outcomes, render)
    for batch in batches:
        _add_batch(spend_of(batch.dag_id, batch.run_id, batch.run_after), outcomes, batch)
    ordered = sorted(runs.values(), key=lambda s: (s.run_after, s.dag_id, s.run_id))
    per_campaign: dict[str, float] = defaultdict(float)
    for spend in ordered:
        per_campaign[spend.campaign or spend.dag_id] += spend.credits
    return Overview(ordered, dict(sorted(outcomes.items())), dict(per_campaign), partial)
