"""Failover per item in the batch operator, through the operator and its trigger against APIs faked at the HTTP
boundary (respx): each item's create refused for sure goes to the next connection and the rest of the try go
straight there, every item validated on every fallback before any create, the record and the trigger naming
each item's connection, a retry reattaching there; and the record's connection indexes as data."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import respx

try:  # Airflow 3.2+
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow 3.1
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef]

from airflow_provider_seedance.contract.batch import BATCH_STATE_KEY, SHARD_SIZE, BatchEvent, BatchRecord
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.operators._batch_items import batch_items
from airflow_provider_seedance.operators._batch_routes import BatchConnections
from airflow_provider_seedance.operators._batch_submit import submit_all
from airflow_provider_seedance.operators.batch import SeedanceBatchGenerateVideosOperator
from airflow_provider_seedance.runtime._compat import AirflowException, AirflowFailException
from airflow_provider_seedance.triggers.batch import SeedanceBatchTrigger

ARK = "http://ark.batch-failover.test/api/v3"
ARK_TASKS = ARK + "/contents/generations/tasks"
EVO = "http://evo.batch-failover.test"
EVO_CREATE = EVO + "/v1/videos/generations"
AIML = "http://aiml.batch-failover.test"
ARK_MODEL = "dreamina-seedance-2-0-fast-260128"
ARK_OTHER = "dreamina-seedance-2-0-260128"
EVO_MODEL = "seedance-2.0-fast-text-to-video"
KEYS = {"seedance_ark": "sk-ark-BATCH-1", "seedance_evo": "sk-evo-BATCH-2", "seedance_aiml": "sk-aiml-BATCH-3"}


class FakeTI:
    dag_id, task_id, run_id, map_index, try_number = "d", "render", "r", -1, 1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = json.loads(json.dumps(value))

    def xcom_pull(self, task_ids: str, key: str, map_indexes: int | None = None) -> Any:
        # one instance's value only when asked for that instance (an unqualified pull answers every one's)
        return self.xcom.get(key) if task_ids == self.task_id and map_indexes == self.map_index else None


class DictStore(dict):
    def set(self, key: str, value: Any) -> None:
        self[key] = json.loads(json.dumps(value))


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ModelArk, an EvoLink and an AIML API connection; no client retries, so a 429 is final at once."""
    for conn_id, host, backend, extra in [
        ("seedance_ark", ARK, "modelark", {}),
        ("seedance_evo", EVO, "evolink", {}),
        ("seedance_aiml", AIML, "aimlapi", {"default_model": "bytedance/seedance-1-0-pro-fast"}),
    ]:
        conn = {"conn_type": "seedance", "password": KEYS[conn_id], "host": host, "extra": {"backend": backend}}
        conn["extra"].update(max_retries=0, **extra)
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def batch(**kwargs: Any) -> SeedanceBatchGenerateVideosOperator:
    args: dict[str, Any] = {
        "task_id": "render",
        "seedance_conn_id": "seedance_ark",
        "fallback_conn_ids": ["seedance_evo"],
        "requests": [{"prompt": f"a kite, take {n}"} for n in range(4)],
        "defaults": {"model": ARK_MODEL, "duration": 5},
        "max_concurrency": 1,  # the creates in item order
        "deferrable": True,
        **kwargs,
    }
    return SeedanceBatchGenerateVideosOperator(**args)


def ark_error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message, "param": "", "type": "x"}})


def accepted(prefix: str) -> Any:
    """A create answer with a new task id each time."""
    count = iter(range(1000))

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(200, json={"id": f"{prefix}-{next(count)}", "status": "pending", "model": body["model"]})

    return answer


def deferred(op: SeedanceBatchGenerateVideosOperator, context: dict[str, Any]) -> SeedanceBatchTrigger:
    with pytest.raises(TaskDeferred) as info:
        op.execute(context)  # type: ignore[arg-type]
    trigger = info.value.trigger
    assert isinstance(trigger, SeedanceBatchTrigger)
    return trigger


def test_items_refused_for_sure_fall_over_and_the_rest_go_straight_to_the_fallback_which_a_retry_keeps():
    store, ti = DictStore(), FakeTI()
    with respx.mock(assert_all_called=False) as api:
        ark = api.post(ARK_TASKS).mock(return_value=ark_error(402, "AccountOverdueError", "no credits left"))
        evo = api.post(EVO_CREATE).mock(side_effect=accepted("task-evo"))
        trigger = deferred(batch(), {"ti": ti, "task_state_store": store})
        # one refused request in all: once ModelArk said 402, items 1-3 were sent to EvoLink straight away
        assert (ark.call_count, evo.call_count) == (1, 4)
        assert {json.loads(call.request.content)["model"] for call in evo.calls} == {EVO_MODEL}
        _, kwargs = trigger.serialize()
        assert (kwargs["seedance_conn_id"], kwargs["fallback_conn_ids"]) == ("seedance_ark", ["seedance_evo"])
        assert kwargs["conn_indexes"] == {"0": 1, "1": 1, "2": 1, "3": 1}
        assert not any(key in json.dumps(kwargs) for key in KEYS.values())
        shard = store[f"{BATCH_STATE_KEY}.0"]
        assert shard["connections"] == ["seedance_ark", "seedance_evo"] and set(shard["conn_index"].values()) == {1}
        retry = deferred(batch(), {"ti": ti, "task_state_store": store})  # a retry reattaches: nothing is created
        assert (ark.call_count, evo.call_count) == (1, 4)
        assert retry.serialize()[1]["conn_indexes"] == kwargs["conn_indexes"]
        for n in range(4):
            done = {"id": f"task-evo-{n}", "status": "completed", "results": [f"https://cdn.test/{n}.mp4"]}
            api.get(f"{EVO}/v1/tasks/task-evo-{n}").mock(return_value=httpx.Response(200, json=done))
        trigger.sleep = _no_sleep
        event = asyncio.run(trigger.watch_all())
        results = batch().execute_complete({"ti": ti, "task_state_store": store}, event.model_dump(mode="json"))  # type: ignore[arg-type]
    assert event.statuses == ["succeeded"] * 4 and event.connections == ["seedance_ark", "seedance_evo"]
    assert [(r["status"], r["conn_id"], r["backend"]) for r in results] == [
        ("succeeded", "seedance_evo", "evolink")
    ] * 4
    assert [r["video_url"] for r in results] == [f"https://cdn.test/{n}.mp4" for n in range(4)]


async def _no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


def test_a_retry_sends_an_item_whose_create_went_unanswered_back_to_that_connection_with_the_same_key():
    """A try killed after sending item 0's create to the fallback (its id never recorded) leaves the item's create
    number and connection; the retry asks the fallback again with the same key (EvoLink replays the task), and
    never the task's own connection, where the item might otherwise be created a second time."""
    connections = BatchConnections.of(SeedanceHook("seedance_ark"), ["seedance_evo"], None)
    items, errors = batch_items(
        [{"prompt": "a kite"}],
        defaults={"model": ARK_MODEL, "duration": 5},
        hook=connections.hooks[0],
        output_path=None,
        seconds_left=600,
        connections=connections,
    )
    assert errors == []

    def key_of(item: Any, conn_index: int, submissions: int) -> str:
        return f"{item.legs[conn_index][1]}-{submissions}"

    def submit(record: BatchRecord) -> None:
        asyncio.run(submit_all(connections, items, record, None, key_of=key_of, concurrency=1))

    with respx.mock(assert_all_called=False) as api:
        ark = api.post(ARK_TASKS).mock(return_value=ark_error(402, "AccountOverdueError", "no credits left"))
        evo = api.post(EVO_CREATE).mock(side_effect=accepted("task-evo"))
        submit(BatchRecord(connections=connections.conn_ids))
        after_kill = BatchRecord(connections=connections.conn_ids, submissions={"0": 1}, conn_index={"0": 1})
        submit(after_kill)
    assert (ark.call_count, evo.call_count) == (1, 2)
    first, again = (call.request.headers["Idempotency-Key"] for call in evo.calls)
    assert first == again == f"{items[0].legs[1][1]}-1"
    assert after_kill.items["0"][0] == "task-evo-1" and after_kill.conn_of(0) == 1


def test_a_refusal_about_the_model_sends_only_that_models_items_elsewhere():
    """ModelArk has not opened one model to the account: its items go to EvoLink, the other model's stay."""
    models = [ARK_MODEL, ARK_OTHER, ARK_MODEL, ARK_OTHER]

    def ark_answer(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["model"] == ARK_MODEL:
            return ark_error(400, "ModelNotOpen", "Your account has not activated the model")
        return httpx.Response(200, json={"id": "cgt-ok", "status": "queued"})

    op = batch(requests=[{"prompt": "a kite", "model": model} for model in models])
    with respx.mock() as api:
        ark = api.post(ARK_TASKS).mock(side_effect=ark_answer)
        evo = api.post(EVO_CREATE).mock(side_effect=accepted("task-evo"))
        trigger = deferred(op, {"ti": FakeTI(), "task_state_store": DictStore()})
    assert (ark.call_count, evo.call_count) == (3, 2)  # items 0 (refused), 1 and 3 on ModelArk; 0 and 2 on EvoLink
    assert trigger.serialize()[1]["conn_indexes"] == {"0": 1, "2": 1}


def test_a_create_that_may_have_landed_never_falls_over():
    with respx.mock(assert_all_called=False) as api:
        api.post(ARK_TASKS).mock(return_value=httpx.Response(500, json={"error": {"code": "InternalError"}}))
        evo = api.post(EVO_CREATE).mock(side_effect=accepted("task-evo"))
        ti = FakeTI()
        with pytest.raises(AirflowException):
            batch(requests=[{"prompt": "a kite"}]).execute({"ti": ti, "task_state_store": DictStore()})  # type: ignore[arg-type]
    assert evo.call_count == 0
    [result] = ti.xcom["seedance_batch_results"]
    assert result["reason"].startswith("uncertain create") and result["conn_id"] == "seedance_ark"


def test_every_connection_refusing_for_sure_leaves_the_later_items_unsent():
    with respx.mock() as api:
        ark = api.post(ARK_TASKS).mock(return_value=ark_error(402, "AccountOverdueError", "no credits left"))
        evo = api.post(EVO_CREATE).mock(return_value=ark_error(402, "insufficient_quota", "no credits"))
        ti = FakeTI()
        with pytest.raises(AirflowException, match="none of them can be rendered again by a retry"):
            batch().execute({"ti": ti, "task_state_store": DictStore()})  # type: ignore[arg-type]
    assert (ark.call_count, evo.call_count) == (1, 1)
    results = ti.xcom["seedance_batch_results"]
    assert (results[0]["reason"], results[0]["conn_id"]) == ("HTTP 402 insufficient_quota", "seedance_evo")
    assert results[1]["reason"].startswith("not sent: every connection refused this try's creates for sure")
    # a retry would meet the same 402s: not retryable, as a 402 without fallbacks
    assert results[1]["conn_id"] is None and not any(r["retryable"] for r in results)


def test_without_fallbacks_every_item_is_asked_as_before():
    with respx.mock() as api:
        ark = api.post(ARK_TASKS).mock(return_value=ark_error(402, "AccountOverdueError", "no credits left"))
        ti = FakeTI()
        with pytest.raises(AirflowException):
            batch(fallback_conn_ids=None).execute({"ti": ti, "task_state_store": DictStore()})  # type: ignore[arg-type]
    assert ark.call_count == 4
    assert {r["reason"] for r in ti.xcom["seedance_batch_results"]} == {"HTTP 402 AccountOverdueError"}


def test_every_item_is_validated_on_every_fallback_before_any_create():
    """AIML API's model renders 5 or 10 s: items 1 and 2 are refused there, named by index, field and fallback."""
    op = batch(
        fallback_conn_ids="seedance_evo,seedance_aiml",  # a rendered template
        requests=[{"prompt": "a", "duration": 5}, {"prompt": "b", "duration": 12}, {"prompt": "c", "duration": 4}],
    )
    with respx.mock() as api, pytest.raises(AirflowException) as info:
        op.execute({"ti": FakeTI(), "task_state_store": DictStore()})  # type: ignore[arg-type]
    assert api.calls.call_count == 0
    text = str(info.value)
    assert text.startswith("2 of 3 items refused, nothing was submitted: Invalid requests[1].duration=12")
    assert "requests[2].duration=4" in text
    assert "on fallback_conn_ids[1] 'seedance_aiml' (aimlapi, model 'bytedance/seedance-1-0-pro-fast')" in text


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"fallback_conn_ids": ["seedance_evo", "seedance_gone"]}, r"fallback_conn_ids\[1\]='seedance_gone'"),
        ({"fallback_conn_ids": ["seedance_ark"]}, r"other than seedance_conn_id \('seedance_ark'\)"),
        ({"fallback_conn_ids": ["seedance_evo", "seedance_evo"]}, "given once"),
        ({"fallback_conn_ids": {"seedance_evo": 1}}, "fallback_conn_ids=.* must be a list of connection ids"),
        ({"fallback_models": "not a mapping"}, "fallback_models='not a mapping'.* is not a list or mapping literal"),
    ],
)
def test_bad_fallback_arguments_are_refused_naming_the_field_before_any_request(args: dict[str, Any], named: str):
    with respx.mock() as api, pytest.raises(AirflowException, match=named):
        batch(**args).execute({"ti": FakeTI()})  # type: ignore[arg-type]
    assert api.calls.call_count == 0


def test_the_trigger_polls_each_generation_on_its_own_connection():
    trigger = SeedanceBatchTrigger(
        generation_ids=["cgt-1", "", "task-evo-1"],
        seedance_conn_id="seedance_ark",
        fallback_conn_ids=["seedance_evo"],
        conn_indexes={"2": 1},
        deadline=2e9,
        poll_interval=1,
    )
    trigger.sleep = _no_sleep
    with respx.mock(assert_all_called=True) as api:
        ark = api.get(ARK_TASKS + "/cgt-1").mock(
            return_value=httpx.Response(200, json={"id": "cgt-1", "status": "succeeded", "content": {"video_url": "u"}})
        )
        evo = api.get(EVO + "/v1/tasks/task-evo-1").mock(
            return_value=httpx.Response(200, json={"id": "task-evo-1", "status": "completed", "results": ["u"]})
        )
        event = asyncio.run(trigger.watch_all())
    assert (ark.call_count, evo.call_count) == (1, 1)
    assert event.statuses == ["succeeded", "", "succeeded"]
    assert (event.connections, event.conn_indexes) == (["seedance_ark", "seedance_evo"], {"2": 1})
    assert SeedanceBatchTrigger(**trigger.serialize()[1]).serialize() == trigger.serialize()


def test_an_event_of_an_older_trigger_reads_as_every_item_on_the_tasks_own_connection():
    event = BatchEvent.model_validate({"generation_ids": ["g"], "statuses": ["succeeded"]})
    assert (event.connections, event.conn_indexes) == ([], {})


# -- the record's connection indexes ------------------------------------------------------------------------


def test_the_record_keeps_each_items_connection_as_an_index_and_translates_a_changed_list():
    store = DictStore()
    record = BatchRecord.load(store, 3, ["a", "b", "c"])
    record.send_to(0, 2)
    record.accept(0, "d0", "g0")
    record.send_to(1, 1)
    record.send_to(1, 0)  # back on the task's own connection: nothing kept for it
    record.save(store)
    assert store[f"{BATCH_STATE_KEY}.0"]["conn_index"] == {"0": 2}
    assert BatchRecord.load(store, 3, ["a", "b", "c"]).conn_of(0) == 2
    # the fallbacks were reordered and 'c' dropped: item 0 still polls on 'c', added at the end
    again = BatchRecord.load(store, 3, ["a", "b"])
    assert again.connections == ["a", "b", "c"] and again.conn_of(0) == 2 and again.conn_of(1) == 0
    moved = BatchRecord.load(store, 3, ["a", "c", "b"])
    assert moved.conn_of(0) == 1
    written_before_failover = DictStore({f"{BATCH_STATE_KEY}.0": {"version": 2, "items": {"0": ["g0", "d0"]}}})
    before = BatchRecord.load(written_before_failover, 1, ["a", "b"])
    assert before.accepted(0, "d0") == "g0" and before.conn_of(0) == 0


def test_a_shard_always_names_its_connections_and_an_item_without_an_index_is_on_their_first():
    """Items accepted on 'a' (no index: the list's first) stay on 'a' when a retry swaps 'a' and 'b'."""
    store = DictStore()
    record = BatchRecord.load(store, 2, ["a", "b"])
    record.accept(0, "d0", "g0")
    record.send_to(1, 1)
    record.accept(1, "d1", "g1")
    record.save(store)
    assert store[f"{BATCH_STATE_KEY}.0"]["connections"] == ["a", "b"]
    swapped = BatchRecord.load(store, 2, ["b", "a"])
    assert (swapped.conn_of(0), swapped.conn_of(1)) == (1, 0)


def test_a_large_batch_on_its_fallbacks_still_fits_each_shard_under_the_store_limit():
    """10,000 items, each on the third connection with the longest entries a try leaves."""
    store, size = DictStore(), 10_000
    connections = ["seedance_" + "x" * 100, "seedance_" + "y" * 100, "seedance_" + "z" * 100]
    record = BatchRecord.load(store, size, connections)
    for index in range(size):
        record.send_to(index, 2)
        record.count_submission(index)
        record.accept(index, "f" * 16, f"cgt-20261203{index:08d}-{'x' * 20}")
        record.keep_saved(index, 1.0e12, 123.456789)
    record.save(store)
    assert len(store) == -(-size // SHARD_SIZE)
    assert max(len(json.dumps(value)) for value in store.values()) < 65_535
    assert BatchRecord.load(store, size, connections).conn_of(9_999) == 2


# -- retries after failover: never pay twice, never lose a video ----------------------------------------------


def _second_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, host: str, backend: str) -> None:
    conn = {"conn_type": "seedance", "password": "sk-2nd-BATCH", "host": host, "extra": {"backend": backend}}
    conn["extra"]["max_retries"] = 0
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def test_an_items_fallback_is_in_the_store_before_its_create_is_sent_so_a_kill_then_is_replayed_there():
    """Killed while item 0's create on the fallback is in flight (the store as it was when the fallback received
    it): the retry replays that create on the fallback with its key, never creating it again on ModelArk."""
    store, seen = DictStore(), []

    def evo_answer(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(json.dumps(dict(store))))  # what a SIGKILL right now would leave
        return accepted("task-evo")(request)

    with respx.mock(assert_all_called=False) as api:
        ark = api.post(ARK_TASKS).mock(return_value=ark_error(402, "AccountOverdueError", "no credits left"))
        evo = api.post(EVO_CREATE).mock(side_effect=evo_answer)
        deferred(batch(requests=[{"prompt": "a kite"}]), {"ti": FakeTI(), "task_state_store": store})
        shard = seen[0][f"{BATCH_STATE_KEY}.0"]
        assert shard["conn_index"] == {"0": 1} and shard["connections"] == ["seedance_ark", "seedance_evo"]
        retry = deferred(
            batch(requests=[{"prompt": "a kite"}]), {"ti": FakeTI(), "task_state_store": DictStore(seen[0])}
        )
    assert (ark.call_count, evo.call_count) == (1, 2)
    first, again = (call.request.headers["Idempotency-Key"] for call in evo.calls)
    assert first == again and retry.serialize()[1]["conn_indexes"] == {"0": 1}


def test_without_a_task_state_store_a_failed_batch_with_fallbacks_is_not_retried(monkeypatch: pytest.MonkeyPatch):
    """Both connections take idempotency keys, yet a retry (no record) would start over on the first one."""
    _second_connection(monkeypatch, "seedance_evo2", "http://evo2.batch-failover.test", "evolink")
    op = batch(seedance_conn_id="seedance_evo", fallback_conn_ids=["seedance_evo2"], defaults={"model": EVO_MODEL})
    with respx.mock() as api:
        api.post(EVO_CREATE).mock(return_value=ark_error(402, "insufficient_quota", "no credits"))
        api.post("http://evo2.batch-failover.test/v1/videos/generations").mock(
            return_value=ark_error(429, "rate_limited", "slow down")
        )
        ti = FakeTI()
        with pytest.raises(AirflowFailException, match="with fallback_conn_ids and without a task state store"):
            op.execute({"ti": ti})  # type: ignore[arg-type]
    assert all(r["retryable"] for r in ti.xcom["seedance_batch_results"])  # a store would have let it retry


@pytest.mark.parametrize("refused_before", [False, True])
def test_an_unanswered_create_on_a_connection_no_longer_listed_is_not_sent_again(refused_before: bool):
    """An earlier try sent item 0's create to 'seedance_old' (since removed from fallback_conn_ids) and was killed
    before the answer: it may have been billed, so it ends uncertain; unless the record says it was refused."""
    shard: dict[str, Any] = {
        "version": 2,
        "connections": ["seedance_ark", "seedance_old"],
        "submissions": {"0": 1},
        "conn_index": {"0": 1},
    }
    if refused_before:
        shard["refused"] = {"0": ["error", "HTTP 402 insufficient_quota", False, 1]}
    store, ti = DictStore({f"{BATCH_STATE_KEY}.0": shard}), FakeTI()
    with respx.mock(assert_all_called=False) as api:
        ark = api.post(ARK_TASKS).mock(side_effect=accepted("cgt"))
        evo = api.post(EVO_CREATE).mock(side_effect=accepted("task-evo"))
        if refused_before:
            deferred(batch(requests=[{"prompt": "a kite"}]), {"ti": ti, "task_state_store": store})
        else:
            with pytest.raises(AirflowException, match="none of them can be rendered again"):
                batch(requests=[{"prompt": "a kite"}]).execute({"ti": ti, "task_state_store": store})  # type: ignore[arg-type]
    assert (ark.call_count, evo.call_count) == ((1, 0) if refused_before else (0, 0))
    if not refused_before:
        [result] = ti.xcom["seedance_batch_results"]
        assert result["reason"].startswith("uncertain create") and result["conn_id"] == "seedance_old"


def test_a_retry_that_swaps_the_connections_polls_each_item_where_it_was_accepted(monkeypatch: pytest.MonkeyPatch):
    _second_connection(monkeypatch, "seedance_ark2", "http://ark2.batch-failover.test/api/v3", "modelark")
    store, ti = DictStore(), FakeTI()
    with respx.mock(assert_all_called=False) as api:
        ark = api.post(ARK_TASKS).mock(side_effect=accepted("cgt"))
        ark2 = api.post("http://ark2.batch-failover.test/api/v3/contents/generations/tasks").mock(
            side_effect=accepted("cgt2")
        )
        deferred(batch(fallback_conn_ids=["seedance_ark2"]), {"ti": ti, "task_state_store": store})
        swapped = batch(seedance_conn_id="seedance_ark2", fallback_conn_ids=["seedance_ark"])
        retry = deferred(swapped, {"ti": ti, "task_state_store": store})
    assert (ark.call_count, ark2.call_count) == (4, 0)
    _, kwargs = retry.serialize()
    assert (kwargs["seedance_conn_id"], kwargs["fallback_conn_ids"]) == ("seedance_ark2", ["seedance_ark"])
    assert kwargs["conn_indexes"] == {str(n): 1 for n in range(4)}


@pytest.mark.parametrize(
    "fallbacks_now",
    [
        ["seedance_aiml", "seedance_evo"],  # reordered: the event's index 1 is AIML API in today's list
        ["seedance_evo", "seedance_deleted"],  # an unused fallback deleted since
        ["seedance_aiml"],  # EvoLink dropped, and AIML API refuses a 12 s item
    ],
)
def test_the_resume_saves_each_video_from_the_connection_the_event_names(fallbacks_now: list[str]):
    store, ti = DictStore(), FakeTI()
    requests = [{"prompt": "a kite", "duration": 12}]
    with respx.mock(assert_all_called=False) as api:
        api.post(ARK_TASKS).mock(return_value=ark_error(402, "AccountOverdueError", "no credits left"))
        api.post(EVO_CREATE).mock(side_effect=accepted("task-evo"))
        trigger = deferred(batch(requests=requests), {"ti": ti, "task_state_store": store})
        done = {"id": "task-evo-0", "status": "completed", "results": ["https://cdn.test/0.mp4"]}
        api.get(f"{EVO}/v1/tasks/task-evo-0").mock(return_value=httpx.Response(200, json=done))
        trigger.sleep = _no_sleep
        event = asyncio.run(trigger.watch_all()).model_dump(mode="json")
        op = batch(requests=requests, fallback_conn_ids=fallbacks_now)
        [result] = op.execute_complete({"ti": ti, "task_state_store": store}, event)  # type: ignore[arg-type]
    assert (result["status"], result["conn_id"], result["backend"]) == ("succeeded", "seedance_evo", "evolink")
    assert result["video_url"] == "https://cdn.test/0.mp4"


def test_a_retry_after_every_connection_refused_for_sure_starts_again_at_the_first():
    store, ti = DictStore(), FakeTI()
    with respx.mock(assert_all_called=False) as api:
        ark = api.post(ARK_TASKS).mock(return_value=ark_error(429, "RateLimitExceeded", "slow down"))
        evo = api.post(EVO_CREATE).mock(return_value=ark_error(402, "insufficient_quota", "no credits"))
        with pytest.raises(AirflowException, match="a retry renders again only items 0"):
            batch(requests=[{"prompt": "a kite"}]).execute({"ti": ti, "task_state_store": store})  # type: ignore[arg-type]
        # retryable: ModelArk's 429 may pass, though EvoLink's 402, the last refusal, will not
        [result] = ti.xcom["seedance_batch_results"]
        assert (result["retryable"], result["conn_id"]) == (True, "seedance_evo")
        ark.mock(side_effect=accepted("cgt"))
        retry = deferred(batch(requests=[{"prompt": "a kite"}]), {"ti": ti, "task_state_store": store})
    assert (ark.call_count, evo.call_count) == (2, 1)
    assert retry.serialize()[1]["conn_indexes"] == {}


def test_an_item_whose_render_failed_on_a_connection_no_longer_listed_is_created_again_on_the_first():
    """Its create there was answered (accepted, then the render failed transiently): no charge to replay."""
    connections = BatchConnections.of(SeedanceHook("seedance_ark"), ["seedance_evo"], None)
    items, _ = batch_items(
        [{"prompt": "a kite"}],
        defaults={"model": ARK_MODEL, "duration": 5},
        hook=connections.hooks[0],
        output_path=None,
        seconds_left=600,
        connections=connections,
    )
    shard = {
        "version": 2,
        "connections": ["seedance_ark", "seedance_old"],
        "items": {"0": ["task-old-0", items[0].digest]},
        "ended": {"0": ["retry", "failed: service_error"]},
        "submissions": {"0": 1},
        "conn_index": {"0": 1},
    }
    store = DictStore({f"{BATCH_STATE_KEY}.0": shard})
    with respx.mock(assert_all_called=False) as api:
        ark = api.post(ARK_TASKS).mock(side_effect=accepted("cgt"))
        trigger = deferred(batch(requests=[{"prompt": "a kite"}]), {"ti": FakeTI(), "task_state_store": store})
    assert ark.call_count == 1 and trigger.serialize()[1]["generation_ids"] == ["cgt-0"]
