"""Failover between connections (``fallback_conn_ids``), through the operator against APIs faked at the HTTP
boundary: each sure refusal falls over, each create that may have landed does not, the model mapping order,
every fallback validated before anything is sent, the result and the state naming where it rendered."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

try:  # Airflow 3.2+
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow 3.1
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef]

from airflow_provider_seedance.contract.failover import equivalent_model, fallback_model, model_family
from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.models import VideoRequest
from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator
from airflow_provider_seedance.runtime._compat import AirflowException

ARK = "http://ark.failover.test/api/v3"
ARK_TASKS = ARK + "/contents/generations/tasks"
EVO = "http://evo.failover.test"
EVO_CREATE = EVO + "/v1/videos/generations"
AIML = "http://aiml.failover.test"
ARK_MODEL = "dreamina-seedance-2-0-fast-260128"
EVO_MODEL = "seedance-2.0-fast-text-to-video"
KEYS = {"seedance_ark": "sk-ark-SECRET-1", "seedance_evo": "sk-evo-SECRET-2", "seedance_aiml": "sk-aiml-SECRET-3"}


class FakeTI:
    dag_id, task_id, run_id, map_index = "d", "t", "r", -1

    def __init__(self) -> None:
        self.xcom: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.xcom[key] = value

    def xcom_pull(self, task_ids: str, key: str, map_indexes: int | None = None) -> object:
        # one instance's value only when asked for that instance (an unqualified pull answers every one's)
        return self.xcom.get(key) if task_ids == self.task_id and map_indexes == self.map_index else None


class FakeStore(dict):
    def set(self, key: str, value: object) -> None:
        self[key] = value


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three connections, one per backend; no client retries, so a 429 is final at once."""
    for conn_id, host, backend, extra in [
        ("seedance_ark", ARK, "modelark", {}),
        ("seedance_evo", EVO, "evolink", {}),
        ("seedance_aiml", AIML, "aimlapi", {"default_model": "bytedance/seedance-1-0-pro-fast"}),
    ]:
        conn = {
            "conn_type": "seedance",
            "password": KEYS[conn_id],
            "host": host,
            "extra": {"backend": backend, "max_retries": 0, **extra},
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def operator(**kwargs: object) -> SeedanceGenerateVideoOperator:
    args: dict[str, object] = {
        "task_id": "t",
        "seedance_conn_id": "seedance_ark",
        "model": ARK_MODEL,
        "prompt": "a kite",
        "duration": 5,
        "wait_for_completion": False,
        "fallback_conn_ids": ["seedance_evo"],
        **kwargs,
    }
    return SeedanceGenerateVideoOperator(**args)  # type: ignore[arg-type]


def ark_error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message, "param": "", "type": "x"}})


EVO_TASK = httpx.Response(200, json={"id": "task-evo-1", "status": "pending", "model": EVO_MODEL})

SURE_REFUSALS = [
    (ark_error(402, "AccountOverdueError", "no credits left"), "402 AccountOverdueError: no credits left"),
    (ark_error(401, "AuthenticationError", "bad key"), "401 AuthenticationError: the key was refused"),
    (ark_error(403, "AccessDenied", "model not enabled"), "403 AccessDenied: the key was refused"),
    (ark_error(429, "RateLimitExceeded", "slow down"), "429 RateLimitExceeded: rate limited"),
    (ark_error(404, "InvalidEndpointOrModel.NotFound", "The model does not exist"), "404 InvalidEndpointOrModel"),
    (ark_error(400, "ModelNotOpen", "Your account has not activated the model"), "400 ModelNotOpen: the model is not"),
    (ark_error(400, "InvalidParameter", "Unsupported model 'x'"), "400 InvalidParameter: the model is not offered"),
    (httpx.ConnectError("connection refused"), "not sent: the connection failed before the request left"),
]


@pytest.mark.parametrize(("answer", "refused"), SURE_REFUSALS)
def test_a_sure_refusal_falls_over_to_the_next_connection_with_the_model_mapped(answer, refused):
    with respx.mock() as api:
        ark = api.post(ARK_TASKS).mock(side_effect=[answer])
        evo = api.post(EVO_CREATE).mock(return_value=EVO_TASK)
        result = operator().execute({"ti": FakeTI(), "task_state_store": FakeStore()})
    assert (ark.call_count, evo.call_count) == (1, 1)
    evo_body = json.loads(evo.calls.last.request.content)
    assert evo_body["model"] == EVO_MODEL
    # ModelArk's expiry follows our deadline there; EvoLink has no such field and is never sent one
    assert json.loads(ark.calls.last.request.content)["execution_expires_after"] == 3600
    assert "execution_expires_after" not in evo_body
    assert (result["seedance_conn_id"], result["backend"], result["model"]) == ("seedance_evo", "evolink", EVO_MODEL)
    [attempt] = result["attempts"]
    assert (attempt["conn_id"], attempt["backend"], attempt["model"]) == ("seedance_ark", "modelark", ARK_MODEL)
    assert attempt["refused"].startswith(refused), attempt["refused"]
    assert "http" not in attempt["refused"]


UNCERTAIN = [
    (ark_error(500, "InternalServiceError", "boom"), "may have reached the API"),
    (ark_error(503, "ServiceUnavailable", "busy"), "may have reached the API"),
    (httpx.ReadTimeout("no answer"), "may have reached the API"),
    (httpx.RemoteProtocolError("peer closed"), "may have reached the API"),
    # a request the API finds invalid is not the account's refusal: it would be just as wrong elsewhere
    (ark_error(400, "InvalidParameter", "1080p is not supported by the fast model x"), "1080p"),
]


@pytest.mark.parametrize(("answer", "said"), UNCERTAIN)
def test_a_create_that_may_have_landed_never_falls_over(answer, said):
    with respx.mock(assert_all_called=False) as api:
        ark = api.post(ARK_TASKS).mock(side_effect=[answer])
        evo = api.post(EVO_CREATE).mock(return_value=EVO_TASK)
        with pytest.raises(AirflowException) as info:
            operator().execute({"ti": FakeTI(), "task_state_store": FakeStore()})
    assert (ark.call_count, evo.call_count) == (1, 0)
    assert said in str(info.value)
    if said != "1080p":
        assert "not falling over to 'seedance_evo'" in str(info.value)


def test_evolinks_keyed_create_that_got_no_answer_does_not_fall_over_either(monkeypatch):
    """EvoLink's Idempotency-Key makes a resend on the same account safe, never one on another account."""
    op = operator(seedance_conn_id="seedance_evo", model=EVO_MODEL, fallback_conn_ids=["seedance_ark"])
    with respx.mock(assert_all_called=False) as api:
        evo = api.post(EVO_CREATE).mock(side_effect=httpx.ReadTimeout("no answer"))
        ark = api.post(ARK_TASKS).mock(return_value=httpx.Response(200, json={"id": "cgt-1"}))
        with pytest.raises(AirflowException, match="not falling over"):
            op.execute({"ti": FakeTI(), "task_state_store": FakeStore()})
    assert (evo.call_count, ark.call_count) == (1, 0)


def test_every_connection_refusing_fails_with_each_reason_and_no_key():
    body = {"error": {"code": "unauthorized", "message": f"Invalid key {KEYS['seedance_evo']}", "type": "x"}}
    with respx.mock() as api:
        api.post(ARK_TASKS).mock(return_value=ark_error(402, "AccountOverdueError", "no credits left"))
        api.post(EVO_CREATE).mock(return_value=httpx.Response(401, json=body))
        with pytest.raises(AirflowException) as info:
            operator().execute({"ti": FakeTI(), "task_state_store": FakeStore()})
    text = str(info.value)
    assert "HTTP 401" in text and "earlier refusals: seedance_ark (modelark): 402 AccountOverdueError" in text


def test_a_refusal_message_carrying_the_key_is_redacted_in_the_result():
    with respx.mock() as api:
        api.post(ARK_TASKS).mock(return_value=ark_error(401, "AuthenticationError", f"bad key {KEYS['seedance_ark']}"))
        api.post(EVO_CREATE).mock(return_value=EVO_TASK)
        result = operator().execute({"ti": FakeTI(), "task_state_store": FakeStore()})
    assert KEYS["seedance_ark"] not in json.dumps(result)
    assert "<redacted>" in result["attempts"][0]["refused"]


def test_a_retry_reattaches_to_the_fallback_that_accepted():
    store, ti = FakeStore(), FakeTI()
    with respx.mock() as api:
        ark = api.post(ARK_TASKS).mock(return_value=ark_error(402, "AccountOverdueError", "no credits left"))
        evo = api.post(EVO_CREATE).mock(return_value=EVO_TASK)
        poll = api.get(EVO + "/v1/tasks/task-evo-1").mock(
            return_value=httpx.Response(200, json={"id": "task-evo-1", "status": "processing", "model": EVO_MODEL})
        )
        operator().execute({"ti": ti, "task_state_store": store})
        assert store["seedance_generation"]["conn_id"] == "seedance_evo"
        result = operator().execute({"ti": ti, "task_state_store": store})
    assert (ark.call_count, evo.call_count, poll.call_count) == (1, 1, 1)
    assert (result["generation_id"], result["seedance_conn_id"]) == ("task-evo-1", "seedance_evo")
    assert result["attempts"][0]["refused"].startswith("402")


def test_the_trigger_polls_the_connection_that_accepted_and_the_result_says_so():
    op, ti = operator(wait_for_completion=True, deferrable=True), FakeTI()
    with respx.mock() as api:
        api.post(ARK_TASKS).mock(return_value=ark_error(402, "AccountOverdueError", "no credits left"))
        api.post(EVO_CREATE).mock(return_value=EVO_TASK)
        with pytest.raises(TaskDeferred) as deferred:
            op.execute({"ti": ti, "task_state_store": FakeStore()})
    trigger = deferred.value.trigger
    assert (trigger.seedance_conn_id, trigger.backend) == ("seedance_evo", "evolink")
    generation = {"id": "task-evo-1", "backend": "evolink", "model": EVO_MODEL, "state": "succeeded"}
    event = {"status": "success", "generation_id": "task-evo-1", "message": "done", "elapsed_s": 3.0}
    event["generation"] = {**generation, "status": "completed", "video_url": "https://cdn.test/v.mp4"}
    # a deferred task resumes on a fresh operator instance, in a process that knows only the XCom
    result = operator(wait_for_completion=True).execute_complete({"ti": ti}, event)
    assert (result["seedance_conn_id"], result["backend"], result["model"]) == ("seedance_evo", "evolink", EVO_MODEL)
    assert result["attempts"][0]["conn_id"] == "seedance_ark"


# -- checked before anything is sent -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field", "says"),
    [
        # 1.0 pro has no AIML API equivalent, and that connection's default model takes 5 or 10 s only
        (
            {"model": "seedance-1-0-pro-250528", "duration": 12, "fallback_conn_ids": ["seedance_aiml"]},
            "duration",
            "on fallback_conn_ids[0] 'seedance_aiml' (aimlapi",
        ),
        ({"model": "seedance-1-0-pro-250528"}, "fallback_models", "no evolink equivalent"),
        ({"fallback_models": {"seedance_evo": "seedance-2.0-fast-image-to-video"}}, "image_urls", "fallback_models"),
        ({"fallback_conn_ids": ["seedance_ark"]}, "fallback_conn_ids", "other than seedance_conn_id"),
        ({"fallback_conn_ids": ["seedance_evo", "seedance_evo"]}, "fallback_conn_ids", "given once"),
        ({"fallback_conn_ids": ["seedance_nowhere"]}, "fallback_conn_ids[0]", "seedance_nowhere"),
    ],
)
def test_a_bad_fallback_fails_before_any_request(kwargs, field, says):
    op = operator(**kwargs)
    with respx.mock(assert_all_called=False) as api:
        routes = [api.post(ARK_TASKS), api.post(EVO_CREATE), api.route(host="aiml.failover.test")]
        with pytest.raises(AirflowException) as info:
            op.execute({"ti": FakeTI(), "task_state_store": FakeStore()})
    assert f"Invalid {field}=" in str(info.value) and says in str(info.value), str(info.value)
    assert [route.call_count for route in routes] == [0, 0, 0]


def test_fallback_arguments_are_templated_and_may_render_to_strings():
    op = operator(fallback_conn_ids="seedance_evo, seedance_aiml", fallback_models='{"aimlapi": "m"}')
    assert {"fallback_conn_ids", "fallback_models"} <= set(op.template_fields)
    with respx.mock() as api:
        api.post(ARK_TASKS).mock(return_value=ark_error(402, "AccountOverdueError", "no credits"))
        api.post(EVO_CREATE).mock(return_value=ark_error(402, "insufficient_quota", "no credits"))
        aiml = api.post(AIML + "/v2/video/generations").mock(return_value=httpx.Response(200, json={"id": "g-1"}))
        result = operator(
            fallback_conn_ids="['seedance_evo', 'seedance_aiml']",
            fallback_models={"aimlapi": "bytedance/seedance-1-0-pro-fast"},
        ).execute({"ti": FakeTI(), "task_state_store": FakeStore()})
    assert aiml.call_count == 1
    assert [a["conn_id"] for a in result["attempts"]] == ["seedance_ark", "seedance_evo"]
    assert result["model"] == "bytedance/seedance-1-0-pro-fast"


# -- the model mapping, in order ---------------------------------------------------------------------

TEXT = VideoRequest(model=ARK_MODEL, prompt="x")


@pytest.mark.parametrize(
    ("user_map", "default", "expected"),
    [
        ({"seedance_evo": "by-conn", "evolink": "by-backend"}, "default", "by-conn"),
        ({"evolink": "by-backend"}, "default", "by-backend"),
        ({"other": "x"}, "default", EVO_MODEL),  # the table's equivalent before the connection's default
        ({}, None, EVO_MODEL),
    ],
)
def test_the_model_comes_from_the_users_map_then_the_table_then_the_connection(user_map, default, expected):
    assert fallback_model(TEXT, "modelark", "seedance_evo", "evolink", user_map=user_map, default_model=default) == (
        expected
    )


def test_the_connections_default_model_when_the_table_has_no_equivalent():
    request = VideoRequest(model="seedance-1-0-pro-250528", prompt="x")
    assert fallback_model(request, "modelark", "c", "aimlapi", user_map={}, default_model="d") == "d"
    with pytest.raises(SeedanceValidationError, match="fallback_models"):
        fallback_model(request, "modelark", "c", "aimlapi", user_map={}, default_model=None)


@pytest.mark.parametrize(
    ("source", "model", "images", "target", "expected"),
    [
        ("modelark", ARK_MODEL, 0, "evolink", "seedance-2.0-fast-text-to-video"),
        ("modelark", ARK_MODEL, 2, "evolink", "seedance-2.0-fast-image-to-video"),
        ("modelark", "dreamina-seedance-2-0-260128", 3, "evolink", "seedance-2.0-reference-to-video"),
        ("evolink", "seedance-2.0-image-to-video", 1, "modelark", "dreamina-seedance-2-0-260128"),
        ("evolink", "doubao-seedance-1.0-pro-fast", 0, "aimlapi", "bytedance/seedance-1-0-pro-fast"),
        ("aimlapi", "bytedance/seedance-1-0-pro-fast", 1, "modelark", "seedance-1-0-pro-fast-251015"),
        ("evolink", EVO_MODEL, 0, "evolink", EVO_MODEL),  # a second account of the same API: the same model
        ("evolink", EVO_MODEL, 0, "aimlapi", None),  # no 2.0 model there
    ],
)
def test_equivalents_come_from_the_model_table_by_family_and_mode(source, model, images, target, expected):
    request = VideoRequest(model=model, prompt="x", image_urls=tuple(f"https://e.test/{i}.png" for i in range(images)))
    assert equivalent_model(request, source, target) == expected


def test_a_model_family_drops_vendor_prefix_date_and_mode():
    assert {model_family(m) for m in ("seedance-2.0-fast-text-to-video", "dreamina-seedance-2-0-fast-260128")} == {
        "seedance-2-0-fast"
    }


def test_each_fallback_is_counted_and_logged(monkeypatch, caplog, capfd):
    from airflow_provider_seedance.runtime import _metrics as metrics

    sent: list[tuple[str, object, dict[str, str]]] = []

    class Stats:
        def incr(self, name: str, value: object, *, tags: dict[str, str]) -> None:
            sent.append((name, value, tags))

    monkeypatch.setattr(metrics, "_stats", Stats())
    caplog.set_level("WARNING")
    with respx.mock() as api:
        api.post(ARK_TASKS).mock(return_value=ark_error(402, "AccountOverdueError", "no credits left"))
        api.post(EVO_CREATE).mock(return_value=EVO_TASK)
        operator().execute({"ti": FakeTI(), "task_state_store": FakeStore()})
    fallbacks = [(value, tags) for name, value, tags in sent if name == "seedance.fallbacks"]
    assert fallbacks == [(1, {"backend": "modelark", "model": ARK_MODEL, "kind": "quota"})]
    logged = caplog.text + "".join(capfd.readouterr())
    assert "Falling over to connection 'seedance_evo' (evolink, seedance-2.0-fast-text-to-video)" in logged
