"""The first renders' spend checks (``spend_check(context, request)``): asked before each create, never for a
render already submitted, each skips a render once what was spent plus what is still planned would pass the
run's budget (``spend.next_render_refusal``). One for mapped renders, one for a batch task's items.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_seedance.campaign.spend import next_render_refusal
from airflow_provider_seedance.campaign.tasks import RUN, CampaignIds
from airflow_provider_seedance.contract.budget import mapped_results
from airflow_provider_seedance.operators.seedance import SKIPPED_XCOM_KEY

#: The run's budget as the plan left it: ``max_credits``, each first render's estimate, the planned total.
PlanBudget = tuple[float, list[Any], float]


def plan_budget(ti: Any, prefix: str) -> PlanBudget | None:
    """The budget the plan task kept for this run; None when the run has no budget."""
    ids = CampaignIds(prefix)
    run = ti.xcom_pull(task_ids=ids.plan, key=RUN, map_indexes=-1)
    if not run or run["budget"]["max_credits"] is None:
        return None
    takes = ti.xcom_pull(task_ids=ids.plan, map_indexes=-1) or []
    return run["budget"]["max_credits"], [t.get("estimate") for t in takes], float(run["budget"]["estimate"])


def run_budget_check(prefix: str) -> Any:
    """The mapped first renders' check: it counts the renders of the task that finished (at what they cost) and
    those it skipped."""

    def check(context: Any, request: Any) -> str | None:
        ti = context["ti"]
        budget = plan_budget(ti, prefix)
        if budget is None:
            return None
        done = [r for r in mapped_results(ti, ti.task_id) if isinstance(r, dict)]
        skipped = len(mapped_results(ti, ti.task_id, key=SKIPPED_XCOM_KEY))
        return next_render_refusal(*budget, [r.get("credits") for r in done], skipped)

    return check


class BatchBudgetCheck:
    """The batch task's check, asked one item at a time in item order. A batch creates all its items before any
    finishes, so each is judged on the plan's estimates and the items this try skipped before it, as mapped
    renders that start together are. It reads the plan once per try and counts its skips per try."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._try: tuple[Any, ...] | None = None
        self._budget: PlanBudget | None = None
        self._skipped = 0

    def __call__(self, context: Any, request: Any) -> str | None:
        ti = context["ti"]
        this_try = (ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number)
        if this_try != self._try:
            self._try, self._budget, self._skipped = this_try, plan_budget(ti, self.prefix), 0
        if self._budget is None:
            return None
        reason = next_render_refusal(*self._budget, [], self._skipped)
        self._skipped += reason is not None
        return reason
