"""Helpers shared by the emulator tests: the fake clock, auth headers, task creation and MP4 probing."""

from __future__ import annotations

import io
from typing import Any

import av
import httpx
import numpy as np

API_KEY = "test-key-123"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
RENDER_SECONDS = 10.0


class FakeClock:
    """A monotonic clock the tests move by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def finish(clock: FakeClock) -> None:
    """Move the fake clock past the default render time."""
    clock.advance(RENDER_SECONDS + 0.5)


def evolink_create(client: httpx.Client, **body: Any) -> dict[str, Any]:
    payload = {"model": "seedance-2.0-text-to-video", "prompt": "A cat playing piano", "duration": 4, **body}
    response = client.post("/v1/videos/generations", json=payload)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def probe_mp4(data: bytes) -> dict[str, Any]:
    """Codec, size, duration, stream kinds and whether the first and last frames differ."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
        kinds = [s.type for s in container.streams]
        duration = (container.duration or 0) / 1_000_000
        return {
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "width": stream.width,
            "height": stream.height,
            "duration": duration,
            "frames": len(frames),
            "fps": float(stream.average_rate or 0),
            "streams": kinds,
            "frames_differ": len(frames) > 1 and not np.array_equal(frames[0], frames[-1]),
            "neighbours_differ": len(frames) > 1 and not np.array_equal(frames[0], frames[1]),
        }
