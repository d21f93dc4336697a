"""The package's import graph: no cycle among its modules, the pure layer never imports Airflow, and each
layer imports only itself and the layers before it (``docs/architecture.md`` draws them).

Read with ``ast`` from the source, nothing is imported. What counts as an edge from module A to module B:

* every ``import`` and ``from ... import`` statement anywhere in A: at the top, inside functions and
  methods, under ``if TYPE_CHECKING:``, in ``try`` blocks. A lazy import that dodges a cycle at run time
  is still a dependency of the design, and a ``TYPE_CHECKING`` import is one mypy follows, so both count;
* the target is the deepest module the statement names: ``from airflow_provider_seedance.wire.backends import
  get_backend`` is an edge to ``wire.backends`` (its ``__init__``), ``from airflow_provider_seedance.wire.backends
  import base`` one to ``wire.backends.base``; relative imports are resolved against A's package;
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
    "plugin.ranges",
    "plugin.renders",
    "plugin.batches",
    "plugin.spend",
    "campaign.options",
    "campaign.takes",
    "campaign.manifest",
    "campaign.fates",
    "campaign.spend",
    "campaign.batching",
    "campaign.gallery",
    "campaign.posters",
    "models",
    "contract",
    "contract.limits",
    "contract._vendor_fields",
    "contract._declared_models",
    "contract._urls",
    "contract._status",
    "wire",
    "wire.backends",
    "wire.backends.base",
    "wire.backends.evolink",
    "wire.backends.aimlapi",
    "wire.backends.modelark",
    "wire._rules",
    "wire._transport",
    "wire.settings",
    "wire._calls",
    "exceptions",
    "polling",
    "polling._plan",
    "contract.events",
    "polling._render_memory",
    "polling._run_history",
    "polling._poll_steps",
    "contract.submission",
    "contract.batch",
    "contract.failover",
    "version",
    "emulator",
)

#: The modules that import Airflow themselves. ``storage`` is one: it saves through Airflow's
#: ``ObjectStoragePath`` (imported inside ``to_object_path``, and under ``TYPE_CHECKING`` for the annotations).
AIRFLOW_SHELL = {
    "plugin.app",
    "plugin.queries",
    "plugin.seedance",
    "runtime._compat",
    "runtime._xcom",  # a trigger's XCom reads and writes (Airflow's XCom and the supervisor's channel)
    "runtime._metrics",
    "runtime.storage",
    "hooks.seedance",
    "triggers.seedance",
    "operators.seedance",
    "operators.batch",
    "triggers.batch",
    "links",
    "sensors.seedance",
    "runtime._lineage",
    "operators.review",
    "campaign.review_operator",
    "campaign.store",
    "campaign.group",
    "runtime._local_review",  # the scheduler's timeout sweep, imported by the sweep itself (dag.test on 3.3 only)
}

#: The layers in order, each a set of module prefixes (a module is in a layer when its name, less the package,
#: is a prefix or starts with one and a dot; ``""`` is the package's ``__init__``). A module may import its
#: own layer and those before it, never one after: the contract knows nothing of the wire, the wire nothing
#: of polling, none of them anything of Airflow's utilities or the shell.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("contract", frozenset({"contract", "models", "exceptions", "version"})),
    ("wire", frozenset({"wire"})),
    ("polling", frozenset({"polling"})),
    ("runtime", frozenset({"runtime"})),
    (
        "shell",
        frozenset(
            {
                "",
                "get_provider_info",
                "hooks",
                "operators",
                "triggers",
                "sensors",
                "links",
                "campaign",
                "review_client",
                "plugin",
            }
        ),
    ),
)
#: The emulator stands apart: it imports itself and the contract (what parses declared models), nothing of
#: layers 2-5 (the client code it must catch the mistakes of, not share them).
EMULATOR = "emulator"
#: The old flat paths kept for users (``tests/unit/test_shims.py``): each imports its new home and nothing
#: else; no package module imports them.
SHIMS = frozenset(
    {"budget", "limits", "review", "submission", "events", "failover", "settings", "backends", "backends.base"}
    | {"storage", "download_guard"}
)
#: The I/O of the wire. The backends are sans-IO and the contract is pure: neither reaches these, however
#: indirectly (the pure rules they share with the transport are in ``wire._rules``).
WIRE_IO = frozenset({"wire._transport", "wire._calls", "wire.settings"})


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
    # under TYPE_CHECKING (contract/_status.py's models) are all edges.
    assert f"{PACKAGE}.emulator.app" in edges[f"{PACKAGE}.emulator"]
    assert f"{PACKAGE}.get_provider_info" in edges[f"{PACKAGE}.hooks.seedance"]
    assert f"{PACKAGE}.models" in edges[f"{PACKAGE}.contract._status"]


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
    reached = {_short(name) for name in _reachable(f"{PACKAGE}.contract.limits")}
    assert not {name for name in reached if name.split(".")[0] == "wire"}, reached


def _in(short: str, prefix: str) -> bool:
    return short == prefix or (prefix != "" and short.startswith(prefix + "."))


def layer_of(name: str, layers: tuple[tuple[str, frozenset[str]], ...] = LAYERS) -> int | None:
    """The index of ``name``'s layer in ``layers`` (None for the emulator and the shims), by its longest prefix."""
    short = "" if name == PACKAGE else _short(name)
    if _in(short, EMULATOR) or short in SHIMS:
        return None
    found = [(len(p), i) for i, (_, prefixes) in enumerate(layers) for p in prefixes if _in(short, p)]
    assert found, f"{short or PACKAGE} is in no layer: place it in LAYERS (and on docs/architecture.md)"
    return max(found)[1]


def layer_violations(
    edges: dict[str, frozenset[str]], layers: tuple[tuple[str, frozenset[str]], ...] = LAYERS
) -> list[str]:
    """Every import of a module from a later layer than its own, as ``a (layer) imports b (layer)``."""
    found = []
    for source in sorted(edges):
        here = layer_of(source, layers)
        if here is None:
            continue
        for target in sorted(edges[source]):
            there = layer_of(target, layers)
            if there is None:
                found.append(f"{_short(source)} imports {_short(target)}, an old path kept for users (a shim)")
            elif there > here:
                found.append(
                    f"{_short(source)} ({layers[here][0]}) imports {_short(target)} ({layers[there][0]}), a later layer"
                )
    return found


def test_every_module_is_in_one_layer():
    for name in graph():
        layer_of(name)


def test_the_layer_check_names_the_offending_import():
    edges = {
        f"{PACKAGE}.wire.backends.base": frozenset({f"{PACKAGE}.runtime.storage", f"{PACKAGE}.models"}),
        f"{PACKAGE}.contract.limits": frozenset({f"{PACKAGE}.budget"}),
        f"{PACKAGE}.models": frozenset(),
        f"{PACKAGE}.runtime.storage": frozenset({f"{PACKAGE}.wire.settings"}),
    }
    assert layer_violations(edges) == [
        "contract.limits imports budget, an old path kept for users (a shim)",
        "wire.backends.base (wire) imports runtime.storage (runtime), a later layer",
    ]


def test_each_layer_imports_only_itself_and_the_layers_before_it():
    violations = layer_violations(graph())
    assert violations == [], "imports against the layers:\n" + "\n".join(violations)


def test_the_emulator_imports_nothing_of_the_wire_polling_runtime_or_shell():
    bad = [
        f"{_short(source)} imports {_short(target)}"
        for source in sorted(graph())
        if _in(_short(source), EMULATOR)
        for target in sorted(graph()[source])
        if not _in(_short(target), EMULATOR) and layer_of(target) != 0
    ]
    assert bad == [], bad


@pytest.mark.parametrize("shim", sorted(SHIMS))
def test_a_shim_imports_new_paths_only(shim):
    name = f"{PACKAGE}.{shim}"
    assert name in graph(), f"{name} is gone: update SHIMS"
    assert all(layer_of(target) is not None for target in graph()[name]), graph()[name]


def _backends_and_contract() -> list[str]:
    return sorted(n for n in graph() if _in(_short(n), "wire.backends") or _in(_short(n), "contract"))


@pytest.mark.parametrize("module", _backends_and_contract())
def test_the_backends_and_the_contract_never_reach_the_wires_io(module):
    """Sans-IO: a backend describes calls and parses answers; what it shares with the transport (the
    idempotency header, ``Retry-After``) it takes from ``wire._rules``."""
    for reached in sorted(_reachable(module)):
        for target in sorted(graph()[reached] & {f"{PACKAGE}.{io}" for io in WIRE_IO}):
            via = "" if reached == module else f" (through {_short(reached)})"
            pytest.fail(f"{_short(module)} reaches {_short(target)}{via}: take the pure rule from wire._rules")


#: Modules that must not import httpx, directly or through any package module: the contract, the wire's
#: pure rules, the backends and the poll plan.
SANS_IO = ("contract", "models", "exceptions", "wire._rules", "wire.backends", "polling")


@pytest.mark.parametrize("module", sorted(n for n in _modules() if any(_in(_short(n), p) for p in SANS_IO)))
def test_the_sans_io_modules_never_import_httpx(module):
    for reached in sorted(_reachable(module)):
        httpx = sorted(i for i in _imports(reached) if i == "httpx" or i.startswith("httpx."))
        assert not httpx, f"{_short(module)} reaches {_short(reached)}, which imports {httpx[0]}"
