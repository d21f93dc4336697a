"""Connection fields -> settings, and settings -> httpx clients (one pooled async client per loop).

Pure apart from building clients: no Airflow import. The API key lives only in ``ConnectionSettings``
(hidden from ``repr``) and in the clients' ``Authorization`` header.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from airflow_provider_seedance.contract._declared_models import parse_declared_models
from airflow_provider_seedance.contract.limits import ModelLimits
from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.version import __version__
from airflow_provider_seedance.wire._answer_bounds import BoundedTransport
from airflow_provider_seedance.wire._rules import RetryPolicy
from airflow_provider_seedance.wire._tls import default_ssl_context
from airflow_provider_seedance.wire._transport import RetryTransport
from airflow_provider_seedance.wire.backends import Backend, get_backend

DEFAULT_REQUEST_TIMEOUT = 60.0
#: A create answers at once with an id; a create that hangs is retried (keyed) or reported far sooner.
DEFAULT_CREATE_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 4
#: The largest video saved unless the connection (extra ``max_download_mb``) or the task says otherwise.
DEFAULT_MAX_DOWNLOAD_MB = 1024
#: The keys of a connection's extra that this provider reads; any other key is reported (a typo is silent).
EXTRA_KEYS = (
    "backend",
    "timeout",
    "create_timeout",
    "max_retries",
    "scheme",
    "models",
    "default_model",
    "download_hosts",
    "max_download_mb",
)
USER_AGENT = f"airflow-provider-seedance/{__version__}"


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything a client needs, parsed from an Airflow connection of type ``seedance``."""

    backend_name: str
    base_url: str
    api_key: str = field(repr=False)
    timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    create_timeout: float = DEFAULT_CREATE_TIMEOUT
    #: The limits of models this connection declares in its extra (``models``), by model id.
    models: Mapping[str, ModelLimits] = field(default_factory=dict, compare=False)
    #: The model a task falling over to this connection renders when nothing else maps one (``contract/failover.py``).
    default_model: str | None = None
    #: Hosts videos may be fetched from although they resolve to internal addresses (``runtime/download_guard.py``).
    download_hosts: tuple[str, ...] = ()
    #: The largest video this connection's downloads save, in MiB (a task's ``max_download_mb`` wins).
    max_download_mb: float = DEFAULT_MAX_DOWNLOAD_MB

    @property
    def backend(self) -> Backend:
        return get_backend(self.backend_name)

    @property
    def create_timeouts(self) -> httpx.Timeout:
        """The create call's timeouts: the read bounded by ``create_timeout`` (never above ``timeout``)."""
        return httpx.Timeout(min(self.create_timeout, self.timeout), connect=min(10.0, self.timeout))

    @property
    def cache_key(self) -> tuple[str, str, str, float, int]:
        digest = hashlib.sha256(self.api_key.encode()).hexdigest()[:16]
        return (self.backend_name, self.base_url, digest, self.timeout, self.max_retries)


def settings_from_fields(
    *, password: str | None, host: str | None, port: int | None, extra: dict[str, Any], conn_id: str
) -> ConnectionSettings:
    """Build settings from a connection's fields; every problem names the connection and the field."""
    if not password:
        raise SeedanceValidationError(
            "password", "<empty>", f"connection {conn_id!r} needs the API key in its password (API key) field"
        )
    backend = str(extra.get("backend") or "evolink").strip().lower()
    dialect = get_backend(backend)
    base_url = _base_url(host, port, extra, dialect.base_path, dialect.default_base_url)
    timeout = _number(extra, "timeout", DEFAULT_REQUEST_TIMEOUT, conn_id, minimum=1.0)
    retries = int(_number(extra, "max_retries", DEFAULT_MAX_RETRIES, conn_id, minimum=0.0))
    create_timeout = _number(extra, "create_timeout", DEFAULT_CREATE_TIMEOUT, conn_id, minimum=1.0)
    models = parse_declared_models(extra.get("models"), dialect.name, f"connection {conn_id!r} extra models")
    default_model = str(extra.get("default_model") or "").strip() or None
    return ConnectionSettings(
        backend,
        base_url,
        password,
        timeout,
        retries,
        create_timeout,
        models,
        default_model,
        download_hosts=_host_list(extra.get("download_hosts"), conn_id),
        max_download_mb=_number(extra, "max_download_mb", DEFAULT_MAX_DOWNLOAD_MB, conn_id, minimum=1.0),
    )


def _host_list(value: Any, conn_id: str) -> tuple[str, ...]:
    """``download_hosts``: a JSON list of host names, or one comma-separated string."""
    if value in (None, "", []):
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
        raise SeedanceValidationError(
            "extra.download_hosts",
            value,
            f'must be a list of host names, e.g. ["videos.internal.example", "*.cdn.example"] (connection {conn_id!r})',
        )
    hosts = tuple(item.strip() for item in items if item.strip())
    for host in hosts:
        if "/" in host or " " in host:
            raise SeedanceValidationError(
                "extra.download_hosts", host, f"must be a host name or host:port, not a URL (connection {conn_id!r})"
            )
    return hosts


def unknown_extra_keys(extra: dict[str, Any]) -> list[str]:
    """One line per key of a connection's extra that this provider does not read, with the likely key."""
    import difflib

    lines = []
    for key in sorted(k for k in extra if k not in EXTRA_KEYS):
        close = difflib.get_close_matches(key.lower(), EXTRA_KEYS, n=1, cutoff=0.6)
        hint = f": did you mean {close[0]!r}?" if close else ""
        lines.append(f"extra key {key!r} is not one this provider reads ({', '.join(EXTRA_KEYS)}){hint}")
    return lines


def _base_url(host: str | None, port: int | None, extra: dict[str, Any], base_path: str, default: str) -> str:
    host = (host or "").strip()
    if not host:
        return default
    if "://" not in host:
        scheme = str(extra.get("scheme") or "https")
        host = f"{scheme}://{host}"
    parts = urlsplit(host)
    netloc = parts.netloc
    if port and parts.port is None:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/")
    if not path:
        path = base_path
    return f"{parts.scheme}://{netloc}{path}"


def _number(extra: dict[str, Any], key: str, default: float, conn_id: str, *, minimum: float) -> float:
    value = extra.get(key)
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SeedanceValidationError(f"extra.{key}", value, f"must be a number (connection {conn_id!r})") from None
    if number < minimum:
        raise SeedanceValidationError(f"extra.{key}", value, f"must be at least {minimum:g} (connection {conn_id!r})")
    return number


def _client_kwargs(settings: ConnectionSettings) -> dict[str, Any]:
    return {
        "base_url": settings.base_url,
        # identity: a compressed answer could inflate past the bound on API answers (_answer_bounds.py)
        "headers": {
            "Authorization": f"Bearer {settings.api_key}",
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "identity",
        },
        "timeout": httpx.Timeout(settings.timeout, connect=min(10.0, settings.timeout)),
        "follow_redirects": False,
    }


def build_client(
    settings: ConnectionSettings, *, transport: httpx.BaseTransport | None = None, policy: RetryPolicy | None = None
) -> httpx.Client:
    bounded = BoundedTransport(sync_transport=transport)
    retry = RetryTransport(policy or RetryPolicy(max_retries=settings.max_retries), sync_transport=bounded)
    return httpx.Client(transport=retry, **_client_kwargs(settings))


#: Requests of one shared client in flight at once. httpcore matches every queued request against every
#: pooled connection on each event (quadratic): with thousands of triggers polling at once that melts the
#: triggerer (benchmarks/analysis.md), so waiting polls queue in an O(1) semaphore in front instead.
MAX_IN_FLIGHT = 16


class GatedAsyncTransport(httpx.AsyncBaseTransport):
    """Lets at most ``max_in_flight`` attempts into the connection pool at once.

    It sits below the retry transport, so a request waiting out a 429's ``Retry-After`` or a backoff holds
    no slot. Each answer is read inside the gate (the API's answers are small JSON), so its connection is
    back in the pool before the next request is let in.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, *, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self._inner = inner
        self._gate = asyncio.Semaphore(max_in_flight)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with self._gate:
            response = await self._inner.handle_async_request(request)
            try:
                await response.aread()
            except BaseException:
                await response.aclose()
                raise
            return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def build_async_client(
    settings: ConnectionSettings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    policy: RetryPolicy | None = None,
) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT)
    inner = transport or httpx.AsyncHTTPTransport(limits=limits, verify=default_ssl_context())
    bounded = BoundedTransport(async_transport=inner)
    gated = GatedAsyncTransport(bounded)
    retry = RetryTransport(policy or RetryPolicy(max_retries=settings.max_retries), async_transport=gated)
    return httpx.AsyncClient(transport=retry, **_client_kwargs(settings))


_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


def shared_async_client(settings: ConnectionSettings) -> httpx.AsyncClient:
    """One pooled client per connection settings per event loop, shared by every trigger in a triggerer.

    Connections (and their TLS sessions) are reused across polls of all triggers instead of being
    opened per poll. The pool is keyed by the running loop, so a client never crosses loops.
    """
    loop = asyncio.get_running_loop()
    pool = _POOLS.setdefault(loop, {})
    client = pool.get(settings.cache_key)
    if client is None or client.is_closed:
        client = build_async_client(settings)
        pool[settings.cache_key] = client
    return client
