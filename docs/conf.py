"""Sphinx configuration of the documentation site (`make docs`; `make docs-linkcheck` for external links).

The pages are the Markdown files of this folder (MyST), which also read as they are on GitHub; the API
reference is generated from the package's docstrings. Nothing is fetched at build time: no intersphinx, and
the theme (furo) is an installed package.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

# Autodoc imports Airflow, which makes its home (~/airflow unless AIRFLOW_HOME says otherwise) and reads its
# configuration there: the build gets a throwaway home of its own, removed when it ends.
_airflow_home = tempfile.TemporaryDirectory(prefix="seedance-docs-airflow-")
os.environ["AIRFLOW_HOME"] = _airflow_home.name

from airflow_provider_seedance.version import __version__  # noqa: E402

project = "airflow-provider-seedance"
author = "airflow-provider-seedance maintainers"
copyright = "airflow-provider-seedance maintainers, Apache-2.0"
version = release = __version__

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]

# GitHub-style anchors for headings down to ####, so `page.md#a-heading` links resolve (and are checked:
# with -n -W a link to a missing page, file or anchor fails the build).
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence"]
suppress_warnings: list[str] = []

html_theme = "furo"
html_title = f"airflow-provider-seedance {release}"
html_static_path: list[str] = []

# The API reference: signatures as written, members in source order, type hints in the description.
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "exclude-members": "model_config, model_fields, model_computed_fields",
}
autodoc_preserve_defaults = True

# No inventory can be fetched offline (no intersphinx), so references to types of other packages cannot
# resolve; every type of this package must. Listed: whole third-party packages, the standard library's
# collections.abc, threading and datetime, and two Airflow types the package's annotations name unqualified
# (TYPE_CHECKING imports).
nitpick_ignore_regex = [
    (r"py:.*", r"(airflow|httpx|pydantic|pydantic_core|starlette|uvicorn|anyio|numpy|PIL|av)(\..*)?"),
    (r"py:class", r"collections\.abc\..*"),
    (r"py:class", r"(threading|datetime|enum)\.\w+"),
]
nitpick_ignore = [("py:class", "Context"), ("py:class", "ObjectStoragePath")]
# The campaign options' private base (a frozen pydantic model with extra fields forbidden).
nitpick_ignore += [("py:class", "airflow_provider_seedance.campaign.options._Options")]
# HITLOperator's own annotations, which SeedanceReviewOperator inherits (Airflow's names, unqualified there).
nitpick_ignore += [("py:class", name) for name in ("ParamsDict", "BaseNotifier", "HITLUser", "timedelta")]
# The batch trigger's event model (its fields are described in docs/batch.md; autodoc of it is not wanted here).
nitpick_ignore += [("py:class", "airflow_provider_seedance.contract.batch.BatchEvent")]


def dataclass_factory_defaults(
    app: Sphinx, what: str, name: str, obj: object, options: object, signature: str | None, ret: str | None
) -> tuple[str | None, str | None]:
    """A dataclass field with a ``default_factory`` shows as ``=<factory>``, which is no Python and makes
    Sphinx misparse the rest of the signature (a tuple default of ``'16:9'``... reads as annotations)."""
    if signature and "=<factory>" in signature:
        signature = signature.replace("=<factory>", "=...")
    return signature, ret


def files_outside_the_docs(app: Sphinx, doctree: nodes.document) -> None:
    """A Markdown link from a page to a file of the repository outside ``docs/`` (``../CHANGELOG.md``,
    ``../example_dags``) is right on GitHub, but MyST takes a ``.md`` for a page of this site and a folder for
    nothing. Such a link becomes a download of the file (as MyST already does for ``../example_dags/x.py``)
    or, for a folder, its text. Only targets that exist are changed: a broken one still fails the build."""
    docdir = Path(app.env.doc2path(app.env.docname)).parent
    for node in list(doctree.findall(addnodes.pending_xref)):
        if node.get("reftype") != "myst":
            continue
        target = node["reftarget"]
        if node.get("refdomain") == "doc":
            if target in app.env.found_docs:
                continue
            path = Path(target + ".md") if Path(target).is_absolute() else docdir / (target + ".md")
        else:
            path = docdir / target.split("#")[0]
        path = path.resolve()
        if ROOT not in path.parents or DOCS in (path, *path.parents) or not path.exists():
            continue
        if path.is_dir():
            node.replace_self(nodes.literal(node.astext(), node.astext()))
            continue
        download = addnodes.download_reference(
            "", "", refdoc=app.env.docname, reftarget=os.path.relpath(path, docdir), refexplicit=True
        )
        download += nodes.literal(node.astext(), node.astext())
        node.replace_self(download)


def setup(app: Sphinx) -> None:
    app.connect("autodoc-process-signature", dataclass_factory_defaults)
    # Before Sphinx's download collector (priority 500) reads the doctree's downloads.
    app.connect("doctree-read", files_outside_the_docs, priority=400)


# External links are checked by `make docs-linkcheck` (needs the network), never by `make docs`.
linkcheck_timeout = 20
linkcheck_retries = 2
