"""In-memory task store: task lifecycle computed from an injectable clock, idempotency
records, counters and the request log."""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .common import TaskSpec

Clock = Callable[[], float]

DIALECT_NAMES = ("evolink", "aimlapi", "modelark")
QUEUED_FRACTION = 0.1
REQUEST_LOG_MAX = 100_000


class Phase(str, Enum):
    """Dialect-neutral task phase; each dialect maps it to its own status word."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self not in (Phase.QUEUED, Phase.RUNNING)


@dataclass
class Task:
    """One generation task as the vendor would keep it."""

    id: str
    dialect: str
    spec: TaskSpec
    created_at: float
    created_unix: float
    render_seconds: float
    cancelled_at: float | None = None

    @property
    def estimated_time(self) -> int:
        return math.ceil(self.render_seconds)


@dataclass(frozen=True)
class TaskView:
    """A task's state at one instant."""

    phase: Phase
    progress: int
    updated_unix: int
    finished_unix: int | None


class TaskStore:
    """All tasks of one emulator run; every read computes the state from the clock."""

    def __init__(self, clock: Clock, render_seconds: float) -> None:
        self.clock = clock
        self.render_seconds = render_seconds
        self._epoch_offset = time.time() - clock()
        self.tasks: dict[str, Task] = {}
        self.idempotency: dict[tuple[str, str], tuple[str, str]] = {}
        self.creates: Counter[str] = Counter()
        self.counters: Counter[str] = Counter()
        self.log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_MAX)

    def unix(self) -> float:
        """Wall-clock time that follows the injected clock."""
        return self._epoch_offset + self.clock()

    def reset(self) -> None:
        self.tasks.clear()
        self.idempotency.clear()
        self.creates.clear()
        self.counters.clear()
        self.log.clear()

    def create(self, task_id: str, dialect: str, spec: TaskSpec) -> Task:
        """Store a new task; it counts as created."""
        render = spec.directives.render_seconds
        now = self.clock()
        task = Task(
            id=task_id,
            dialect=dialect,
            spec=spec,
            created_at=now,
            created_unix=self._epoch_offset + now,
            render_seconds=self.render_seconds if render is None else render,
        )
        self.tasks[task_id] = task
        self.creates[dialect] += 1
        return task

    def get(self, task_id: str, dialect: str | None = None) -> Task | None:
        task = self.tasks.get(task_id)
        if task is None or (dialect is not None and task.dialect != dialect):
            return None
        return task

    def view(self, task: Task) -> TaskView:
        """Phase and progress of a task now. A higher ``priority`` leaves the queue sooner; a task still
        unfinished ``execution_expires_after`` seconds after its creation is expired (ModelArk)."""
        now = self.clock()
        render = task.render_seconds
        queue_end = render * QUEUED_FRACTION / (1 + max(0, int(task.spec.extra.get("priority") or 0)))
        base = task.created_unix
        if task.cancelled_at is not None and task.cancelled_at <= now:
            stamp = int(self._epoch_offset + task.cancelled_at)
            return TaskView(Phase.CANCELLED, 0, stamp, stamp)
        elapsed = now - task.created_at
        expires = task.spec.extra.get("execution_expires_after")
        if expires is not None and elapsed >= expires and (task.spec.directives.stuck or expires < render):
            stamp = int(base + expires)
            return TaskView(Phase.EXPIRED, 0, stamp, stamp)
        if elapsed < queue_end:
            return TaskView(Phase.QUEUED, 0, int(base), None)
        directives = task.spec.directives
        if directives.stuck or elapsed < render:
            span = max(render - queue_end, 1e-9)
            progress = min(99, max(1, int(99 * (elapsed - queue_end) / span)))
            return TaskView(Phase.RUNNING, progress, int(base + queue_end), None)
        finished = int(base + render)
        if directives.expire:
            return TaskView(Phase.EXPIRED, 99, finished, finished)
        if directives.fail_code:
            return TaskView(Phase.FAILED, 99, finished, finished)
        return TaskView(Phase.SUCCEEDED, 100, finished, finished)

    def cancel(self, task: Task) -> TaskView:
        """Cancel a task if it is still queued; returns the view before the attempt otherwise."""
        current = self.view(task)
        if current.phase is Phase.QUEUED:
            task.cancelled_at = self.clock()
            return self.view(task)
        return current

    def force_cancel(self, task: Task) -> TaskView:
        """Cancel a non-terminal task whatever its phase (control endpoint)."""
        if not self.view(task).phase.terminal:
            task.cancelled_at = self.clock()
        return self.view(task)

    def finish(self, task: Task) -> TaskView:
        """End a non-terminal task's render now (control endpoint): at its next poll it ends as its prompt
        says (succeeded, or failed or expired by its tags); a ``[stuck]`` task stays stuck."""
        if not (task.spec.directives.stuck or self.view(task).phase.terminal):
            task.render_seconds = min(task.render_seconds, max(self.clock() - task.created_at, 0.0))
        return self.view(task)

    def listing(self, dialect: str) -> list[Task]:
        """The dialect's tasks, newest first."""
        return [t for t in reversed(self.tasks.values()) if t.dialect == dialect]

    def remember_key(self, scope: str, key: str, fingerprint: str, task_id: str) -> None:
        self.idempotency[(scope, key)] = (fingerprint, task_id)

    def lookup_key(self, scope: str, key: str) -> tuple[str, str] | None:
        return self.idempotency.get((scope, key))

    def record(self, entry: dict[str, Any]) -> None:
        """Append to the request log and bump the per-kind counters."""
        self.log.append(entry)
        kind = entry.get("kind")
        if kind in ("poll", "cancel", "download", "list"):
            self.counters[f"{kind}s"] += 1
        self.counters["requests"] += 1

    def stats(self) -> dict[str, Any]:
        by_status: Counter[str] = Counter(self.view(t).phase.value for t in self.tasks.values())
        creates = {name: self.creates.get(name, 0) for name in DIALECT_NAMES}
        return {
            "creates": creates,
            "creates_total": sum(creates.values()),
            "polls": self.counters.get("polls", 0),
            "cancels": self.counters.get("cancels", 0),
            "downloads": self.counters.get("downloads", 0),
            "lists": self.counters.get("lists", 0),
            "requests": self.counters.get("requests", 0),
            "tasks": len(self.tasks),
            "by_status": dict(sorted(by_status.items())),
        }
