"""Where a video may be fetched from: the vendor names the URL, so a worker checks it before a byte is read.

Allowed: http(s) URLs whose host resolves only to public addresses, checked again on every redirect hop, and
connected to at the very address that was checked (a second DNS answer cannot swap in an internal one). A
host that resolves to a loopback, private, link-local, CGNAT, multicast, reserved or unspecified address is
refused unless it is trusted: the connection's own API origin (the emulator, a self-hosted gateway) or a host
the connection allows in its extra ``download_hosts``, which are fetched as they are named. No Airflow
import; the hook builds the download clients.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from airflow_provider_seedance.contract._urls import Resolver as Resolver
from airflow_provider_seedance.contract._urls import first_internal, system_resolver
from airflow_provider_seedance.wire._answer_bounds import CappedStream
from airflow_provider_seedance.wire._transport import WrappingTransport

_DEFAULT_PORTS = {"http": 80, "https": 443}


class DownloadRefused(httpx.RequestError):
    """A video URL (or a redirect hop) this worker must not fetch; nothing was sent to it."""


def _origin(url: str) -> tuple[str, str, int] | None:
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.rstrip(".").lower(), parts.port or _DEFAULT_PORTS[parts.scheme]


@dataclass(frozen=True)
class FetchRules:
    """What one connection's downloads may reach.

    :param api_base_url: the connection's base URL; its origin (scheme, host, port) is trusted as the API's.
    :param allowed_hosts: extra ``download_hosts``: host names (``cdn.example.com``, ``*.example.com`` for
        its subdomains) or ``host:port``, fetched even where they resolve to an internal address.
    """

    api_base_url: str
    allowed_hosts: tuple[str, ...] = ()
    resolver: Resolver = field(default=system_resolver, compare=False)

    def trusted(self, url: httpx.URL) -> bool:
        """The API's own origin, or a host the connection allows (over http(s) only)."""
        if url.scheme not in _DEFAULT_PORTS:
            return False
        host = url.host.rstrip(".").lower()
        port = url.port or _DEFAULT_PORTS.get(url.scheme, 0)
        if _origin(self.api_base_url) == (url.scheme, host, port):
            return True
        for entry in self.allowed_hosts:
            name, _, wanted_port = entry.strip().lower().rstrip(".").partition(":")
            if wanted_port and wanted_port != str(port):
                continue
            if host == name or (name.startswith("*.") and host.endswith(name[1:])):
                return True
        return False

    def check(self, url: httpx.URL, addresses: Iterable[str]) -> str:
        """For a host that is not ``trusted``: the address to connect to, when every address it resolves to
        is a public one; else ``DownloadRefused`` naming the host, the address and the reason."""
        found = list(addresses)
        if not found:
            raise DownloadRefused(f"host {url.host!r} resolves to no address")
        internal = first_internal(found)
        if internal is not None:
            text, reason = internal
            raise DownloadRefused(
                f"refused to fetch from {url.host!r}: it resolves to {text}, a {reason} address, and is "
                "neither the connection's API origin nor in its extra download_hosts (add the host "
                "there if this video really lives on your own network)"
            )
        return found[0]

    def resolve(self, url: httpx.URL) -> list[str]:
        """The addresses of ``url``'s host; refuses any scheme but http(s) before looking anything up."""
        if url.scheme not in _DEFAULT_PORTS:
            raise DownloadRefused(f"refused to fetch {url.scheme}:// URLs: only http(s) video links are fetched")
        try:
            return self.resolver(url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 0))
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {url.host!r}: {exc}") from None


def pinned(request: httpx.Request, address: str) -> httpx.Request:
    """``request`` sent to ``address``: the Host header and the TLS server name (SNI and the certificate
    check) stay the URL's host, so no second DNS lookup can take the connection elsewhere."""
    extensions: dict[str, Any] = dict(request.extensions)
    if request.url.scheme == "https":
        extensions.setdefault("sni_hostname", request.url.host)
    return httpx.Request(
        request.method,
        request.url.copy_with(host=address),
        headers=request.headers,
        stream=request.stream,
        extensions=extensions,
    )


class GuardedTransport(WrappingTransport):
    """Checks every request (each redirect hop comes through here) against ``FetchRules``, then connects to
    the checked address. Sits below the retry transport: a refusal is not a transport error, so it is never
    retried."""

    def __init__(
        self,
        rules: FetchRules,
        *,
        sync_transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(sync_transport=sync_transport, async_transport=async_transport)
        self.rules = rules

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.rules.trusted(request.url):
            request = pinned(request, self.rules.check(request.url, self.rules.resolve(request.url)))
        return capped_redirect(self.inner.handle_request(request), request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.rules.trusted(request.url):
            loop = asyncio.get_running_loop()
            addresses = await loop.run_in_executor(None, self.rules.resolve, request.url)
            request = pinned(request, self.rules.check(request.url, addresses))
        return capped_redirect(await self.ainner.handle_async_request(request), request)


#: A redirect's body is read whole before the next hop (httpx does); nothing real puts more than this there.
MAX_REDIRECT_BODY = 64 * 1024


def capped_redirect(response: httpx.Response, request: httpx.Request) -> httpx.Response:
    """A redirect answer whose body is cut off past ``MAX_REDIRECT_BODY``: the video's own limits apply only
    to the final answer, and a hostile hop could otherwise send an endless body before its ``Location``."""
    if response.has_redirect_location:
        response.stream = CappedStream(response.stream, request, MAX_REDIRECT_BODY)
    return response
