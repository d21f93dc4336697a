"""The old flat module paths the README, the docs and the API reference named before the package was grouped by
layer: each still imports, and each of its names is the very object of its new home (not a copy)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = "airflow_provider_seedance"
ROOT = Path(__file__).parents[2] / PACKAGE

#: old path -> its new home (``download_guard``'s address rules moved on to the contract's URL rules).
SHIMS = {
    "budget": "contract.budget",
    "limits": "contract.limits",
    "review": "contract.review",
    "submission": "contract.submission",
    "events": "contract.events",
    "failover": "contract.failover",
    "settings": "wire.settings",
    "backends": "wire.backends",
    "backends.base": "wire.backends.base",
    "storage": "runtime.storage",
    "download_guard": "runtime.download_guard",
}
MOVED_ON = {"download_guard": ("contract._urls", {"IPAddress", "internal_reason", "first_internal", "system_resolver"})}


def _source(module: str) -> Path:
    path = ROOT.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _public_definitions(module: str) -> set[str]:
    """The public names ``module`` defines at its top or re-exports (``import X as X``); its ``__all__`` where it
    has one."""
    names: set[str] = set()
    for node in ast.parse(_source(module).read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
                return set(ast.literal_eval(node.value))
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.name for alias in node.names if alias.asname == alias.name)
    return {name for name in names if not name.startswith("_")}


def _exported(module: str) -> set[str]:
    tree = ast.parse(_source(module).read_text(encoding="utf-8"))
    return {
        alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom) for alias in node.names
    }


@pytest.mark.parametrize(("old", "new"), sorted(SHIMS.items()))
def test_an_old_path_is_its_new_home_under_the_old_name(old: str, new: str) -> None:
    shim = importlib.import_module(f"{PACKAGE}.{old}")
    home = importlib.import_module(f"{PACKAGE}.{new}")
    assert shim.__doc__ == f"Moved to ``{PACKAGE}.{new}``; this path keeps working."
    expected = _public_definitions(new)
    elsewhere, moved = MOVED_ON.get(old, ("", set()))
    assert _exported(old) == expected | moved, "a shim re-exports exactly its new home's public names"
    for name in sorted(expected):
        assert getattr(shim, name) is getattr(home, name), name
    for name in sorted(moved):
        assert getattr(shim, name) is getattr(importlib.import_module(f"{PACKAGE}.{elsewhere}"), name), name


def test_every_shim_is_listed() -> None:
    """A module of the old flat layout that is only re-exports is a shim, and each one is checked here."""
    found = set()
    for path in sorted(ROOT.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        doc = ast.get_docstring(tree) or ""
        if doc.startswith("Moved to "):
            found.add(module)
    assert found == set(SHIMS)
