"""Moved to ``airflow_provider_seedance.wire.backends``; this path keeps working."""

from airflow_provider_seedance.wire.backends import AimlApiBackend as AimlApiBackend
from airflow_provider_seedance.wire.backends import ApiCall as ApiCall
from airflow_provider_seedance.wire.backends import Backend as Backend
from airflow_provider_seedance.wire.backends import EvoLinkBackend as EvoLinkBackend
from airflow_provider_seedance.wire.backends import ModelArkBackend as ModelArkBackend
from airflow_provider_seedance.wire.backends import get_backend as get_backend
