"""Airflow hooks of the Seedance provider."""
