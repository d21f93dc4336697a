"""Airflow operators of the Seedance provider."""
