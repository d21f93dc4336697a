"""Over HTTPS against the emulator (its own CA, trusted through ``SSL_CERT_FILE`` as a user trusts a corporate
one): every client the hook makes, the API's and each download's, verifies with one shared TLS context, built
once, not once per download; a change of ``SSL_CERT_FILE`` is honoured."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import certifi
import pytest

from airflow_provider_seedance.emulator.server import EmulatorProcess
from airflow_provider_seedance.exceptions import SeedanceError
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.models import VideoRequest
from airflow_provider_seedance.wire._tls import default_ssl_context
from benchmarks.common import make_tls_files

KEY = "sk-tls-test-OSPREY-7d1c"
CONN = "seedance_tls"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def https_emulator(tls: Any) -> Any:
    args = ("--ssl-certfile", str(tls.certfile), "--ssl-keyfile", str(tls.keyfile))
    with EmulatorProcess(api_key=KEY, render_seconds=0.0, extra_args=args) as emu:
        yield emu


@pytest.fixture
def hook(https_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> SeedanceHook:
    uri = f'{{"conn_type": "seedance", "password": "{KEY}", "host": "{https_emulator.url}", "extra": {{"backend": "evolink", "max_retries": 0}}}}'
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", uri)
    return SeedanceHook(CONN)


def _counting_contexts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    built: list[int] = []
    real = ssl.create_default_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counted)
    return built


def test_every_client_of_a_batch_of_downloads_shares_one_tls_context(hook, tls, tmp_path, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_bundle))
    built = _counting_contexts(monkeypatch)
    generation = hook.wait_for_generation(
        hook.submit(VideoRequest(model="seedance-2.0-fast-text-to-video", prompt="harbour at dawn", duration=5)).id,
        timeout=60,
        poll_interval=0.2,
    )

    async def save_many() -> list[Any]:
        return [
            await hook.adownload_video(generation.video_url, tmp_path / f"v{n}.mp4", offload_writes=True)
            for n in range(5)
        ]

    saved = asyncio.run(save_many())
    assert [video.size_bytes > 0 for video in saved] == [True] * 5
    assert (tmp_path / "v4.mp4").read_bytes()[4:8] == b"ftyp"
    # the API's client, its polls and five download clients: at most the one shared context built here
    assert len(built) <= 1, f"{len(built)} TLS contexts built"
    assert default_ssl_context() is default_ssl_context()


def test_a_new_ssl_cert_file_is_honoured_and_an_untrusted_ca_is_refused(hook, tls, tmp_path, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_bundle))
    trusted = default_ssl_context()
    other = tmp_path / "certifi-only.pem"
    other.write_text(Path(certifi.where()).read_text())
    monkeypatch.setenv("SSL_CERT_FILE", str(other))  # the emulator's CA is not in this bundle
    assert default_ssl_context() is not trusted
    with pytest.raises(SeedanceError) as refused:
        hook.submit(VideoRequest(model="seedance-2.0-fast-text-to-video", prompt="harbour at dusk", duration=5))
    assert "certificate" in str(refused.value).lower() or "ssl" in str(refused.value).lower(), refused.value
