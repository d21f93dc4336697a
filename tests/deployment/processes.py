"""Processes of the deployment suite: each Airflow component in its own process group with its own log
file, and the /proc helpers that find (and kill) every process it started, however deep."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


def become_subreaper() -> None:
    """Orphaned grandchildren (task processes, trigger runners) are re-parented to this process, so the
    final sweep finds every process the suite started even when an intermediate parent died."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
        except OSError:
            continue
        # the command name may contain spaces and parentheses: split after the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    """All living descendants of ``pid`` (children first-level first)."""
    tree = _children_map()
    found: list[int] = []
    todo = list(tree.get(pid, []))
    while todo:
        child = todo.pop(0)
        found.append(child)
        todo.extend(tree.get(child, []))
    return found


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def kill_tree(pid: int, sig: int = signal.SIGKILL) -> None:
    for target in [pid, *descendants(pid)]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(target, sig)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """One Airflow component: a process group with its own log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None
    killed: bool = False
    log_offset: int = 0  # where this start's part of the (appended) log file begins
    _tree: list[int] = field(default_factory=list)  # the pids ``terminate`` signalled

    def start(self) -> Service:
        self.log_offset = len(self.log_text())
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def sigkill(self) -> None:
        """A crash: the whole process tree dies at once, no cleanup code runs."""
        if self.process is None:
            return
        kill_tree(self.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.killed = True

    def terminate(self) -> None:
        """SIGTERM to the process group, without waiting (``stop`` waits); its tree is kept for ``stop``."""
        self.killed = True  # on purpose: check_services() must not report it as a crash
        if self.process is None or self._tree:
            return
        self._tree = [self.pid, *descendants(self.pid)]
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGTERM)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM (unless ``terminate`` sent it), up to ``grace`` seconds to exit, then SIGKILL to what is left."""
        self.terminate()
        if self.process is not None:
            tree, self._tree = self._tree, []
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
            for target in [*tree, *descendants(self.pid)]:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(target, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""
