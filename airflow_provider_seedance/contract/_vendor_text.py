"""Vendor words made safe to print: the one redaction every message built from an API's answer goes through.

A vendor's answer is untrusted input. Whatever it says (an error body, a failure reason, a status word) may
echo the ``Authorization`` header back, run to megabytes, or carry control characters that fake log lines.
``scrub`` removes the connection's key and any bearer token, escapes control characters and bounds the
length; the hook applies it where vendor text enters the provider (``SeedanceHook``), so every error, log
line, XCom value and lineage facet built from it later is already clean. Pure: no I/O, no Airflow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: The longest piece of vendor text kept in a message or a log line; the rest is cut, saying how much.
MAX_VENDOR_TEXT = 300
REDACTED = "<redacted>"
#: A bearer token or an Authorization header value, in whatever way a vendor echoes it back.
_TOKENS = re.compile(
    r"(?i)(\bbearer\s+|\bauthorization[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?)[^\s\"',;}\]]+",
)
#: C0 and C1 controls, DEL, and the Unicode line and paragraph separators: anything that moves a terminal's
#: cursor or starts a new line in a log viewer.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


#: Shorter secrets are not searched for, as Airflow's secrets masker does not: replacing every "k" of a
#: one-letter test key would mangle ids and words, and such a key protects nothing anyway.
MIN_SECRET_LENGTH = 5


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without any of ``secrets`` (the connection's key, when at least ``MIN_SECRET_LENGTH``
    characters long) and without bearer tokens."""
    for secret in secrets:
        if len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    return _TOKENS.sub(lambda match: match.group(1) + REDACTED, text)


def inert(text: str, limit: int = MAX_VENDOR_TEXT) -> str:
    """``text`` with control characters escaped (``\\n`` shows as the two characters) and cut to ``limit``."""
    text = _CONTROLS.sub(lambda match: match.group(0).encode("unicode_escape").decode("ascii"), text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def scrub(text: str, secrets: Iterable[str] = (), limit: int = MAX_VENDOR_TEXT) -> str:
    """Redact, then make inert: vendor text fit for a log line, an exception or an XCom value."""
    return inert(redact(text, secrets), limit)


def scrub_optional(text: object, secrets: Iterable[str] = (), limit: int = MAX_VENDOR_TEXT) -> str | None:
    """``scrub`` for a value that may be missing, or not text at all (a vendor's number where a code belongs)."""
    return None if text is None else scrub(str(text), secrets, limit)
