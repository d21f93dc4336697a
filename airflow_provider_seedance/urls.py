"""URL rules shared by the validator: media URL schemes and the vendors' callback URL restrictions."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from airflow_provider_seedance.exceptions import SeedanceValidationError

CALLBACK_MAX_LENGTH = 2048
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_BLANK_RULE = "must not contain spaces or control characters (percent-encode them, e.g. %20)"


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
    """HTTPS only, no private or loopback address, at most 2048 characters (the vendors' rules)."""
    if len(url) > CALLBACK_MAX_LENGTH:
        raise SeedanceValidationError(
            "callback_url", f"<{len(url)} characters>", f"at most {CALLBACK_MAX_LENGTH} characters", model=model
        )
    if _has_blank(url):
        raise SeedanceValidationError("callback_url", url, _BLANK_RULE, model=model)
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise SeedanceValidationError("callback_url", url, "must be an https:// URL", model=model)
    host = parts.hostname.lower()
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        raise SeedanceValidationError("callback_url", url, "must not point at a loopback host", model=model)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if not address.is_global:
        raise SeedanceValidationError(
            "callback_url", url, "must not point at a private, loopback or link-local address", model=model
        )
