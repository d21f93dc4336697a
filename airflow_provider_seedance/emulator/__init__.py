"""Local emulator of the EvoLink, AIML API and BytePlus ModelArk Seedance video APIs (one port),
independent of the provider's client code so it can catch the client's mistakes. Of the provider it imports
only the parser of declared models (``declared.py``), so it takes the same declarations."""

from .app import create_app, emulator_from_app
from .faults import FaultConfigError, FaultInjector
from .runtime import Emulator, EmulatorConfig
from .server import EmulatorProcess, EmulatorServer

__all__ = [
    "Emulator",
    "EmulatorConfig",
    "EmulatorProcess",
    "EmulatorServer",
    "FaultConfigError",
    "FaultInjector",
    "create_app",
    "emulator_from_app",
]
