"""Moved to ``airflow_provider_seedance.runtime.download_guard``; this path keeps working."""

from airflow_provider_seedance.contract._urls import IPAddress as IPAddress
from airflow_provider_seedance.contract._urls import first_internal as first_internal
from airflow_provider_seedance.contract._urls import internal_reason as internal_reason
from airflow_provider_seedance.contract._urls import system_resolver as system_resolver
from airflow_provider_seedance.runtime.download_guard import MAX_REDIRECT_BODY as MAX_REDIRECT_BODY
from airflow_provider_seedance.runtime.download_guard import DownloadRefused as DownloadRefused
from airflow_provider_seedance.runtime.download_guard import FetchRules as FetchRules
from airflow_provider_seedance.runtime.download_guard import GuardedTransport as GuardedTransport
from airflow_provider_seedance.runtime.download_guard import Resolver as Resolver
from airflow_provider_seedance.runtime.download_guard import capped_redirect as capped_redirect
from airflow_provider_seedance.runtime.download_guard import pinned as pinned
