"""Streaming, atomic, verified save of a video to any ``ObjectStoragePath`` (local, s3://, gs://, ...).

Bytes go to a temporary sibling and are committed by a rename only once complete, the size matches the
server's ``Content-Length`` and the file starts like an MP4; nothing half-written is ever left at the
destination. An identical file already there is not rewritten; a different one is replaced only when the
caller says so (``replace=True``). ``TransferLimits`` cuts a save off past its size limit or its deadline
(the vendor's body is untrusted). ``VideoWriter`` holds all of this; a sync loop (``save_stream``) or an
async one (``asave_stream``) only feeds it the chunks. ``check_writable`` proves, before any credit is
spent, that a destination's filesystem is installed and that its folder can be written.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_seedance.contract._vendor_text import inert
from airflow_provider_seedance.wire.settings import DEFAULT_MAX_DOWNLOAD_MB

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

CHUNK_SIZE = 1024 * 1024
#: Numbered temporary files above its own a local save's commit looks for (other attempts' leftovers).
_PART_PROBE = 2
#: Numbered temporary files one destination may have at once on a local disk.
_MAX_PART_NUMBER = 1000


class VideoCheckError(ValueError):
    """The downloaded bytes are not a complete MP4, or a different file is in the way."""


class DownloadLimitError(VideoCheckError):
    """The video ran past a limit; the message names the limit and how to raise it."""


class DownloadTooLarge(DownloadLimitError):
    """Over the size limit: the same URL is as large on a retry."""


class DownloadTooSlow(DownloadLimitError):
    """Still running at the transfer's deadline: a retry, given more time, may still save it."""


class OutputNotWritable(ValueError):
    """A destination that cannot be written here; the message says what to install or fix."""


#: The package each filesystem needs, for the message when it is missing.
FILESYSTEM_PACKAGES = {
    # the extra pins an s3fs that works with Airflow's (a bare `pip install s3fs` can resolve to 0.4.x)
    "s3": "'apache-airflow-providers-amazon[s3fs]'",
    "s3a": "'apache-airflow-providers-amazon[s3fs]'",
    "gs": "gcsfs (with apache-airflow-providers-google for connections)",
    "gcs": "gcsfs",
    "az": "adlfs (with apache-airflow-providers-microsoft-azure for connections)",
    "abfs": "adlfs",
    "abfss": "adlfs",
    "adl": "adlfs",
    "hdfs": "pyarrow",
    "sftp": "paramiko",
}


@dataclass(frozen=True)
class TransferLimits:
    """How large a video may be and when its transfer must have ended.

    :param max_bytes: the size limit, with or without a ``Content-Length`` (a body that says nothing of its
        length is cut off there too).
    :param deadline: ``clock()`` time by which the last byte must have arrived; None for no deadline.
    :param size_hint: how to raise the size limit, for the error (the hook names its options).
    :param time_hint: how to give the transfer more time, likewise.
    """

    max_bytes: int = DEFAULT_MAX_DOWNLOAD_MB * 1024 * 1024
    deadline: float | None = None
    clock: Any = time.monotonic
    size_hint: str = ""
    time_hint: str = ""

    def check_announced(self, expected_size: int | None) -> None:
        """Refuse before reading when the server announces more than the limit."""
        if expected_size is not None and expected_size > self.max_bytes:
            raise DownloadTooLarge(
                f"the video is {expected_size} bytes by its Content-Length, over the limit of "
                f"{_mb(self.max_bytes)}: nothing was saved{_then(self.size_hint)}"
            )

    def check_progress(self, size: int) -> None:
        if size > self.max_bytes:
            raise DownloadTooLarge(
                f"the video ran past the limit of {_mb(self.max_bytes)} (the server gave no Content-Length, or a "
                f"wrong one): nothing was saved{_then(self.size_hint)}"
            )
        self.check_time(size)

    def check_time(self, size: int = 0) -> None:
        """Raise ``DownloadTooSlow`` once the deadline has passed (before each request too: hops, retries)."""
        if self.deadline is not None and self.clock() > self.deadline:
            raise DownloadTooSlow(
                f"the transfer was still running at its deadline ({size} bytes received): nothing was "
                f"saved{_then(self.time_hint)}"
            )

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - self.clock())


def _then(hint: str) -> str:
    return f"; {hint}" if hint else ""


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB ({size} bytes)"


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


def has_file_of_size(destination: Any, size_bytes: int | None) -> bool:
    """Whether a file is at ``destination`` (as resolved here) with exactly ``size_bytes`` bytes; any error
    resolving or reading it counts as no. A local path (``file:///...`` or a plain one) is a single ``os.stat``
    (a batch's resume checks thousands: through fsspec each took about 1 ms)."""
    try:
        local = _local_path(destination)
        if local is not None:
            return os.stat(local).st_size == size_bytes
        return bool(to_object_path(destination).stat().st_size == size_bytes)
    except (OSError, ValueError, TypeError, ImportError):
        return False


def _local_path(destination: Any) -> str | None:
    """The local file a plain path or ``file:///...`` text names; None for anything else (then fsspec decides)."""
    if not isinstance(destination, (str, os.PathLike)):
        return None
    text = os.fspath(destination)
    if isinstance(text, bytes):
        return None
    if text.startswith("file:///"):
        return text[len("file://") :]
    return None if "://" in text else os.path.abspath(os.path.expanduser(text))


def check_writable(destination: Any) -> ObjectStoragePath:
    """Prove that ``destination`` can be saved to from this machine: its filesystem resolves, its root (a
    bucket, a container) exists, its folder exists or can be created below that root, and a file can be
    created (and removed) there; raise ``OutputNotWritable`` saying what to install or fix. Nothing above the
    folders is ever created: a typo in a bucket name is refused, never a new bucket. Returns the destination
    as an ``ObjectStoragePath``."""
    try:
        target = to_object_path(destination)
    except (ValueError, TypeError) as exc:
        raise OutputNotWritable(
            missing_filesystem(destination, exc) or f"not a path or URL this Airflow can write to: {exc}"
        ) from None
    probe = target.parent / f".{target.name}.{uuid.uuid4().hex}.probe"
    try:
        if target.exists() and target.is_dir():
            raise OutputNotWritable("is a folder: give the file's path, e.g. .../teaser.mp4")
        make_folders(target.parent)
        with probe.open("wb"):  # type: ignore[no-untyped-call]
            pass
        probe.unlink()
    except OutputNotWritable:
        raise
    except Exception as exc:
        raise OutputNotWritable(
            missing_filesystem(destination, exc)
            or f"cannot write in {target.parent} ({type(exc).__name__}: {exc}): check the path, the storage "
            "connection and that this worker may create files there"
        ) from None
    return target


def make_folders(folder: ObjectStoragePath) -> None:
    """Create ``folder`` and the missing folders above it, but never its root: the bucket of ``s3://bucket/...``
    (or a container, ``/`` locally) must exist already, or ``OutputNotWritable`` says so. Object stores
    create a bucket on ``mkdir`` of a path in it, so a misspelt bucket name would otherwise become a new
    bucket holding the video."""
    if _is_local(folder):  # the root is / and exists; os.makedirs without fsspec's calls per folder
        os.makedirs(folder.path, exist_ok=True)
        return
    root = folder.parents[-1] if folder.parents else folder
    if not root.exists():
        raise OutputNotWritable(
            f"its root {root} does not exist, or this connection cannot see it: the provider creates folders "
            "only below an existing bucket or root, never the bucket itself; check the name (and the "
            "connection in the URL), or create the bucket first"
        )
    folder.mkdir(parents=True, exist_ok=True)


def missing_filesystem(destination: Any, exc: Exception) -> str | None:
    """What to install when ``exc`` says the destination's filesystem is not there: fsspec's ImportError
    ("Install s3fs to access S3"), or Airflow's "No filesystem registered for scheme s3" / upath's
    "Unsupported filesystem" (the wording differs between Airflow 3.1 and 3.3). None for any other error."""
    text = str(exc)
    if not (isinstance(exc, ImportError) or "filesystem registered" in text or "Unsupported filesystem" in text):
        return None
    scheme = str(destination).split("://", 1)[0] if "://" in str(destination) else "file"
    package = FILESYSTEM_PACKAGES.get(scheme, f"the fsspec filesystem for {scheme}://")
    module = missing_module(exc)
    missing = f"; the module that failed to import is {module!r}" if module else ""
    return f"its filesystem is not installed here ({text}{missing}): install {package} on every worker"


def missing_module(exc: BaseException) -> str | None:
    """The module an import failure names, wherever in the chain it is (fsspec wraps the real one in its
    "Install s3fs" ImportError, even when s3fs is installed and one of its own imports failed)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ImportError) and current.name:
            return current.name
        current = current.__cause__ or current.__context__
    return None


def check_mp4_head(head: bytes, *, size: int, content_type: str | None = None) -> None:
    """Every MP4 starts with an ``ftyp`` box: 4 size bytes, then ``ftyp``. The message names what came (its
    content type and size), never its bytes: a refused body is the vendor's, not ours to print."""
    if len(head) < 8 or head[4:8] != b"ftyp":
        kind = f"content type {inert(content_type, 100)!r}" if content_type else "no content type"
        raise VideoCheckError(f"not an MP4 file ({size} bytes, {kind})")


def file_sha256(path: ObjectStoragePath) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:  # type: ignore[no-untyped-call]
        while block := handle.read(CHUNK_SIZE):
            digest.update(block)
    return digest.hexdigest()


class VideoWriter:
    """One atomic, verified save, fed chunk by chunk: the part shared by the sync and the async download.

    Use as a context manager: ``write`` every chunk as it comes off the socket, then ``commit``. ``commit``
    checks the size against ``expected_size`` (the server's ``Content-Length``) and the MP4 signature, then
    renames the temporary sibling onto the destination, or drops it when an identical file is already
    there. Leaving the block without a commit (an error, a cancelled task) removes the temporary file, so
    nothing half-written is ever left; a process killed mid-save (SIGKILL, a lost worker) cannot do that,
    so a commit also removes the temporary siblings other attempts at the same destination left behind.
    A different file already at the destination is replaced only with ``replace=True``; otherwise
    ``commit`` raises ``VideoCheckError`` and leaves it as it was. The writes are plain blocking file writes.
    """

    def __init__(
        self,
        destination: Any,
        *,
        expected_size: int | None = None,
        replace: bool = False,
        limits: TransferLimits | None = None,
        content_type: str | None = None,
    ) -> None:
        self.target = to_object_path(destination)
        self.replace = replace
        self.temporary = self.target.parent / _part_name(self.target.name, uuid.uuid4().hex)  # numbered locally
        self._part_number: int | None = None  # set on a local disk (then the file operations are os calls)
        self.expected_size = expected_size
        self.limits = limits or TransferLimits()
        self.content_type = content_type
        self.limits.check_announced(expected_size)
        self.size = 0
        self._digest = hashlib.sha256()
        self._head = b""
        self._handle: Any = None
        self._finished = False

    def __enter__(self) -> VideoWriter:
        make_folders(self.target.parent)
        if _is_local(self.target.parent):
            self._open_numbered_part()
        else:
            self._handle = self.temporary.open("wb")  # type: ignore[no-untyped-call]
        return self

    def _open_numbered_part(self) -> None:
        """On a local disk the temporary file is ``.<name>.<n>.part``, n the lowest number no other attempt at
        this destination holds (created exclusively: two attempts never share one), so that a commit finds
        earlier attempts' leftovers by their names, without listing the folder (see ``_numbered_leftovers``)."""
        folder, name = self.target.parent, self.target.name
        for number in range(_MAX_PART_NUMBER):
            candidate = folder / _part_name(name, str(number))
            try:
                self._handle = open(candidate.path, "xb")  # noqa: SIM115 (closed by commit or __exit__)
            except FileExistsError:
                continue
            self.temporary, self._part_number = candidate, number
            return
        raise OSError(f"{_MAX_PART_NUMBER} temporary files of {name} are already in {folder}: remove them")

    def write(self, chunk: bytes) -> None:
        """Append one chunk; raises ``DownloadLimitError`` past the size limit or the transfer deadline (the
        temporary file is removed on leaving the block)."""
        self.limits.check_progress(self.size + len(chunk))
        if len(self._head) < 16:
            self._head += chunk[: 16 - len(self._head)]
        self._digest.update(chunk)
        self.size += len(chunk)
        self._handle.write(chunk)

    def commit(self) -> SavedVideo:
        """Verify, then put the file in place (or keep an identical one); raises ``VideoCheckError``."""
        self._handle.close()
        size, target = self.size, self.target
        if self.expected_size is not None and size != self.expected_size:
            raise VideoCheckError(f"incomplete download: {size} of {self.expected_size} bytes")
        check_mp4_head(self._head, size=size, content_type=self.content_type)
        sha = self._digest.hexdigest()
        if self._exists(target):
            if target.stat().st_size == size and file_sha256(target) == sha:
                self._unlink(self.temporary)
                self._finished = True
                self._remove_stale_parts()
                return SavedVideo(str(target), size, sha, rewritten=False)
            if not self.replace:
                raise VideoCheckError(
                    f"{target} already holds a different video (another generation's?); it was not replaced. "
                    "Give each render its own path (e.g. with {{ ds }} or {{ ti.map_index }}), or set replace=True"
                )
        if self._part_number is not None:
            os.replace(self.temporary.path, target.path)  # a local disk: the rename itself, atomic
        else:
            self.temporary.rename(target)
        self._finished = True
        self._remove_stale_parts()
        return SavedVideo(str(target), size, sha, rewritten=True)

    def _remove_stale_parts(self) -> None:
        """Best effort: the ``.part`` files of earlier attempts at this destination killed mid-save. The
        destination now holds a verified video, so whatever another attempt was writing is obsolete."""
        try:
            if self._part_number is not None:
                for path in self._numbered_leftovers():
                    os.unlink(path)
            else:
                folder, name = self.target.parent, self.target.name
                for sibling in [sibling for sibling in folder.iterdir() if is_part_of(sibling.name, name)]:
                    sibling.unlink()
        except OSError:
            pass

    def _numbered_leftovers(self) -> list[str]:
        """On a local disk, this destination's ``.part`` files by their numbered names alone: the numbers up to
        this attempt's own (the lowest free one when it started) and ``_PART_PROBE`` above it, one ``exists``
        each, so a save costs the same in a folder of 10,000 videos as in an empty one (listing the folder at
        each save made a batch's saves quadratic). An object store is listed instead (random names)."""
        assert self._part_number is not None
        folder, name = self.target.parent.path, self.target.name
        numbered = (os.path.join(folder, _part_name(name, str(n))) for n in range(self._part_number + _PART_PROBE + 1))
        return [path for path in numbered if os.path.exists(path)]

    def _exists(self, path: ObjectStoragePath) -> bool:
        """``path.exists()``; on a local disk one ``os.path.exists`` (fsspec's costs a stat and path objects)."""
        return os.path.exists(path.path) if self._part_number is not None else bool(path.exists())

    def _unlink(self, path: ObjectStoragePath) -> None:
        if self._part_number is not None:
            os.unlink(path.path)
        else:
            path.unlink()

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None and not self._handle.closed:
            self._handle.close()
        if not self._finished and self._exists(self.temporary):
            self._unlink(self.temporary)


def _is_local(folder: ObjectStoragePath) -> bool:
    return folder.protocol in ("file", "local")


def _part_name(target_name: str, tag: str) -> str:
    """The temporary sibling's name for a save to ``target_name``: ``.<name>.<tag>.part``, the tag a number
    on a local disk (``VideoWriter``), random hex on an object store."""
    return f".{target_name}.{tag}.part"


def is_part_of(name: str, target_name: str) -> bool:
    """Whether the file ``name`` is a temporary sibling a ``VideoWriter`` for ``target_name`` made: matched
    literally (a file name with ``*``, ``?`` or ``[`` is no pattern), with only hex digits in between."""
    prefix, suffix = f".{target_name}.", ".part"
    if len(name) <= len(prefix) + len(suffix) or not (name.startswith(prefix) and name.endswith(suffix)):
        return False
    return all(char in "0123456789abcdef" for char in name[len(prefix) : -len(suffix)])


def save_stream(chunks: Iterable[bytes], destination: Any, **writer_args: Any) -> SavedVideo:
    """Write ``chunks`` to ``destination`` atomically; verify size and MP4 signature; skip identical files;
    replace a different one only with ``replace=True``; ``writer_args`` as ``VideoWriter`` takes them."""
    with VideoWriter(destination, **writer_args) as writer:
        for chunk in chunks:
            writer.write(chunk)
        return writer.commit()


async def asave_stream(chunks: AsyncIterable[bytes], destination: Any, **writer_args: Any) -> SavedVideo:
    """``save_stream`` fed by an async iterator. The reads await; the file writes block the event loop
    briefly per chunk (see ``SeedanceHook.adownload_video``)."""
    with VideoWriter(destination, **writer_args) as writer:
        async for chunk in chunks:
            writer.write(chunk)
        return writer.commit()


async def asave_stream_offloaded(chunks: AsyncIterable[bytes], destination: Any, **writer_args: Any) -> SavedVideo:
    """``asave_stream`` for an event loop that must never block (the triggerer's): every file operation of
    the writer (its folders, each chunk's write, the check and rename, the clean-up) runs in a thread of the
    loop's default executor, one at a time per save; the reads await on the loop. Same atomicity: a cancelled
    or failed save removes its temporary file, and nothing is renamed into place before ``commit``."""
    writer = await asyncio.to_thread(VideoWriter, destination, **writer_args)
    await asyncio.to_thread(writer.__enter__)
    try:
        async for chunk in chunks:
            await asyncio.to_thread(writer.write, chunk)
        return await asyncio.to_thread(writer.commit)
    finally:
        await asyncio.shield(asyncio.to_thread(writer.__exit__, None, None, None))
