"""The request contract and its policy (layer 1, pure: no I/O, no httpx, no Airflow).

What a request, a generation, a budget, a review and a failover are, and the rules they follow: the
per-model limits and the validator, the persisted submission state, the trigger event and the XCom result.
Public: ``limits``, ``budget``, ``review``, ``submission``, ``events``, ``failover``; the modules with a
leading underscore are the package's own. It may import only itself and ``models``, ``exceptions`` and
``version`` (``tests/unit/test_import_graph.py`` checks it).
"""
