"""Unit tests of the emulator's building blocks (no server), plus conformance of its JSON with
the vendor schemas kept in tests/fixtures/vendor_schemas."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from emulator_support import FakeClock

from airflow_provider_seedance.emulator.common import ApiError, TaskSpec, check_callback_url, parse_prompt
from airflow_provider_seedance.emulator.faults import FaultConfigError, FaultInjector
from airflow_provider_seedance.emulator.files import BlobReader, parse_range
from airflow_provider_seedance.emulator.runtime import EmulatorConfig
from airflow_provider_seedance.emulator.store import Phase, TaskStore
from airflow_provider_seedance.emulator.video import MediaCache, frame_size

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "vendor_schemas"


def test_parse_prompt_tags() -> None:
    clean, d = parse_prompt("A cat [fail:content_policy_violation] on a [render:2.5] piano [stuck] [expire]")
    assert clean == "A cat on a piano"
    assert (d.fail_code, d.render_seconds, d.stuck, d.expire) == ("content_policy_violation", 2.5, True, True)
    assert parse_prompt("[FAIL] x")[1].fail_code == "service_error"
    assert parse_prompt("plain [brackets] stay")[0] == "plain [brackets] stay"
    with pytest.raises(ApiError, match="needs a number"):
        parse_prompt("[render:soon]")
    with pytest.raises(ApiError, match=">= 0"):
        parse_prompt("[render:-1]")


@pytest.mark.parametrize("url", ["https://hooks.example.com/x", "https://8.8.8.8/cb", "https://[2001:4860::1]/x"])
def test_callback_url_accepted(url: str) -> None:
    assert check_callback_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "https://127.0.0.1",
        "https://10.0.0.1",
        "https://0.0.0.0",
        "https://172.31.255.1",
        "https://printer.local/x",
        "https://[fe80::1]/",
        "https://",
        "",
        42,
    ],
)
def test_callback_url_rejected(url: Any) -> None:
    with pytest.raises(ApiError):
        check_callback_url(url)


def test_parse_range() -> None:
    assert parse_range(None, 100) is None
    assert parse_range("bytes=0-9", 100) == (0, 10)
    assert parse_range("bytes=90-", 100) == (90, 100)
    assert parse_range("bytes=-5", 100) == (95, 100)
    assert parse_range("bytes=50-1000", 100) == (50, 100)
    assert parse_range("items=0-1", 100) is None
    for bad in ("bytes=100-", "bytes=-0", "bytes=9-3"):
        with pytest.raises(ValueError):
            parse_range(bad, 100)


def test_blob_reader_is_consistent_across_ranges() -> None:
    reader = BlobReader(300_000)
    whole = b"".join(reader(0, 300_000))
    assert len(whole) == 300_000
    assert whole[4:8] == b"ftyp"
    assert b"".join(reader(65_000, 140_000)) == whole[65_000:140_000]
    assert b"".join(BlobReader(10)(0, 10))[4:8] == b"ftyp"


def test_fault_injector_determinism_limit_and_validation() -> None:
    config = {"poll": {"429": 0.5, "slow": 0.25}, "create": {"500_after_create": 1.0, "limit": 1}}
    a, b = FaultInjector(config, seed=3), FaultInjector(config, seed=3)
    seq_a = [getattr(a.draw("poll"), "name", None) for _ in range(200)]
    assert seq_a == [getattr(b.draw("poll"), "name", None) for _ in range(200)]
    assert 70 <= seq_a.count("429") <= 130
    assert 25 <= seq_a.count("slow") <= 75
    assert a.draw("create") is not None
    assert a.draw("create") is None
    assert a.draw("download") is None
    fault = FaultInjector({"poll": {"503": 1.0, "retry_after": 9}}).draw("poll")
    assert fault is not None
    assert (fault.status, fault.retry_after) == (503, 9)
    with pytest.raises(FaultConfigError, match="only applies"):
        FaultInjector({"poll": {"truncate": 0.1}})


def _spec(**directives: Any) -> TaskSpec:
    spec = TaskSpec(model="m", prompt="p", duration=5, ratio="16:9", resolution="720p")
    for key, value in directives.items():
        setattr(spec.directives, key, value)
    return spec


def test_store_lifecycle() -> None:
    clock = FakeClock(0.0)
    store = TaskStore(clock, render_seconds=10.0)
    task = store.create("t1", "evolink", _spec())
    seen = []
    for _ in range(12):
        view = store.view(task)
        seen.append((view.phase, view.progress))
        clock.advance(1.0)
    assert seen[0] == (Phase.QUEUED, 0)
    running = [p for phase, p in seen if phase is Phase.RUNNING]
    assert running == sorted(running)
    assert 1 <= running[0] < running[-1] <= 99
    assert seen[-1] == (Phase.SUCCEEDED, 100)
    assert store.view(task).finished_unix == int(task.created_unix + 10)
    instant = store.create("t2", "evolink", _spec(render_seconds=0.0))
    assert store.view(instant).phase is Phase.SUCCEEDED
    queued = store.create("t3", "modelark", _spec())
    assert store.cancel(queued).phase is Phase.CANCELLED
    assert store.stats()["by_status"] == {"cancelled": 1, "succeeded": 2}


def test_media_cache_evicts_least_recently_used() -> None:
    cache = MediaCache(max_bytes=25)
    calls: list[str] = []

    def render(key: str) -> bytes:
        calls.append(key)
        return key.encode() * 10

    for key in ("a", "b", "a", "c", "a", "b"):
        cache.get_or_render(key, functools.partial(render, key))
    assert calls == ["a", "b", "c", "b"]


def test_frame_sizes_are_even() -> None:
    for ratio in ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive"):
        width, height = frame_size(ratio)
        assert width % 2 == 0
        assert height % 2 == 0
        assert max(width, height) == 320


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="aiml_success_word"):
        EmulatorConfig(aiml_success_word="done")


def _nullable_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` -> JSON Schema ``type: [..., "null"]``."""
    if isinstance(node, dict):
        node = {k: _nullable_to_jsonschema(v) for k, v in node.items()}
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable_to_jsonschema(v) for v in node]
    return node


def _schema(name: str, pointer: list[str]) -> Any:
    path = SCHEMAS / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    document = json.loads(path.read_text())
    node = document
    for key in pointer:
        node = node[key]
    return document, _nullable_to_jsonschema(node)


def test_emulator_json_matches_vendor_schemas(client: Any, clock: FakeClock) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    document, response_schema = _schema(
        "evolink_seedance_2_0.openapi.json", ["components", "schemas", "VideoGenerationResponse"]
    )
    resolver_doc = {**response_schema, "components": document["components"]}
    created = client.post("/v1/videos/generations", json={"model": "seedance-2.0-text-to-video", "prompt": "x"})
    jsonschema.validate(created.json(), resolver_doc)
    _, error_schema = _schema("evolink_seedance_2_0.openapi.json", ["components", "schemas", "ErrorResponse"])
    jsonschema.validate(client.post("/v1/videos/generations", json={}).json(), error_schema)

    _, poll_schema = _schema(
        "aimlapi_seedance_1_0_pro_fast.get.openapi.json",
        ["paths", "/v2/video/generations", "get", "responses", "200", "content", "application/json", "schema"],
    )
    generation = client.post(
        "/v2/video/generations", json={"model": "bytedance/seedance-1-0-pro-fast", "prompt": "x"}
    ).json()
    jsonschema.validate(
        client.get("/v2/video/generations", params={"generation_id": generation["id"]}).json(), poll_schema
    )
    clock.advance(60)
    jsonschema.validate(
        client.get("/v2/video/generations", params={"generation_id": generation["id"]}).json(), poll_schema
    )
