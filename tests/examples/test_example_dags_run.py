"""The example DAGs run end to end with their default Params (and with another backend's model) under
``airflow dags test``, against the emulator: exactly what a user does after copying them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.examples.conftest import AIRFLOW, airflow_env, dags_test, reviewing
from tests.integration.conftest import mp4_facts

# A hang guard, not a time target: a test here may start the review api-server (its fixture) and then run
# ``airflow dags test`` (420 s guard of its own); with both cores busy the two together can pass 300 s.
pytestmark = pytest.mark.timeout(600)

RATIO = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0}


def _new_tasks(emulator, before: set[str]) -> list:
    return [task for task_id, task in emulator.emulator.store.tasks.items() if task_id not in before]


def _run(examples_home, emulator, output, dag_id, **kwargs):
    before = set(emulator.emulator.store.tasks)
    result = dags_test(examples_home, emulator, output, dag_id, **kwargs)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    return _new_tasks(emulator, before)


def _only_video(folder: Path) -> Path:
    videos = list(folder.glob("*.mp4"))
    assert len(videos) == 1, videos
    return videos[0]


@pytest.fixture
def output(tmp_path: Path) -> Path:
    return tmp_path / "out"


def test_quickstart_with_its_defaults(examples_home, emulator, output):
    (task,) = _run(examples_home, emulator, output, "example_seedance_quickstart")
    assert task.spec.model == "seedance-2.0-fast-text-to-video"
    assert task.spec.duration == 5
    facts = mp4_facts(_only_video(output / "quickstart"))
    assert facts["codec"] == "h264" and abs(facts["duration"] - 5) < 0.5
    assert abs(facts["width"] / facts["height"] - RATIO["16:9"]) < 0.05


def test_quickstart_on_aiml_with_no_aspect_ratio(examples_home, emulator, output):
    conf = {"model": "bytedance/seedance-1-0-pro-fast", "aspect_ratio": None, "duration": 10}
    (task,) = _run(examples_home, emulator, output, "example_seedance_quickstart", backend="aimlapi", conf=conf)
    assert (task.dialect, task.spec.model, task.spec.duration) == ("aimlapi", "bytedance/seedance-1-0-pro-fast", 10)
    assert abs(mp4_facts(_only_video(output / "quickstart"))["duration"] - 10) < 0.5


def test_image_to_video_sends_first_then_last_frame(examples_home, emulator, output):
    first, last = "https://cdn.example.com/first.png", "https://cdn.example.com/last.png"
    conf = {"first_frame_url": first, "last_frame_url": last}
    (task,) = _run(examples_home, emulator, output, "example_seedance_image_to_video", conf=conf)
    assert task.spec.model == "seedance-2.0-fast-image-to-video"
    assert task.spec.extra["image_urls"] == [first, last]
    _only_video(output / "image_to_video")


def test_reference_to_video_sends_image_video_and_audio_references(examples_home, emulator, output):
    (task,) = _run(examples_home, emulator, output, "example_seedance_reference_to_video")
    assert task.spec.model == "seedance-2.0-fast-reference-to-video"
    extra = task.spec.extra
    assert [len(extra["image_urls"]), len(extra["video_urls"]), len(extra["audio_urls"])] == [1, 1, 1]
    assert extra["audio_urls"][0].endswith(".mp3") and extra["video_urls"][0].endswith(".mp4")
    _only_video(output / "reference_to_video")


def test_marketing_pipeline_follows_the_connection_backend_aiml_without_aspect_ratio(
    examples_home, emulator, output, review_api
):
    """On AIML API the default model takes no aspect ratio: the format goes into the prompt instead. Two
    takes per slot (different seeds); the reviewer approves take 2 of one slot and rejects the other."""

    def choose(detail):
        return ("Approve take 2", "") if "trail-runner-shorts" in detail["subject"] else ("Reject", "")

    conf = {"max_videos": 2, "variants": 2}
    with reviewing(review_api, choose) as answered:
        tasks = _run(
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
    _run(examples_home, emulator, output, "example_seedance_publish", conf={"manifest": manifest_path.as_uri()})
    (published,) = output.glob("ready_to_publish/*/*/manifest.json")
    assert [v["name"] for v in json.loads(published.read_text())["videos"]] == ["trail-runner-shorts-t2"]
    assert [p.name for p in published.parent.glob("videos/*.mp4")] == ["trail-runner-shorts-t2.mp4"]


def test_marketing_pipeline_refuses_a_run_over_budget_before_submitting_anything(examples_home, emulator, output):
    """No history, a per-second rate: 9 renders x 5 s x 2 credits/s = 90 credits > 50: zero creates."""
    before = set(emulator.emulator.store.tasks)
    conf = {"max_credits": 50, "credits_per_second": 2}
    result = dags_test(examples_home, emulator, output, "example_seedance_marketing_pipeline", conf=conf)
    text = result.stdout + result.stderr
    assert _new_tasks(emulator, before) == []
    assert "estimated 90 credits for 9 renders exceeds the budget of 50 credits" in text, text[-4000:]
    assert "the given per-second rate" in text
    assert not list(output.glob("ready_to_publish/*/*/manifest.json"))
    # issue 20: a refused run did not do its job, so it must not show green in the grid
    assert _last_run_state(examples_home, "example_seedance_marketing_pipeline") == "failed"
    assert "run refused for budget: estimated 90 credits" in text


def test_marketing_pipeline_with_a_budget_and_no_prices_refuses_before_the_first_render(
    examples_home, emulator, output
):
    """Issue 20: max_credits=10, no earlier runs, no credits_per_second: the estimate was 0 and the first render
    (50 credits) was paid. Now the run is refused before any create, saying what is missing."""
    before = set(emulator.emulator.store.tasks)
    result = dags_test(examples_home, emulator, output, "example_seedance_marketing_pipeline", conf={"max_credits": 10})
    text = result.stdout + result.stderr
    assert _new_tasks(emulator, before) == []
    assert "renders have no known price" in text and "Give credits_per_second" in text, text[-4000:]
    assert _last_run_state(examples_home, "example_seedance_marketing_pipeline") == "failed"


def _last_run_state(home: Path, dag_id: str) -> str:
    """The state of the DAG's latest run, as the grid shows it (read through Airflow's own CLI)."""
    listed = subprocess.run(
        [str(AIRFLOW), "dags", "list-runs", dag_id, "-o", "json"],
        env=airflow_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    (runs,) = [json.loads(line) for line in listed.stdout.splitlines() if line.startswith("[{")]
    return str(max(runs, key=lambda run: run["start_date"] or "")["state"])


def test_marketing_pipeline_skips_renders_once_what_was_spent_would_pass_the_budget(
    examples_home, emulator, output, review_api
):
    """The plan estimates 3 renders x 5 s x 1 credit/s = 15 credits, within the budget of 20; the first render
    really costs 50 (the emulator's EvoLink price at 720p), and what is still planned is then counted at that
    price: the other two are skipped for budget before any create, and the run says why for each. The one
    clip rendered is reviewed and published."""
    conf = {"max_videos": 3, "max_credits": 20, "credits_per_second": 1}
    with reviewing(review_api, lambda detail: ("Approve", "")) as answered:
        tasks = _run(examples_home, emulator, output, "example_seedance_marketing_pipeline", conf=conf, api=review_api)
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
        tasks = _run(
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
    _run(examples_home, emulator, output, "example_seedance_publish", conf={"manifest": manifest_path.as_uri()})
    (published,) = output.glob("ready_to_publish/*/*/manifest.json")
    assert [v["name"] for v in json.loads(published.read_text())["videos"]] == ["trail-runner-shorts-final"]
