"""Poster frames: one JPEG frame of a video (about 1 s in), for the gallery and the review. Optional: needs
PyAV and Pillow (``pip install av pillow``, or the provider's ``emulator`` extra); without them, no poster.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from airflow_provider_seedance.contract._vendor_text import inert

log = logging.getLogger(__name__)


#: Posters are made only of videos up to 4K, from at most this many decoded frames, and at most this wide.
MAX_PIXELS = 3840 * 2160
MAX_FRAMES = 90
MAX_SIDE = 960


def poster_jpeg(video: Any, at_s: float = 1.0) -> bytes | None:
    """The JPEG bytes of one frame of ``video`` (anything with ``open("rb")``: a ``Path`` or an
    ``ObjectStoragePath``), or None when PyAV/Pillow are missing or the video cannot be decoded. A poster is
    decoration: this never raises. Its cost is bounded whatever the file: a stream over 4K is refused, at most
    :data:`MAX_FRAMES` frames are decoded, and the poster is at most :data:`MAX_SIDE` pixels wide or high."""
    try:
        import av
    except ImportError:
        return None
    try:
        with video.open("rb") as handle, av.open(handle) as container:
            stream = container.streams.video[0]
            if int(stream.width or 0) * int(stream.height or 0) > MAX_PIXELS:
                return None
            duration = float(container.duration or 0) / 1_000_000
            target = min(at_s, duration / 2) if duration else 0.0
            frame = None
            for count, frame in enumerate(container.decode(stream), start=1):
                if (frame.time is not None and frame.time >= target) or count >= MAX_FRAMES:
                    break
            if frame is None:
                return None
            image = frame.to_image()  # needs Pillow
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=85)
        return buffer.getvalue()
    except Exception as exc:  # a poster is decoration: never fail the gallery for it
        log.warning("No poster for %s: %s", inert(str(video), 200), type(exc).__name__)
        return None
