"""The package metadata says what the distribution needs: the license files, one published extra, and an
`emulator` extra that declares every module the emulator imports. The built sdist and wheel themselves are
checked by ``scripts/check-dist.sh`` (``make test-dist``)."""

from __future__ import annotations

import ast
import sys
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).parents[2]
EMULATOR = ROOT / "airflow_provider_seedance" / "emulator"


def pyproject() -> dict[str, Any]:
    return dict(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8")))


def test_license_and_notice_ship_with_the_package() -> None:
    project = pyproject()["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE", "NOTICE"]
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License\n                           Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text and "APPENDIX: How to apply" in license_text
    assert "airflow-provider-seedance" in (ROOT / "NOTICE").read_text(encoding="utf-8")
    # PEP 639: a license expression replaces the classifier; setuptools refuses both together.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]


def test_classifiers_name_every_supported_python() -> None:
    classifiers = pyproject()["project"]["classifiers"]
    for minor in (10, 11, 12, 13):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert "Framework :: Apache Airflow :: Provider" in classifiers
    assert "Typing :: Typed" in classifiers


def test_test_tooling_is_not_a_published_extra() -> None:
    config = pyproject()
    assert set(config["project"]["optional-dependencies"]) == {"emulator"}
    groups = config["dependency-groups"]
    assert {canonicalize_name(Requirement(r).name) for r in groups["dev"]} >= {"pytest", "ruff", "mypy"}
    assert "bench" in groups


def third_party_imports(folder: Path) -> set[str]:
    """Top-level names of the modules imported anywhere under folder, minus the stdlib and the package."""
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "airflow_provider_seedance"}


def test_the_emulator_extra_declares_every_module_the_emulator_imports() -> None:
    project = pyproject()["project"]
    declared = {
        canonicalize_name(Requirement(r).name)
        for r in [*project["dependencies"], *project["optional-dependencies"]["emulator"]]
    }
    providers = packages_distributions()
    imports = third_party_imports(EMULATOR)
    assert imports >= {"starlette", "uvicorn", "av", "numpy", "PIL"}
    missing = {
        name: providers.get(name)
        for name in imports
        if not {canonicalize_name(d) for d in providers.get(name, [name])} & declared
    }
    assert not missing, f"the emulator imports modules no dependency or `emulator` extra declares: {missing}"
    assert "apache-airflow" in declared  # the one core dependency the emulator must not need...
    assert "airflow" not in imports  # ...and does not import
