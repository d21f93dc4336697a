"""A campaign rendering through the batch operator (``Render(batch=True)``): its options refused at parse time,
the tasks it builds, each step's takes as one batch, each take's outcome from the batch's results (the same fates
as from mapped renders), and the batch's budget check."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_seedance.campaign import (
    CampaignOptionError,
    ClipStatus,
    Manifest,
    Render,
    SeedanceCampaign,
    fates,
)
from airflow_provider_seedance.campaign.batch_render import CampaignBatchRender
from airflow_provider_seedance.campaign.batching import MAX_TAKE_NAME, batch_of, outcomes
from airflow_provider_seedance.campaign.spend_checks import BatchBudgetCheck
from airflow_provider_seedance.campaign.takes import Take, expand, parse_takes
from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

MODEL = "seedance-2.0-fast-text-to-video"
TAKE = {"model": MODEL, "prompt": "a calm lake", "duration": 5}
FOLDER = "file:///out/campaigns/c/20260101T000000"


def _takes(*names: str, folder: str = FOLDER) -> list[Take]:
    parsed = parse_takes([{**TAKE, "name": name} for name in names])
    return expand(parsed, variants=1, drafts=False, takes_seed=True, folder=folder, seedance_conn_id="conn")


def _manifest() -> Manifest:
    return Manifest(campaign="c", backend="evolink", folder=FOLDER, root="file:///out", batch=True)


# -- options ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("render", "words"),
    [
        ({"batch": "{{ params.batch }}"}, ("render.batch", "fixed when the DAG is parsed")),
        ({"batch": "maybe"}, ("render.batch", "true or false")),
        ({"max_concurrency": 4}, ("render.max_concurrency", "batch renders only")),
        ({"batch": True, "max_concurrency": 65}, ("render.max_concurrency", "at most 64")),
        ({"batch": True, "max_concurrency": 0}, ("render.max_concurrency", "at least 1")),
        ({"batch": True, "max_concurrency": "{{ params.n }}"}, ("render.max_concurrency", "fixed when")),
    ],
    ids=["template", "not_a_flag", "without_batch", "too_many", "none", "max_template"],
)
def test_bad_batch_options_are_refused_at_parse_time(render: dict[str, Any], words: tuple[str, ...]) -> None:
    with DAG("t", schedule=None), pytest.raises(CampaignOptionError) as caught:
        SeedanceCampaign(takes=[TAKE], render=render)
    for word in words:
        assert word in str(caught.value)


def test_a_take_name_no_batch_item_can_carry_is_refused_at_parse_time() -> None:
    long = "x" * (MAX_TAKE_NAME + 1)
    with DAG("t", schedule=None), pytest.raises(CampaignOptionError, match=r"takes\[1\]\.name .* at most 108"):
        SeedanceCampaign(takes=[TAKE, {**TAKE, "name": long}], render={"batch": True})
    with DAG("t2", schedule=None):
        SeedanceCampaign(takes=[TAKE, {**TAKE, "name": long}])  # mapped renders take it


def test_batch_renders_each_step_in_one_task_and_the_default_stays_mapped() -> None:
    with DAG("t", schedule=None) as dag:
        SeedanceCampaign(takes=[TAKE], review={"rounds": 2}, render=Render(batch=True, max_concurrency=3))
    steps = ["render", "rerender_1", "rerender_2", "final"]
    for step in steps:
        task = dag.get_task(f"campaign.{step}")
        assert isinstance(task, CampaignBatchRender) and task.max_concurrency == 3
        assert task.failure_policy == "any" and task.retries == 2
    assert dag.get_task("campaign.render").spend_check is not None  # the first renders only
    assert dag.get_task("campaign.final").spend_check is None
    assert "campaign.plan" in dag.get_task("campaign.render").upstream_task_ids
    with DAG("m", schedule=None) as mapped:
        SeedanceCampaign(takes=[TAKE])
    render = mapped.get_task("campaign.render")
    assert not isinstance(render, CampaignBatchRender) and render.operator_class is SeedanceGenerateVideoOperator


# -- a step's takes as one batch --------------------------------------------------------------------


def test_a_steps_takes_are_one_batch_named_by_take_and_saved_at_their_paths() -> None:
    takes = _takes("flask", "pack", folder="file:///out/{odd}/run")
    batch = batch_of(takes)
    assert [r["name"] for r in batch.requests] == ["flask", "pack"]
    assert batch.requests[0]["prompt"] == "a calm lake" and batch.requests[0]["seed"] == takes[0].request["seed"]
    assert batch.output_path == "file:///out/{{odd}}/run/videos/{name}.mp4"  # the folder's braces kept as braces
    assert [batch.output_path.format(name=t.name) for t in takes] == [t.output_path for t in takes]
    assert batch.seedance_conn_id == "conn"


def test_rerenders_and_finals_are_batches_of_their_takes() -> None:
    manifest = _manifest()
    (take,) = _takes("flask")
    manifest.put(fates.clip_from_result(take, {"output_path": take.output_path, "generation_id": "g1"}))
    clip = manifest.videos[0]
    again, final = fates.next_take(clip, "warmer", 1, manifest), fates.final_take(clip, manifest)
    assert batch_of([again]).requests[0]["name"] == "flask-r1"
    assert batch_of([final]).requests == [{"name": "flask-final", "model": MODEL, "draft_generation_id": "g1"}]


def test_takes_of_two_folders_are_not_one_batch() -> None:
    with pytest.raises(ValueError, match="not one batch"):
        batch_of([*_takes("a"), *_takes("b", folder="file:///elsewhere")])


# -- each take's outcome from the batch's results ---------------------------------------------------


def _item(index: int, name: str, status: str, **fields: Any) -> dict[str, Any]:
    return {"item_index": index, "name": name, "status": status, "reason": None, "retryable": False, **fields}


def test_each_take_gets_its_items_outcome_by_index_checked_by_name() -> None:
    takes = _takes("a", "b", "c", "d", "e", "f")
    saved = {"generation_id": "g", "credits": 12.5, "size_bytes": 2048, "output_path": takes[0].output_path}
    results = [
        _item(0, "a", "succeeded", **saved, video_url="https://cdn/a.mp4"),
        _item(2, "c", "failed", reason="failed: content_policy_violation"),
        _item(1, "b", "skipped", reason="skipped for budget: 10 spent"),
        _item(3, "d", "timeout", reason="timeout"),
        _item(4, "x", "succeeded", **saved),  # not this take's item
    ]
    found = outcomes(takes, results, "evolink")
    assert found[0] == ({**saved, "backend": "evolink"}, None)
    assert found[1] == (None, "skipped for budget: 10 spent")
    assert found[2:] == [(None, None)] * 4  # failed, timed out, another's, missing: no video
    assert outcomes(takes, None, "evolink") == [(None, None)] * 6  # the batch task never returned


def test_batch_outcomes_give_the_fates_mapped_results_give() -> None:
    takes = _takes("a", "b", "c")
    mapped = [{"output_path": takes[0].output_path, "credits": 3.0, "generation_id": "g", "backend": "evolink"}]
    results = [
        _item(0, "a", "succeeded", generation_id="g", credits=3.0, output_path=takes[0].output_path),
        _item(1, "b", "skipped", reason="skipped for budget"),
        _item(2, "c", "failed", reason="failed: service_error"),
    ]
    found = outcomes(takes, results, "evolink")
    from_batch = [fates.clip_from_result(t, r, skipped=s) for t, (r, s) in zip(takes, found, strict=True)]
    from_mapped = [
        fates.clip_from_result(takes[0], mapped[0]),
        fates.clip_from_result(takes[1], None, skipped="skipped for budget"),
        fates.clip_from_result(takes[2], None),
    ]
    assert from_batch == from_mapped
    assert [c.status for c in from_batch] == [ClipStatus.IN_REVIEW, ClipStatus.SKIPPED_BUDGET, ClipStatus.RENDER_FAILED]


# -- the batch's budget check -----------------------------------------------------------------------


class _TaskInstance:
    """What the check reads of Airflow's task instance: its identity and the plan's XComs."""

    def __init__(self, try_number: int, xcoms: dict[tuple[str, str], Any]) -> None:
        self.dag_id, self.run_id, self.task_id, self.map_index, self.try_number = "d", "r", "c.render", -1, try_number
        self.xcoms, self.pulls = xcoms, 0

    def xcom_pull(self, *, task_ids: str, key: str = "return_value", map_indexes: int = -1) -> Any:
        self.pulls += 1
        return self.xcoms.get((task_ids, key))


def _plan_xcoms(max_credits: float | None) -> dict[tuple[str, str], Any]:
    run = {"budget": {"max_credits": max_credits, "estimate": 240.0}}
    takes = [{"estimate": 40.0}, {"estimate": 80.0}]  # and the finals' 120 the estimate counts past the takes
    return {("c.plan", "run"): run, ("c.plan", "return_value"): takes}


def test_the_batch_budget_check_counts_its_skips_per_try_and_reads_the_plan_once() -> None:
    check = BatchBudgetCheck("c.")
    first = _TaskInstance(1, _plan_xcoms(260))
    # 2 x 80 still planned + 120 of finals = 280 > 260: the first item is skipped; then 80 + 120 fits.
    assert "280 still planned would pass the budget of 260" in (check({"ti": first}, None) or "")
    assert check({"ti": first}, None) is None
    assert first.pulls == 2
    retry = _TaskInstance(2, _plan_xcoms(260))  # a new try starts counting again
    assert check({"ti": retry}, None) is not None
    assert BatchBudgetCheck("c.")({"ti": _TaskInstance(1, _plan_xcoms(None))}, None) is None
