"""Airflow-facing utilities (layer 4): saving videos, the download guard, the Airflow imports that moved
between versions, metrics, lineage and the local review guard.

Public: ``storage`` and ``download_guard``; the modules with a leading underscore are the package's own.
The first layer that may import Airflow (``download_guard`` does not). It may import itself, polling, the
wire and the contract; never the hook, the operators, the triggers or the sensors
(``tests/unit/test_import_graph.py`` checks it).
"""
