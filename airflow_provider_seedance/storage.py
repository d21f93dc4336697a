"""Streaming, atomic, verified save of a video to any ``ObjectStoragePath`` (local, s3://, gs://, ...).

Bytes go to a temporary sibling and are committed by a rename only once complete, the size matches the
server's ``Content-Length`` and the file starts like an MP4; nothing half-written is ever left at the
destination. An identical file already there is not rewritten.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

CHUNK_SIZE = 1024 * 1024


class VideoCheckError(ValueError):
    """The downloaded bytes are not a complete MP4."""


@dataclass(frozen=True)
class SavedVideo:
    path: str
    size_bytes: int
    sha256: str
    rewritten: bool


def to_object_path(destination: Any) -> ObjectStoragePath:
    """A local path, a URL (``file://``, ``s3://``, ...) or an ``ObjectStoragePath`` as ``ObjectStoragePath``."""
    from airflow.sdk import ObjectStoragePath

    if isinstance(destination, ObjectStoragePath):
        return destination
    text = os.fspath(destination) if isinstance(destination, os.PathLike) else str(destination)
    if "://" not in text:
        text = "file://" + os.path.abspath(os.path.expanduser(text))
    return ObjectStoragePath(text)


def check_mp4_head(head: bytes) -> None:
    """Every MP4 starts with an ``ftyp`` box: 4 size bytes, then ``ftyp``."""
    if len(head) < 8 or head[4:8] != b"ftyp":
        raise VideoCheckError(f"not an MP4 file (first bytes {head[:12]!r})")


def file_sha256(path: ObjectStoragePath) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:  # type: ignore[no-untyped-call]
        while block := handle.read(CHUNK_SIZE):
            digest.update(block)
    return digest.hexdigest()


def save_stream(chunks: Iterable[bytes], destination: Any, *, expected_size: int | None = None) -> SavedVideo:
    """Write ``chunks`` to ``destination`` atomically; verify size and MP4 signature; skip identical files."""
    target = to_object_path(destination)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with temporary.open("wb") as handle:  # type: ignore[no-untyped-call]
            for chunk in chunks:
                if len(head) < 16:
                    head += chunk[: 16 - len(head)]
                digest.update(chunk)
                size += len(chunk)
                handle.write(chunk)
        if expected_size is not None and size != expected_size:
            raise VideoCheckError(f"incomplete download: {size} of {expected_size} bytes")
        check_mp4_head(head)
        sha = digest.hexdigest()
        if target.exists() and target.stat().st_size == size and file_sha256(target) == sha:
            temporary.unlink()
            return SavedVideo(str(target), size, sha, rewritten=False)
        temporary.rename(target)
        return SavedVideo(str(target), size, sha, rewritten=True)
    except BaseException:
        if temporary.exists():
            temporary.unlink()
        raise
