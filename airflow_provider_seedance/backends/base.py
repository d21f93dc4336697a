"""Moved to ``airflow_provider_seedance.wire.backends.base``; this path keeps working."""

from airflow_provider_seedance.wire.backends.base import ApiCall as ApiCall
from airflow_provider_seedance.wire.backends.base import Backend as Backend
from airflow_provider_seedance.wire.backends.base import CallKind as CallKind
from airflow_provider_seedance.wire.backends.base import ErrorInfo as ErrorInfo
from airflow_provider_seedance.wire.backends.base import as_dict as as_dict
from airflow_provider_seedance.wire.backends.base import as_float as as_float
from airflow_provider_seedance.wire.backends.base import as_int as as_int
from airflow_provider_seedance.wire.backends.base import drop_none as drop_none
from airflow_provider_seedance.wire.backends.base import get_path as get_path
from airflow_provider_seedance.wire.backends.base import parse_retry_after as parse_retry_after
