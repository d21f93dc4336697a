"""URL rules shared by the validator: media URL schemes and the vendors' callback URL restrictions; which
addresses are internal (the rule the download guard applies too)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from airflow_provider_seedance.exceptions import SeedanceValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: ``socket.getaddrinfo``'s shape: (host, port) -> the addresses it resolves to.
Resolver = Callable[[str, int], list[str]]
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
CALLBACK_MAX_LENGTH = 2048
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
#: Cloud instance metadata services by name (their addresses are link-local and refused as such).
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.com",
        "metadata.tencentyun.com",
        "100-100-100-200.alibaba",
    }
)
_BLANK_RULE = "must not contain spaces or control characters (percent-encode them, e.g. %20)"


def internal_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not a public one (loopback, private, ...), or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return internal_reason(address.ipv4_mapped)
    for flag in ("loopback", "link_local", "unspecified", "multicast", "private", "reserved"):
        if getattr(address, f"is_{flag}"):
            return flag.replace("_", "-")
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "CGNAT (shared address space)"
    if not address.is_global:
        return "not globally routable"
    return None


def first_internal(addresses: Iterable[str]) -> tuple[str, str] | None:
    """The first of resolved ``addresses`` (scoped IPv6 included) that is not public, with the reason."""
    for text in addresses:
        reason = internal_reason(ipaddress.ip_address(text.split("%", 1)[0]))
        if reason is not None:
            return text, reason
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _has_blank(url: str) -> bool:
    return any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url)


def check_media_url(field: str, url: str, *, allow_data: bool, model: str | None = None) -> None:
    """A reference must be an http(s) URL the vendor can fetch (images may also be base64 data URIs)."""
    if allow_data and url.startswith("data:"):
        if ";base64," not in url[:100]:
            raise SeedanceValidationError(field, url, "a data URI must be base64 encoded (data:<mime>;base64,...)")
        return
    if _has_blank(url):
        raise SeedanceValidationError(field, url, _BLANK_RULE, model=model)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        allowed = "http(s) URL or data:...;base64 URI" if allow_data else "http(s) URL"
        raise SeedanceValidationError(field, url, f"must be an {allowed} the API can download", model=model)


def check_callback_url(url: str, *, model: str | None = None) -> None:
    """HTTPS only, at most 2048 characters, no internal host in any spelling (the vendors' rules, made
    strict): loopback names, cloud metadata names, and addresses written as dotted, short, decimal, octal
    or hex IPv4, IPv6 and IPv4-mapped IPv6, with or without a trailing dot. Pure; names that resolve to an
    internal address are refused by ``check_callback_resolves`` before the create is sent."""
    if len(url) > CALLBACK_MAX_LENGTH:
        raise SeedanceValidationError(
            "callback_url", f"<{len(url)} characters>", f"at most {CALLBACK_MAX_LENGTH} characters", model=model
        )
    if _has_blank(url):
        raise SeedanceValidationError("callback_url", url, _BLANK_RULE, model=model)
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise SeedanceValidationError("callback_url", url, "must be an https:// URL", model=model)
    host = parts.hostname.lower().rstrip(".")
    if host in _LOCAL_NAMES or host.endswith((".localhost", ".internal", ".local")) or host in METADATA_NAMES:
        raise SeedanceValidationError(
            "callback_url", url, "must not point at a loopback, local or cloud metadata host", model=model
        )
    address = literal_address(host)
    if address is not None:
        reason = internal_reason(address)
        if reason is not None:
            raise SeedanceValidationError(
                "callback_url", url, f"must not point at an internal address ({address} is {reason})", model=model
            )


def check_callback_resolves(url: str, resolver: Resolver = system_resolver) -> None:
    """Refuse a callback host whose name resolves to an internal address now; a name that does not resolve
    here (no DNS, a split horizon) is left to the vendor."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    if not host or literal_address(host) is not None:
        return
    try:
        addresses = resolver(host, 443)
    except OSError:
        return
    internal = first_internal(addresses)
    if internal is not None:
        text, reason = internal
        raise SeedanceValidationError(
            "callback_url", url, f"must not point at an internal address ({host} resolves to {text}, {reason})"
        )


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal means, in every spelling a resolver accepts: dotted,
    short (``127.1``), decimal (``2130706433``), octal (``0177.0.0.1``), hex (``0x7f000001``), IPv6; None
    for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if not all(char in "0123456789abcdefx." for char in host) or not host[:1].isdigit():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None
