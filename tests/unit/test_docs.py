"""The docs stay true: the model table of docs/operator.md is the limits table, the connection form of
docs/connection.md is the provider's (both moved there from the README)."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

from airflow_provider_seedance.get_provider_info import get_provider_info

ROOT = Path(__file__).parents[2]
OPERATOR_PAGE = (ROOT / "docs" / "operator.md").read_text()
CONNECTION_PAGE = (ROOT / "docs" / "connection.md").read_text()


def test_docs_model_table_matches_the_limits_table():
    table = runpy.run_path(str(ROOT / "scripts" / "model_table.py"))["model_table"]()
    block = re.search(r"<!-- model-table:start -->\n(.*?)\n<!-- model-table:end -->", OPERATOR_PAGE, re.S)
    assert block, "docs/operator.md lost its model-table markers"
    assert block.group(1) == table, "docs/operator.md model table is stale: run `python scripts/model_table.py`"


def test_connection_form_is_declared_for_the_ui():
    (conn,) = get_provider_info()["connection-types"]
    assert conn["connection-type"] == "seedance"
    assert conn["ui-field-behaviour"]["relabeling"] == {"password": "API key", "host": "Base URL"}
    assert set(conn["ui-field-behaviour"]["hidden-fields"]) == {"schema", "port", "login"}
    assert conn["conn-fields"]["backend"]["schema"]["enum"] == ["evolink", "aimlapi", "modelark"]
    assert "`extra.backend`" in CONNECTION_PAGE
    assert "`extra.timeout`" in CONNECTION_PAGE
    assert "`extra.max_retries`" in CONNECTION_PAGE


def test_provider_info_validates_against_airflows_schema():
    import json

    import airflow
    import jsonschema

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_every_module_has_a_docstring():
    for path in (ROOT / "airflow_provider_seedance").rglob("*.py"):
        text = path.read_text()
        if text.strip():
            assert text.lstrip().startswith(('"""', "'''", "#")), path
