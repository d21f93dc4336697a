"""Turning an ``ApiCall`` into httpx arguments and an httpx answer into JSON or a typed error.

Shared by the sync and async paths so the twins in the hook are a few lines of I/O each.
"""

from __future__ import annotations

from typing import Any

import httpx

from airflow_provider_seedance.contract._vendor_text import scrub
from airflow_provider_seedance.exceptions import (
    SeedanceConnectionError,
    SeedanceError,
    SeedanceServerError,
    SeedanceSubmitUncertainError,
)
from airflow_provider_seedance.wire._transport import NOT_SENT_ERRORS, sends
from airflow_provider_seedance.wire.backends import ApiCall, Backend
from airflow_provider_seedance.wire.settings import ConnectionSettings


def request_kwargs(call: ApiCall, settings: ConnectionSettings | None = None) -> dict[str, Any]:
    """httpx arguments for ``call``; with ``settings``, a create gets its own, shorter read timeout."""
    kwargs: dict[str, Any] = {
        "method": call.method,
        "url": call.path,
        "params": call.params,
        "json": call.json,
        "headers": call.headers or None,
    }
    if settings is not None and call.kind == "create":
        kwargs["timeout"] = settings.create_timeouts
    return kwargs


def transport_detail(exc: httpx.HTTPError, base_url: str) -> str:
    """What went wrong on the wire, with what to do where the cause is a common setup mistake."""
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if "WRONG_VERSION_NUMBER" in detail and base_url.startswith("https://"):
        detail += (
            f". The server at {base_url} does not speak TLS: if it is plain HTTP, give the connection's Base URL "
            "with http:// (in a connection URI, percent-encode it: http%3A%2F%2Fhost%3Aport)"
        )
    return detail


def connection_error(
    exc: httpx.HTTPError, call: ApiCall, base_url: str, secrets: tuple[str, ...] = ()
) -> SeedanceConnectionError:
    """A transport failure, saying truthfully how often a create was sent and what that means for billing.
    The transport's words may quote the server's (a malformed answer), so they are scrubbed too."""
    detail = scrub(transport_detail(exc, base_url), secrets, 600)
    text = f"{call.method} {base_url.rstrip('/')}{call.path} failed: {detail}"
    may_have_created = call.kind == "create" and not isinstance(exc, NOT_SENT_ERRORS)
    if call.kind == "create":
        text += " " + _create_outcome(call, _sent_count(exc), may_have_created)
    return SeedanceConnectionError(text, may_have_created=may_have_created)


def _sent_count(exc: httpx.HTTPError) -> int:
    try:
        return sends(exc.request)
    except RuntimeError:  # an error raised before a request existed
        return 1


def _create_outcome(call: ApiCall, count: int, may_have_created: bool) -> str:
    times = "once" if count == 1 else f"{count} times"
    key = call.idempotency_key
    if not may_have_created:
        return f"(tried {times}; it never reached the API, so nothing was created or billed)"
    if key:
        return (
            f"(sent {times}, every time under Idempotency-Key {key}: the API creates and bills at most one "
            "generation for that key, and a retry of this task sends the same key and picks it up)"
        )
    return f"(sent {times}; the last send may have reached the API and created a generation)"


def submit_error(exc: SeedanceError, call: ApiCall, backend: Backend) -> SeedanceError:
    """What a failed create becomes. Where the create may have reached the API (a 5xx, a dropped answer,
    an unreadable 2xx) without an idempotency key, an Airflow retry could bill a second render: the error
    becomes final. With EvoLink's key the retry replays the same task instead, so it stays retryable."""
    uncertain = isinstance(exc, SeedanceServerError) or (
        isinstance(exc, SeedanceConnectionError) and exc.may_have_created
    )
    if not uncertain or call.idempotency_key:
        return exc
    return SeedanceSubmitUncertainError(
        f"{exc}. No idempotency key protects this create call on {backend.name}, so it was not resent and "
        "is not submitted again by itself (that could bill a second render): look for the task in the "
        "vendor's console, then clear this task to submit anew"
    )


def parse_response(
    backend: Backend, call: ApiCall, response: httpx.Response, conn_id: str | None = None, secrets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The JSON object of a 2xx answer; a typed ``SeedanceAPIError`` for anything else, its vendor words
    scrubbed of ``secrets`` (the connection's key) and bounded. A 404 or 405 says which URL was called on
    which connection, and what to check."""
    headers = dict(response.headers)
    if response.status_code >= 400:
        error = backend.api_error(response.status_code, response.content, headers).scrubbed(secrets)
        if response.status_code in (404, 405):
            hint = (
                f" ({call.method} {response.request.url.copy_with(query=None)}"
                f"{f' on connection {conn_id!r}' if conn_id else ''}): check the connection's Base URL and that "
                f"its Backend field ({backend.name}) matches the API this key belongs to"
            )
            if call.kind == "poll":
                hint += ", or that the generation id is one this account created"
            error.message += hint
            error.args = (str(error) + hint,)
        raise error
    if response.status_code == 204 or not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        snippet = scrub(response.content[:2000].decode("utf-8", "replace"), secrets, 200)
        kind = scrub(response.headers.get("content-type", "none"), secrets, 100)
        raise SeedanceConnectionError(
            f"{call.method} {call.path} answered HTTP {response.status_code} with a body that is not JSON "
            f"({len(response.content)} bytes, content type {kind!r}): {snippet!r}",
            may_have_created=call.kind == "create",
        ) from None
    if not isinstance(body, dict):
        raise SeedanceConnectionError(
            f"{call.method} {call.path} answered JSON that is not an object: {scrub(repr(body)[:2000], secrets, 200)}",
            may_have_created=call.kind == "create",
        )
    return body
