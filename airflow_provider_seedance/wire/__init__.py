"""The wire (layer 2, httpx and no Airflow): each API dialect and how calls go out and come back.

Public: ``backends`` (``base.Backend`` and one module per dialect) and ``settings``
(``ConnectionSettings``). The I/O is in ``_transport``, ``_calls`` and ``settings``; the pure rules they share
with the backends (the idempotency header, ``Retry-After``, the retry policy) are in ``_rules``. It may import
itself and the contract; ``backends/`` takes nothing from the I/O modules (``tests/unit/test_import_graph.py``
checks both).
"""
