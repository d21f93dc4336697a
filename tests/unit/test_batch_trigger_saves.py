"""The pieces of a batch's saves in the triggerer (``save_in_triggerer``): the ledger's shards, the worker reading
the trigger's outcomes (and saving only what the ledger lacks), the trigger's kwargs with the option (ids and
settings only), and the offloaded atomic save (a failure leaves nothing, a success a verified file)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from airflow_provider_seedance.contract.batch import SHARD_SIZE, BatchEvent
from airflow_provider_seedance.contract.batch_saves import SaveIndex, SaveLedger, TriggerSave, saves_key
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.operators._batch_items import BatchItem
from airflow_provider_seedance.operators._batch_routes import BatchConnections
from airflow_provider_seedance.operators._batch_trigger_saves import push_save_plan, saved_by_trigger
from airflow_provider_seedance.runtime.storage import VideoCheckError, asave_stream_offloaded
from airflow_provider_seedance.triggers.batch import SeedanceBatchTrigger
from tests.unit.test_batch import KEY, hook  # noqa: F401  (the connection fixture)

MP4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 1000
TI = {"dag_id": "d", "task_id": "t", "run_id": "r", "map_index": -1}


def test_the_ledger_is_kept_in_shards_and_writes_only_the_changed_ones() -> None:
    ledger = SaveLedger()
    ledger.put(3, TriggerSave(status="succeeded", output_path="/v/3.mp4", size_bytes=10))
    ledger.put(SHARD_SIZE + 1, TriggerSave(status="error", reason="not saved", retryable=True))
    writes = dict(ledger.pending_writes())
    assert sorted(writes) == [saves_key(0), saves_key(1)]
    assert ledger.pending_writes() == []  # taken once
    ledger.put(4, TriggerSave(status="succeeded"))
    assert [key for key, _ in ledger.pending_writes()] == [saves_key(0)]
    shards = [json.loads(json.dumps(value)) for value in writes.values()]
    read = SaveLedger.from_shards([*shards, None, {"version": 99}, "garbage"])
    assert read.get(3) == TriggerSave(status="succeeded", output_path="/v/3.mp4", size_bytes=10)
    assert read.get(SHARD_SIZE + 1).reason == "not saved"  # type: ignore[union-attr]
    assert read.get(4) is None
    assert SaveIndex.read({"version": 1, "shards": [0, 1]}).shards == [0, 1]
    assert SaveIndex.read(None).shards == [] and SaveIndex.read({"version": 2}).shards == []


def test_the_worker_takes_the_trigger_s_outcomes_and_saves_only_what_the_ledger_lacks(hook: SeedanceHook) -> None:  # noqa: F811
    connections = BatchConnections([hook])
    items = [BatchItem(index=n, name=f"n{n}", request=None, digest="d", output_path=f"/v/{n}.mp4") for n in range(4)]  # type: ignore[arg-type]
    ledger = SaveLedger()
    ledger.put(0, TriggerSave(status="succeeded", generation_id="g0", credits=2.0, video_url="https://cdn/0"))
    ledger.put(1, TriggerSave(status="error", generation_id="g1", reason="too large", video_url="https://cdn/1"))
    ledger.put(3, TriggerSave(status="error", generation_id="g3", reason="not saved", retryable=True))
    items[0] = BatchItem(index=0, name="n0", request=None, digest="d", output_path=None)  # type: ignore[arg-type]
    results, missing = saved_by_trigger(ledger, [(item, f"g{item.index}", 0) for item in items], connections)
    assert [(r.item_index, r.status, r.reason, r.retryable) for r in results] == [
        (0, "succeeded", None, False),
        (1, "error", "too large", False),
    ]
    assert results[0].generation_id == "g0" and results[0].credits == 2.0 and results[0].name == "n0"
    assert results[0].conn_id == "seedance_batch_unit" and results[0].backend == "evolink"
    # no record, and a retryable error: the worker saves them (once)
    assert [(item.index, gid) for item, gid, _ in missing] == [(2, "g2"), (3, "g3")]


def test_the_worker_checks_each_file_the_ledger_says_was_saved(hook: SeedanceHook, tmp_path: Path, caplog) -> None:  # noqa: F811
    connections = BatchConnections([hook])
    there, short = tmp_path / "0.mp4", tmp_path / "1.mp4"
    there.write_bytes(MP4)
    short.write_bytes(MP4[:100])
    paths = [there, short, tmp_path / "2.mp4", tmp_path / "3.mp4"]
    items = [
        BatchItem(index=n, name=f"n{n}", request=None, digest="d", output_path=str(p)) for n, p in enumerate(paths)
    ]  # type: ignore[arg-type]
    ledger = SaveLedger()
    for n, path in enumerate(paths[:3]):
        ledger.put(
            n, TriggerSave(status="succeeded", generation_id=f"g{n}", output_path=f"file://{path}", size_bytes=len(MP4))
        )
    ledger.put(3, TriggerSave(status="succeeded", generation_id="g3"))  # a link kept, where the worker wanted a file
    results, missing = saved_by_trigger(ledger, [(item, f"g{item.index}", 0) for item in items], connections)
    assert [r.item_index for r in results] == [0]
    assert [item.index for item, _, _ in missing] == [1, 2, 3]  # wrong size, absent, not saved
    assert caplog.text.count("the worker saves it") == 2


def test_the_plan_holds_the_paths_as_the_worker_resolves_them(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    pushed: dict[str, object] = {}

    class Ti:
        def xcom_push(self, key: str, value: object) -> None:
            pushed[key] = value

    items = [BatchItem(index=n, name=f"n{n}", request=None, digest="d", output_path=f"out/{n}.mp4") for n in range(2)]  # type: ignore[arg-type]
    push_save_plan(Ti(), items, ["g0", ""])
    assert pushed["seedance_batch_save_plan"]["paths"] == {"0": f"file://{tmp_path}/out/0.mp4"}  # type: ignore[index]


def test_the_trigger_kwargs_with_saves_are_the_task_instance_and_settings_only() -> None:
    ids = [f"task-unified-{n:010d}-abcdef" for n in range(1000)]
    trigger = SeedanceBatchTrigger(generation_ids=ids, deadline=1.9e9, started_at=1.8e9, save_to=TI, replace=True)  # type: ignore[arg-type]
    classpath, kwargs = trigger.serialize()
    assert kwargs["save_to"] == TI and kwargs["replace"] is True
    assert SeedanceBatchTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert len(json.dumps(kwargs)) < len(json.dumps(ids)) + 600  # no path, no per-item payload
    assert KEY not in json.dumps(kwargs) and ".mp4" not in json.dumps(kwargs)
    plain = SeedanceBatchTrigger(generation_ids=ids, deadline=1.9e9).serialize()[1]
    assert "save_to" not in plain  # without the option the kwargs are as before


def test_the_event_carries_a_count_of_saves_not_their_outcomes() -> None:
    fields = set(BatchEvent.model_fields)
    assert "saved" in fields and not fields & {"output_paths", "results", "video_urls", "items"}


async def chunks(*parts: bytes, fail: bool = False) -> AsyncIterator[bytes]:
    for part in parts:
        await asyncio.sleep(0)
        yield part
    if fail:
        raise ConnectionError("the connection dropped")


async def test_the_offloaded_save_is_atomic_and_verified(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "v.mp4"
    with pytest.raises(ConnectionError):
        await asave_stream_offloaded(chunks(MP4[:500], fail=True), target)
    assert not target.exists() and list(target.parent.iterdir()) == []  # no half-written file, no .part
    with pytest.raises(VideoCheckError):
        await asave_stream_offloaded(chunks(MP4[:500]), target, expected_size=len(MP4))
    assert list(target.parent.iterdir()) == []
    (target.parent / ".v.mp4.0.part").write_bytes(b"left by a killed save")
    saved = await asave_stream_offloaded(chunks(MP4[:500], MP4[500:]), target, expected_size=len(MP4))
    assert target.read_bytes() == MP4 and saved.size_bytes == len(MP4) and saved.rewritten
    assert [p.name for p in target.parent.iterdir()] == ["v.mp4"]  # the killed save's part removed
    again = await asave_stream_offloaded(chunks(MP4), target)
    assert not again.rewritten and again.sha256 == saved.sha256  # an identical file is kept as it is


async def test_the_offloaded_save_stops_at_the_size_limit_and_saves_many_chunks_whole(tmp_path: Path) -> None:
    """A body with no Content-Length running past the limit is refused and nothing is left; a video of 3 MiB
    in 16 KiB chunks is saved whole."""
    from airflow_provider_seedance.runtime.storage import DownloadTooLarge, TransferLimits

    target = tmp_path / "v.mp4"
    body = MP4 + b"\x01" * (3 * 1024 * 1024)
    pieces = [body[i : i + 16384] for i in range(0, len(body), 16384)]
    with pytest.raises(DownloadTooLarge):
        await asave_stream_offloaded(chunks(*pieces), target, limits=TransferLimits(max_bytes=1024 * 1024))
    assert list(target.parent.iterdir()) == []
    saved = await asave_stream_offloaded(chunks(*pieces), target, expected_size=len(body))
    assert target.read_bytes() == body and saved.size_bytes == len(body)
    assert [p.name for p in target.parent.iterdir()] == ["v.mp4"]


@pytest.mark.parametrize("plan", [None, "garbage", {"version": 2, "paths": {}}, {"paths": {"0": 5}}])
async def test_a_missing_or_invalid_plan_disables_the_saves_in_the_trigger(monkeypatch, plan) -> None:
    async def aget_xcom(key: str, ti_key: object) -> object:
        return plan if key == "seedance_batch_save_plan" else None

    monkeypatch.setattr("airflow_provider_seedance.triggers._batch_saves.aget_xcom", aget_xcom)
    trigger = SeedanceBatchTrigger(generation_ids=["g0"], deadline=1.9e9, save_to=TI)  # type: ignore[arg-type]
    warnings: list[str] = []
    monkeypatch.setattr(trigger, "_log", type("Log", (), {"warning": lambda self, *a: warnings.append(a[0] % a[1:])})())
    assert await trigger._saver() is None  # the trigger only polls; the worker saves every video
    assert len(warnings) == 1 and warnings[0].startswith("Not saving in the triggerer: the save plan is")


async def test_a_failed_index_write_lists_the_new_shards_on_the_next_write(monkeypatch) -> None:
    from airflow_provider_seedance.triggers._batch_saves import TriggerSaver

    store: dict[str, object] = {}
    fail = {"index": True}

    async def aset_xcom(key: str, value: object, ti_key: object) -> None:
        if key == "seedance_batch_saves" and fail.pop("index", False):
            raise RuntimeError("the API server is away")
        store[key] = value

    monkeypatch.setattr("airflow_provider_seedance.triggers._batch_saves.aset_xcom", aset_xcom)
    saver = TriggerSaver(TI, deadline=1.9e9, concurrency=1)  # type: ignore[arg-type]
    saver.ledger.put(0, TriggerSave(status="succeeded"))
    with pytest.raises(RuntimeError):
        await saver._write()
    assert saver.index.shards == [] and "seedance_batch_saves" not in store
    saver.ledger.touch_all()  # what the write loop does after a failure
    await saver._write()
    assert store["seedance_batch_saves"] == {"version": 1, "shards": [0]} and saver.index.shards == [0]


async def test_an_entry_of_another_generation_is_stale_and_ignored(hook: SeedanceHook, tmp_path: Path) -> None:  # noqa: F811
    from airflow_provider_seedance.triggers._batch_saves import TriggerSaver

    video = tmp_path / "0.mp4"
    video.write_bytes(MP4)
    entry = TriggerSave(status="succeeded", generation_id="g-old", output_path=str(video), size_bytes=len(MP4))
    saver = TriggerSaver(TI, deadline=1.9e9, concurrency=1)  # type: ignore[arg-type]
    saver.ledger.put(0, entry)
    assert await saver.kept(0, "g-old") and not await saver.kept(0, "g-new")
    item = BatchItem(index=0, name="n0", request=None, digest="d", output_path=str(video))  # type: ignore[arg-type]
    results, missing = saved_by_trigger(saver.ledger, [(item, "g-new", 0)], BatchConnections([hook]))
    assert results == [] and [gid for _, gid, _ in missing] == ["g-new"]


async def test_a_plan_changed_in_xcom_since_the_worker_wrote_it_is_refused(monkeypatch, tmp_path: Path) -> None:
    pushed: dict[str, object] = {}

    class Ti:
        def xcom_push(self, key: str, value: object) -> None:
            pushed[key] = value

    item = BatchItem(index=0, name="n0", request=None, digest="d", output_path=str(tmp_path / "0.mp4"))  # type: ignore[arg-type]
    digest = push_save_plan(Ti(), [item], ["g0"])

    async def aget_xcom(key: str, ti_key: object) -> object:
        return json.loads(json.dumps(pushed.get(key)))  # as XCom returns it

    monkeypatch.setattr("airflow_provider_seedance.triggers._batch_saves.aget_xcom", aget_xcom)
    trigger = SeedanceBatchTrigger(generation_ids=["g0"], deadline=1.9e9, save_to=TI, save_plan_sha256=digest)  # type: ignore[arg-type]
    assert len(digest) == 64 and trigger.serialize()[1]["save_plan_sha256"] == digest
    saver = await trigger._saver()
    assert saver is not None and saver.plan.paths == {"0": f"file://{tmp_path}/0.mp4"}
    await saver.close()
    warnings: list[str] = []
    monkeypatch.setattr(trigger, "_log", type("Log", (), {"warning": lambda self, *a: warnings.append(a[0] % a[1:])})())
    pushed["seedance_batch_save_plan"] = {"version": 1, "paths": {"0": "s3://elsewhere/0.mp4"}}  # an XCom edit
    assert await trigger._saver() is None
    assert warnings == [
        "Not saving in the triggerer: the save plan's digest is not the one the worker wrote; the worker saves every video"
    ]
    trigger.save_plan_sha256 = None  # a trigger with no digest in its kwargs trusts no plan
    assert await trigger._saver() is None


def test_a_recorded_file_is_found_by_its_size_however_its_path_is_spelt(tmp_path: Path, monkeypatch) -> None:
    """The worker's check of the trigger's records: the path as the save recorded it (``file:///...``), plain,
    relative or under ``~``; another size, a folder, a missing file or an unknown filesystem is no."""
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_seedance.runtime.storage import has_file_of_size

    video = tmp_path / "v 1.mp4"
    video.write_bytes(MP4)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for spelt in (f"file://{video}", str(video), "v 1.mp4", "~/v 1.mp4", video, ObjectStoragePath(f"file://{video}")):
        assert has_file_of_size(spelt, len(MP4)), spelt
    assert not has_file_of_size(str(video), len(MP4) - 1)
    assert not has_file_of_size(str(tmp_path), len(MP4))
    assert not has_file_of_size(str(tmp_path / "gone.mp4"), len(MP4))
    assert not has_file_of_size("nosuchfs://bucket/v.mp4", len(MP4))
