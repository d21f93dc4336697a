"""Apache Airflow provider for ByteDance Seedance video generation.

Only the version and ``get_provider_info`` live here: the scheduler imports this package while parsing
DAGs, so nothing heavy may be imported at this level.
"""

from airflow_provider_seedance.get_provider_info import get_provider_info
from airflow_provider_seedance.version import __version__

__all__ = ["__version__", "get_provider_info"]
