"""Moved to ``airflow_provider_seedance.contract.budget``; this path keeps working."""

from airflow_provider_seedance.contract.budget import BudgetGate as BudgetGate
from airflow_provider_seedance.contract.budget import ClipEstimate as ClipEstimate
from airflow_provider_seedance.contract.budget import Estimate as Estimate
from airflow_provider_seedance.contract.budget import RunSpend as RunSpend
from airflow_provider_seedance.contract.budget import SpecKey as SpecKey
from airflow_provider_seedance.contract.budget import estimate_cost as estimate_cost
from airflow_provider_seedance.contract.budget import history_by_spec as history_by_spec
from airflow_provider_seedance.contract.budget import mapped_results as mapped_results
from airflow_provider_seedance.contract.budget import refusal as refusal
from airflow_provider_seedance.contract.budget import run_spend as run_spend
from airflow_provider_seedance.contract.budget import spec_key as spec_key
from airflow_provider_seedance.contract.budget import spend_refusal as spend_refusal
