"""The package's shape, kept as the design says: small functions, and an architecture page that names only
modules that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "airflow_provider_seedance"
MAX_BODY_LINES = 40
#: Functions that are data, not logic: a table or a declaration read top to bottom.
DATA_FUNCTIONS = {("get_provider_info.py", "get_provider_info"), ("limits.py", "_build_table")}


def body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first statement after the docstring to the end: the signature and docstring don't count."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:] or body
    return (node.end_lineno or node.lineno) - body[0].lineno + 1


def long_functions() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if (path.name, node.name) in DATA_FUNCTIONS:
                continue
            lines = body_lines(node)
            if lines > MAX_BODY_LINES:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {lines} lines")
    return found


def test_no_function_in_the_package_is_over_40_lines():
    assert long_functions() == []


ARCHITECTURE = ROOT / "docs" / "architecture.md"


def named_modules() -> list[str]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    return sorted(set(re.findall(r"`(airflow_provider_seedance/[\w/]+(?:\.py|/))`", text)))


def test_the_architecture_page_names_modules() -> None:
    assert len(named_modules()) >= 20


@pytest.mark.parametrize("module", named_modules())
def test_every_module_the_architecture_page_names_exists(module: str) -> None:
    assert (ROOT / module).exists(), f"docs/architecture.md names {module}, which no longer exists"


def test_every_module_of_the_package_is_on_the_architecture_page() -> None:
    named = set(named_modules())
    missing = [
        str(path.relative_to(ROOT))
        for path in sorted(PACKAGE.glob("**/*.py"))
        if "emulator" not in path.parts and path.name != "__init__.py" and str(path.relative_to(ROOT)) not in named
    ]
    assert missing == [], f"docs/architecture.md does not place {missing}"
