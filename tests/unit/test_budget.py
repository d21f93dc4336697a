"""The credit estimator and the in-run budget gate: pure functions, table-driven."""

from __future__ import annotations

import pytest

from airflow_provider_seedance.contract.budget import BudgetGate, estimate_cost, history_by_spec, refusal

FAST = "seedance-2.0-fast-text-to-video"


def render(model=FAST, duration=5, quality="720p"):
    return {"model": model, "duration": duration, "quality": quality}


def result(credits, model=FAST, duration=5, quality="720p", status="succeeded"):
    return {**render(model, duration, quality), "credits": credits, "status": status}


def test_history_of_the_same_model_duration_and_quality_gives_the_median():
    history = [result(10), result(12), result(30), result(99, duration=10), result(50, quality="1080p")]
    estimate = estimate_cost([render(), render()], history)
    assert [c.credits for c in estimate.clips] == [12, 12]
    assert estimate.total == 24
    assert "median of 3 earlier renders" in estimate.explain()


def test_a_result_without_quality_matches_any_quality_and_failed_or_uncharged_results_are_left_out():
    history = [result(8, quality=None), result(100, status="failed"), {**result(5), "credits": None}, None]
    assert history_by_spec(history) == {(FAST, 5, None): [8.0]}
    assert estimate_cost([render()], history).total == 8


def test_without_history_the_per_second_rate_is_used_and_said():
    estimate = estimate_cost([render(duration=4), render(duration=10)], [], credits_per_second=1.5)
    assert [c.credits for c in estimate.clips] == [6, 15]
    assert "per-second rate" in estimate.explain()


def test_without_history_or_rate_the_render_is_unknown_and_the_explanation_says_so():
    estimate = estimate_cost([render()], [])
    assert estimate.total == 0 and estimate.unknown == 1
    assert "no earlier render and no per-second rate" in estimate.explain()


@pytest.mark.parametrize(
    ("budget", "refused"),
    [(None, False), (30, False), (29.9, True), (0, True)],
)
def test_refusal_gives_estimate_budget_and_how(budget, refused):
    estimate = estimate_cost([render()] * 3, [result(10)])
    message = refusal(estimate, budget)
    assert (message is not None) is refused
    if message:
        assert f"estimated 30 credits for 3 renders exceeds the budget of {budget:g} credits" in message
        assert "median of 1 earlier renders" in message


def test_a_budget_with_renders_of_unknown_price_refuses_rather_than_counting_them_as_zero():
    """Issue 20: max_credits=10, no history, no rate: the estimate was 0 and the first render (50) was paid."""
    estimate = estimate_cost([render()] * 2, [])
    message = refusal(estimate, 10)
    assert message is not None and "2 of 2 renders have no known price" in message
    assert "credits_per_second" in message and "nothing was submitted" in message
    assert refusal(estimate, None) is None  # no budget: nothing to protect
    assert refusal(estimate_cost([render()] * 2, [], credits_per_second=1), 10) is None


def test_the_gate_admits_in_order_while_spent_plus_planned_fits():
    gate = BudgetGate(max_credits=50, spent=20)
    assert gate.admit([10, 15, 10, 5]) == [True, True, False, True]
    assert BudgetGate(None, 1000).admit([5, 5]) == [True, True]


def test_a_draft_is_its_own_spec_apart_from_a_final_of_the_same_quality():
    history = [result(3, quality="480p") | {"draft": True}, result(20, quality="480p")]
    estimate = estimate_cost([render(quality="480p") | {"draft": True}, render(quality="480p")], history)
    assert [c.credits for c in estimate.clips] == [3, 20]


def test_spend_refusal_counts_what_was_spent_and_what_is_still_planned():
    from airflow_provider_seedance.contract.budget import spend_refusal

    assert spend_refusal(None, 500, 500) is None
    assert spend_refusal(100, 60, 40) is None
    message = spend_refusal(100, 60, 40.5)
    assert message == (
        "skipped for budget: 60 credits spent and 40.5 still planned would pass the budget of 100 credits "
        "(max_credits); nothing was submitted"
    )
