"""One module per API dialect; ``get_backend`` picks one by the connection's ``backend`` extra."""

from __future__ import annotations

from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.wire.backends.aimlapi import AimlApiBackend
from airflow_provider_seedance.wire.backends.base import ApiCall, Backend
from airflow_provider_seedance.wire.backends.evolink import EvoLinkBackend
from airflow_provider_seedance.wire.backends.modelark import ModelArkBackend

_BACKENDS: dict[str, Backend] = {
    "evolink": EvoLinkBackend(),
    "aimlapi": AimlApiBackend(),
    "modelark": ModelArkBackend(),
}


def get_backend(name: str) -> Backend:
    """The backend for a connection's ``backend`` extra (``evolink``, ``aimlapi`` or ``modelark``)."""
    try:
        return _BACKENDS[name]
    except KeyError:
        raise SeedanceValidationError("backend", name, f"must be one of {', '.join(_BACKENDS)}") from None


__all__ = ["AimlApiBackend", "ApiCall", "Backend", "EvoLinkBackend", "ModelArkBackend", "get_backend"]
