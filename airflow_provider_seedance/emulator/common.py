"""Shared pieces of the emulator's vendor side: the API error type, prompt tags,
value tables and the small field validators every dialect uses."""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
RESOLUTIONS = ("480p", "720p", "1080p")
CALLBACK_MAX_CHARS = 2048
FPS = 24

# Output pixel sizes per resolution and ratio (EvoLink Seedance 2.0 docs).
PIXELS: dict[str, dict[str, tuple[int, int]]] = {
    "480p": {
        "16:9": (864, 496),
        "4:3": (752, 560),
        "1:1": (640, 640),
        "3:4": (560, 752),
        "9:16": (496, 864),
        "21:9": (992, 432),
    },
    "720p": {
        "16:9": (1280, 720),
        "4:3": (1112, 834),
        "1:1": (960, 960),
        "3:4": (834, 1112),
        "9:16": (720, 1280),
        "21:9": (1470, 630),
    },
    "1080p": {
        "16:9": (1920, 1080),
        "4:3": (1664, 1248),
        "1:1": (1440, 1440),
        "3:4": (1248, 1664),
        "9:16": (1080, 1920),
        "21:9": (2206, 946),
    },
}


class ApiError(Exception):
    """An error answered to the client in the dialect's own error format."""

    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param


def bad(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    """A 400 validation error."""
    return ApiError(400, message, code=code, param=param)


@dataclass
class Directives:
    """Emulator-only behaviour requested through prompt tags."""

    fail_code: str | None = None
    expire: bool = False
    stuck: bool = False
    render_seconds: float | None = None


@dataclass
class TaskSpec:
    """A validated request, normalised across dialects."""

    model: str
    prompt: str
    duration: int
    ratio: str
    resolution: str
    generate_audio: bool = False
    seed: int | None = None
    directives: Directives = field(default_factory=Directives)
    extra: dict[str, Any] = field(default_factory=dict)


_TAG_RE = re.compile(r"\[(fail|expire|render|stuck)(?::([^\]]*))?\]", re.IGNORECASE)


def parse_prompt(raw: str, param: str = "prompt") -> tuple[str, Directives]:
    """Strip the emulator's prompt tags; return the clean prompt and the directives."""
    directives = Directives()
    for match in _TAG_RE.finditer(raw):
        name, arg = match.group(1).lower(), (match.group(2) or "").strip()
        if name == "fail":
            directives.fail_code = arg or "service_error"
        elif name == "expire":
            directives.expire = True
        elif name == "stuck":
            directives.stuck = True
        else:
            try:
                seconds = float(arg)
            except ValueError:
                raise bad(f"[render:SECONDS] needs a number, got {arg!r}", param) from None
            if not math.isfinite(seconds) or seconds < 0:
                raise bad("[render:SECONDS] must be a finite number >= 0", param)
            directives.render_seconds = seconds
    clean = " ".join(_TAG_RE.sub(" ", raw).split())
    return clean, directives


def check_prompt(
    value: Any, param: str = "prompt", required: bool = True, max_chars: int | None = None
) -> tuple[str, Directives]:
    """Validate a prompt string against the model's documented cap, ``max_chars`` (None: the vendor documents
    none, so none is applied). The cap counts the prompt as sent, tags included, as the vendor would."""
    if value is None:
        if required:
            raise bad(f"{param} is required", param)
        return "", Directives()
    if not isinstance(value, str):
        raise bad(f"{param} must be a string", param)
    if max_chars is not None and len(value) > max_chars:
        raise bad(f"{param} is too long: {len(value)} characters, the maximum is {max_chars}", param)
    clean, directives = parse_prompt(value, param)
    if required and not clean:
        raise bad(f"{param} must not be empty", param)
    return clean, directives


def opt_int(body: dict[str, Any], key: str, default: int | None = None, allow_str: bool = False) -> int | None:
    """An optional integer field (booleans and fractional numbers are rejected)."""
    value = body.get(key)
    if value is None:
        return default
    if allow_str and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(f"{key} must be an integer, got {type(value).__name__}", key)
    return value


def opt_bool(body: dict[str, Any], key: str, default: bool | None = None) -> bool | None:
    """An optional boolean field."""
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad(f"{key} must be a boolean", key)
    return value


def opt_enum(body: dict[str, Any], key: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    """An optional string field restricted to a set of values."""
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, str) or value not in allowed:
        raise bad(f"{key} must be one of {', '.join(allowed)}; got {value!r}", key)
    return value


def check_range(value: int, key: str, low: int, high: int) -> int:
    """Reject an integer outside [low, high]."""
    if not low <= value <= high:
        raise bad(f"{key} must be between {low} and {high}, got {value}", key)
    return value


def check_media_url(value: Any, param: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """A reference-media URL: a string with one of the allowed schemes."""
    if not isinstance(value, str) or not value.strip():
        raise bad(f"{param} must be a non-empty URL string", param)
    parts = urlsplit(value)
    if parts.scheme.lower() not in schemes or (parts.scheme.lower() in ("http", "https") and not parts.netloc):
        raise bad(f"{param} must be a URL with scheme {' or '.join(schemes)}", param)
    return value


def url_list(body: dict[str, Any], key: str, schemes: tuple[str, ...] = ("http", "https")) -> list[str]:
    """An optional array of URLs; absent and null both mean empty."""
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad(f"{key} must be an array of URLs", key)
    return [check_media_url(item, f"{key}[{i}]", schemes) for i, item in enumerate(value)]


def check_callback_url(value: Any, param: str = "callback_url") -> str | None:
    """HTTPS only, at most 2048 characters, no loopback/private/link-local hosts."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise bad(f"{param} must be a non-empty string", param)
    if len(value) > CALLBACK_MAX_CHARS:
        raise bad(f"{param} must not exceed {CALLBACK_MAX_CHARS} characters", param)
    parts = urlsplit(value)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise bad(f"{param} must be an https:// URL", param)
    host = parts.hostname.lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise bad(f"{param} must not point to a local or internal host", param)
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return value
    if (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_reserved
        or addr.is_unspecified
        or addr.is_multicast
    ):
        raise bad(f"{param} must not point to a private, loopback or reserved address", param)
    return value


def resolve_ratio(ratio: str) -> str:
    """The concrete ratio rendered for adaptive/keep_ratio requests."""
    return ratio if ratio in RATIOS else "16:9"


def pixels(resolution: str, ratio: str) -> tuple[int, int]:
    """Nominal vendor output size (used for token accounting)."""
    return PIXELS.get(resolution, PIXELS["720p"]).get(resolve_ratio(ratio), (1280, 720))
