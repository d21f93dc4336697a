"""``SeedanceCampaign``: a campaign as one part of any DAG, the way Cosmos ships ``DbtTaskGroup``. Takes in
(a list of request dicts, or an upstream task's output), renders, a gallery, human review with re-renders,
a budget, drafts first, and a release with every clip's fate out; ``approved`` is the approved clips.

Inside its TaskGroup: ``plan`` -> ``render`` (mapped) -> ``gallery`` -> ``review_0`` (one per slot) ->
``decide_0`` [-> ``rerender_1`` -> ``collect_1`` -> ``review_1`` -> ``decide_1`` ...] -> ``finals`` ->
``final`` (mapped) -> ``release``. With ``Render(batch=True)``, ``render``, ``rerender_N`` and ``final`` are
one batch task each (``CampaignBatchRender``) instead of mapped tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import TaskGroup, task

from airflow_provider_seedance.campaign import tasks
from airflow_provider_seedance.campaign.batch_render import CampaignBatchRender
from airflow_provider_seedance.campaign.batching import check_names
from airflow_provider_seedance.campaign.options import (
    Budget,
    CampaignOptionError,
    Output,
    Render,
    Review,
    TakeOptions,
    checked,
)
from airflow_provider_seedance.campaign.review_operator import CampaignReviewOperator, note_param
from airflow_provider_seedance.campaign.spend_checks import BatchBudgetCheck, run_budget_check
from airflow_provider_seedance.campaign.takes import parse_takes, render_kwargs
from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

#: A render's map index shows its file name in the UI.
MAP_INDEX = "{{ task.output_path.rsplit('/', 1)[-1] }}"


def _step(function: Any, **kwargs: Any) -> Any:
    """``function`` as a TaskFlow task (``@task(**kwargs)``)."""
    return task(**kwargs)(function)


class SeedanceCampaign:
    """Build a campaign's tasks in a TaskGroup of the DAG being defined.

    :param takes: a list of take dicts (request fields, plus optional ``name``, ``slot``, ``title``,
        ``caption``, ``section``, ``labels``; see ``campaign.takes``), or an XComArg resolving to one.
    :param name: the campaign's name (its folder, the gallery's title; templated, or an XComArg).
    :param title: the brand or heading shown before the name (templated, or an XComArg).
    :param output: ``Output`` (root, prefix).
    :param budget: ``Budget`` (max_credits, credits_per_second).
    :param review: ``Review`` (rounds, max_rerenders, hours).
    :param render: ``Render`` (seedance_conn_id, pool, retries, retry_delay, timeout, deferrable; ``batch``: each
        step's takes in one batch task, with ``max_concurrency``).
    :param variants: renders per take with different seeds, 1 to 4 (templated).
    :param drafts: drafts first where the model renders drafts (templated).
    :param outlets: Assets the release emits, with the gallery, manifest, counts and spend as extra.
    :param group_id: the TaskGroup's id (its tasks are ``<group_id>.plan``, ...).

    Options are objects or dicts of their fields. Any value that is not a template is checked now, when the
    DAG is parsed (``CampaignOptionError`` names the option and its limit); templates are checked rendered,
    by ``plan``, before anything is submitted. ``>>`` and ``<<`` work on the group.
    """

    def __init__(
        self,
        *,
        takes: Any,
        name: Any = "campaign",
        title: Any = "",
        output: Output | dict[str, Any] | None = None,
        budget: Budget | dict[str, Any] | None = None,
        review: Review | dict[str, Any] | None = None,
        render: Render | dict[str, Any] | None = None,
        variants: int | str = 1,
        drafts: bool | str = True,
        outlets: Sequence[Any] = (),
        group_id: str = "campaign",
    ) -> None:
        self.output = checked(Output, output, "output")
        self.budget = checked(Budget, budget, "budget")
        self.review = checked(Review, review, "review")
        self.render = checked(Render, render, "render")
        self.take_options = checked(TakeOptions, {"variants": variants, "drafts": drafts}, "takes")
        if isinstance(takes, (list, tuple)):
            parsed = parse_takes(takes)  # literal takes are checked now
            if self.render.batch:
                check_names(parsed)
        elif isinstance(takes, (str, dict)) or takes is None:
            raise CampaignOptionError(f"takes: must be a list of request dicts or an XComArg, got {takes!r}")
        self.outlets = list(outlets)
        self.group = TaskGroup(group_id=group_id)
        with self.group:
            self._build(takes, name, title)

    def _build(self, takes: Any, name: Any, title: Any) -> None:
        prefix = f"{self.group.group_id}."  # the group's tasks are "<group_id>.<task>"
        options = {
            "output": self.output.model_dump(),
            "budget": self.budget.model_dump(),
            "review": self.review.model_dump(),
            "render": self.render.model_dump(),
            "takes": self.take_options.model_dump(),
            "rounds": self.review.rounds,
        }
        planned = _step(tasks.plan, task_id="plan")(takes=takes, name=name, title=title, options=options, prefix=prefix)
        check = BatchBudgetCheck(prefix) if self.render.batch else run_budget_check(prefix)
        renders = self._renders("render", planned, spend_check=check)
        queue = _step(tasks.gallery, task_id="gallery", trigger_rule="all_done")(prefix=prefix)
        [planned, renders] >> queue
        for round_number in range(self.review.rounds + 1):
            review = CampaignReviewOperator.partial(
                task_id=f"review_{round_number}", params=note_param()
            ).expand_kwargs(queue)
            decided = _step(tasks.decide, task_id=f"decide_{round_number}", trigger_rule="all_done")(
                round_number=round_number, prefix=prefix
            )
            review >> decided
            if round_number == self.review.rounds:
                queue = decided
                break
            again = self._renders(f"rerender_{round_number + 1}", decided)
            queue = _step(tasks.collect, task_id=f"collect_{round_number + 1}", trigger_rule="all_done")(
                round_number=round_number + 1, prefix=prefix
            )
            [decided, again] >> queue
        wanted = _step(tasks.finals, task_id="finals", trigger_rule="all_done")(prefix=prefix)
        queue >> wanted
        finals = self._renders("final", wanted)
        released = _step(tasks.release, task_id="release", trigger_rule="all_done", outlets=self.outlets)(prefix=prefix)
        [wanted, finals] >> released
        self.planned, self.released = planned, released

    def _renders(self, task_id: str, takes: Any, **extra: Any) -> Any:
        """A step's renders of ``takes`` (an XComArg of ``Take`` dumps): one batch task, or one mapped render each."""
        if self.render.batch:
            return CampaignBatchRender(task_id=task_id, takes=takes, **self.render.batch_args(), **extra)
        args = {**self.render.operator_args(), "map_index_template": MAP_INDEX, **extra}
        render = SeedanceGenerateVideoOperator.partial(task_id=task_id, **args)
        return render.expand_kwargs(takes.map(render_kwargs))

    @property
    def approved(self) -> Any:
        """The approved clips (``Clip`` dumps), as the release's XComArg."""
        return self.released

    def __rshift__(self, other: Any) -> Any:
        return self.group >> other

    def __lshift__(self, other: Any) -> Any:
        return self.group << other

    def __rrshift__(self, other: Any) -> Any:
        return other >> self.group

    def __rlshift__(self, other: Any) -> Any:
        return other << self.group
