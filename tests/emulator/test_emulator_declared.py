"""Declared models on the emulator, over real HTTP: the README's 30 s ModelArk model renders a 30 s MP4, a
declared model is served by EvoLink and AIML API too and checked against its declared limits (duration,
quality, ratio, modes, drafts), a declaration overrides a built-in model's rules, and a bad declaration stops
the start (``EmulatorConfig``, ``EmulatorServer``, the command line with ``--models`` or
``AIRFLOW__SEEDANCE__MODELS``)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_support import API_KEY, AUTH, FakeClock, probe_mp4

from airflow_provider_seedance.emulator import EmulatorConfig, EmulatorProcess, EmulatorServer
from airflow_provider_seedance.emulator.cli import main
from airflow_provider_seedance.emulator.declared import parse_models

ROOT = Path(__file__).resolve().parents[2]
TASKS = "/api/v3/contents/generations/tasks"
EVO = "/v1/videos/generations"
AIML = "/v2/video/generations"

#: The README's example ("Models without a release"), as printed there: a connection's extra.
README_MODEL = "dreamina-seedance-2-5-261001"
README_DECLARATION: dict[str, Any] = {
    "models": {
        README_MODEL: {
            "modes": ["text", "image"],
            "durations": [4, 30],
            "qualities": ["720p", "1080p"],
            "ratios": ["16:9", "9:16", "adaptive"],
            "optional_fields": [
                "duration",
                "quality",
                "aspect_ratio",
                "image_urls",
                "generate_audio",
                "execution_expires_after",
                "draft",
            ],
            "drafts": True,
            "source": "https://docs.byteplus.com/en/docs/ModelArk/1520757",
        }
    }
}
#: A ModelArk model without drafts, whose id ModelArk's own id pattern would refuse.
NO_DRAFTS = "seedance-next-preview"
#: An EvoLink model (web_search is EvoLink's), and an AIML API one with exact duration choices.
EVO_MODEL = "seedance-2.5-text-to-video"
AIML_MODEL = "bytedance/seedance-2-5-pro"
#: A built-in ModelArk model given a longer range (the declaration wins, as in the provider).
BUILT_IN = "dreamina-seedance-2-0-260128"
MODELS: dict[str, Any] = {
    **README_DECLARATION["models"],
    NO_DRAFTS: {
        "modes": ["text", "reference"],
        "durations": [2, 8],
        "max_ref_images": 2,
        "max_videos": 0,
        "optional_fields": ["duration", "quality", "image_urls", "draft"],
    },
    EVO_MODEL: {
        "modes": ["text"],
        "durations": [4, 20],
        "qualities": ["720p"],
        "optional_fields": ["duration", "quality", "aspect_ratio", "web_search", "callback_url"],
    },
    AIML_MODEL: {
        "modes": ["text", "image"],
        "durations": [5, 8, 12],
        "duration_choices": True,
        "max_frame_images": 1,
        "optional_fields": ["duration", "quality", "image_urls", "generate_audio"],
    },
    BUILT_IN: {"modes": ["text", "image", "reference"], "durations": [4, 20], "optional_fields": ["duration"]},
}
IMAGE = "https://example.com/first.png"


@pytest.fixture(scope="module")
def declared_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def declared_server(declared_clock: FakeClock) -> Iterator[EmulatorServer]:
    with EmulatorServer(api_key=API_KEY, render_seconds=10.0, clock=declared_clock, models=MODELS) as emu:
        yield emu


@pytest.fixture
def http(declared_server: EmulatorServer) -> Iterator[httpx.Client]:
    declared_server.reset()
    with httpx.Client(base_url=declared_server.url, headers=AUTH, timeout=60.0) as client:
        yield client


def ark_body(model: str = README_MODEL, text: str = "A paper boat on a river", **body: Any) -> dict[str, Any]:
    return {"model": model, "content": [{"type": "text", "text": text}], **body}


def refused(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 400, response.text
    answer: dict[str, Any] = response.json()
    return answer.get("error", answer)


def test_the_readme_model_renders_30_seconds_on_modelark(http: httpx.Client, declared_clock: FakeClock) -> None:
    created = http.post(TASKS, json=ark_body(duration=30, resolution="1080p", ratio="9:16"))
    assert created.status_code == 200, created.text
    declared_clock.advance(10.5)
    task = http.get(f"{TASKS}/{created.json()['id']}").json()
    assert task["status"] == "succeeded"
    assert (task["model"], task["duration"], task["resolution"], task["ratio"]) == (README_MODEL, 30, "1080p", "9:16")
    assert task["generate_audio"] is True  # declared among optional_fields: on by default, as on 2.0
    info = probe_mp4(httpx.get(task["content"]["video_url"], timeout=120).content)
    assert abs(info["duration"] - 30) <= 0.2
    assert info["streams"] == ["video", "audio"]


def test_without_the_declaration_the_readme_model_is_refused_as_before(client: httpx.Client) -> None:
    error = refused(client, TASKS, ark_body(duration=30))  # the shared emulator declares nothing
    assert error["param"] == "duration"
    assert "between 4 and 15" in error["message"]


@pytest.mark.parametrize(
    ("body", "param", "needle"),
    [
        ({"duration": 31}, "duration", f"duration must be between 4 and 30 for {README_MODEL}, got 31"),
        ({"duration": 3}, "duration", "between 4 and 30"),
        ({"resolution": "480p"}, "resolution", "resolution must be one of 720p, 1080p"),
        ({"ratio": "1:1"}, "ratio", "ratio must be one of 16:9, 9:16, adaptive"),
        ({"generate_audio": "yes"}, "generate_audio", "must be a boolean"),
        ({"callback_url": "http://example.com/hook"}, "callback_url", "https://"),
        ({"execution_expires_after": 60}, "execution_expires_after", "between 3600 and 259200"),
    ],
)
def test_a_declared_model_is_held_to_its_declared_limits(
    http: httpx.Client, body: dict[str, Any], param: str, needle: str
) -> None:
    error = refused(http, TASKS, ark_body(**body))
    assert (error["param"], error["code"]) == (param, "InvalidParameter")
    assert needle in error["message"]


def test_a_declared_models_modes_on_modelark(http: httpx.Client) -> None:
    video = {"type": "video_url", "video_url": {"url": "https://example.com/a.mp4"}, "role": "reference_video"}
    reference = {"type": "image_url", "image_url": {"url": IMAGE}, "role": "reference_image"}
    first = {"type": "image_url", "image_url": {"url": IMAGE}, "role": "first_frame"}
    last = {"type": "image_url", "image_url": {"url": IMAGE}, "role": "last_frame"}
    assert http.post(TASKS, json=ark_body(content=[first, last])).status_code == 200  # image: 2 frames
    error = refused(http, TASKS, ark_body(content=[{"type": "text", "text": "x"}, reference]))
    assert "does not take reference-to-video (declared modes: image, text)" in error["message"]
    assert http.post(TASKS, json=ark_body(NO_DRAFTS, content=[reference, reference])).status_code == 200
    error = refused(http, TASKS, ark_body(NO_DRAFTS, content=[reference, reference, reference]))
    assert "at most 2 items" in error["message"]
    assert "at most 0 items" in refused(http, TASKS, ark_body(NO_DRAFTS, content=[reference, video]))["message"]
    assert "does not take image-to-video" in refused(http, TASKS, ark_body(NO_DRAFTS, content=[first]))["message"]


def test_drafts_only_where_declared(http: httpx.Client) -> None:
    # What the provider sends for a draft: resolution 480p, which the README model's qualities lack.
    draft = http.post(TASKS, json=ark_body(draft=True, resolution="480p"))
    assert draft.status_code == 200, draft.text
    assert http.get(f"{TASKS}/{draft.json()['id']}").json()["draft"] is True
    error = refused(http, TASKS, ark_body(NO_DRAFTS, draft=True, resolution="480p"))
    assert error["param"] == "draft"
    assert f'draft is not supported by {NO_DRAFTS}: its declaration has no "drafts": true' in error["message"]


def test_a_declaration_overrides_a_built_in_models_rules(http: httpx.Client, client: httpx.Client) -> None:
    assert http.post(TASKS, json=ark_body(BUILT_IN, duration=20)).status_code == 200
    assert "between 4 and 20" in refused(http, TASKS, ark_body(BUILT_IN, duration=21))["message"]
    assert "between 4 and 15" in refused(client, TASKS, ark_body(BUILT_IN, duration=20))["message"]


def test_a_declared_model_on_evolink(http: httpx.Client, declared_clock: FakeClock, client: httpx.Client) -> None:
    body = {"model": EVO_MODEL, "prompt": "A lighthouse at dusk", "duration": 20, "model_params": {"web_search": True}}
    created = http.post(EVO, json=body)
    assert created.status_code == 200, created.text
    assert created.json()["usage"]["credits_reserved"] == 20 * 10  # 720p, per second
    declared_clock.advance(10.5)
    done = http.get(f"/v1/tasks/{created.json()['id']}").json()
    assert (done["status"], done["task_info"]["video_duration"]) == ("completed", 20)
    assert abs(probe_mp4(httpx.get(done["results"][0], timeout=60).content)["duration"] - 20) <= 0.2
    error = refused(http, EVO, {**body, "duration": 21})
    assert (error["code"], error["type"]) == ("invalid_request", "invalid_request_error")
    assert f"duration must be between 4 and 20 for {EVO_MODEL}, got 21" in error["message"]
    assert "quality must be one of 720p" in refused(http, EVO, {**body, "quality": "1080p"})["message"]
    assert "takes no images" in refused(http, EVO, {**body, "image_urls": [IMAGE]})["message"]
    assert "'generate_audio' is not among" in refused(http, EVO, {**body, "generate_audio": True})["message"]
    assert "Unsupported model" in refused(client, EVO, body)["message"]  # not declared: refused as before
    # The README model declares ModelArk-only fields (draft, execution_expires_after): not an EvoLink model.
    readme = {"model": README_MODEL, "prompt": "A paper boat", "duration": 30}
    assert "Unsupported model" in refused(http, EVO, readme)["message"]


def test_a_declared_model_on_aimlapi(http: httpx.Client, declared_clock: FakeClock, client: httpx.Client) -> None:
    body = {"model": AIML_MODEL, "prompt": "Mona Lisa puts on glasses", "duration": 12, "image_url": IMAGE}
    created = http.post(AIML, json=body)
    assert created.status_code == 200, created.text
    declared_clock.advance(10.5)
    done = http.get(AIML, params={"generation_id": created.json()["id"]}).json()
    assert done["status"] == "completed"
    assert abs(probe_mp4(httpx.get(done["video"]["url"], timeout=60).content)["duration"] - 12) <= 0.2
    error = refused(http, AIML, {**body, "duration": 10})
    assert (error["statusCode"], error["path"]) == (400, AIML)
    assert f"duration must be one of 5, 8, 12 for {AIML_MODEL}; got 10" in error["message"]
    two_frames = {**body, "last_image_url": IMAGE}
    assert "takes 1-1 image(s) for image-to-video, got 2" in refused(http, AIML, two_frames)["message"]
    assert "Invalid model" in refused(client, AIML, body)["message"]


def test_the_wrapper_and_the_bare_map_declare_the_same() -> None:
    assert parse_models(README_DECLARATION) == parse_models(README_DECLARATION["models"])
    assert parse_models(json.dumps(README_DECLARATION)) == parse_models(README_DECLARATION["models"])
    assert set(parse_models(README_DECLARATION).on("modelark")) == {README_MODEL}
    assert not parse_models(README_DECLARATION).on("evolink")
    assert not parse_models(None) and not parse_models("")


BAD = {README_MODEL: {**README_DECLARATION["models"][README_MODEL], "qualities": ["720p", "4k"]}}


def test_a_bad_declaration_stops_the_start() -> None:
    with pytest.raises(ValueError, match=rf"^Invalid models\['{README_MODEL}'\]\.qualities\.1='4k': Input should be"):
        EmulatorConfig(models=BAD)
    reversed_range = {README_MODEL: {**README_DECLARATION["models"][README_MODEL], "durations": [30, 4]}}
    with pytest.raises(ValueError, match=r"durations must be \[min, max\] with 1 <= min <= max"):
        EmulatorConfig(models=reversed_range)
    with pytest.raises(ValueError, match=r"Invalid models\['m'\]\.durations=.*Field required"):
        EmulatorServer(models={"m": {"modes": ["text"]}})
    both = {"m": {"modes": ["text"], "durations": [4, 8], "optional_fields": ["web_search", "draft"]}}
    with pytest.raises(ValueError, match=r"the evolink API has .*; and invalid .* the aimlapi API has .* modelark API"):
        EmulatorConfig(models=both)  # no API fits it: each one's reason


def _env(**extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW__SEEDANCE__MODELS"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return {**env, **extra}


def _start_fails(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow_provider_seedance.emulator", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_the_command_line_refuses_a_bad_declaration_at_start_up(tmp_path: Path) -> None:
    result = _start_fails("--models", json.dumps(BAD), env=_env())
    assert result.returncode == 2
    assert result.stderr.startswith(f"seedance-emulator: Invalid --models['{README_MODEL}'].qualities.1='4k': ")
    assert result.stderr.count("\n") == 1
    result = _start_fails(env=_env(AIRFLOW__SEEDANCE__MODELS=json.dumps({"m": {"modes": ["text"]}})))
    assert result.returncode == 2
    assert result.stderr.startswith("seedance-emulator: Invalid [seedance] models['m'].durations=")
    # Airflow reads its option as the bare object only: the wrapper there is refused, as Airflow refuses it.
    result = _start_fails(env=_env(AIRFLOW__SEEDANCE__MODELS=json.dumps(README_DECLARATION)))
    assert (result.returncode, result.stderr.split("=")[0]) == (
        2,
        "seedance-emulator: Invalid [seedance] models['models'].modes",
    )
    assert _start_fails("--models", f"@{tmp_path / 'missing.json'}", env=_env()).returncode == 2


def test_help_names_the_environment_fallback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--models MODELS" in text
    assert "Not given: the environment variable AIRFLOW__SEEDANCE__MODELS ([seedance] models)" in text


def _create_30s(emu: EmulatorProcess) -> int:
    with httpx.Client(base_url=emu.base_url("modelark"), headers={"Authorization": "Bearer k"}, timeout=10) as c:
        return c.post("/contents/generations/tasks", json=ark_body(duration=30)).status_code


def test_the_command_line_takes_models_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW__SEEDANCE__MODELS", raising=False)
    declaration = tmp_path / "models.json"
    declaration.write_text(json.dumps(README_DECLARATION))
    with EmulatorProcess(render_seconds=0.0, extra_args=("--models", f"@{declaration}")) as emu:
        assert _create_30s(emu) == 200
    with EmulatorProcess(render_seconds=0.0) as emu:  # nothing declared: refused as before
        assert _create_30s(emu) == 400


def test_the_command_line_falls_back_to_airflows_option(monkeypatch: pytest.MonkeyPatch) -> None:
    declaration = json.dumps(README_DECLARATION["models"])
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_seedance.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(AIRFLOW__SEEDANCE__MODELS=declaration),
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(9)]  # printed before serving starts
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert lines[8] == f"Declared models (AIRFLOW__SEEDANCE__MODELS) on modelark: {README_MODEL}\n"
    monkeypatch.setenv("AIRFLOW__SEEDANCE__MODELS", declaration)
    with EmulatorProcess(render_seconds=0.0) as emu:  # the process inherits the environment
        assert _create_30s(emu) == 200
    with EmulatorProcess(render_seconds=0.0, models={"other-model": MODELS[NO_DRAFTS]}) as emu:  # --models wins
        assert _create_30s(emu) == 400
