"""The provider's version, kept apart so every module can read it without importing Airflow."""

__version__ = "0.1.0"
