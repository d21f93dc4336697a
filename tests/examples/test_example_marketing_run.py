"""The marketing pipeline example run end to end under ``airflow dags test`` against the emulator, its reviews
answered through the REST API of an api-server on the same database: another backend's model, a budget that
skips renders once spent, drafts first. (Split from ``test_example_dags_run.py``, with
``test_example_budget_refusals.py``, so that pytest-xdist's ``--dist loadfile`` spreads the example runs over its
workers: in one file they took about 800 s of one worker in CI, the longest part of the Airflow lane.)"""

from __future__ import annotations

import json

import pytest

from tests.examples.conftest import reviewing, run_example

# A hang guard, not a time target: a test here may start the review api-server (its fixture) and then run
# ``airflow dags test`` (420 s guard of its own); with both cores busy the two together can pass 300 s.
pytestmark = pytest.mark.timeout(600)


def test_marketing_pipeline_follows_the_connection_backend_aiml_without_aspect_ratio(
    examples_home, emulator, output, review_api
):
    """On AIML API the default model takes no aspect ratio: the format goes into the prompt instead. Two
    takes per slot (different seeds); the reviewer approves take 2 of one slot and rejects the other."""

    def choose(detail):
        return ("Approve take 2", "") if "trail-runner-shorts" in detail["subject"] else ("Reject", "")

    conf = {"max_videos": 2, "variants": 2}
    with reviewing(review_api, choose) as answered:
        tasks = run_example(
            examples_home,
            emulator,
            output,
            "example_seedance_marketing_pipeline",
            backend="aimlapi",
            conf=conf,
            api=review_api,
        )
    assert sorted(answered) == ["Review trail-runner-shorts", "Review trail-runner-youtube"]
    assert len(tasks) == 4
    assert {t.dialect for t in tasks} == {"aimlapi"}
    assert {t.spec.model for t in tasks} == {"bytedance/seedance-1-0-pro-fast"}
    assert all("Composed for" in t.spec.prompt for t in tasks)
    assert len({t.spec.seed for t in tasks}) == 4
    (manifest_path,) = output.glob("marketing/*/*/manifest.json")
    manifest = json.loads(manifest_path.read_text())
    fates = {v["name"]: v["status"] for v in manifest["videos"]}
    assert fates == {
        "trail-runner-shorts-t1": "not_chosen",
        "trail-runner-shorts-t2": "approved",
        "trail-runner-youtube-t1": "rejected",
        "trail-runner-youtube-t2": "rejected",
    }
    assert manifest["total_credits"] == sum(v["credits"] for v in manifest["videos"]) > 0
    run_example(examples_home, emulator, output, "example_seedance_publish", conf={"manifest": manifest_path.as_uri()})
    (published,) = output.glob("ready_to_publish/*/*/manifest.json")
    assert [v["name"] for v in json.loads(published.read_text())["videos"]] == ["trail-runner-shorts-t2"]
    assert [p.name for p in published.parent.glob("videos/*.mp4")] == ["trail-runner-shorts-t2.mp4"]


def test_marketing_pipeline_skips_renders_once_what_was_spent_would_pass_the_budget(
    examples_home, emulator, output, review_api
):
    """The plan estimates 3 renders x 5 s x 1 credit/s = 15 credits, within the budget of 20; the first render
    really costs 50 (the emulator's EvoLink price at 720p), and what is still planned is then counted at that
    price: the other two are skipped for budget before any create, and the run says why for each. The one
    clip rendered is reviewed and published."""
    conf = {"max_videos": 3, "max_credits": 20, "credits_per_second": 1}
    with reviewing(review_api, lambda detail: ("Approve", "")) as answered:
        tasks = run_example(
            examples_home, emulator, output, "example_seedance_marketing_pipeline", conf=conf, api=review_api
        )
    assert len(tasks) == 1 and len(answered) == 1
    (manifest_path,) = output.glob("marketing/*/*/manifest.json")
    manifest = json.loads(manifest_path.read_text())
    statuses = sorted(v["status"] for v in manifest["videos"])
    assert statuses == ["approved", "skipped_budget", "skipped_budget"], manifest["videos"]
    skipped = [v for v in manifest["videos"] if v["status"] == "skipped_budget"]
    # the second render counts itself and the third at 50 each; the third, the second being skipped, itself
    assert sorted(v["skip_reason"] for v in skipped) == [
        f"skipped for budget: 50 credits spent and {still} still planned would pass the budget of 20 credits "
        "(max_credits); nothing was submitted"
        for still in (100, 50)
    ], skipped
    assert manifest["total_credits"] == 50


def test_marketing_pipeline_reviews_drafts_first_and_renders_finals_of_approved_drafts_only(
    examples_home, emulator, output, review_api
):
    """Seedance 1.5 pro on ModelArk renders drafts: two 480p drafts are reviewed, one approved; only its
    final (from the draft's generation id, at 1080p) is rendered and published; the manifest says what
    drafts first saved."""

    def choose(detail):
        return ("Approve", "") if "trail-runner-shorts" in detail["subject"] else ("Reject", "")

    conf = {"max_videos": 2, "model": "seedance-1-5-pro-251215", "quality": "1080p", "duration": 5}
    with reviewing(review_api, choose):
        tasks = run_example(
            examples_home,
            emulator,
            output,
            "example_seedance_marketing_pipeline",
            backend="modelark",
            conf=conf,
            api=review_api,
        )
    (manifest_path,) = output.glob("marketing/*/*/manifest.json")
    manifest = json.loads(manifest_path.read_text())
    assert len(tasks) == 3, json.dumps([(v["name"], v["status"], v.get("draft")) for v in manifest["videos"]])
    clips = {v["name"]: v for v in manifest["videos"]}
    assert {n: c["status"] for n, c in clips.items()} == {
        "trail-runner-shorts": "draft_approved",
        "trail-runner-youtube": "rejected",
        "trail-runner-shorts-final": "approved",
    }
    assert clips["trail-runner-shorts"]["draft"] and clips["trail-runner-shorts"]["quality"] == "480p"
    final = clips["trail-runner-shorts-final"]
    assert not final["draft"] and final["quality"] == "1080p"
    savings = manifest["draft_savings"]
    assert (savings["drafts"], savings["finals"]) == (2, 1)
    assert savings["saved"] == pytest.approx(
        savings["all_finals_estimate"] - savings["draft_credits"] - savings["final_credits"]
    )
    run_example(examples_home, emulator, output, "example_seedance_publish", conf={"manifest": manifest_path.as_uri()})
    (published,) = output.glob("ready_to_publish/*/*/manifest.json")
    assert [v["name"] for v in json.loads(published.read_text())["videos"]] == ["trail-runner-shorts-final"]
