"""Synthetic result media: small but real H.264/yuv420p MP4s (24 fps, faststart) that show the
prompt, a moving block and a frame counter; last-frame PNGs; an in-memory LRU cache."""

from __future__ import annotations

import io
import math
import os
import tempfile
import textwrap
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FPS = 24
LONG_SIDE = 320
AUDIO_RATE = 24_000
_RATIO_VALUES = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:3": (4, 3), "3:4": (3, 4), "21:9": (21, 9)}


def frame_size(ratio: str) -> tuple[int, int]:
    """Even (width, height) with the long side LONG_SIDE; unknown ratios render as 16:9."""
    rw, rh = _RATIO_VALUES.get(ratio, (16, 9))
    if rw >= rh:
        return LONG_SIDE, 2 * round(LONG_SIDE * rh / rw / 2)
    return 2 * round(LONG_SIDE * rw / rh / 2), LONG_SIDE


@lru_cache(maxsize=8)
def _font(size: int) -> Any:
    return ImageFont.load_default(size=size)


def _base_image(prompt: str, caption: str, size: tuple[int, int], seed: int) -> Image.Image:
    width, height = size
    hue = seed % 360
    background = tuple(int(40 + 30 * (1 + math.sin(math.radians(hue + k * 120)))) for k in range(3))
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    font_size = max(10, width // 22)
    font = _font(font_size)
    per_line = max(8, int((width - 12) / (font_size * 0.55)))
    max_lines = max(1, (height - 44) // (font_size + 3))
    lines = textwrap.wrap(prompt or "(empty prompt)", per_line) or [""]
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], lines[max_lines - 1][: per_line - 1] + "…"]
    y = 6
    for line in lines:
        draw.text((6, y), line, font=font, fill=(245, 245, 245))
        y += font_size + 3
    draw.text((6, height - 16), caption, font=_font(10), fill=(200, 200, 200))
    return image


def _draw_frame(base: Image.Image, index: int, total: int) -> Image.Image:
    width, height = base.size
    frame = base.copy()
    draw = ImageDraw.Draw(frame)
    block = max(8, min(width, height) // 7)
    phase = (index * 6) % (2 * (width - block))
    x = phase if phase < width - block else 2 * (width - block) - phase
    y = height - block - 20
    draw.rectangle((x, y, x + block, y + block), fill=(255, 90 + (index * 7) % 160, 40))
    font = _font(max(10, width // 26))
    text = f"{index + 1}/{total}  {index / FPS:5.2f}s"
    draw.text((width - draw.textlength(text, font=font) - 4, height - 16), text, font=font, fill=(255, 255, 0))
    return frame


def _frames(prompt: str, caption: str, ratio: str, duration: float, seed: int) -> Any:
    base = _base_image(prompt, caption, frame_size(ratio), seed)
    total = max(1, round(duration * FPS))
    for index in range(total):
        yield index, np.asarray(_draw_frame(base, index, total))


def render_mp4(
    prompt: str, ratio: str, duration: float, *, caption: str = "", audio: bool = False, seed: int = 0
) -> bytes:
    """Encode the clip; returns the whole MP4 file."""
    width, height = frame_size(ratio)
    handle, path = tempfile.mkstemp(prefix="seedance-emu-", suffix=".mp4")
    os.close(handle)
    try:
        container = av.open(path, mode="w", format="mp4", options={"movflags": "+faststart"})
        try:
            stream = container.add_stream("libx264", rate=FPS)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"preset": "ultrafast", "crf": "30"}
            sound = container.add_stream("aac", rate=AUDIO_RATE, layout="mono") if audio else None
            for index, array in _frames(prompt, caption, ratio, duration, seed):
                frame = av.VideoFrame.from_ndarray(array, format="rgb24")
                frame.pts = index
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
            if sound is not None:
                _encode_tone(container, sound, duration, seed)
        finally:
            container.close()
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def _encode_tone(container: Any, stream: Any, duration: float, seed: int) -> None:
    total = round(duration * AUDIO_RATE)
    pitch = 330 + seed % 220
    done = 0
    while done < total:
        count = min(1024, total - done)
        t = np.arange(done, done + count) / AUDIO_RATE
        samples = (0.05 * np.sin(2 * math.pi * pitch * t)).astype(np.float32).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = done
        container.mux(stream.encode(frame))
        done += count
    container.mux(stream.encode(None))


def render_last_frame_png(prompt: str, ratio: str, duration: float, *, caption: str = "", seed: int = 0) -> bytes:
    """The clip's last frame as PNG (ModelArk return_last_frame)."""
    base = _base_image(prompt, caption, frame_size(ratio), seed)
    total = max(1, round(duration * FPS))
    out = io.BytesIO()
    _draw_frame(base, total - 1, total).save(out, format="PNG")
    return out.getvalue()


def stable_seed(text: str) -> int:
    """A process-independent small integer derived from text."""
    return zlib.crc32(text.encode())


class MediaCache:
    """Thread-safe LRU of rendered files, bounded by total bytes; one render per key at a time."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def get_or_render(self, key: str, render: Callable[[], bytes]) -> bytes:
        """Return the cached bytes, rendering them first if needed (call from a worker thread)."""
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                cached = self._items.get(key)
                if cached is not None:
                    self._items.move_to_end(key)
                    return cached
            data = render()
            with self._lock:
                self._items[key] = data
                self._size += len(data)
                while self._size > self.max_bytes and len(self._items) > 1:
                    _, dropped = self._items.popitem(last=False)
                    self._size -= len(dropped)
                self._key_locks.pop(key, None)
            return data

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0
