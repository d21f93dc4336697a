"""Moved to ``airflow_provider_seedance.contract.limits``; this path keeps working."""

from airflow_provider_seedance.contract.limits import ALL_QUALITIES as ALL_QUALITIES
from airflow_provider_seedance.contract.limits import BACKEND_TITLES as BACKEND_TITLES
from airflow_provider_seedance.contract.limits import GENERIC_PROMPT_MAX as GENERIC_PROMPT_MAX
from airflow_provider_seedance.contract.limits import MODEL_LIMITS as MODEL_LIMITS
from airflow_provider_seedance.contract.limits import RATIOS as RATIOS
from airflow_provider_seedance.contract.limits import SCALAR_CHECKS as SCALAR_CHECKS
from airflow_provider_seedance.contract.limits import Dialect as Dialect
from airflow_provider_seedance.contract.limits import Mode as Mode
from airflow_provider_seedance.contract.limits import ModelLimits as ModelLimits
from airflow_provider_seedance.contract.limits import backend_fields as backend_fields
from airflow_provider_seedance.contract.limits import backend_modes as backend_modes
from airflow_provider_seedance.contract.limits import backends_for_model as backends_for_model
from airflow_provider_seedance.contract.limits import generic_limits as generic_limits
from airflow_provider_seedance.contract.limits import known_models as known_models
from airflow_provider_seedance.contract.limits import limits_for as limits_for
from airflow_provider_seedance.contract.limits import resolve_limits as resolve_limits
from airflow_provider_seedance.contract.limits import validate_request as validate_request
from airflow_provider_seedance.contract.limits import with_vendor_expiry as with_vendor_expiry
