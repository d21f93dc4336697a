"""Where the suite's CPU goes: an opt-in pytest plugin that records each test's CPU seconds.

``SEEDANCE_CPU_PROFILE=<folder> .venv/bin/python -m pytest -p tests.cpu_profile ...`` writes one JSON file per process
(each pytest-xdist worker its own) into the folder: per test its node id, the CPU seconds of the pytest process
(every thread: an in-process emulator counts here), of the child processes it waited for (``airflow dags test``,
an api-server stopped in its teardown), and its wall seconds. ``python -m tests.cpu_profile <folder>`` sums them
per file, biggest first. On a 2-core machine whose cores are both busy, CPU seconds, not wall seconds, are what
a test costs the rest of the suite.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_ROWS: list[tuple[str, float, float, float]] = []


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Iterator[None]:
    own, children = _cpu()
    started = time.monotonic()
    yield
    own_after, children_after = _cpu()
    _ROWS.append((item.nodeid, own_after - own, children_after - children, time.monotonic() - started))


def pytest_sessionfinish(session: pytest.Session) -> None:
    folder = os.environ.get("SEEDANCE_CPU_PROFILE")
    if not folder or not _ROWS:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (Path(folder) / f"{worker}-{os.getpid()}.json").write_text(json.dumps(_ROWS))


def per_file(folder: Path) -> list[tuple[str, float, float, float, int]]:
    """(file, own CPU s, children's CPU s, wall s, tests) per test file, most CPU first."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for path in folder.glob("*.json"):
        for nodeid, own, children, wall in json.loads(path.read_text()):
            row = sums[nodeid.split("::")[0]]
            row[0], row[1], row[2], row[3] = row[0] + own, row[1] + children, row[2] + wall, row[3] + 1
    rows = [(name, own, children, wall, int(count)) for name, (own, children, wall, count) in sums.items()]
    return sorted(rows, key=lambda row: -(row[1] + row[2]))


def main(argv: list[str]) -> None:
    rows = per_file(Path(argv[0]))
    print(f"{sum(r[1] + r[2] for r in rows):.0f} CPU s in {sum(r[4] for r in rows)} tests")
    print("  cpu s   own  children   wall s  tests  file")
    for name, own, children, wall, count in rows[: int(argv[1]) if len(argv) > 1 else 30]:
        print(f"{own + children:7.1f} {own:6.1f} {children:8.1f} {wall:8.1f} {count:6d}  {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
