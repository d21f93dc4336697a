"""Moved to ``airflow_provider_seedance.contract.failover``; this path keeps working."""

from airflow_provider_seedance.contract.failover import MODEL_CODES as MODEL_CODES
from airflow_provider_seedance.contract.failover import FallbackAttempt as FallbackAttempt
from airflow_provider_seedance.contract.failover import Route as Route
from airflow_provider_seedance.contract.failover import check_conn_ids as check_conn_ids
from airflow_provider_seedance.contract.failover import equivalent_model as equivalent_model
from airflow_provider_seedance.contract.failover import fallback_model as fallback_model
from airflow_provider_seedance.contract.failover import fallback_route as fallback_route
from airflow_provider_seedance.contract.failover import model_family as model_family
from airflow_provider_seedance.contract.failover import model_not_offered as model_not_offered
from airflow_provider_seedance.contract.failover import refusal as refusal
