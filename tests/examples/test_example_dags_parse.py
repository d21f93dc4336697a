"""Every example DAG parses with no network and no connection, documents itself, and is wired as described."""

from __future__ import annotations

import ast
import importlib.util
import os
import socket
from typing import Any

import pytest

from tests.examples.conftest import EXAMPLES

EXPECTED = {
    "example_seedance_quickstart",
    "example_seedance_image_to_video",
    "example_seedance_reference_to_video",
    "example_seedance_campaign",
    "example_seedance_marketing_pipeline",
    "example_seedance_publish",
}
FILES = sorted(EXAMPLES.glob("*.py"))


def _no_network(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("an example DAG touched the network while being parsed")


@pytest.fixture(scope="module")
def dagbag() -> Any:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    with pytest.MonkeyPatch.context() as patch:
        for name in [k for k in os.environ if k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))]:
            patch.delenv(name)  # no connection, no Variable defined
        patch.setattr(socket.socket, "connect", _no_network)
        patch.setattr(socket.socket, "connect_ex", _no_network)
        patch.setattr(socket, "getaddrinfo", _no_network)
        patch.setattr(socket, "create_connection", _no_network)
        return DagBag(dag_folder=str(EXAMPLES), safe_mode=False)


def _module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_all_examples_parse_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == EXPECTED


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_example_has_a_module_docstring_saying_what_it_shows_and_needs(path):
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring, f"{path.name} has no module docstring"
    assert "What it shows" in docstring or path.name == "example_seedance_quickstart.py"
    assert "What it needs" in docstring


@pytest.mark.parametrize("dag_id", ["example_seedance_quickstart", "example_seedance_reference_to_video"])
def test_manual_runs_offer_a_usable_trigger_form(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert {"prompt", "model", "duration", "aspect_ratio"} <= set(dag.params)
    dag.params.validate()  # the defaults are valid
    assert dag.render_template_as_native_obj  # an empty aspect ratio stays None


def test_image_to_video_takes_first_and_last_frame(dagbag):
    dag = dagbag.dags["example_seedance_image_to_video"]
    assert {"prompt", "model", "duration", "aspect_ratio", "first_frame_url", "last_frame_url"} <= set(dag.params)
    dag.params.validate()
    task = dag.get_task("animate")
    assert task.image_urls == ["{{ params.first_frame_url }}", "{{ params.last_frame_url }}"]


def test_default_models_fit_the_default_backend(dagbag):
    from airflow_provider_seedance.contract.limits import limits_for

    for dag_id, mode in (
        ("example_seedance_quickstart", "text"),
        ("example_seedance_image_to_video", "image"),
        ("example_seedance_reference_to_video", "reference"),
    ):
        params = dagbag.dags[dag_id].params
        limits = limits_for("evolink", params["model"])
        assert limits is not None and mode in limits.modes, dag_id
        assert limits.min_duration <= params["duration"] <= limits.max_duration


def test_marketing_pipeline_maps_deferrable_renders_in_the_pool_and_emits_the_gallery_asset(dagbag):
    dag = dagbag.dags["example_seedance_marketing_pipeline"]
    assert dag.schedule == "@weekly"
    assert {"model", "seedance_conn_id", "duration", "quality", "output_root", "max_videos"} <= set(dag.params)
    dag.params.validate()
    render = dag.get_task("campaign.render")
    assert render.is_mapped
    assert render.partial_kwargs["pool"] == "seedance_renders"
    assert render.partial_kwargs["deferrable"] is True
    assert {t.task_id for t in render.upstream_list} == {"campaign.plan"}
    assert {t.task_id for t in dag.get_task("campaign.plan").upstream_list} == {"brief"}
    gallery = dag.get_task("campaign.gallery")
    assert {t.task_id for t in gallery.upstream_list} == {"campaign.plan", "campaign.render"}
    assert gallery.outlets == []  # nothing is announced before the review


def test_marketing_pipeline_reviews_with_hitl_rounds_and_only_release_emits_the_gallery_asset(dagbag):
    from airflow.providers.standard.operators.hitl import HITLOperator

    dag = dagbag.dags["example_seedance_marketing_pipeline"]
    assert {"variants", "max_rerenders", "max_credits", "credits_per_second"} <= set(dag.params)
    review = dag.get_task("campaign.review_0")
    assert review.is_mapped and issubclass(review.operator_class, HITLOperator)
    assert {t.task_id for t in review.upstream_list} == {"campaign.gallery"}
    assert {t.task_id for t in dag.get_task("campaign.rerender_1").upstream_list} == {"campaign.decide_0"}
    assert {t.task_id for t in dag.get_task("campaign.review_1").upstream_list} == {"campaign.collect_1"}
    release = dag.get_task("campaign.release")
    assert [a.uri for a in release.outlets] == ["seedance://marketing/gallery"]
    assert release.trigger_rule == "all_done"
    emitting = [t.task_id for t in dag.tasks if getattr(t, "outlets", None)]
    assert emitting == ["campaign.release"]


def test_publish_is_scheduled_on_the_gallery_asset(dagbag):
    dag = dagbag.dags["example_seedance_publish"]
    assert [a.uri for a in dag.schedule] == ["seedance://marketing/gallery"]


def test_the_brief_becomes_one_take_per_product_and_channel_in_the_channel_format():
    module = _module("example_seedance_marketing_pipeline")
    brief = module.load_brief(None)
    assert {c["aspect_ratio"] for c in brief["channels"]} == {"9:16", "16:9", "1:1"}
    product, channel = brief["products"][0], brief["channels"][0]
    take = module.take(brief, product, channel, {"duration": 5, "quality": "720p"})
    assert take["name"] == "trail-runner-shorts" and take["aspect_ratio"] == "9:16"
    assert product["message"] in take["prompt"] and channel["direction"] in take["prompt"]
    assert take["labels"]["product"] == "trail-runner" and take["section"] == channel["name"]
