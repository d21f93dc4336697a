"""Operator construction (parse-time validation, templated fields) and execute() on the worker against a
faked API: reattach rules, the submit-only result, on_kill."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from airflow_provider_seedance.contract.events import VideoResult
from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator


def test_literal_invalid_request_fails_when_the_dag_is_parsed():
    with pytest.raises(SeedanceValidationError) as info:
        SeedanceGenerateVideoOperator(task_id="t", model="seedance-2.0-fast-text-to-video", prompt="x", duration=99)
    # DAG parsing names only the file: the error names the task too
    assert str(info.value) == (
        "Invalid duration=99 for model 'seedance-2.0-fast-text-to-video' in task 't': must be 4-15 seconds"
    )


def test_wrong_type_names_the_field():
    with pytest.raises(SeedanceValidationError, match="duration"):
        SeedanceGenerateVideoOperator(task_id="t", model="seedance-2.0-fast-text-to-video", prompt="x", duration="five")


def test_templated_or_unknown_requests_wait_for_run_time():
    SeedanceGenerateVideoOperator(
        task_id="a", model="seedance-2.0-fast-text-to-video", prompt="x", duration="{{ params.d }}"
    )
    SeedanceGenerateVideoOperator(task_id="b", model="{{ params.model }}", prompt="x", duration=99)
    SeedanceGenerateVideoOperator(task_id="c", model="some-future-model", prompt="x", duration=99)


def test_defaults_are_deferrable_with_a_finite_deadline():
    op = SeedanceGenerateVideoOperator(task_id="t", model="seedance-2.0-fast-text-to-video", prompt="x")
    assert op.deferrable is True
    assert op.generation_timeout == 3600
    assert op.cancel_on_kill is True
    assert "prompt" in op.template_fields and "output_path" in op.template_fields


def test_url_lists_accept_one_url_a_rendered_list_or_nothing():
    op = SeedanceGenerateVideoOperator(
        task_id="t", model="seedance-2.0-image-to-video", prompt="x", image_urls="{{ params.frames }}"
    )
    assert op.image_urls == "{{ params.frames }}"
    op.image_urls = "['https://a.test/1.png', 'https://a.test/2.png']"
    assert op.build_request().image_urls == ("https://a.test/1.png", "https://a.test/2.png")
    op.image_urls = "https://a.test/1.png"
    assert op.build_request().image_urls == ("https://a.test/1.png",)
    op.image_urls = ""
    op.aspect_ratio = ""
    request = op.build_request()
    assert (request.image_urls, request.aspect_ratio) == ((), None)
    op.image_urls = "[not a list"
    with pytest.raises(SeedanceValidationError, match="image_urls"):
        op.build_request()


def test_rendered_booleans_become_booleans_and_empty_means_not_given():
    op = SeedanceGenerateVideoOperator(
        task_id="t", model="seedance-2.0-text-to-video", prompt="x", generate_audio="{{ params.audio }}"
    )
    assert "generate_audio" in op.template_fields and "return_last_frame" in op.template_fields
    for rendered, expected in [("true", True), ("False", False), ("", None)]:
        op.generate_audio = rendered
        assert op.build_request().generate_audio is expected
    op.generate_audio = "maybe"
    with pytest.raises(SeedanceValidationError, match="generate_audio"):
        op.build_request()


# -- execute() on the worker, faked at the HTTP boundary --------------------------------------------

BASE = "http://api.operator.test/api/v3"
TASKS = BASE + "/contents/generations/tasks"
MODEL = "dreamina-seedance-2-0-fast-260128"


class FakeTI:
    dag_id, task_id, run_id, map_index = "d", "t", "r", -1

    def __init__(self) -> None:
        self.xcom: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.xcom[key] = value


class FakeStore(dict):
    def set(self, key: str, value: object) -> None:
        self[key] = value


@pytest.fixture
def modelark(monkeypatch: pytest.MonkeyPatch) -> str:
    conn = {"conn_type": "seedance", "password": "sk-op", "host": BASE, "extra": {"backend": "modelark"}}
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_OP", json.dumps(conn))
    return "seedance_op"


def submit_only(conn_id: str) -> SeedanceGenerateVideoOperator:
    return SeedanceGenerateVideoOperator(
        task_id="t", seedance_conn_id=conn_id, model=MODEL, prompt="a kite", wait_for_completion=False
    )


@pytest.mark.parametrize(("age_h", "creates"), [(2, 1), (25, 2)])
def test_a_cleared_task_reattaches_until_the_result_link_has_expired(modelark, age_h, creates):
    """Within 24 h a re-run reuses the finished generation (pays nothing); later its video is gone: submit."""
    store, ti = FakeStore(), FakeTI()
    with respx.mock(assert_all_called=False) as api:
        create = api.post(TASKS).mock(side_effect=[httpx.Response(200, json={"id": f"cgt-{n}"}) for n in (1, 2)])
        api.get(url__regex=TASKS + "/cgt-.*").mock(
            return_value=httpx.Response(
                200, json={"id": "cgt-1", "status": "succeeded", "content": {"video_url": "https://cdn.test/v.mp4"}}
            )
        )
        submit_only(modelark).execute({"ti": ti, "task_state_store": store})
        store["seedance_generation"]["submitted_at"] -= age_h * 3600
        result = submit_only(modelark).execute({"ti": ti, "task_state_store": store})
    assert create.call_count == creates
    assert result["generation_id"] == f"cgt-{creates}"


def test_submit_without_waiting_returns_the_full_result_shape(modelark):
    with respx.mock() as api:
        api.post(TASKS).mock(return_value=httpx.Response(200, json={"id": "cgt-9"}))
        result = submit_only(modelark).execute({"ti": FakeTI(), "task_state_store": FakeStore()})
    assert set(result) == set(VideoResult.model_fields)
    assert (result["generation_id"], result["status"], result["output_path"], result["prompt"]) == (
        "cgt-9",
        "queued",
        None,
        "a kite",
    )


def test_a_spend_check_refusal_skips_the_task_before_any_request(modelark):
    from airflow_provider_seedance.runtime._compat import AirflowSkipException

    seen = []

    def check(context, request):
        seen.append((context["ti"].task_id, request.model, request.prompt))
        return "skipped for budget: 50 credits spent and 10 still planned would pass the budget of 40 credits"

    op = SeedanceGenerateVideoOperator(
        task_id="t", seedance_conn_id=modelark, model=MODEL, prompt="a kite", spend_check=check
    )
    ti = FakeTI()
    with respx.mock(assert_all_called=False) as api:
        create = api.post(TASKS).mock(return_value=httpx.Response(200, json={"id": "cgt-1"}))
        with pytest.raises(AirflowSkipException, match="skipped for budget: 50 credits spent"):
            op.execute({"ti": ti, "task_state_store": FakeStore()})
    assert create.call_count == 0
    assert seen == [("t", MODEL, "a kite")]
    assert ti.xcom["seedance_skipped"].startswith("skipped for budget")


def test_a_spend_check_is_not_asked_when_a_retry_reattaches_to_what_was_paid_for(modelark):
    """The create already happened (and was paid for): a retry waits for it whatever the budget says now."""
    store, asked = FakeStore(), []

    def check(context, request):
        asked.append(request.prompt)
        return None if len(asked) == 1 else "over budget"

    def op() -> SeedanceGenerateVideoOperator:
        return SeedanceGenerateVideoOperator(
            task_id="t",
            seedance_conn_id=modelark,
            model=MODEL,
            prompt="a kite",
            wait_for_completion=False,
            spend_check=check,
        )

    with respx.mock(assert_all_called=False) as api:
        create = api.post(TASKS).mock(return_value=httpx.Response(200, json={"id": "cgt-1"}))
        api.get(TASKS + "/cgt-1").mock(return_value=httpx.Response(200, json={"id": "cgt-1", "status": "running"}))
        op().execute({"ti": FakeTI(), "task_state_store": store})
        result = op().execute({"ti": FakeTI(), "task_state_store": store})
    assert (create.call_count, len(asked), result["generation_id"]) == (1, 1, "cgt-1")


@pytest.mark.parametrize(("state", "cancels"), [("queued", 1), ("running", 0)])
def test_on_kill_on_the_worker_cancels_only_a_queued_modelark_render(modelark, state, cancels):
    op = submit_only(modelark)
    with respx.mock(assert_all_called=False) as api:
        api.post(TASKS).mock(return_value=httpx.Response(200, json={"id": "cgt-5"}))
        api.get(TASKS + "/cgt-5").mock(return_value=httpx.Response(200, json={"id": "cgt-5", "status": state}))
        cancel = api.delete(TASKS + "/cgt-5").mock(return_value=httpx.Response(200, json={}))
        op.execute({"ti": FakeTI(), "task_state_store": FakeStore()})
        op.on_kill()
    assert cancel.call_count == cancels


@pytest.mark.parametrize(("setting", "expected"), [("True", True), ("False", False)])
def test_deferrable_follows_airflows_default_deferrable_setting(monkeypatch, setting, expected):
    from airflow_provider_seedance.sensors.seedance import SeedanceGenerationSensor

    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", setting)
    operator = SeedanceGenerateVideoOperator(task_id="t", model="seedance-2.0-fast-text-to-video", prompt="x")
    sensor = SeedanceGenerationSensor(task_id="s", generation_id="g")
    assert operator.deferrable is expected
    assert sensor.deferrable is expected
    # an explicit argument wins over the setting
    assert SeedanceGenerateVideoOperator(task_id="u", model="m", deferrable=not expected).deferrable is not expected


def test_without_the_setting_nothing_defers(monkeypatch):
    """Airflow's own default (False), as the official providers: no task waits on a triggerer that may not run."""
    monkeypatch.delenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", raising=False)
    assert SeedanceGenerateVideoOperator(task_id="t", model="m").deferrable is False


def test_the_connection_id_is_templated():
    from airflow_provider_seedance.sensors.seedance import SeedanceGenerationSensor

    assert "seedance_conn_id" in SeedanceGenerateVideoOperator.template_fields
    assert "seedance_conn_id" in SeedanceGenerationSensor.template_fields
