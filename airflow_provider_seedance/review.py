"""Moved to ``airflow_provider_seedance.contract.review``; this path keeps working."""

from airflow_provider_seedance.contract.review import MAX_REVIEW_TEXT as MAX_REVIEW_TEXT
from airflow_provider_seedance.contract.review import Decision as Decision
from airflow_provider_seedance.contract.review import decide as decide
from airflow_provider_seedance.contract.review import markdown_text as markdown_text
from airflow_provider_seedance.contract.review import rerender_prompt as rerender_prompt
from airflow_provider_seedance.contract.review import rerender_seed as rerender_seed
from airflow_provider_seedance.contract.review import review_options as review_options
from airflow_provider_seedance.contract.review import review_request as review_request
