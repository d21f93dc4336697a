"""A saved video, streamed from wherever its result says it was saved, a range at a time.

Anything ``ObjectStoragePath`` reads (a local path, ``file://``, ``s3://``, ``gs://``, ...). The file is read in
chunks of :data:`CHUNK` bytes and never held whole in memory. Which file is served is never chosen by the
request: the route names a task instance, and its own result names the file. That result is only as trusted as
whoever wrote the XCom, so only what the provider saves is served: a video file (``.mp4``, ``.m4v``, ``.mov``)
in object storage or a local folder (not ``/proc``, ``/sys``, ``/dev``), whose first box is an ISO media
``ftyp`` box; never an ``http(s)://`` address (the api-server fetches nothing), never another kind of file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from airflow_provider_seedance.runtime.storage import to_object_path

#: Bytes read from storage per step of a response.
CHUNK = 256 * 1024
#: The only files served, by suffix, with the content type each is served as.
VIDEO_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime"}
#: Where a saved video may be: object stores and local files (no fetch over http, ftp, ...).
SCHEMES = frozenset({"", "file", "local", "s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "memory"})
_SYSTEM_DIRS = ("/proc/", "/sys/", "/dev/")


@dataclass(frozen=True)
class MediaFile:
    path: Any  # an ObjectStoragePath
    size: int
    content_type: str


def scheme_of(address: str) -> str:
    head, sep, _ = address.partition("://")
    return head.lower() if sep else ""


def storage_path(address: str) -> Any | None:
    """``address`` as an ``ObjectStoragePath`` when it names object storage or a local file, else None."""
    if scheme_of(address) not in SCHEMES:
        return None
    try:
        path = to_object_path(address)
    except Exception:  # a missing filesystem package, a malformed address
        return None
    if path.protocol in ("", "file", "local"):
        real = os.path.realpath(path.path)
        if real.startswith(_SYSTEM_DIRS) or real in ("/proc", "/sys", "/dev"):
            return None
    return path


def content_type(name: str) -> str | None:
    """The content type a video of this name is served as, None for any other file."""
    return VIDEO_TYPES.get(os.path.splitext(name)[1].lower())


def locate(output_path: str) -> MediaFile | None:
    """The saved video and its size, or None when it is gone (deleted, moved, its store unreachable) or is
    not a video this provider would have saved."""
    path = storage_path(output_path)
    kind = content_type(path.name) if path is not None else None
    if path is None or kind is None:
        return None
    try:
        if not path.is_file():
            return None
        size = int(path.stat().st_size)
        with path.open("rb") as handle:
            head = handle.read(8)
    except Exception:  # a refused store, a file that went away
        return None
    if len(head) < 8 or head[4:8] != b"ftyp":
        return None
    return MediaFile(path, size, kind)


def open_at(media: MediaFile, start: int) -> BinaryIO | None:
    """The file opened and at ``start``, or None when it cannot be any more (opened before the answer's
    headers are sent, so a file gone since :func:`locate` is a 404, not a cut-off answer)."""
    try:
        handle: BinaryIO = media.path.open("rb")
        handle.seek(start)
    except Exception:
        return None
    return handle


def chunks(handle: BinaryIO, length: int) -> Iterator[bytes]:
    """``length`` bytes of the open ``handle``, :data:`CHUNK` at a time; closed at the end. A file that shrank
    meanwhile ends the body early (the client sees fewer bytes than announced and drops the answer)."""
    with handle:
        left = length
        while left > 0:
            block = handle.read(min(CHUNK, left))
            if not block:
                return
            left -= len(block)
            yield block
