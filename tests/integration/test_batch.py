"""The batch operator in real DAG runs against the emulator: one create per item, refusals before any create,
the failure policies, a retry after a crash halfway through the creates, and failover per item from a second
emulator account that answers 402."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import airflow
import pytest
from packaging.version import Version

from airflow_provider_seedance.contract.batch import BatchRecord
from airflow_provider_seedance.emulator.server import EmulatorServer
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.operators._batch_items import batch_items
from airflow_provider_seedance.operators._batch_routes import BatchConnections
from airflow_provider_seedance.operators._batch_submit import submit_all
from tests.integration.conftest import API_KEY, load_dags, mp4_facts, task_state, xcom

pytestmark = pytest.mark.usefixtures("airflow_db", "connections")
HAS_STATE_STORE = Version(airflow.__version__) >= Version("3.3")


@pytest.fixture(scope="module")
def dags():
    return load_dags("seedance_batch.py")


@pytest.fixture(scope="module")
def broke(connections) -> Iterator[EmulatorServer]:
    """A second account, out of credits: connection ``seedance_broke`` (ModelArk) answers 402 to every create."""
    with EmulatorServer(api_key=API_KEY, render_seconds=1.0, faults={"create": {"402": 1.0}}) as server:
        conn = {"conn_type": "seedance", "password": API_KEY, "host": server.base_url("modelark")}
        os.environ["AIRFLOW_CONN_SEEDANCE_BROKE"] = json.dumps({**conn, "extra": {"backend": "modelark"}})
        yield server
    os.environ.pop("AIRFLOW_CONN_SEEDANCE_BROKE", None)


def creates(emulator, backend: str | None = None) -> int:
    stats = emulator.stats()
    return stats["creates"][backend] if backend else stats["creates_total"]


def test_a_catalog_of_20_items_is_rendered_with_20_creates_and_saved_by_name(emulator, dags, output_dir):
    before = creates(emulator)
    run = dags["seedance_batch_catalog"].test()
    assert task_state(run, "render") == ("success", 1)
    assert creates(emulator) - before == 20
    results = xcom(run, "render")
    assert [r["item_index"] for r in results] == list(range(20))
    assert {r["status"] for r in results} == {"succeeded"}
    assert len({r["generation_id"] for r in results}) == 20
    for result in results:
        path = output_dir / "batch" / "catalog" / f"{result['name']}.mp4"
        assert result["output_path"].removeprefix("file://").endswith(str(path))
        assert path.stat().st_size == result["size_bytes"]
    assert mp4_facts(output_dir / "batch" / "catalog" / "sku-007.mp4")["codec"] == "h264"


def test_invalid_items_are_refused_by_index_and_field_before_any_create(emulator, dags, output_dir, captured):
    before = creates(emulator)
    run = dags["seedance_batch_refused"].test()
    log = captured()
    assert task_state(run, "render") == ("failed", 1)  # retries=2 unused: the same items fail the same way
    assert creates(emulator) - before == 0
    assert "Invalid requests[1].colour='blue'" in log and "is not a request field" in log
    assert "requests[3].duration=99" in log
    assert "2 of 4 items refused, nothing was submitted: Invalid requests[1].colour" in log
    assert not (output_dir / "batch" / "refused").exists() or not list((output_dir / "batch" / "refused").iterdir())


@pytest.mark.parametrize(
    ("policy", "state", "creates_made"),
    [
        # items 1 and 4 fail for good, item 5 transiently: the retry creates item 5 alone, once more
        ("any", ("failed", 2), 7),
        ("never", ("success", 1), 6),
        ("share_60", ("success", 1), 6),  # 3 of 6 failed: 50%, no more than 60%
        ("share_20", ("failed", 2), 7),  # 50% > 20%; polled on the worker (deferrable=False)
    ],
)
def test_partial_failures_under_each_policy(emulator, dags, output_dir, policy, state, creates_made):
    before, downloads = creates(emulator), emulator.stats()["downloads"]
    run = dags[f"seedance_batch_policy_{policy}"].test()
    assert task_state(run, "render") == state
    assert creates(emulator) - before == creates_made
    # A retry keeps the three saved videos (Airflow 3.3: the record says so and the files are there); without a
    # state store it reattaches to them through EvoLink's replayed keys and saves them again (identical files).
    retried = state[1] == 2
    assert emulator.stats()["downloads"] - downloads == (6 if retried and not HAS_STATE_STORE else 3)
    key = "return_value" if state[0] == "success" else "seedance_batch_results"
    results = xcom(run, "render", key=key)
    statuses = [r["status"] for r in results]
    assert statuses == ["succeeded", "failed", "succeeded", "succeeded", "failed", "failed"]
    assert results[1]["reason"].startswith("failed: content_policy_violation") and not results[1]["retryable"]
    assert results[5]["reason"] == "failed: service_error"
    folder = output_dir / "batch" / "policies" / policy
    assert sorted(p.name for p in folder.iterdir()) == ["0.mp4", "2.mp4", "3.mp4"]
    for index in (0, 2, 3):
        assert results[index]["credits"] and Path(results[index]["output_path"].removeprefix("file://")).exists()


def test_a_retry_after_a_crash_halfway_reattaches_and_creates_only_the_rest(emulator, dags, captured):
    """Items 0-4 were accepted when the first try died. AIML API has no idempotency key: only the task state store
    (Airflow 3.3+) keeps the retry from creating them again. EvoLink replays them under their keys on any Airflow."""
    before = {backend: creates(emulator, backend) for backend in ("aimlapi", "evolink")}
    run = dags["seedance_batch_crash"].test()
    log = captured()
    assert "simulated crash before the create of item 5" in log
    for backend in ("aimlapi", "evolink"):
        assert task_state(run, backend) == ("success", 2)
        results = xcom(run, backend)
        assert [r["status"] for r in results] == ["succeeded"] * 12
        made = creates(emulator, backend) - before[backend]
        if HAS_STATE_STORE or backend == "evolink":
            assert made == 12, backend
        else:
            assert made == 12 + 5  # Airflow < 3.3, no key: nothing remembered the five accepted creates
    if HAS_STATE_STORE:
        assert log.count("7 to create, 5 to reattach to") == 2


def test_a_create_that_may_have_been_billed_is_never_sent_again(emulator, dags, captured):
    """AIML API answered item 0's create with a 500 after creating it: the item is reported, and the retry (for
    item 3's transient failure) creates item 3 alone again, never item 0 (the record says so). Before Airflow 3.3
    there is no record: the task is not retried at all."""
    before = creates(emulator, "aimlapi")
    emulator.set_faults({"create": {"500_after_create": 1.0, "limit": 1}})
    try:
        run = dags["seedance_batch_uncertain"].test()
    finally:
        emulator.set_faults(None)
    log = captured()
    results = xcom(run, "render", key="seedance_batch_results")
    assert [r["status"] for r in results] == ["error", "succeeded", "succeeded", "failed"]
    assert results[0]["reason"].startswith("uncertain create") and not results[0]["retryable"]
    assert results[3]["retryable"]
    if HAS_STATE_STORE:  # 4 creates, then item 3 again
        assert task_state(run, "render") == ("failed", 2)
        assert creates(emulator, "aimlapi") - before == 5
    else:  # nothing would remember the first try's creates: a retry would pay for all of them again
        assert task_state(run, "render") == ("failed", 1)
        assert creates(emulator, "aimlapi") - before == 4
        assert "a retry would create, and pay for, every item again" in log


def test_a_budget_skips_the_items_past_it_before_their_creates_and_the_task_succeeds(emulator, dags):
    """5 items of 5 s at 2 credits/s against 30 credits: three created, two skipped (not a failure)."""
    before = creates(emulator)
    run = dags["seedance_batch_budget"].test()
    assert task_state(run, "render") == ("success", 1)
    assert creates(emulator) - before == 3
    results = xcom(run, "render")
    assert [r["status"] for r in results] == ["succeeded"] * 3 + ["skipped"] * 2
    assert {r["reason"] for r in results[3:]} == {
        "skipped for budget: 30 credits spent and 10 still planned would pass the budget of 30 credits "
        "(max_credits); nothing was submitted"
    }
    assert [r["generation_id"] for r in results[3:]] == [None, None] and not any(r["retryable"] for r in results)


def test_mapped_batches_each_resume_with_the_items_their_budget_skipped(emulator, dags):
    """The items settled before deferring are kept in XCom for the resume: each mapped instance reads its own
    (an unqualified pull of a mapped task answers every instance's, as a list)."""
    before = creates(emulator)
    run = dags["seedance_batch_budget_mapped"].test()
    assert [task_state(run, "render", index) for index in range(2)] == [("success", 1)] * 2
    assert creates(emulator) - before == 6
    for index in range(2):
        results = xcom(run, "render", map_index=index)
        assert [r["status"] for r in results] == ["succeeded"] * 3 + ["skipped"] * 2, results
        assert all(r["reason"].startswith("skipped for budget") for r in results[3:]), results


def test_items_fail_over_from_an_account_out_of_credits_with_one_create_each_across_a_crash(
    emulator, broke, dags, output_dir, captured
):
    """Item 0's create on the broke account is refused (402, nothing billed) and goes to EvoLink; items 1 and 2 go
    straight there. The first try dies before item 3's create; the retry polls items 0-2 on EvoLink (Airflow 3.3:
    the record names it; before, EvoLink's keys replay them) and creates items 3-5 there."""
    before = creates(emulator, "evolink")
    run = dags["seedance_batch_failover"].test()
    log = captured()
    assert task_state(run, "render") == ("success", 2), log[-3000:]
    assert creates(emulator, "evolink") - before == 6  # one create per item in all, on any Airflow
    refused = [r["status"] for r in broke.requests() if r["kind"] == "create"]
    # the retry starts afresh for the items the first try never moved to EvoLink (on Airflow 3.3 the record
    # sends the others straight there): one more refused request, never a create
    assert (broke.stats()["creates_total"], refused) == (0, [402, 402])
    assert "The remaining items of this try go straight to connection 'seedance_evolink'" in log
    if HAS_STATE_STORE:
        assert "3 to create, 3 to reattach to" in log
    results = xcom(run, "render")
    assert [(r["status"], r["conn_id"], r["backend"]) for r in results] == [
        ("succeeded", "seedance_evolink", "evolink")
    ] * 6
    assert len({r["generation_id"] for r in results}) == 6
    for result in results:
        assert (output_dir / "batch" / "failover" / f"{result['name']}.mp4").stat().st_size == result["size_bytes"]


class RecordingStore:
    """The task state store's ``get``/``set``, keeping every value written (Airflow's own goes through the
    supervisor, which only a running task has)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, dict[str, Any]]] = []

    def get(self, key: str, default: Any = None) -> Any:
        return next((value for written, value in reversed(self.writes) if written == key), default)

    def set(self, key: str, value: Any) -> None:
        self.writes.append((key, json.loads(json.dumps(value))))


def text_items(backend: str, model: str, prompts: list[str]) -> tuple[SeedanceHook, list[Any]]:
    """The hook of ``seedance_<backend>`` and one validated batch item per prompt (no output path)."""
    hook = SeedanceHook(f"seedance_{backend}")
    items, errors = batch_items(
        [{"prompt": prompt} for prompt in prompts],
        defaults={"model": model},
        hook=hook,
        output_path=None,
        seconds_left=600,
    )
    assert errors == []
    return hook, items


def test_each_accepted_id_is_written_while_the_creates_go_on_not_at_the_end(emulator):
    """A worker killed halfway keeps what was accepted: the record is written as ids come, one write at a time."""
    hook, items = text_items("aimlapi", "bytedance/seedance-1-0-pro-fast", [f"cup {n}" for n in range(6)])
    record, store = BatchRecord(), RecordingStore()
    before = creates(emulator, "aimlapi")
    refused, _ = asyncio.run(
        submit_all(
            BatchConnections([hook]),
            items,
            record,
            store,
            key_of=lambda item, _, n: f"k{item.index}-{n}",
            concurrency=1,
        )
    )
    assert (refused, creates(emulator, "aimlapi") - before) == ({}, 6)
    assert {key for key, _ in store.writes} == {"seedance_batch.0"}  # six items: one shard
    accepted = [len(write["items"]) for _, write in store.writes]
    assert accepted[0] == 1 and accepted[-1] == 6 and accepted == sorted(accepted), accepted
    assert BatchRecord.load(store, len(items)).items == record.items


def test_a_try_killed_after_sending_a_create_replays_it_with_the_same_key_instead_of_paying_again(emulator):
    """The record kept the item's create number, not its id (killed while the create was answered): the retry's
    create carries the same Idempotency-Key, and EvoLink answers with the task the first one made."""
    hook, items = text_items("evolink", "seedance-2.0-fast-text-to-video", [f"kettle {n}" for n in range(3)])
    first, store = BatchRecord(), RecordingStore()
    key_of = lambda item, _, n: f"kill-{item.index}-{n}"  # noqa: E731
    asyncio.run(submit_all(BatchConnections([hook]), items, first, store, key_of=key_of, concurrency=3))
    before = creates(emulator, "evolink")
    after_kill = BatchRecord()
    for item in items:  # what a kill right after the creates were sent leaves: their numbers, no ids
        after_kill.count_submission(item.index)
    refused, _ = asyncio.run(
        submit_all(BatchConnections([hook]), items, after_kill, None, key_of=key_of, concurrency=3)
    )
    assert (refused, creates(emulator, "evolink") - before) == ({}, 0)
    assert after_kill.items == first.items and after_kill.submissions == {"0": 1, "1": 1, "2": 1}


def test_the_api_key_is_nowhere_in_the_database(airflow_db):
    """Runs last in this module: the batches above deferred, wrote XComs, state store records and logs."""
    database = airflow_db / "airflow.db"
    with sqlite3.connect(database) as db:
        tables = [row[0] for row in db.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            for row in db.execute(f"select * from {table}"):
                assert API_KEY not in repr(row), f"API key found in table {table}"
