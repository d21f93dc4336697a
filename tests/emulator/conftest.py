"""Fixtures for the emulator tests: one shared in-thread emulator driven by a fake clock, reset
before every test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # emulator_support lives next to this file
    sys.path.insert(0, str(HERE))
try:
    import airflow_provider_seedance.emulator  # noqa: F401
except ModuleNotFoundError:  # the project is not installed: run from the source tree
    sys.path.insert(0, str(HERE.parents[1]))

import httpx  # noqa: E402
from emulator_support import API_KEY, AUTH, RENDER_SECONDS, FakeClock  # noqa: E402

from airflow_provider_seedance.emulator import EmulatorServer  # noqa: E402


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def shared_server(clock: FakeClock) -> Iterator[EmulatorServer]:
    with EmulatorServer(api_key=API_KEY, render_seconds=RENDER_SECONDS, clock=clock, seed=7) as emu:
        yield emu


@pytest.fixture
def emu(shared_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """The shared emulator with no tasks, no log and no faults."""
    shared_server.reset()
    yield shared_server
    shared_server.reset()


@pytest.fixture(scope="session")
def shared_client(shared_server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_server.url, headers=AUTH, timeout=10.0) as http:
        yield http


@pytest.fixture
def client(emu: EmulatorServer, shared_client: httpx.Client) -> httpx.Client:
    """An authenticated client of the (freshly reset) shared emulator."""
    return shared_client
