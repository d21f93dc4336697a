"""Polling policy (layer 3, pure: no I/O, no Airflow): when to look next, and what a render's time is likely
to be.

``_plan`` (``PollPlan``), ``_render_memory``, ``_run_history`` and ``_poll_steps``, all the package's own.
It may import itself, the wire and the contract: today the wire's pure rules only, so it imports no httpx
(``tests/unit/test_import_graph.py`` checks both).
"""
