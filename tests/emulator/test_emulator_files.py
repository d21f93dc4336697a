"""The CDN side: aspect ratios of the rendered MP4, signed links and their expiry, Range, HEAD,
caching, and the synthetic /files/blob/<size>.mp4 files."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import httpx
import pytest
from emulator_support import FakeClock, evolink_create, finish, probe_mp4

SIZES = {
    "16:9": (320, 180),
    "9:16": (180, 320),
    "1:1": (320, 320),
    "4:3": (320, 240),
    "3:4": (240, 320),
    "21:9": (320, 138),
    "adaptive": (320, 180),
}


def _result_url(client: httpx.Client, clock: FakeClock, **body: Any) -> str:
    task = evolink_create(client, **body)
    finish(clock)
    url: str = client.get(f"/v1/tasks/{task['id']}").json()["results"][0]
    return url


@pytest.mark.parametrize("ratio", sorted(SIZES))
def test_aspect_ratios(client: httpx.Client, clock: FakeClock, ratio: str) -> None:
    url = _result_url(client, clock, aspect_ratio=ratio, generate_audio=False)
    info = probe_mp4(httpx.get(url).content)
    assert (info["width"], info["height"]) == SIZES[ratio]
    assert info["width"] % 2 == 0
    assert info["height"] % 2 == 0
    assert abs(info["duration"] - 4) <= 0.2
    assert info["frames"] == 96


def test_link_expiry_follows_the_clock(emu: Any, client: httpx.Client, clock: FakeClock) -> None:
    url = _result_url(client, clock)
    assert httpx.get(url).status_code == 200
    clock.advance(86400 - 100)
    assert httpx.head(url).status_code == 200
    clock.advance(200)
    expired = httpx.get(url)
    assert expired.status_code == 403
    assert b"<Code>AccessDenied</Code>" in expired.content
    assert b"expired" in expired.content


def test_forged_or_incomplete_links_are_403(emu: Any, client: httpx.Client, clock: FakeClock) -> None:
    url = _result_url(client, clock)
    base, query = url.split("?")
    params = dict(pair.split("=") for pair in query.split("&"))
    later = f"{base}?expires={int(params['expires']) + 86400}&sig={params['sig']}"
    for forged in (later, base, f"{base}?expires=abc&sig=x", url[:-1] + ("0" if url[-1] != "0" else "1")):
        assert httpx.get(forged).status_code == 403, forged
    other = base.replace(".mp4", "-last.png") + "?" + query
    assert httpx.get(other).status_code == 403


def test_links_to_unknown_or_unfinished_tasks_are_404(emu: Any, client: httpx.Client) -> None:
    task = evolink_create(client)
    expires = 2**40
    for name in (f"{task['id']}.mp4", "task-unified-1-nosuchid.mp4"):
        sig = emu.emulator.sign(name, expires)
        assert httpx.get(f"{emu.url}/files/{name}?expires={expires}&sig={sig}").status_code == 404
    assert httpx.get(f"{emu.url}/files/readme.txt").status_code == 404


def test_range_and_head(emu: Any, client: httpx.Client, clock: FakeClock) -> None:
    url = _result_url(client, clock)
    full = httpx.get(url)
    size = len(full.content)
    assert full.headers["accept-ranges"] == "bytes"
    head = httpx.head(url)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(size)
    assert head.content == b""
    cases = {
        "bytes=0-99": (0, 100),
        "bytes=100-": (100, size),
        f"bytes=-{size + 50}": (0, size),
        "bytes=-10": (size - 10, size),
        f"bytes=10-{size * 2}": (10, size),
    }
    for header, (start, stop) in cases.items():
        part = httpx.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.content == full.content[start:stop]
        assert part.headers["content-range"] == f"bytes {start}-{stop - 1}/{size}"
    unsatisfiable = httpx.get(url, headers={"Range": f"bytes={size}-"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == f"bytes */{size}"
    assert httpx.get(url, headers={"Range": "bytes=0-1,5-6"}).status_code == 200  # multi-range: ignored
    assert emu.stats()["downloads"] == 9


async def test_concurrent_downloads_get_identical_cached_bytes(client: httpx.Client, clock: FakeClock) -> None:
    url = _result_url(client, clock, duration=6)
    async with httpx.AsyncClient(timeout=30) as http:
        responses = await asyncio.gather(
            *(http.get(url) for _ in range(6)), http.get(url.split("/files/")[0] + "/_emulator/health")
        )
    bodies = {r.content for r in responses[:-1]}
    assert len(bodies) == 1
    assert responses[-1].json()["status"] == "ok"
    assert abs(probe_mp4(bodies.pop())["duration"] - 6) <= 0.2


@pytest.mark.parametrize("size", [8, 24, 31, 32, 1000, 3 * 65536 + 17])
def test_blob_exact_size_and_ftyp(emu: Any, size: int) -> None:
    response = httpx.get(f"{emu.url}/files/blob/{size}.mp4")
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert len(response.content) == size
    assert int(response.headers["content-length"]) == size
    assert response.content[4:8] == b"ftyp"
    if size >= 32:
        assert response.content[28:32] == b"mdat"
        assert struct.unpack(">I", response.content[24:28])[0] == size - 24


def test_blob_is_streamed_and_supports_range_and_head(emu: Any) -> None:
    size = 5 * 1024 * 1024
    url = f"{emu.url}/files/blob/{size}.mp4"
    with httpx.stream("GET", url) as response:
        chunks = [len(chunk) for chunk in response.iter_raw()]
    assert sum(chunks) == size
    full = httpx.get(url).content
    part = httpx.get(url, headers={"Range": "bytes=70000-200000"})
    assert part.status_code == 206
    assert part.content == full[70000:200001]
    huge = 8 * 1024**3
    assert httpx.head(f"{emu.url}/files/blob/{huge}.mp4").headers["content-length"] == str(huge)
    tail = httpx.get(f"{emu.url}/files/blob/{huge}.mp4", headers={"Range": "bytes=-16"})
    assert len(tail.content) == 16
    assert httpx.get(f"{emu.url}/files/blob/4.mp4").status_code == 400
    large_header = httpx.get(f"{emu.url}/files/blob/{2**33}.mp4", headers={"Range": "bytes=0-47"}).content
    assert large_header[28:32] == b"mdat"
    assert struct.unpack(">Q", large_header[32:40])[0] == 2**33 - 24


def test_stock_media_serves_one_clip_per_shape_and_the_default_one_per_generation(
    client: httpx.Client, clock: FakeClock
) -> None:
    from airflow_provider_seedance.emulator import EmulatorProcess

    def three_clips(http: httpx.Client, wait: Any) -> list[bytes]:
        bodies = []
        for duration in (4, 4, 6):
            body = {"model": "seedance-2.0-text-to-video", "prompt": "a cat", "duration": duration}
            task = http.post("/v1/videos/generations", json=body).json()
            wait()
            url = http.get(f"/v1/tasks/{task['id']}").json()["results"][0]
            bodies.append(http.get(url).content)
        return bodies

    with (
        EmulatorProcess(api_key="k", render_seconds=0, extra_args=("--stock-media",)) as emu,
        httpx.Client(base_url=emu.url, headers={"Authorization": "Bearer k"}, timeout=30) as http,
    ):
        first, second, longer = three_clips(http, lambda: None)
    assert first == second  # two generations of one shape: the same stock clip
    assert first != longer
    assert abs(probe_mp4(first)["duration"] - 4) <= 0.2
    assert abs(probe_mp4(longer)["duration"] - 6) <= 0.2
    first, second, _ = three_clips(client, lambda: finish(clock))
    assert first != second  # by default each generation's clip shows its own task id
