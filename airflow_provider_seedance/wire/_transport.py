"""One retrying transport for the sync and async httpx clients (the retry policy's pure rules are in
``_rules.py``).

Never pay twice: a request that may create a paid generation (a POST without an ``Idempotency-Key``) is
retried only when it certainly did not reach the server (connect errors, pool timeouts) or the server
refused it outright (429). Reads, cancels and idempotent POSTs also retry 408/5xx and dropped connections.
Every retry is logged with its reason and what makes it safe; each request records how many times it was
sent (``sends``), so a final error can say so truthfully.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from airflow_provider_seedance.wire._rules import (
    IDEMPOTENCY_HEADER,
    RETRY_STATUSES,
    SAFE_METHODS,
    RetryPolicy,
    backoff,
    retry_after_seconds,
)
from airflow_provider_seedance.wire._tls import default_ssl_context

#: Errors raised before a single byte of the request left this machine.
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: The request extension that counts how many times a request was handed to the network.
SENDS = "seedance_sends"

log = logging.getLogger(__name__)


def replay_safe(request: httpx.Request) -> bool:
    """Whether sending this request twice cannot create (and bill) a second generation."""
    return request.method in SAFE_METHODS or IDEMPOTENCY_HEADER in request.headers


def sends(request: httpx.Request) -> int:
    """How many times the retry transport handed ``request`` to the network (1 without it)."""
    return int(request.extensions.get(SENDS, 1))


def log_retry(request: httpx.Request, attempt: int, delay: float, reason: str, policy: RetryPolicy) -> None:
    """One line per retry: which request, why, when, and what makes sending it again safe."""
    if request.method in SAFE_METHODS:
        safe = "safe: it creates nothing"
    elif IDEMPOTENCY_HEADER in request.headers:
        key = request.headers[IDEMPOTENCY_HEADER]
        safe = f"safe: Idempotency-Key {key} makes the API run and bill at most one generation for it"
    else:
        safe = "safe: the API refused or never received the earlier send, so nothing was created"
    level = logging.INFO if request.method in SAFE_METHODS else logging.WARNING
    log.log(
        level,
        "%s %s: %s; sending it again in %.1f s (send %d of at most %d, %s)",
        request.method,
        request.url.copy_with(query=None),
        reason,
        delay,
        attempt + 2,
        policy.max_retries + 1,
        safe,
    )


def retry_delay(
    policy: RetryPolicy,
    attempt: int,
    *,
    safe: bool,
    status: int | None = None,
    error: Exception | None = None,
    retry_after: str | None = None,
    rand: random.Random | None = None,
) -> float | None:
    """Seconds to wait before retry number ``attempt + 1``, or None when the call must not be retried."""
    if attempt >= policy.max_retries:
        return None
    if error is not None:
        if not (isinstance(error, NOT_SENT_ERRORS) or (safe and isinstance(error, httpx.TransportError))):
            return None
    elif status is None or status not in RETRY_STATUSES or (status != 429 and not safe):
        return None
    delay = backoff(policy, attempt, rand or random.Random())
    hinted = retry_after_seconds(retry_after, policy)
    return max(delay, hinted) if hinted is not None else delay


class WrappingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A transport around a sync and/or an async one, each made on first use when not given: the shape the
    provider's layers share (retries here; the download guard; the bound on API answers)."""

    def __init__(
        self,
        *,
        sync_transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._sync = sync_transport
        self._async = async_transport

    @property
    def inner(self) -> httpx.BaseTransport:
        if self._sync is None:
            self._sync = httpx.HTTPTransport(verify=default_ssl_context())
        return self._sync

    @property
    def ainner(self) -> httpx.AsyncBaseTransport:
        if self._async is None:
            self._async = httpx.AsyncHTTPTransport(verify=default_ssl_context())
        return self._async

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()


class RetryTransport(WrappingTransport):
    """Wraps a sync and/or async transport and retries per ``retry_delay``. One class, both clients."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        sync_transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep,
        rand: random.Random | None = None,
    ) -> None:
        super().__init__(sync_transport=sync_transport, async_transport=async_transport)
        self.policy = policy
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._rand = rand or random.Random()
        self.retries = 0

    def _delay(
        self, request: httpx.Request, attempt: int, response: httpx.Response | None, error: Exception | None
    ) -> float | None:
        return retry_delay(
            self.policy,
            attempt,
            safe=replay_safe(request),
            status=response.status_code if response is not None else None,
            error=error,
            retry_after=response.headers.get("retry-after") if response is not None else None,
            rand=self._rand,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            request.extensions[SENDS] = attempt + 1
            try:
                response = self.inner.handle_request(request)
            except httpx.TransportError as exc:
                delay = self._delay(request, attempt, None, exc)
                if delay is None:
                    raise
                reason = _reason(None, exc)
            else:
                delay = self._delay(request, attempt, response, None)
                if delay is None:
                    return response
                reason = _reason(response, None)
                response.close()
            self.retries += 1
            log_retry(request, attempt, delay, reason, self.policy)
            self._sleep(delay)
            attempt += 1

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            request.extensions[SENDS] = attempt + 1
            try:
                response = await self.ainner.handle_async_request(request)
            except httpx.TransportError as exc:
                delay = self._delay(request, attempt, None, exc)
                if delay is None:
                    raise
                reason = _reason(None, exc)
            else:
                delay = self._delay(request, attempt, response, None)
                if delay is None:
                    return response
                reason = _reason(response, None)
                await response.aclose()
            self.retries += 1
            log_retry(request, attempt, delay, reason, self.policy)
            await self._async_sleep(delay)
            attempt += 1


def _reason(response: httpx.Response | None, error: Exception | None) -> str:
    if response is not None:
        return f"HTTP {response.status_code}"
    detail = str(error)
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__
