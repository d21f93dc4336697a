"""Moved to ``airflow_provider_seedance.contract.events``; this path keeps working."""

from airflow_provider_seedance.contract.events import EventStatus as EventStatus
from airflow_provider_seedance.contract.events import GenerationEvent as GenerationEvent
from airflow_provider_seedance.contract.events import VideoResult as VideoResult
