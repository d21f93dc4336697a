"""Airflow sensors of the Seedance provider."""
