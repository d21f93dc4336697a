"""The OpenLineage facet builder (runtime/_lineage.py) and the operator's and sensor's ``get_openlineage_facets_on_*``."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import textwrap

import pytest

from airflow_provider_seedance.runtime._lineage import (
    BATCH_FACET_KEY,
    MAX_DATASETS,
    RUN_FACET_KEY,
    batch_lineage,
    input_names,
    output_name,
    run_facet_fields,
    storage_dataset_name,
    task_lineage,
    url_dataset_name,
)

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n-not-really-an-image").decode()
RESULT = {
    "generation_id": "task-unified-1-abc",
    "backend": "evolink",
    "model": "seedance-2.0-text-to-video",
    "status": "succeeded",
    "video_url": "https://files.example.com/v/task.mp4?expires=1767225600&sig=deadbeef",
    "output_path": "s3://renders/teasers/boat.mp4",
    "credits": 40.0,
    "elapsed_s": 31.5,
    "prompt": "a paper boat",
}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://cdn.example.com/a/first.png", ("https://cdn.example.com", "/a/first.png")),
        ("https://cdn.example.com/a.png?X-Amz-Signature=s3cr3t&expires=9#frag", ("https://cdn.example.com", "/a.png")),
        ("https://user:pass@cdn.example.com:8443/a.mp3?sig=1", ("https://cdn.example.com:8443", "/a.mp3")),
        ("http://CDN.example.com", ("http://cdn.example.com", "/")),
        ("file:///tmp/x.mp4", ("file", "/tmp/x.mp4")),
    ],
)
def test_a_url_loses_user_info_query_string_and_fragment(url, expected):
    assert url_dataset_name(url) == expected


def test_a_data_uri_is_named_by_media_type_and_the_sha256_of_its_payload():
    namespace, name = url_dataset_name(f"data:image/png;base64,{PNG}")
    digest = hashlib.sha256(base64.b64decode(PNG)).hexdigest()
    assert (namespace, name) == ("data", f"image/png;sha256={digest}")
    assert PNG not in name
    # Not base64 (or not decodable): the payload as given is hashed, never emitted.
    assert url_dataset_name("data:,hello") == ("data", f"text/plain;sha256={hashlib.sha256(b'hello').hexdigest()}")
    assert url_dataset_name("data:image/png;base64,@@@")[1].startswith("image/png;sha256=")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("file:///data/out/v.mp4", ("file", "/data/out/v.mp4")),
        ("/data/out/v.mp4", ("file", "/data/out/v.mp4")),
        ("s3://renders/teasers/boat.mp4", ("s3://renders", "teasers/boat.mp4")),
        ("s3://aws_default@renders/teasers/boat.mp4", ("s3://renders", "teasers/boat.mp4")),
        ("https://store.example.com/v.mp4?sig=1", ("https://store.example.com", "/v.mp4")),
    ],
)
def test_a_saved_video_is_named_as_its_object_storage_path_names_it(path, expected):
    assert storage_dataset_name(path) == expected


def test_inputs_are_each_distinct_url_once_in_order_and_unrendered_values_are_skipped():
    urls = [
        "https://a.example/1.png?sig=1",
        "https://a.example/1.png?sig=2",
        object(),
        "",
        "{{ params.url }}",
        "https://a.example:port/x.png",
        "https://b.example/2.mp4",
    ]
    assert input_names(urls) == [("https://a.example", "/1.png"), ("https://b.example", "/2.mp4")]  # type: ignore[arg-type]


def test_the_output_is_the_saved_file_else_the_result_link_else_nothing():
    assert output_name(RESULT) == ("s3://renders", "teasers/boat.mp4")
    assert output_name({**RESULT, "output_path": None}) == ("https://files.example.com", "/v/task.mp4")
    assert output_name({**RESULT, "output_path": None, "video_url": None}) is None
    assert output_name(None) is None


def test_the_run_facet_has_the_generation_and_nothing_else():
    assert run_facet_fields(RESULT) == {
        "backend": "evolink",
        "model": "seedance-2.0-text-to-video",
        "generationId": "task-unified-1-abc",
        "status": "succeeded",
        "credits": 40.0,
        "renderTimeS": 31.5,
        "connId": None,
        "refusedConnIds": [],
    }
    failed_over = {
        **RESULT,
        "seedance_conn_id": "seedance_b",
        "attempts": [{"conn_id": "seedance_a", "refused": "402"}],
    }
    assert (run_facet_fields(failed_over) or {})["connId"] == "seedance_b"
    assert (run_facet_fields(failed_over) or {})["refusedConnIds"] == ["seedance_a"]
    assert run_facet_fields(None) is None
    assert run_facet_fields({"generation_id": ""}) is None


def test_task_lineage_builds_openlineage_objects_that_serialize_without_secrets():
    pytest.importorskip("airflow.providers.openlineage")
    from openlineage.client.serde import Serde

    lineage = task_lineage(["https://cdn.example.com/a.png?sig=s3cr3t", f"data:image/png;base64,{PNG}"], RESULT)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [
        ("https://cdn.example.com", "/a.png"),
        url_dataset_name(f"data:image/png;base64,{PNG}"),
    ]
    assert [(d.namespace, d.name) for d in lineage.outputs] == [("s3://renders", "teasers/boat.mp4")]
    facet = Serde.to_dict(lineage.run_facets[RUN_FACET_KEY])
    assert facet["generationId"] == "task-unified-1-abc"
    assert facet["renderTimeS"] == 31.5
    assert facet["_schemaURL"].endswith("#/$defs/RunFacet")
    text = Serde.to_json(lineage.run_facets[RUN_FACET_KEY]) + repr(lineage)
    for secret in ("s3cr3t", "sig=", "expires=", PNG, "paper boat"):
        assert secret not in text
    # Before a result: the inputs only.
    started = task_lineage(["https://cdn.example.com/a.png"], None)
    assert started.outputs == [] and started.run_facets == {}


def test_a_batch_names_each_succeeded_items_video_at_most_max_datasets_and_counts_the_rest():
    pytest.importorskip("airflow.providers.openlineage")
    from openlineage.client.serde import Serde

    results = [
        {"status": "succeeded", "output_path": f"s3://renders/catalog/{n}.mp4", "credits": 2.5} for n in range(1500)
    ] + [{"status": "failed", "output_path": "s3://renders/catalog/never.mp4"}, {"status": "timeout"}]
    inputs = [f"https://cdn.example.com/{n}.png?sig=s3cr3t" for n in range(1200)] * 2
    lineage = batch_lineage(inputs, results, "evolink")
    assert len(lineage.inputs) == len(lineage.outputs) == MAX_DATASETS
    assert ("s3://renders", "catalog/never.mp4") not in [(d.namespace, d.name) for d in lineage.outputs]
    facet = Serde.to_dict(lineage.run_facets[BATCH_FACET_KEY])
    assert facet["statuses"] == {"succeeded": 1500, "failed": 1, "timeout": 1} and facet["items"] == 1502
    assert (facet["inputsOmitted"], facet["outputsOmitted"], facet["credits"]) == (200, 500, 3750.0)
    assert "s3cr3t" not in Serde.to_json(lineage.run_facets[BATCH_FACET_KEY]) + repr(lineage.inputs)
    started = batch_lineage(inputs[:2], None, None)  # before the results: the inputs only
    assert len(started.inputs) == 2 and started.outputs == [] and started.run_facets == {}


def test_the_operator_and_the_sensor_report_what_their_instance_returned():
    pytest.importorskip("airflow.providers.openlineage")
    from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator
    from airflow_provider_seedance.sensors.seedance import SeedanceGenerationSensor

    operator = SeedanceGenerateVideoOperator(
        task_id="generate",
        model="seedance-2.0-reference-to-video",
        prompt="a boat",
        image_urls=["https://cdn.example.com/a.png?sig=1"],
        audio_urls="https://cdn.example.com/bgm.mp3?sig=2",
    )
    assert operator.get_openlineage_facets_on_complete(None).outputs == []
    operator._result = RESULT
    lineage = operator.get_openlineage_facets_on_complete(None)
    assert [d.name for d in lineage.inputs] == ["/a.png", "/bgm.mp3"]
    assert [d.name for d in lineage.outputs] == ["teasers/boat.mp4"]
    assert operator.get_openlineage_facets_on_start().run_facets == {}
    # An unrendered template is not a URL: no inputs rather than an error.
    templated = SeedanceGenerateVideoOperator(task_id="t", model="m", prompt="p", image_urls="{{ params.urls }}")
    assert templated.get_openlineage_facets_on_failure(None).inputs == []

    sensor = SeedanceGenerationSensor(task_id="wait", generation_id="g")
    sensor._result = {**RESULT, "output_path": "/data/v.mp4"}
    lineage = sensor.get_openlineage_facets_on_complete(None)
    assert lineage.inputs == []
    assert [(d.namespace, d.name) for d in lineage.outputs] == [("file", "/data/v.mp4")]
    assert lineage.run_facets[RUN_FACET_KEY].generationId == RESULT["generation_id"]


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_importing_the_provider_imports_nothing_of_openlineage():
    out = _run(
        """
        import sys
        import airflow_provider_seedance.operators.seedance, airflow_provider_seedance.sensors.seedance
        import airflow_provider_seedance.runtime._lineage
        print(sorted(m for m in sys.modules if "openlineage" in m))
        """
    )
    # Airflow's provider discovery reads every installed provider's metadata; that is all there may be.
    assert set(eval(out)) <= {"airflow.providers.openlineage", "airflow.providers.openlineage.get_provider_info"}


def test_without_the_openlineage_provider_the_methods_return_none():
    out = _run(
        """
        import sys
        # As if not installed: importing the client or the provider's classes fails.
        sys.modules["openlineage"] = None
        sys.modules["airflow.providers.openlineage.extractors"] = None
        from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator
        from airflow_provider_seedance.sensors.seedance import SeedanceGenerationSensor
        op = SeedanceGenerateVideoOperator(task_id="t", model="seedance-2.0-text-to-video", prompt="p")
        op._result = {"generation_id": "g", "backend": "evolink", "output_path": "/tmp/v.mp4"}
        sensor = SeedanceGenerationSensor(task_id="s", generation_id="g")
        print(op.get_openlineage_facets_on_start(), op.get_openlineage_facets_on_complete(None),
              sensor.get_openlineage_facets_on_complete(None))
        print(sorted(m for m in sys.modules if m.startswith("openlineage") and sys.modules[m] is not None))
        """
    )
    assert out.splitlines() == ["None None None", "[]"]
