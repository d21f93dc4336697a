"""Benchmarks of airflow-provider-seedance against the emulator: ``python -m benchmarks`` (``make bench``)."""
