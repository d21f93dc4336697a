"""Poster frames: one JPEG frame of a video (about 1 s in), for the gallery and the review. Optional: needs
PyAV and Pillow (``pip install av pillow``, or the provider's ``emulator`` extra); without them, no poster.
"""

from __future__ import annotations

import io
import logging
from typing import Any

log = logging.getLogger(__name__)


def poster_jpeg(video: Any, at_s: float = 1.0) -> bytes | None:
    """The JPEG bytes of one frame of ``video`` (anything with ``open("rb")``: a ``Path`` or an
    ``ObjectStoragePath``), or None when PyAV/Pillow are missing or the video cannot be decoded. A poster is
    decoration: this never raises."""
    try:
        import av
    except ImportError:
        return None
    try:
        with video.open("rb") as handle, av.open(handle) as container:
            stream = container.streams.video[0]
            duration = float(container.duration or 0) / 1_000_000
            target = min(at_s, duration / 2) if duration else 0.0
            frame = None
            for frame in container.decode(stream):
                if frame.time is not None and frame.time >= target:
                    break
            if frame is None:
                return None
            image = frame.to_image()  # needs Pillow
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=85)
        return buffer.getvalue()
    except Exception as exc:  # a poster is decoration: never fail the gallery for it
        log.warning("No poster for %s: %s", video, exc)
        return None
