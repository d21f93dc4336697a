"""Airflow triggers of the Seedance provider."""
