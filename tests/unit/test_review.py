"""What a reviewer is asked and what an answer means (the HITL operator's result read back)."""

from __future__ import annotations

import pytest

from airflow_provider_seedance.contract.review import (
    decide,
    rerender_prompt,
    rerender_seed,
    review_options,
    review_request,
)

USER = {"id": "ana", "name": "Ana"}


def test_one_take_gets_approve_reject_rerender_and_variants_one_approve_per_take():
    assert review_options(1) == ["Approve", "Reject", "Re-render"]
    assert review_options(3) == ["Approve take 1", "Approve take 2", "Approve take 3", "Reject", "Re-render"]


def test_the_request_shows_the_gallery_and_each_take():
    clip = {"name": "a-feed", "prompt": "a flask", "model": "m", "duration": 5, "quality": "720p", "credits": 12.5}
    request = review_request("a-feed", [clip, {**clip, "name": "a-feed-t2"}], "file:///g/index.html")
    assert request["subject"] == "Review a-feed"
    assert request["options"][:2] == ["Approve take 1", "Approve take 2"]
    for text in ("file:///g/index.html", "a flask", "**Model:** m, 5 s, 720p", "**Credits:** 12.5", "Take 2"):
        assert text in request["body"]


@pytest.mark.parametrize(
    ("answer", "kind", "take", "note"),
    [
        ({"chosen_options": ["Approve"], "responded_by_user": USER}, "approve", 1, ""),
        ({"chosen_options": ["Approve take 2"], "responded_by_user": USER}, "approve", 2, ""),
        ({"chosen_options": ["Reject"], "responded_by_user": USER}, "reject", 0, ""),
        (
            {"chosen_options": ["Re-render"], "params_input": {"note": " warmer light "}, "responded_by_user": USER},
            "rerender",
            0,
            "warmer light",
        ),
        ({"chosen_options": ["Reject"], "responded_by_user": None}, "timed_out", 0, ""),
        (None, "no_answer", 0, ""),
        ({"chosen_options": []}, "no_answer", 0, ""),
    ],
)
def test_decide_reads_the_hitl_result(answer, kind, take, note):
    decision = decide(answer)
    assert (decision.kind, decision.take, decision.note) == (kind, take, note)


def test_a_timeout_default_is_never_an_approval_even_if_the_default_were_approve():
    assert decide({"chosen_options": ["Approve"], "responded_by_user": None}).kind == "timed_out"


def test_rerender_adds_the_note_and_a_new_reproducible_seed():
    assert rerender_prompt("A flask.", "warmer light") == "A flask. Reviewer note: warmer light"
    assert rerender_prompt("A flask.", "  ") == "A flask."
    seeds = {rerender_seed(42, r, t) for r in (1, 2) for t in (1, 2)}
    assert len(seeds) == 4 and 42 not in seeds
    assert rerender_seed(42, 1, 1) == rerender_seed(42, 1, 1)
