"""The batch operator's pure parts: the failure policy, the output path rule, every item validated with the
single operator's rules (all refusals at once, by index and field), the record, a try's plan; and the batch
trigger drained directly (respx at the HTTP boundary, time injected): small kwargs, exactly one event."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_seedance.contract.batch import (
    BATCH_STATE_KEY,
    SHARD_SIZE,
    UNCERTAIN,
    UNKNOWN_GENERATION,
    BatchEvent,
    BatchRecord,
    check_failure_policy,
    policy_verdict,
)
from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.operators._batch_items import (
    MAX_NAMED,
    BatchRefusal,
    batch_items,
    item_path,
    output_template,
)
from airflow_provider_seedance.operators._batch_plan import KEPT, plan_try, polled_result, record_outcomes
from airflow_provider_seedance.operators._batch_routes import BatchConnections
from airflow_provider_seedance.operators.batch import SeedanceBatchGenerateVideosOperator
from airflow_provider_seedance.triggers.batch import SeedanceBatchTrigger

KEY = "sk-batch-unit-9d1e"
BASE = "http://api.batch.test"
MODEL = "seedance-2.0-fast-text-to-video"


class DictStore:
    """The task state store's ``get``/``set``, in memory (Airflow's own is reached through the supervisor)."""

    def __init__(self, value: Any = None) -> None:
        self.values: dict[str, Any] = {} if value is None else {f"{BATCH_STATE_KEY}.0": value}
        self.sets: list[str] = []

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.sets.append(key)
        self.values[key] = json.loads(json.dumps(value))


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> SeedanceHook:
    conn = {"conn_type": "seedance", "password": KEY, "host": BASE, "extra": {"backend": "evolink", "max_retries": 0}}
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_BATCH_UNIT", json.dumps(conn))
    return SeedanceHook("seedance_batch_unit")


@pytest.mark.parametrize(
    ("policy", "failed", "total", "fails"),
    [
        ("any", 0, 10, False),
        ("any", 1, 10, True),
        ("never", 10, 10, False),
        (0.1, 1, 10, False),  # 10%: not more than the share
        (0.1, 2, 10, True),
        (0.0, 1, 1000, True),
        (1, 10, 10, False),
    ],
)
def test_the_failure_policy(policy: Any, failed: int, total: int, fails: bool) -> None:
    assert (policy_verdict(check_failure_policy(policy), failed, total) is not None) is fails


@pytest.mark.parametrize("policy", ["all", "10%", 1.5, -0.1, True, None])
def test_a_failure_policy_that_is_none_of_the_three_is_refused_naming_it(policy: Any) -> None:
    with pytest.raises(ValueError, match="failure_policy="):
        check_failure_policy(policy)
    with pytest.raises(ValueError, match="failure_policy="):
        SeedanceBatchGenerateVideosOperator(task_id="t", requests=[], failure_policy=policy)


def test_max_concurrency_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="max_concurrency=0"):
        SeedanceBatchGenerateVideosOperator(task_id="t", requests=[], max_concurrency=0)


def test_the_output_path_rule() -> None:
    template = output_template("/data/catalog/{name}-{item_index}.mp4")
    assert item_path(template, 3, "sku-1") == "/data/catalog/sku-1-3.mp4"
    assert output_template(None) is None and item_path(None, 0, None) is None
    with pytest.raises(SeedanceValidationError, match="one file for every item"):
        output_template("/data/catalog/video.mp4")
    with pytest.raises(SeedanceValidationError, match=r"names \{prompt\}"):
        output_template("/data/{prompt}.mp4")
    with pytest.raises(SeedanceValidationError, match=r"name=None.*output_path names"):
        item_path(output_template("/data/{name}.mp4"), 0, None)


def test_every_bad_item_is_named_by_index_and_field_at_once(hook: SeedanceHook) -> None:
    requests = [
        {"prompt": "ok", "name": "a"},
        {"prompt": "bad duration", "duration": 99},
        {"prompt": "unknown key", "colour": "red"},
        {"prompt": "same name", "name": "a"},
        {"prompt": "bad name", "name": "no spaces please"},
        "not a dict",
        {"prompt": "no model", "model": ""},
    ]
    items, errors = batch_items(
        requests, defaults={"model": MODEL}, hook=hook, output_path="/tmp/x/{item_index}.mp4", seconds_left=600
    )
    assert [item.index for item in items] == [0, 6]  # an empty model keeps the default
    fields = [error.field for error in errors]
    assert fields == [
        "requests[1].duration",
        "requests[2].colour",
        "requests[3].name",
        "requests[4].name",
        "requests[5]",
    ]
    message = str(BatchRefusal(errors, len(requests), task_id="render"))
    assert message.startswith("5 of 7 items refused, nothing was submitted: Invalid requests[1].duration=99")
    assert "in task 'render'" in message and "is also the name of item 0" in message


def test_defaults_are_laid_under_each_item(hook: SeedanceHook) -> None:
    items, errors = batch_items(
        [{"prompt": "a"}, {"prompt": "b", "duration": 8}],
        defaults={"model": MODEL, "duration": 5, "aspect_ratio": "9:16"},
        hook=hook,
        output_path=None,
        seconds_left=600,
    )
    assert errors == []
    assert [(i.request.duration, i.request.aspect_ratio) for i in items] == [(5, "9:16"), (8, "9:16")]
    assert items[0].digest != items[1].digest and items[0].output_path is None


def test_the_refusal_names_at_most_twenty_items_and_counts_them_all(hook: SeedanceHook) -> None:
    _, errors = batch_items(
        [{"prompt": "x", "duration": 99}] * 30, defaults={"model": MODEL}, hook=hook, output_path=None, seconds_left=1
    )
    message = str(BatchRefusal(errors, 30))
    assert f"requests[{MAX_NAMED - 1}].duration" in message and f"requests[{MAX_NAMED}]." not in message
    assert message.startswith("30 of 30 items refused, nothing was submitted (the first 20 named here")


def test_the_record_reads_back_what_it_wrote_and_an_unreadable_one_as_empty() -> None:
    store = DictStore()
    record = BatchRecord.load(store, 2)
    record.accept(0, "d0", "g0")
    record.end(1, "final", "failed: x")
    record.keep_saved(0, 10.0, 2.0)
    assert record.save(store) == 1 and record.save(store) == 0  # nothing changed since: nothing written
    again = BatchRecord.load(store, 2)
    assert (again.accepted(0, "d0"), again.accepted(0, "other"), again.accepted(1, "d1")) == ("g0", None, None)
    assert again.verdict(1) == "final" and again.saved == {"0": [10.0, 2.0]}
    again.accept(0, "d0", "g0b")  # a new create forgets what the earlier one left
    assert again.saved == {} and again.accepted(0, "d0") == "g0b"
    assert BatchRecord.load(DictStore({"items": "garbage"}), 2).items == {}
    assert BatchRecord.load(DictStore({"version": 1, "items": {"0": ["g", "d"]}}), 2).items == {}
    assert BatchRecord.load(None, 2).items == {}


def test_a_large_batch_is_kept_in_shards_under_the_store_limit_and_only_changed_shards_are_written() -> None:
    """10,000 items, each with the longest entries a try leaves: every value under Airflow's default
    max_value_storage_bytes (65535), and a change to one item writes its one shard."""
    store, size = DictStore(), 10_000
    record = BatchRecord.load(store, size)
    for index in range(size):
        record.count_submission(index)
        record.accept(index, "f" * 16, f"cgt-20261203{index:08d}-{'x' * 20}")
        record.keep_saved(index, 1.0e12, 123.456789)
    writes = record.save(store)
    assert writes == -(-size // SHARD_SIZE) and len(store.values) == writes
    assert max(len(json.dumps(value)) for value in store.values.values()) < 65_535
    store.sets.clear()
    record.end(4321, "retry", "failed: service_error")
    record.save(store)
    assert store.sets == [f"{BATCH_STATE_KEY}.{4321 // SHARD_SIZE}"]
    again = BatchRecord.load(store, size)
    assert len(again.items) == size and again.verdict(4321) == "retry" and again.submissions["9999"] == 1
    assert len(BatchRecord.load(store, 10).items) == SHARD_SIZE  # a batch of 10 items reads its one shard


def test_a_try_creates_only_what_no_earlier_try_has_and_keeps_saved_files(hook: SeedanceHook, tmp_path: Path) -> None:
    items, _ = batch_items(
        [{"prompt": f"p{n}"} for n in range(6)],
        defaults={"model": MODEL},
        hook=hook,
        output_path=str(tmp_path / "{item_index}.mp4"),
        seconds_left=600,
    )
    (tmp_path / "4.mp4").write_bytes(b"x" * 7)
    record = BatchRecord()
    for item in items[:5]:
        record.accept(item.index, item.digest, f"g{item.index}")
    record.items["1"] = ["g1", "a changed request"]
    record.ended["2"] = ["retry", "failed: service_error"]
    record.ended["3"] = ["final", "failed: content_policy_violation"]
    record.items["0"][0] = UNCERTAIN
    record.keep_saved(4, 7.0, 3.0)
    plan = plan_try(items, record)
    assert [item.index for item in plan.create] == [1, 2, 5]
    assert plan.wait == []
    assert {k: v[0] for k, v in plan.settled.items()} == {"0": "error", "3": "failed", "4": KEPT}
    (tmp_path / "4.mp4").write_bytes(b"x" * 8)  # not the file that was saved: saved again, not created again
    assert [item.index for item in plan_try(items, record).wait] == [4]


# -- the trigger --------------------------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def test_the_trigger_kwargs_are_ids_and_settings_only_and_small() -> None:
    ids = [f"task-unified-{n:010d}-abcdef" for n in range(1000)]
    trigger = SeedanceBatchTrigger(generation_ids=ids, seedance_conn_id="c", deadline=1.9e9, started_at=1.8e9)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_seedance.triggers.batch.SeedanceBatchTrigger"
    assert SeedanceBatchTrigger(**kwargs).serialize() == (classpath, kwargs)
    size = len(json.dumps(kwargs))
    assert size < len(json.dumps(ids)) + 400  # the ids and a few settings: nothing per item beyond its id
    assert KEY not in json.dumps(kwargs)


def test_the_trigger_yields_one_event_with_a_status_per_item(hook: SeedanceHook) -> None:
    bodies = {
        "g1": {"id": "g1", "status": "completed", "results": ["https://cdn.test/g1.mp4"], "usage": {"credits_used": 4}},
        "g2": {"id": "g2", "status": "failed", "error": {"code": "content_policy_violation", "message": "no"}},
        "g3": {"id": "g3", "status": "failed", "error": {"code": "service_error", "message": "later"}},
    }
    fake = FakeTime()
    trigger = SeedanceBatchTrigger(
        generation_ids=["g1", "", "g2", "g3"],
        seedance_conn_id="seedance_batch_unit",
        deadline=fake.now + 600,
        started_at=fake.now,
        poll_interval=1,
    )
    trigger.clock, trigger.sleep = fake.clock, fake.sleep

    async def drain() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    with respx.mock(assert_all_called=True) as mock:
        for gid, body in bodies.items():
            mock.get(f"{BASE}/v1/tasks/{gid}").mock(return_value=httpx.Response(200, json=body))
        payloads = asyncio.run(drain())
    assert len(payloads) == 1
    event = BatchEvent.model_validate(payloads[0])
    assert event.statuses == ["succeeded", "", "failed", "failed"]
    assert event.reasons == {"2": "failed: content_policy_violation", "3": "failed: service_error"}
    assert event.counts == {"succeeded": 1, "failed": 2} and event.final == [2]
    assert "cdn.test" not in json.dumps(payloads[0])  # no link: the worker asks for it when it saves


def test_a_generation_past_the_deadline_times_out_and_a_refused_poll_is_an_error(hook: SeedanceHook) -> None:
    fake = FakeTime()
    trigger = SeedanceBatchTrigger(
        generation_ids=["slow", "gone"],
        seedance_conn_id="seedance_batch_unit",
        deadline=fake.now + 30,
        started_at=fake.now,
        poll_interval=5,
    )
    trigger.clock, trigger.sleep = fake.clock, fake.sleep
    running = {"id": "slow", "status": "processing", "progress": 10}
    with respx.mock(assert_all_called=True) as mock:
        slow = mock.get(f"{BASE}/v1/tasks/slow").mock(return_value=httpx.Response(200, json=running))
        mock.get(f"{BASE}/v1/tasks/gone").mock(return_value=httpx.Response(404, json={"error": {"code": "not_found"}}))
        event = asyncio.run(trigger.watch_all())
    assert event.statuses == ["timeout", "error"]
    assert event.reasons == {"0": "timeout", "1": UNKNOWN_GENERATION}
    assert event.counts == {"timeout": 1, "error": 1} and event.final == []
    assert slow.call_count >= 2 and fake.now >= trigger.deadline


def test_what_a_try_leaves_for_the_next_one(hook: SeedanceHook) -> None:
    """Saved videos are kept, a transient failure and an unknown generation are created again, a final failure is
    not, a timeout is waited for again."""
    items, _ = batch_items(
        [{"prompt": f"p{n}"} for n in range(5)], defaults={"model": MODEL}, hook=hook, output_path=None, seconds_left=9
    )
    record = BatchRecord()
    for item in items:
        record.accept(item.index, item.digest, f"g{item.index}")
    event = BatchEvent(
        generation_ids=[f"g{n}" for n in range(5)],
        statuses=["succeeded", "failed", "failed", "error", "timeout"],
        reasons={"1": "failed: service_error", "2": "failed: content_policy_violation", "3": UNKNOWN_GENERATION},
        final=[2],
    )
    connections = BatchConnections([hook])
    results = [result for item in items if (result := polled_result(item, event, connections)) is not None]
    assert [(r.item_index, r.status, r.retryable) for r in results] == [
        (1, "failed", True),
        (2, "failed", False),
        (3, "error", True),
        (4, "timeout", True),
    ]
    record_outcomes(record, results)
    assert {slot: verdict for slot, (verdict, _) in record.ended.items()} == {"1": "retry", "2": "final", "3": "retry"}
    plan = plan_try(items, record)
    assert [i.index for i in plan.create] == [1, 3] and [i.index for i in plan.wait] == [0, 4]
    assert plan.settled["2"][0] == "failed"
