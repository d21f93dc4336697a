"""HTTP Range requests (RFC 9110 section 14) for one file of a known size: pure, no I/O.

Only a single ``bytes=`` range is honoured, which is what media players send to seek. A header that is not
one (another unit, several ranges, garbage) is ignored and the whole file is served, as the RFC allows; a
range that starts past the end is not satisfiable (416).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``end`` of a file, both included (as ``Content-Range`` writes them)."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


class RangeNotSatisfiable(ValueError):
    """The range starts at or past the end of the file (or asks for the last 0 bytes)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"range not satisfiable for a file of {size} bytes")
        self.size = size

    @property
    def content_range(self) -> str:
        return f"bytes */{self.size}"


#: One byte range, ASCII digits only (at most 19 of them: beyond any file's size).
_RANGE = re.compile(r"\s*bytes\s*=\s*([0-9]{0,19})\s*-\s*([0-9]{0,19})\s*", re.IGNORECASE)


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range ``header`` asks for in a file of ``size`` bytes, or None to serve the whole file.

    Raises :class:`RangeNotSatisfiable` for a well-formed range that lies outside the file."""
    if not header:
        return None
    match = _RANGE.fullmatch(header)
    if match is None:  # another unit, several ranges, anything else: the whole file
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # bytes=-N: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return ByteRange(max(size - suffix, 0), size - 1, size)
    start = int(first)
    if start >= size:
        raise RangeNotSatisfiable(size)
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None  # an inverted range is invalid: the header is ignored
    return ByteRange(start, end, size)
