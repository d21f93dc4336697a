"""The API's answers bounded in size: a status or an error is a few kilobytes of JSON, so an answer that runs
past ``MAX_ANSWER_BYTES`` is cut off where it is read, before it fills a worker's or the triggerer's memory.

One transport wrapper for the sync and async API clients (not the video downloads: ``storage.TransferLimits``
bounds those). No Airflow import.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx

from airflow_provider_seedance.wire._transport import WrappingTransport

#: The largest API answer read (statuses and errors are a few kB; this leaves room for any verbose gateway).
MAX_ANSWER_BYTES = 4 * 1024 * 1024


class AnswerTooLarge(httpx.RequestError):
    """An API answer over ``MAX_ANSWER_BYTES``: not read further, never retried as a transport error."""


class CappedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that raises ``AnswerTooLarge`` once more than ``limit`` bytes came off the wire."""

    def __init__(self, inner: httpx.SyncByteStream | httpx.AsyncByteStream, request: httpx.Request, limit: int):
        self._inner, self._request, self._limit, self._read = inner, request, limit, 0

    def _count(self, chunk: bytes) -> bytes:
        self._read += len(chunk)
        if self._read > self._limit:
            raise AnswerTooLarge(too_large(self._limit, "ran past"), request=self._request)
        return chunk

    def __iter__(self) -> Iterator[bytes]:
        assert isinstance(self._inner, httpx.SyncByteStream)
        for chunk in self._inner:
            yield self._count(chunk)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self._inner, httpx.AsyncByteStream)
        async for chunk in self._inner:
            yield self._count(chunk)

    def close(self) -> None:
        if isinstance(self._inner, httpx.SyncByteStream):
            self._inner.close()

    async def aclose(self) -> None:
        if isinstance(self._inner, httpx.AsyncByteStream):
            await self._inner.aclose()


def too_large(limit: int, how: str) -> str:
    size = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"
    return f"the answer {how} {size}, far more than any status, error or redirect carries: not read further"


def _announced(response: httpx.Response) -> int | None:
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


class BoundedTransport(WrappingTransport):
    """Refuses an answer that announces more than ``limit`` bytes, and cuts off one that runs past it."""

    def __init__(
        self,
        *,
        sync_transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        limit: int = MAX_ANSWER_BYTES,
    ) -> None:
        super().__init__(sync_transport=sync_transport, async_transport=async_transport)
        self.limit = limit

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        refusal = self._refusal(response)
        if refusal:
            response.close()
            raise AnswerTooLarge(refusal, request=request)
        response.stream = CappedStream(response.stream, request, self._raw_limit(response))
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.ainner.handle_async_request(request)
        refusal = self._refusal(response)
        if refusal:
            await response.aclose()
            raise AnswerTooLarge(refusal, request=request)
        response.stream = CappedStream(response.stream, request, self._raw_limit(response))
        return response

    def _refusal(self, response: httpx.Response) -> str | None:
        encoding = _encoding(response)
        if encoding not in ("", "identity", *_INFLATES):
            return f"the API's answer is {encoding}-encoded although the client asked for none: not read"
        if (_announced(response) or 0) > self._raw_limit(response):
            return too_large(self.limit, "announces more than")
        return None

    def _raw_limit(self, response: httpx.Response) -> int:
        """The bound on the bytes off the wire: for a gzip or deflate answer (sent although the client asked
        for none), small enough that even the densest one inflates to no more than ``limit``."""
        return max(1024, self.limit // _MAX_INFLATION) if _encoding(response) in _INFLATES else self.limit


#: The encodings httpx inflates, and the most either can inflate (deflate's ratio tops out near 1032:1).
_INFLATES = ("gzip", "deflate", "x-gzip")
_MAX_INFLATION = 1032


def _encoding(response: httpx.Response) -> str:
    return str(response.headers.get("content-encoding", "")).strip().lower()
