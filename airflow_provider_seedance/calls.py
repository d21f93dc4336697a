"""Turning an ``ApiCall`` into httpx arguments and an httpx answer into JSON or a typed error.

Shared by the sync and async paths so the twins in the hook are a few lines of I/O each.
"""

from __future__ import annotations

from typing import Any

import httpx

from airflow_provider_seedance.backends import ApiCall, Backend
from airflow_provider_seedance.exceptions import (
    SeedanceConnectionError,
    SeedanceError,
    SeedanceServerError,
    SeedanceSubmitUncertainError,
)

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def request_kwargs(call: ApiCall) -> dict[str, Any]:
    return {
        "method": call.method,
        "url": call.path,
        "params": call.params,
        "json": call.json,
        "headers": call.headers or None,
    }


def connection_error(exc: httpx.HTTPError, call: ApiCall, base_url: str) -> SeedanceConnectionError:
    """A transport failure, saying whether a create request may have reached the server."""
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = f"{call.method} {base_url.rstrip('/')}{call.path} failed: {detail}"
    may_have_created = call.kind == "create" and not isinstance(exc, _NEVER_SENT)
    if may_have_created:
        text += " (the request may have reached the API; it was not resent to avoid a second paid generation)"
    return SeedanceConnectionError(text, may_have_created=may_have_created)


def submit_error(exc: SeedanceError, call: ApiCall, backend: Backend) -> SeedanceError:
    """What a failed create becomes. Where the create may have reached the API (a 5xx, a dropped answer,
    an unreadable 2xx) without an idempotency key, an Airflow retry could bill a second render: the error
    becomes final. With EvoLink's key the retry replays the same task instead, so it stays retryable."""
    uncertain = isinstance(exc, SeedanceServerError) or (
        isinstance(exc, SeedanceConnectionError) and exc.may_have_created
    )
    keyed = any(name.lower() == "idempotency-key" for name in call.headers or {})
    if not uncertain or keyed:
        return exc
    return SeedanceSubmitUncertainError(
        f"{exc}. No idempotency key protects this create call on {backend.name}, so it is not submitted "
        "again by itself (that could bill a second render): look for the task in the vendor's console, then "
        "clear this task to submit anew"
    )


def parse_response(backend: Backend, call: ApiCall, response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a 2xx answer; a typed ``SeedanceAPIError`` for anything else."""
    headers = dict(response.headers)
    if response.status_code >= 400:
        raise backend.api_error(response.status_code, response.content, headers)
    if response.status_code == 204 or not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        snippet = response.text[:200]
        raise SeedanceConnectionError(
            f"{call.method} {call.path} answered HTTP {response.status_code} with a body that is not JSON: {snippet!r}",
            may_have_created=call.kind == "create",
        ) from None
    if not isinstance(body, dict):
        raise SeedanceConnectionError(
            f"{call.method} {call.path} answered JSON that is not an object: {body!r:.200}",
            may_have_created=call.kind == "create",
        )
    return body
