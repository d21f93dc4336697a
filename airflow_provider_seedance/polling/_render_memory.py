"""How long renders of one spec took lately, in this process: the polling estimate when the API gives none.

AIML API and BytePlus ModelArk report neither an estimate nor progress, so without help polling can only back
off blindly. A triggerer runs many renders of the same spec (mapped pipelines: same model, duration and
quality), so the median of the last few renders of that spec is a good guess for the next one. The memory is
per process (a triggerer lives for days; a worker task's process lives for one task, so it stays cold there),
bounded (an LRU of ``max_keys`` specs, the last ``samples`` times each), and never holds a prompt or a key.

What a process learns dies with it, so the operator also reads the render times that earlier runs of the
same task left in their XCom results (``_run_history``) and hands the trigger their ``typical_time``: one
number (and its sample count), computed by the same rule as the memory's.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from typing import Any

#: The request fields a render's duration depends on; with the backend they make the memory's key.
SPEC_FIELDS = ("model", "duration", "quality", "service_tier")
MAX_KEYS = 256
SAMPLES = 20
#: Fewer renders than this are not trusted: one slow outlier must not steer the next render.
MIN_SAMPLES = 3

RenderKey = tuple[str | None, ...]


def render_spec(request: Any) -> dict[str, Any]:
    """The trigger kwarg naming what a render's time depends on (``request``: a ``VideoRequest``).
    Plain JSON, and only these fields: never the prompt, never an input URL."""
    return {name: getattr(request, name, None) for name in SPEC_FIELDS}


def typical_time(samples: Sequence[float], *, min_samples: int = MIN_SAMPLES, last: int = SAMPLES) -> float | None:
    """The typical render time of ``samples`` (oldest first): the median of the last ``last`` positive, finite
    ones; None with fewer than ``min_samples`` of them. The one rule for the process's memory and for the
    render times read from earlier runs."""
    valid = [float(s) for s in samples if _is_seconds(s)][-last:]
    return statistics.median(valid) if valid and len(valid) >= min_samples else None


def _is_seconds(value: Any) -> bool:
    """A positive, finite number (not a bool): what a render time read back from JSON must be."""
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < float("inf")


def render_key(backend: str, spec: dict[str, Any]) -> RenderKey:
    """A hashable key from the backend and a spec (values as strings, missing fields as None)."""
    return (backend, *(None if spec.get(name) is None else str(spec[name]) for name in SPEC_FIELDS))


class RenderMemory:
    """Recent render times per key. Thread-safe (a lock held for microseconds); cheap enough for every poll."""

    def __init__(self, max_keys: int = MAX_KEYS, samples: int = SAMPLES, min_samples: int = MIN_SAMPLES) -> None:
        if max_keys < 1 or samples < 1 or not 1 <= min_samples <= samples:
            raise ValueError("need max_keys >= 1 and 1 <= min_samples <= samples")
        self.max_keys = max_keys
        self.samples = samples
        self.min_samples = min_samples
        self._times: OrderedDict[RenderKey, deque[float]] = OrderedDict()
        self._lock = threading.Lock()
        #: Triggers of a spec without a typical time yet, waiting for one (``learned``).
        self._waiters: dict[RenderKey, set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]] = {}

    def record(self, key: RenderKey, seconds: float) -> None:
        """One render of ``key`` took ``seconds`` (from submission to done). Non-positive or non-finite
        times are ignored."""
        if not 0 < seconds < float("inf"):
            return
        with self._lock:
            times = self._times.get(key)
            if times is None:
                times = self._times[key] = deque(maxlen=self.samples)
                while len(self._times) > self.max_keys:
                    self._times.popitem(last=False)  # the least recently used spec
            else:
                self._times.move_to_end(key)
            times.append(float(seconds))
            waiters = self._waiters.pop(key, set()) if len(times) >= self.min_samples else set()
        for loop, future in waiters:
            loop.call_soon_threadsafe(_wake, future)

    async def learned(self, key: RenderKey) -> None:
        """Return once ``key`` has a typical time: at once if it has one, else when enough renders of it have
        been recorded (by any trigger of this process). A mapped run's first wave starts with nothing known;
        its triggers wait on this beside their back-off sleep, so the first renders to end steer the rest."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        waiter = (loop, future)
        with self._lock:
            times = self._times.get(key)
            if times is not None and len(times) >= self.min_samples:
                return
            self._waiters.setdefault(key, set()).add(waiter)
        try:
            await future
        finally:
            with self._lock:
                waiting = self._waiters.get(key)
                if waiting is not None:
                    waiting.discard(waiter)
                    if not waiting:
                        del self._waiters[key]

    def typical(self, key: RenderKey) -> float | None:
        """The median of the last renders of ``key``; None until ``min_samples`` are known."""
        with self._lock:
            times = self._times.get(key)
            if times is None or len(times) < self.min_samples:
                return None
            self._times.move_to_end(key)
            recent = list(times)
        return typical_time(recent, min_samples=self.min_samples, last=self.samples)

    def count(self, key: RenderKey) -> int:
        with self._lock:
            times = self._times.get(key)
            return len(times) if times is not None else 0

    def clear(self) -> None:
        with self._lock:
            self._times.clear()

    def waiting(self) -> int:
        """How many ``learned`` calls are waiting (all keys)."""
        with self._lock:
            return sum(len(waiters) for waiters in self._waiters.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._times)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


#: The process-wide memory the trigger reads and feeds.
RENDER_MEMORY = RenderMemory()


#: The fields of an operator's XCom result that carry render times: its own, and those it started from.
RENDER_FIELD = "render_s"
HISTORY_FIELD = "render_history"


def samples_from_results(results: Iterable[Any], backend: str, spec: dict[str, Any]) -> list[float]:
    """The render times of ``backend`` and ``spec`` that earlier XCom results of a task carry, oldest first,
    at most ``SAMPLES``: the longest ``render_history`` among the matching results (what their runs started
    from), then each one's own ``render_s``. A result matches when it succeeded on the same backend and spec;
    results without ``render_s`` (written before it existed, or not polled) are skipped."""
    key = render_key(backend, spec)
    older: list[float] = []
    newest: list[float] = []
    for result in results:
        if not isinstance(result, dict) or RENDER_FIELD not in result or result.get("status") != "succeeded":
            continue
        if render_key(str(result.get("backend")), result) != key:
            continue
        if _is_seconds(result[RENDER_FIELD]):
            newest.append(float(result[RENDER_FIELD]))
        history = result.get(HISTORY_FIELD)
        if isinstance(history, list) and len(history) > len(older):
            older = [float(s) for s in history if _is_seconds(s)]
    return (older + newest)[-SAMPLES:]
