"""Moved to ``airflow_provider_seedance.contract.submission``; this path keeps working."""

from airflow_provider_seedance.contract.submission import ADDED_FIELDS as ADDED_FIELDS
from airflow_provider_seedance.contract.submission import STATE_KEY as STATE_KEY
from airflow_provider_seedance.contract.submission import UNHASHED_FIELDS as UNHASHED_FIELDS
from airflow_provider_seedance.contract.submission import SubmissionState as SubmissionState
from airflow_provider_seedance.contract.submission import request_hash as request_hash
