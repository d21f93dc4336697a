"""Imports that moved between Airflow 3.1 and 3.3, resolved once."""

from __future__ import annotations

try:  # Airflow 3.2+
    from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException
except ImportError:  # Airflow 3.1
    from airflow.exceptions import (  # type: ignore[no-redef, attr-defined, unused-ignore]
        AirflowException,
        AirflowFailException,
        AirflowSkipException,
    )


def default_deferrable() -> bool:
    """Airflow's ``[operators] default_deferrable`` (False unless the deployment sets it), the default of
    ``deferrable`` in the official providers and in this one."""
    from airflow.configuration import conf

    return conf.getboolean("operators", "default_deferrable", fallback=False)


def configured_models() -> str:
    """The provider option ``[seedance] models`` (env ``AIRFLOW__SEEDANCE__MODELS``): JSON of model id -> limits,
    or empty. Parsed by ``_declared_models.parse_declared_models``."""
    from airflow.configuration import conf

    return str(conf.get("seedance", "models", fallback="") or "")


def mask_secret(value: str) -> None:
    """Register ``value`` with Airflow's secrets masker, in this process and (in a task) its supervisor."""
    from airflow.sdk.log import mask_secret as mask

    mask(value)


async def amask_secret(value: str) -> None:
    """``mask_secret`` for an event loop (the triggerer): Airflow 3.2+ sends it to the supervisor without
    blocking; 3.1 has only the sync call, which registers it in this process."""
    try:
        from airflow.sdk.log import amask_secret as amask
    except ImportError:  # Airflow 3.1
        mask_secret(value)
        return
    await amask(value)


__all__ = [
    "AirflowException",
    "AirflowFailException",
    "AirflowSkipException",
    "amask_secret",
    "configured_models",
    "default_deferrable",
    "mask_secret",
]
