"""A saved video, streamed from wherever its result says it was saved, a range at a time.

Anything ``ObjectStoragePath`` reads (a local path, ``file://``, ``s3://``, ...). The file is read in chunks
of :data:`CHUNK` bytes and never held whole in memory. Which file is served is never chosen by the request:
the route names a task instance, and its own result names the file.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from airflow_provider_seedance.runtime.storage import to_object_path

#: Bytes read from storage per step of a response.
CHUNK = 256 * 1024


@dataclass(frozen=True)
class MediaFile:
    path: Any  # an ObjectStoragePath
    size: int
    content_type: str


def content_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    return guessed if guessed and guessed.startswith(("video/", "image/")) else "application/octet-stream"


def locate(output_path: str) -> MediaFile | None:
    """The saved file and its size, or None when it is gone (deleted, moved, its store unreachable)."""
    try:
        path = to_object_path(output_path)
        if not path.is_file():
            return None
        size = int(path.stat().st_size)
    except Exception:  # a missing filesystem package, a refused store: the file cannot be served
        return None
    return MediaFile(path, size, content_type(path.name))


def chunks(media: MediaFile, start: int, length: int) -> Iterator[bytes]:
    """``length`` bytes of ``media`` from ``start``, :data:`CHUNK` at a time (fewer if the file shrank)."""
    with media.path.open("rb") as handle:
        handle.seek(start)
        left = length
        while left > 0:
            block = handle.read(min(CHUNK, left))
            if not block:
                return
            left -= len(block)
            yield block
