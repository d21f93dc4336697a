"""The package's import graph: no cycle among its modules, and the pure layer never imports Airflow.

Read with ``ast`` from the source, nothing is imported. What counts as an edge from module A to module B:

* every ``import`` and ``from ... import`` statement anywhere in A: at the top, inside functions and
  methods, under ``if TYPE_CHECKING:``, in ``try`` blocks. A lazy import that dodges a cycle at run time
  is still a dependency of the design, and a ``TYPE_CHECKING`` import is one mypy follows, so both count;
* the target is the deepest module the statement names: ``from airflow_provider_seedance.backends import
  get_backend`` is an edge to ``backends`` (its ``__init__``), ``from airflow_provider_seedance.backends
  import base`` one to ``backends.base``; relative imports are resolved against A's package;
* importing a submodule runs its parent packages' ``__init__`` too, but that is not an edge: otherwise every
  package whose ``__init__`` imports its own submodules would count as a cycle.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = "airflow_provider_seedance"
ROOT = Path(__file__).parents[2] / PACKAGE

#: Modules with no Airflow import, directly or through any package module they import (the emulator too:
#: it runs without Airflow). ``get_provider_info`` imports nothing either but is left out: describing the
#: provider to Airflow, it has no reason to promise that.
PURE = (
    "models",
    "limits",
    "vendor_fields",
    "declared_models",
    "urls",
    "status",
    "backends",
    "backends.base",
    "backends.evolink",
    "backends.aimlapi",
    "backends.modelark",
    "transport",
    "settings",
    "calls",
    "exceptions",
    "polling",
    "events",
    "render_memory",
    "poll_steps",
    "submission",
    "version",
    "emulator",
)

#: The modules that import Airflow themselves. ``storage`` is one: it saves through Airflow's
#: ``ObjectStoragePath`` (imported inside ``to_object_path``, and under ``TYPE_CHECKING`` for the annotations).
AIRFLOW_SHELL = {
    "compat",
    "metrics",
    "storage",
    "hooks.seedance",
    "triggers.seedance",
    "operators.seedance",
    "links",
    "sensors.seedance",
    "lineage",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _imports(name: str) -> set[str]:
    """Every absolute name ``name`` imports anywhere (``from X import Y`` gives ``X.Y``; package or not)."""
    path = _modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            # ``from X import Y``: the module X.Y if there is one, else X (resolved in ``graph``).
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


@cache
def graph() -> dict[str, frozenset[str]]:
    """Module -> the package modules it imports (the deepest existing module each import names)."""
    modules = _modules()
    edges: dict[str, frozenset[str]] = {}
    for name in modules:
        targets = set()
        for imported in _imports(name):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported.startswith(PACKAGE) and imported != name:
                targets.add(imported)
        edges[name] = frozenset(targets)
    return edges


def find_cycle(edges: dict[str, frozenset[str]]) -> list[str] | None:
    """One cycle as a path that ends where it starts, or None (depth-first, deterministic order)."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(edges.get(node, ())):
            cycle = visit(target, [*path, node])
            if cycle:
                return cycle
        done.add(node)
        return None

    for start in sorted(edges):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def _short(name: str) -> str:
    return name.removeprefix(PACKAGE + ".")


def test_the_graph_sees_every_kind_of_import():
    edges = graph()
    # A relative import (the emulator's), an import inside a function (the hook's provider info) and one
    # under TYPE_CHECKING (status.py's models) are all edges.
    assert f"{PACKAGE}.emulator.app" in edges[f"{PACKAGE}.emulator"]
    assert f"{PACKAGE}.get_provider_info" in edges[f"{PACKAGE}.hooks.seedance"]
    assert f"{PACKAGE}.models" in edges[f"{PACKAGE}.status"]


def test_the_cycle_finder_names_a_cycle():
    edges = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"a"})}
    assert find_cycle(edges) == ["a", "b", "c", "a"]
    assert find_cycle({"a": frozenset({"b"}), "b": frozenset()}) is None


def test_no_import_cycle_among_the_packages_modules():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(_short(name) for name in cycle or ())


def _reachable(start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for target in graph()[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


@pytest.mark.parametrize("pure", PURE)
def test_the_pure_modules_never_import_airflow(pure):
    name = f"{PACKAGE}.{pure}"
    assert name in graph(), f"{name} is gone: update PURE"
    for module in sorted(_reachable(name)):
        airflow = sorted(i for i in _imports(module) if i == "airflow" or i.startswith("airflow."))
        assert not airflow, f"{_short(name)} reaches {_short(module)}, which imports {airflow[0]}"


def test_the_airflow_shell_is_what_imports_airflow():
    """The other side of the layering: the modules that import Airflow directly are the known shell."""
    direct = {
        _short(name) for name in graph() if any(i == "airflow" or i.startswith("airflow.") for i in _imports(name))
    }
    assert direct == AIRFLOW_SHELL


def test_the_limits_table_and_validator_know_nothing_of_the_backends():
    """Facts about an API live on its backend; the validator is given the backend, never looks it up."""
    reached = {_short(name) for name in _reachable(f"{PACKAGE}.limits")}
    assert not {name for name in reached if name.split(".")[0] in ("backends", "settings")}, reached
