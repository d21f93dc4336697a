"""The single-render example DAGs run end to end with their default Params (and with another backend's model)
under ``airflow dags test``, against the emulator: exactly what a user does after copying them. The marketing
pipeline's runs are in ``test_example_marketing_run.py`` and ``test_example_budget_refusals.py`` (three files,
so that pytest-xdist's ``--dist loadfile`` spreads them over its workers)."""

from __future__ import annotations

import pytest

from tests.examples.conftest import only_video, run_example
from tests.integration.conftest import mp4_facts

# A hang guard, not a time target: a test here may start the review api-server (its fixture) and then run
# ``airflow dags test`` (420 s guard of its own); with both cores busy the two together can pass 300 s.
pytestmark = pytest.mark.timeout(600)

RATIO = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0}


def test_quickstart_with_its_defaults(examples_home, emulator, output):
    (task,) = run_example(examples_home, emulator, output, "example_seedance_quickstart")
    assert task.spec.model == "seedance-2.0-fast-text-to-video"
    assert task.spec.duration == 5
    facts = mp4_facts(only_video(output / "quickstart"))
    assert facts["codec"] == "h264" and abs(facts["duration"] - 5) < 0.5
    assert abs(facts["width"] / facts["height"] - RATIO["16:9"]) < 0.05


def test_quickstart_on_aiml_with_no_aspect_ratio(examples_home, emulator, output):
    conf = {"model": "bytedance/seedance-1-0-pro-fast", "aspect_ratio": None, "duration": 10}
    (task,) = run_example(examples_home, emulator, output, "example_seedance_quickstart", backend="aimlapi", conf=conf)
    assert (task.dialect, task.spec.model, task.spec.duration) == ("aimlapi", "bytedance/seedance-1-0-pro-fast", 10)
    assert abs(mp4_facts(only_video(output / "quickstart"))["duration"] - 10) < 0.5


def test_image_to_video_sends_first_then_last_frame(examples_home, emulator, output):
    first, last = "https://cdn.example.com/first.png", "https://cdn.example.com/last.png"
    conf = {"first_frame_url": first, "last_frame_url": last}
    (task,) = run_example(examples_home, emulator, output, "example_seedance_image_to_video", conf=conf)
    assert task.spec.model == "seedance-2.0-fast-image-to-video"
    assert task.spec.extra["image_urls"] == [first, last]
    only_video(output / "image_to_video")


def test_reference_to_video_sends_image_video_and_audio_references(examples_home, emulator, output):
    (task,) = run_example(examples_home, emulator, output, "example_seedance_reference_to_video")
    assert task.spec.model == "seedance-2.0-fast-reference-to-video"
    extra = task.spec.extra
    assert [len(extra["image_urls"]), len(extra["video_urls"]), len(extra["audio_urls"])] == [1, 1, 1]
    assert extra["audio_urls"][0].endswith(".mp3") and extra["video_urls"][0].endswith(".mp4")
    only_video(output / "reference_to_video")
