"""Campaign: parse-time option refusals, clip fates, the budget, the gallery, takes, and the operator's request."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_seedance.campaign import (
    CampaignOptionError,
    ClipStatus,
    Manifest,
    SeedanceCampaign,
    fates,
    gallery,
    spend,
    takes,
)
from airflow_provider_seedance.contract.review import Decision
from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

MODEL = "seedance-2.0-fast-text-to-video"
TAKE = {"model": MODEL, "prompt": "a calm lake", "duration": 5}


def _manifest(**changes: Any) -> Manifest:
    return Manifest(campaign="c", backend="evolink", folder="file:///tmp/x", root="file:///tmp", **changes)


def _take(name: str, slot: str, **request: Any) -> takes.Take:
    return takes.Take(name=name, slot=slot, request={"model": "m", "prompt": "p", "duration": 5, "seed": 1, **request})


def _result(name: str, credits: float | None = 10) -> dict[str, Any]:
    return {"output_path": f"file:///tmp/x/videos/{name}.mp4", "credits": credits, "generation_id": "g"}


def _rendered(manifest: Manifest, *names: str, slot: str = "s", credits: float | None = 10) -> None:
    for number, name in enumerate(names, start=1):
        take = _take(name, slot).model_copy(update={"take": number})
        manifest.put(fates.clip_from_result(take, _result(name, credits)))


# -- parse-time refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"review": {"rounds": 7}}, ("review.rounds", "at most 5")),
        ({"budget": {"max_credits": -5}}, ("budget.max_credits", "at least 0")),
        ({"takes": [{"model": MODEL}]}, ("takes[0].prompt",)),
        ({"takes": [TAKE, {"prompt": "no model", "name": "b"}]}, ("takes[1].model",)),
        ({"takes": [{**TAKE, "bogus": 1}]}, ("takes[0].bogus",)),
        ({"review": {"rounds": 1, "max_rerenders": 2}}, ("review.rounds",)),
    ],
    ids=["rounds", "max_credits", "no_prompt", "no_model", "unknown_key", "max_rerenders"],
)
def test_campaign_refuses_bad_option_at_parse_time(options: dict[str, Any], words: tuple[str, ...]) -> None:
    kwargs = {"takes": [TAKE], **options}
    with DAG("t", schedule=None), pytest.raises(CampaignOptionError) as caught:
        SeedanceCampaign(**kwargs)
    for word in words:
        assert word in str(caught.value)


def test_campaign_accepts_template_budget_and_builds_its_tasks() -> None:
    with DAG("t", schedule=None) as dag:
        SeedanceCampaign(takes=[TAKE], budget={"max_credits": "{{ params.max_credits }}"})
    assert {"campaign.plan", "campaign.render", "campaign.release"} <= set(dag.task_ids)


# -- fates -----------------------------------------------------------------------------------------


def test_apply_decisions_approves_one_take_and_rerenders_with_the_note() -> None:
    manifest = _manifest(max_rerenders=1)
    _rendered(manifest, "a-t1", "a-t2", slot="a")
    _rendered(manifest, "b", slot="b")
    queue = fates.review_queue(manifest, 0)
    assert [slot for slot, _ in queue] == ["a", "b"]
    again = fates.apply_decisions(
        manifest, 0, [Decision(kind="approve", take=2), Decision(kind="rerender", note="warmer")]
    )
    status = {c.name: c.status for c in manifest.videos}
    assert status == {"a-t1": ClipStatus.NOT_CHOSEN, "a-t2": ClipStatus.APPROVED, "b": ClipStatus.RERENDERED}
    (take,) = again
    assert "Reviewer note: warmer" in take.request["prompt"]
    assert take.request["seed"] != 1
    assert take.name.endswith("-r1")


def test_apply_decisions_past_max_rerenders_is_rerender_limit() -> None:
    manifest = _manifest(max_rerenders=0)
    _rendered(manifest, "a")
    fates.review_queue(manifest, 0)
    assert fates.apply_decisions(manifest, 0, [Decision(kind="rerender", note="warmer")]) == []
    assert manifest.clip("a").status is ClipStatus.RERENDER_LIMIT


def test_apply_decisions_timed_out() -> None:
    manifest = _manifest()
    _rendered(manifest, "a")
    fates.review_queue(manifest, 0)
    fates.apply_decisions(manifest, 0, [Decision(kind="timed_out")])
    assert manifest.clip("a").status is ClipStatus.TIMED_OUT


def test_admit_skips_takes_past_the_budget() -> None:
    manifest = _manifest()
    manifest.budget.max_credits, manifest.budget.credits_per_second = 25, 1
    _rendered(manifest, "done-1", "done-2")  # 20 spent
    planned = [_take("n1", "n1", model="other"), _take("n2", "n2", model="other")]  # 5 each at the rate
    admitted = fates.admit(manifest, planned)
    assert [t.name for t in admitted] == ["n1"]
    assert admitted[0].estimate == 5
    assert manifest.clip("n1").status is ClipStatus.RENDERING
    assert manifest.clip("n2").status is ClipStatus.SKIPPED_BUDGET


def test_committed_counts_an_unpriced_render_at_its_estimate() -> None:
    manifest = _manifest()
    _rendered(manifest, "a")
    manifest.put(fates.clip_from_result(_take("b", "b"), _result("b", None)).model_copy(update={"estimate": 7}))
    assert manifest.spent() == 10
    assert manifest.committed() == 17


def test_settle_gives_every_clip_a_fate() -> None:
    manifest = _manifest()
    _rendered(manifest, "a")  # still in review
    manifest.put(fates.clip_for(_take("b", "b"), ClipStatus.RENDERING))
    manifest.put(fates.clip_for(_take("c", "c"), ClipStatus.APPROVED))
    counts = fates.settle(manifest)
    assert counts == {"no_answer": 1, "render_failed": 1, "approved": 1}
    assert manifest.clip("a").status is ClipStatus.NO_ANSWER
    assert manifest.clip("b").status is ClipStatus.RENDER_FAILED
    assert all(c.fate for c in manifest.videos)
    assert manifest.status == "released"
    assert manifest.approved == 1


# -- spend -----------------------------------------------------------------------------------------


def test_next_render_refusal() -> None:
    assert spend.next_render_refusal(None, [10, 10], 20, [10], 0) is None
    reason = spend.next_render_refusal(15, [10, 10], 20, [10], 0)
    assert reason is not None and "skipped for budget" in reason
    assert spend.next_render_refusal(20, [10, 10], 20, [10], 0) is None


# -- gallery ---------------------------------------------------------------------------------------


def test_gallery_escapes_values_and_links_relatively() -> None:
    manifest = _manifest()
    take = _take("flask", "flask", prompt="<b>x</b>").model_copy(update={"title": "<Flask>"})
    manifest.put(fates.clip_from_result(take, _result("flask")))
    page = gallery.render_gallery(manifest)
    assert "&lt;Flask&gt;" in page
    assert "<b>x</b>" not in page
    assert 'src="videos/flask.mp4"' in page
    assert "poster=" not in page


# -- takes -----------------------------------------------------------------------------------------


def test_expand_variants_and_drafts() -> None:
    (take,) = takes.parse_takes([{**TAKE, "name": "lake", "quality": "1080p"}])
    renders = takes.expand(
        [take], variants=2, drafts=True, takes_seed=True, folder="file:///tmp/x/", seedance_conn_id="c"
    )
    assert [r.name for r in renders] == ["lake-t1", "lake-t2"]
    assert renders[0].request["seed"] != renders[1].request["seed"]
    for render in renders:
        assert render.request["draft"] is True
        assert render.request["quality"] == "480p"
        assert render.final_quality == "1080p"
    assert renders[0].output_path == "file:///tmp/x/videos/lake-t1.mp4"


def test_fit_to_model_moves_aspect_ratio_into_the_prompt() -> None:
    (take,) = takes.parse_takes([{**TAKE, "aspect_ratio": "9:16"}])
    fitted = takes.fit_to_model(take, frozenset({"prompt"}))
    assert "aspect_ratio" not in fitted.request
    assert fitted.request["prompt"].endswith("Composed for vertical 9:16 framing.")
    assert takes.fit_to_model(take, None).request["aspect_ratio"] == "9:16"


# -- the operator's request ------------------------------------------------------------------------


def test_operator_named_arguments_override_the_request() -> None:
    with DAG("t2", schedule=None):
        operator = SeedanceGenerateVideoOperator(task_id="r", request={**TAKE, "prompt": "a"}, duration=6)
    request = operator.build_request()
    assert request.duration == 6
    assert request.prompt == "a"


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"request": {"model": MODEL, "prompt": "a", "bogus": 1}}, "request.bogus"), ({"prompt": "a"}, "model")],
    ids=["unknown_key", "no_model"],
)
def test_operator_refuses_a_bad_request_at_construction(kwargs: dict[str, Any], word: str) -> None:
    with DAG("t2", schedule=None), pytest.raises(SeedanceValidationError) as caught:
        SeedanceGenerateVideoOperator(task_id="r", **kwargs)
    assert word in str(caught.value)


@pytest.mark.parametrize("name", ["lake-r1", "lake-t2", "lake-final", "Lake-R12"])
def test_a_take_name_ending_like_a_generated_clip_name_is_refused(name: str) -> None:
    """``a-r1`` would be the name of ``a``'s first re-render too (and ``a-t2`` of its second variant)."""
    with pytest.raises(takes.CampaignOptionError, match=r"takes\[1\]\.name '.*' ends like a name the campaign makes"):
        takes.parse_takes([{**TAKE, "name": "lake"}, {**TAKE, "name": name}])
    assert [t.name for t in takes.parse_takes([{**TAKE, "name": "lake-r1x"}, {**TAKE, "name": "take-2"}])]
