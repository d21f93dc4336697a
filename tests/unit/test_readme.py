"""The README is the front page, outside the Sphinx tree that `make docs` checks: every relative link in it
(and, as GitHub renders them, in docs/*.md) points at a file of the repository and, with ``#anchor``, at a
heading there; its first DAG builds; `.ci/run` runs its test command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def prose(text: str) -> str:
    """The Markdown outside fenced code blocks and inline code spans."""
    return re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text, lower-cased, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").replace("*", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for match in re.finditer(r"^#{1,6} (.+?)\s*#*$", FENCE.sub("", path.read_text(encoding="utf-8")), re.M):
        slug = github_slug(match.group(1))
        found.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return found


def relative_links(path: Path) -> list[str]:
    targets = LINK.findall(prose(path.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def broken_links(path: Path) -> list[str]:
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (destination.suffix != ".md" or anchor not in anchors(destination)):
            broken.append(f"{target}: no heading with the anchor #{anchor}")
    return broken


def test_the_readme_has_relative_links_to_check():
    assert len(relative_links(README)) >= 20


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_and_anchor_that_exist(page: Path):
    assert broken_links(page) == []


def test_the_link_check_sees_a_broken_file_and_a_broken_anchor(tmp_path: Path):
    (tmp_path / "other.md").write_text("# Other page\n\n## A `code` heading (with notes)\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#a-code-heading-with-notes) [ok](#page) [gone](missing.md) [typo](other.md#a-code)"
        " [local](#nothing) ![img](missing.png)\n\n```\n[in code](ignored.md)\n```\n"
    )
    assert broken_links(page) == [
        "missing.md: no such file",
        "other.md#a-code: no heading with the anchor #a-code",
        "#nothing: no heading with the anchor #nothing",
        "missing.png: no such file",
    ]


def test_the_first_dag_of_the_readme_builds():
    from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

    text = README.read_text(encoding="utf-8")
    section = text[text.index("## A first DAG") :]
    (block,) = re.findall(r"```python\n(.*?)```", section[: section.index("\n## ", 3)], flags=re.S)
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    dag = namespace["dag"]
    assert [type(t) for t in dag.tasks] == [SeedanceGenerateVideoOperator]


def test_ci_runs_the_readmes_test_command():
    assert "make test   # the whole suite" in README.read_text(encoding="utf-8")
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().endswith("exec make test")


def test_the_campaign_dag_of_the_readme_and_docs_is_the_example_file_and_fits_25_lines():
    """Issue 22: the user DAG shown is exactly the one the integration test runs, in at most 25 lines."""
    source = (ROOT / "example_dags" / "example_seedance_campaign.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) <= 25
    for page in (ROOT / "README.md", ROOT / "docs" / "campaigns.md"):
        assert f"```python\n{source}```" in page.read_text(encoding="utf-8"), page
    runner = (ROOT / "tests" / "dags" / "seedance_campaign_user.py").read_text(encoding="utf-8")
    assert '"example_dags" / "example_seedance_campaign.py"' in runner and "exec(compile(" in runner
