"""The budget pieces of a campaign run that are arithmetic (pure): whether the next render still fits."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median

from airflow_provider_seedance.contract.budget import spend_refusal


def next_render_refusal(
    max_credits: float | None,
    estimates: Sequence[float | None],
    planned_total: float,
    costs: Sequence[float | None],
    skipped: int,
) -> str | None:
    """Before a create of a run's first renders: what the finished renders really cost (``costs``: one per
    finished render; None when it reported none, counted at the going price) plus what is still planned
    (the renders neither finished nor skipped, this one included, each at what this run's renders really
    cost so far, else the plan's ``estimates``; and the finals the plan's ``planned_total`` counted past the
    takes). A reason when that would pass ``max_credits``; None when it fits or there is no budget.

    Renders that start together all pass (none has finished): they are paid for whatever they cost, so the
    budget holds as far as the estimate does for them; a failed render stays counted as planned."""
    if max_credits is None:
        return None
    priced = [float(c) for c in costs if c is not None]
    each = median(priced) if priced else max((float(e or 0) for e in estimates), default=0.0)
    spent = sum(priced) + (len(costs) - len(priced)) * each
    finals = planned_total - sum(float(e or 0) for e in estimates)
    still = max(0, len(estimates) - len(costs) - skipped) * each + max(0.0, finals)
    return spend_refusal(max_credits, round(spent, 3), round(still, 3))
