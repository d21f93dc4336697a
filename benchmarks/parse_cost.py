"""Benchmark 3, DAG parse cost: what importing an operator module adds to a bare ``from airflow.sdk import DAG``.

Peers' providers are installed into a scratch venv (``benchmarks/.venv-peers``) that sees the main venv's
packages through a ``.pth`` file, so they never become dependencies of this package and every
candidate is measured by the same interpreter. Each measurement is a fresh interpreter; candidates are
interleaved round-robin so drift on a noisy machine hits them alike; medians are reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

from benchmarks.common import BENCH_DIR, ROOT, median

PEERS_VENV = BENCH_DIR / ".venv-peers"
PEER_PACKAGES = ("apache-airflow-providers-openai", "apache-airflow-providers-http")

CANDIDATES: dict[str, str] = {
    "bare DAG": "",
    "this provider": "from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator",
    "OpenAI provider": "from airflow.providers.openai.operators.openai import OpenAIEmbeddingOperator",
    "HTTP provider": "from airflow.providers.http.operators.http import HttpOperator",
}

_PROBE = """
import time, sys
t0 = time.perf_counter()
from airflow.sdk import DAG
t1 = time.perf_counter()
{stmt}
t2 = time.perf_counter()
print({{"dag_s": t1 - t0, "added_s": t2 - t1, "modules": len(sys.modules)}})
"""


def peers_python() -> Path:
    """The scratch venv's interpreter, creating the venv and installing the peers' providers once."""
    python = PEERS_VENV / "bin" / "python"
    marker = PEERS_VENV / ".installed"
    if marker.exists():
        return python
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(PEERS_VENV)], check=True)
    # The main venv's site-packages, appended after the scratch one: airflow and this provider come from
    # there; only the peers (and whatever they need that the main venv lacks) are installed here.
    main_site = sysconfig.get_paths()["purelib"]
    scratch_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(scratch_site, "_main_venv.pth").write_text(f"import site; site.addsitedir({main_site!r})\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PEER_PACKAGES],
        check=True,
    )
    marker.write_text(" ".join(PEER_PACKAGES) + "\n")
    return python


def _measure(python: Path, stmt: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "0"}
    done = subprocess.run(
        [str(python), "-c", _PROBE.format(stmt=stmt)], env=env, capture_output=True, text=True, check=True, cwd=ROOT
    )
    line = [x for x in done.stdout.splitlines() if x.startswith("{")][-1]
    return dict(json.loads(line.replace("'", '"')))


def importtime_top(python: Path, stmt: str, top: int = 12) -> list[tuple[str, float]]:
    """The modules ``stmt`` imports on top of ``airflow.sdk``, by cumulative import time (ms)."""
    code = "from airflow.sdk import DAG\nimport sys\nsys.stderr.write('---MARK---\\n')\n" + stmt
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [str(python), "-X", "importtime", "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT
    )
    after = done.stderr.split("---MARK---", 1)[-1]
    rows = []
    for line in after.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line.split("|")
        try:
            cumulative = int(parts[1].strip())
        except ValueError:
            continue
        rows.append((parts[2].rstrip(), cumulative / 1000))
    rows.sort(key=lambda row: -row[1])
    return rows[:top]


def run(repetitions: int = 15) -> dict[str, Any]:
    python = peers_python()
    for stmt in CANDIDATES.values():  # warm the bytecode caches once; they are warm in a real scheduler
        _measure(python, stmt)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in CANDIDATES}
    started = time.time()
    for _ in range(repetitions):
        for name, stmt in CANDIDATES.items():
            samples[name].append(_measure(python, stmt))
    result: dict[str, Any] = {"repetitions": repetitions, "seconds": time.time() - started, "rows": {}}
    bare_total = median([s["dag_s"] + s["added_s"] for s in samples["bare DAG"]])
    for name, rows in samples.items():
        result["rows"][name] = {
            "added_ms": 1000 * median([s["added_s"] for s in rows]),
            "total_ms": 1000 * median([s["dag_s"] + s["added_s"] for s in rows]),
            "total_vs_bare": median([s["dag_s"] + s["added_s"] for s in rows]) / bare_total,
            "modules": median([s["modules"] for s in rows]),
        }
    result["importtime_ours"] = importtime_top(python, CANDIDATES["this provider"])
    return result


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 5), indent=1))
