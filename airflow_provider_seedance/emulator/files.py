"""The CDN side: signed, expiring result links (/files/<task>.mp4, /files/<task>-last.png) rendered
lazily and cached, and /files/blob/<size>.mp4 synthetic files for benchmarks; Range and HEAD."""

from __future__ import annotations

import random
import re
import struct
from collections.abc import AsyncIterator, Iterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .runtime import Emulator, emulator_of
from .store import Phase, Task
from .video import render_last_frame_png, render_mp4, stable_seed

CHUNK = 256 * 1024
MAX_BLOB = 1 << 40
_PATTERN = random.Random(0).randbytes(1 << 20)
_FTYP = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 0x200, b"isom", b"mp41")
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def cdn_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """An object-storage style XML error."""
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return Response(body, status_code=status, media_type="application/xml", headers=headers)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, stop) for a single satisfiable byte range, None for no/ignored range; raises ValueError
    for an unsatisfiable one."""
    if not header:
        return None
    match = _RANGE_RE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        if length == 0:
            raise ValueError("empty suffix range")
        return max(0, size - length), size
    start = int(first)
    stop = min(size, int(last) + 1) if last else size
    if start >= size or stop <= start:
        raise ValueError("range not satisfiable")
    return start, stop


class ChunkReader:
    """Yields the bytes [start, stop) of a source in CHUNK-sized pieces."""

    def __call__(self, start: int, stop: int) -> Iterator[bytes]:
        raise NotImplementedError


def serve_bytes(request: Request, size: int, media_type: str, etag: str, reader: ChunkReader) -> Response:
    """A 200/206/416 streaming (or HEAD) response over a byte source of known size."""
    headers = {"accept-ranges": "bytes", "etag": f'"{etag}"', "cache-control": "private, max-age=86400"}
    try:
        wanted = parse_range(request.headers.get("range"), size)
    except ValueError:
        headers["content-range"] = f"bytes */{size}"
        return cdn_error(416, "InvalidRange", "The requested range is not satisfiable", headers)
    start, stop = wanted if wanted is not None else (0, size)
    status = 206 if wanted is not None else 200
    headers["content-length"] = str(stop - start)
    if wanted is not None:
        headers["content-range"] = f"bytes {start}-{stop - 1}/{size}"
    if request.method == "HEAD":
        return Response(b"", status_code=status, headers=headers, media_type=media_type)
    return StreamingResponse(_in_loop(reader(start, stop)), status_code=status, headers=headers, media_type=media_type)


async def _in_loop(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Chunks are cheap slices: iterate on the event loop instead of one thread hop per chunk."""
    for chunk in chunks:
        yield chunk


class BytesReader(ChunkReader):
    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)

    def __call__(self, start: int, stop: int) -> Iterator[bytes]:
        for offset in range(start, stop, CHUNK):
            yield bytes(self.data[offset : min(stop, offset + CHUNK)])


class BlobReader(ChunkReader):
    """A synthetic MP4-looking file: an ftyp box, an mdat header, then a repeating pattern."""

    def __init__(self, size: int) -> None:
        self.size = size
        rest = size - len(_FTYP)
        if rest >= 1 << 32:
            mdat = struct.pack(">I4sQ", 1, b"mdat", rest)
        elif rest >= 8:
            mdat = struct.pack(">I4s", rest, b"mdat")
        else:
            mdat = b""
        self.head = (_FTYP + mdat)[:size]

    def __call__(self, start: int, stop: int) -> Iterator[bytes]:
        head = self.head
        position = start
        while position < stop:
            if position < len(head):
                chunk = head[position : min(stop, len(head))]
            else:
                offset = (position - len(head)) % len(_PATTERN)
                chunk = _PATTERN[offset : offset + min(stop - position, CHUNK, len(_PATTERN) - offset)]
            yield chunk
            position += len(chunk)


async def blob(request: Request) -> Response:
    size = int(request.path_params["size"])
    if not 8 <= size <= MAX_BLOB:
        return cdn_error(400, "InvalidArgument", f"blob size must be between 8 and {MAX_BLOB} bytes")
    return serve_bytes(request, size, "video/mp4", f"blob-{size}", BlobReader(size))


def _render(emu: Emulator, task: Task, png: bool) -> bytes:
    spec = task.spec
    if emu.config.stock_media:  # one clip per shape, shared by every generation of that shape
        key, prompt, caption, seed = f"stock-{spec.ratio}-{spec.duration}-{spec.generate_audio}", "stock clip", "", 0
    else:
        key, prompt, caption, seed = task.id, spec.prompt, f"{task.id}  {spec.model}", stable_seed(task.id)
    if png:
        return emu.cache.get_or_render(
            f"{key}-last.png",
            lambda: render_last_frame_png(prompt, spec.ratio, spec.duration, caption=caption, seed=seed),
        )
    return emu.cache.get_or_render(
        f"{key}.mp4",
        lambda: render_mp4(prompt, spec.ratio, spec.duration, caption=caption, audio=spec.generate_audio, seed=seed),
    )


async def result_file(request: Request) -> Response:
    emu = emulator_of(request)
    name = request.path_params["name"]
    png = name.endswith("-last.png")
    if not png and not name.endswith(".mp4"):
        return cdn_error(404, "NoSuchKey", "The specified key does not exist.")
    task_id = name[: -len("-last.png")] if png else name[: -len(".mp4")]
    emu.set_ctx(request, task_id=task_id)
    try:
        expires = int(request.query_params.get("expires", ""))
    except ValueError:
        return cdn_error(403, "AccessDenied", "Missing or invalid signature parameters")
    if not emu.signature_ok(name, expires, request.query_params.get("sig", "")):
        return cdn_error(403, "SignatureDoesNotMatch", "The request signature does not match")
    if emu.store.unix() > expires:
        return cdn_error(403, "AccessDenied", "Request has expired")
    task = emu.store.get(task_id)
    if task is None or emu.store.view(task).phase is not Phase.SUCCEEDED:
        return cdn_error(404, "NoSuchKey", "The specified key does not exist.")
    data = await run_in_threadpool(_render, emu, task, png)
    media_type = "image/png" if png else "video/mp4"
    return serve_bytes(request, len(data), media_type, f"{task.id}-{len(data)}", BytesReader(data))


def routes() -> list[Route]:
    return [
        Route("/files/blob/{size:int}.mp4", blob, methods=["GET", "HEAD"]),
        Route("/files/{name}", result_file, methods=["GET", "HEAD"]),
    ]
