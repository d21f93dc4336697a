"""The retry policy's pure rules, shared by the transport, the backends and the poll plan (no httpx, no I/O).

Which statuses may be retried and which methods create nothing, the header under which an API replays a
create it has already seen, the backoff, and the one parser of ``Retry-After``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
#: The header under which an API replays, rather than repeats, a create it has already seen (EvoLink).
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to back off. ``max_retries=0`` turns retries off."""

    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 60.0


def backoff(policy: RetryPolicy, attempt: int, rand: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max, base * 2**attempt)]."""
    return rand.uniform(0.0, min(policy.backoff_max, policy.backoff_base * (2**attempt)))


def retry_after_seconds(value: str | None, policy: RetryPolicy | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value given in seconds (HTTP dates are rare here and ignored), capped
    at ``policy.retry_after_max`` when a policy is given. The one parser of the header in the package."""
    if value is None:
        return None
    try:
        seconds = max(0.0, float(value))
    except ValueError:
        return None
    return min(seconds, policy.retry_after_max) if policy else seconds
