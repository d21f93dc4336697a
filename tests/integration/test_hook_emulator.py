"""The hook against the emulator over real sockets: submit, wait, download, for every backend, sync and async."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from airflow_provider_seedance.exceptions import SeedanceGenerationError, SeedanceSaveError
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.models import VideoRequest
from airflow_provider_seedance.runtime.storage import SavedVideo
from tests.integration.conftest import API_KEY, mp4_facts

pytestmark = pytest.mark.usefixtures("connections")
MODELS = {
    "evolink": "seedance-2.0-fast-text-to-video",
    "aimlapi": "bytedance/seedance-1-0-pro-fast",
    "modelark": "dreamina-seedance-2-0-fast-260128",
}


def download(hook: SeedanceHook, use_async: bool, url: str, destination: Path, generation_id: str) -> SavedVideo:
    """``download_video``, or its async twin on a fresh event loop."""
    if use_async:
        return asyncio.run(hook.adownload_video(url, destination, generation_id=generation_id))
    return hook.download_video(url, destination, generation_id=generation_id)


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("backend", list(MODELS))
def test_submit_poll_download(emulator, tmp_path, backend, use_async):
    hook = SeedanceHook(f"seedance_{backend}")
    request = VideoRequest(model=MODELS[backend], prompt="a lighthouse at dusk", duration=5)
    if use_async:

        async def submit_and_poll():
            generation = await hook.asubmit(request)
            while not (await hook.aget_generation(generation.id)).is_terminal:
                await asyncio.sleep(0.2)
            return await hook.aget_generation(generation.id)

        generation = asyncio.run(submit_and_poll())
    else:
        submitted = hook.submit(request)
        generation = hook.wait_for_generation(submitted.id, timeout=60, poll_interval=0.2)
    assert generation.state == "succeeded"
    downloads = emulator.stats()["downloads"]
    saved = download(hook, use_async, generation.video_url, tmp_path / "v.mp4", generation.id)
    assert saved.rewritten
    assert mp4_facts(tmp_path / "v.mp4")["codec"] == "h264"
    mtime = (tmp_path / "v.mp4").stat().st_mtime_ns
    again = download(hook, use_async, generation.video_url, tmp_path / "v.mp4", generation.id)
    assert (again.rewritten, again.sha256) == (False, saved.sha256)
    assert (tmp_path / "v.mp4").stat().st_mtime_ns == mtime
    assert list(tmp_path.iterdir()) == [tmp_path / "v.mp4"]
    assert emulator.stats()["downloads"] - downloads == 2


@pytest.mark.parametrize("use_async", [False, True])
def test_interrupted_download_leaves_no_file(emulator, tmp_path, use_async):
    hook = SeedanceHook("seedance_modelark")
    generation = hook.wait_for_generation(
        hook.submit(VideoRequest(model=MODELS["modelark"], prompt="a kite")).id, timeout=60, poll_interval=0.2
    )
    emulator.set_faults({"download": {"truncate": 1.0}})
    try:
        with pytest.raises(SeedanceSaveError) as info:
            download(hook, use_async, generation.video_url, tmp_path / "out" / "v.mp4", generation.id)
    finally:
        emulator.set_faults({})
    assert generation.id in str(info.value)
    assert info.value.video_url == generation.video_url
    assert list((tmp_path / "out").iterdir()) == []
    assert API_KEY not in str(info.value)


def test_wait_raises_with_the_apis_code_and_message(emulator):
    hook = SeedanceHook("seedance_evolink")
    submitted = hook.submit(
        VideoRequest(model=MODELS["evolink"], prompt="[fail:content_policy_violation] a bank robbery")
    )
    with pytest.raises(SeedanceGenerationError) as info:
        hook.wait_for_generation(submitted.id, timeout=60, poll_interval=0.2)
    assert "content_policy_violation" in str(info.value)
    assert info.value.retryable is False


def test_test_connection_against_the_emulator(emulator, monkeypatch):
    for backend in MODELS:
        assert SeedanceHook(f"seedance_{backend}").test_connection() == (
            True,
            f"Connected to {backend} at {emulator.base_url(backend)}: the API key was accepted",
        )
    monkeypatch.setenv(
        "AIRFLOW_CONN_SEEDANCE_BAD",
        f'{{"conn_type": "seedance", "password": "wrong", "host": "{emulator.url}", "extra": {{"backend": "evolink"}}}}',
    )
    ok, message = SeedanceHook("seedance_bad").test_connection()
    assert not ok and "rejected" in message
    monkeypatch.setenv(
        "AIRFLOW_CONN_SEEDANCE_WRONG",
        f'{{"conn_type": "seedance", "password": "{API_KEY}", "host": "{emulator.url}", "extra": {{"backend": "modelark", "max_retries": 0}}}}',
    )
    # modelark at the root URL gets /api/v3 appended and works; a wrong path does not.
    assert SeedanceHook("seedance_wrong").test_connection()[0]
