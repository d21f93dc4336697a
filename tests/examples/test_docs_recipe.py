"""docs/examples.md's recipe for testing your own DAGs offline is run as written: its ``conftest.py`` and
tests go into a throwaway project beside a copy of the quickstart DAG, and pytest runs them in a fresh
process with none of this suite's Airflow settings."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from tests.examples.conftest import EXAMPLES, ROOT

SECTION = "## Testing your own DAGs offline with the emulator"


def recipe_blocks() -> list[str]:
    text = (ROOT / "docs" / "examples.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_offline_testing_recipe_runs_as_written(tmp_path):
    conftest, tests = recipe_blocks()[:2]
    project = tmp_path / "project"
    (project / "dags").mkdir(parents=True)
    (project / "tests").mkdir()
    shutil.copy(EXAMPLES / "example_seedance_quickstart.py", project / "dags")
    (project / "tests" / "conftest.py").write_text(conftest, encoding="utf-8")
    (project / "tests" / "test_quickstart.py").write_text(tests, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SEEDANCE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    output = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
    assert re.search(r"\b4 passed\b", result.stdout), output
