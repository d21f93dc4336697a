"""One ``airflow db migrate`` per test run: a migrated SQLite metadata database copied into every Airflow home
the tests make (each pytest-xdist worker's, the example DAGs' home, a test's own), instead of a migration of
its own for each (about 10 s of CPU apiece on this 2-core machine).

The first process to ask migrates, under a lock, into a file named after the Airflow version and the run (an id
the first process of a run sets in the environment, so that pytest-xdist's workers, which it starts, share it);
the others wait for it, then copy it. That first process removes the file when the run ends."""

from __future__ import annotations

import fcntl
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

AIRFLOW = Path(sys.executable).parent / "airflow"
_RUN = os.environ.setdefault("SEEDANCE_TEST_RUN", uuid.uuid4().hex)
_PREFIX = "seedance-migrated-"


def _template() -> Path:
    version = importlib.metadata.version("apache-airflow")
    return Path(tempfile.gettempdir()) / f"{_PREFIX}{version}-{_RUN}.db"


def migrated_database(target: Path) -> None:
    """Put a freshly migrated metadata database at ``target`` (an Airflow home's ``airflow.db``)."""
    template = _template()
    with open(template.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            home = Path(tempfile.mkdtemp(prefix="seedance-migrate-"))
            partial = template.with_suffix(".partial")
            env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
            env.update(
                AIRFLOW_HOME=str(home),
                AIRFLOW__CORE__LOAD_EXAMPLES="False",
                AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{partial}",
            )
            result = subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, capture_output=True, text=True)
            shutil.rmtree(home, ignore_errors=True)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            partial.rename(template)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)


def remove_templates() -> None:
    """The end of the run (the controller, or a run without xdist): remove this run's template and lock."""
    for path in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*-{_RUN}.*"):
        path.unlink(missing_ok=True)


def own_database(home: Path) -> dict[str, str]:
    """A migrated database of its own in ``home`` (once), and the environment that points a child process (and
    an api-server) at it: no second process opens a pytest worker's SQLite file, which SQLite can corrupt."""
    database = home / "airflow.db"
    if not database.exists():
        migrated_database(database)
    return {"AIRFLOW_HOME": str(home), "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{database}"}
