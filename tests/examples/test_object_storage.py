"""The marketing pipeline and the publish DAG on a non-local object store, by changing one Param.

Runs in a subprocess with the example DAGs' own Airflow home: an in-memory fsspec filesystem is attached
as ``memory://`` (a bucket-style store, like ``s3://``), then both DAGs run with ``dag.test()`` in that
process, so the store outlives each task and can be listed at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.examples.conftest import ROOT, airflow_env, reviewing

KINDS = (("videos", "mp4"), ("posters", "jpg"))

SCRIPT = """
import json, os, sys
from fsspec.implementations.memory import MemoryFileSystem
from airflow.sdk.io import attach
from airflow_provider_seedance.emulator import EmulatorServer

memory = MemoryFileSystem()
attach("memory", fs=memory)
with EmulatorServer(api_key="k", render_seconds=0.3) as emulator:
    os.environ["AIRFLOW_CONN_SEEDANCE_DEFAULT"] = json.dumps(
        {"conn_type": "seedance", "password": "k", "host": emulator.base_url("evolink"), "extra": {"backend": "evolink"}}
    )
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:
        from airflow.models.dagbag import DagBag
    bag = DagBag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    conf = {"output_root": "memory://campaigns/seedance", "max_videos": 2}
    states = [
        str(bag.dags["example_seedance_marketing_pipeline"].test(run_conf=conf).state),
        str(bag.dags["example_seedance_publish"].test().state),
    ]
files = {path: memory.size(path) for path in memory.find("/campaigns")}
print("RESULT " + json.dumps({"states": states, "files": files}))
"""


def test_videos_gallery_and_publish_folder_land_on_the_object_store(examples_home, review_api):
    env = airflow_env(examples_home)
    env.update({k: v for k, v in review_api.runner.env.items() if k.startswith("AIRFLOW__")})
    with reviewing(review_api, lambda detail: ("Approve", "")):  # the review, answered through the REST API
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
        )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, (result.stdout + result.stderr)[-6000:]
    report = json.loads(lines[-1].removeprefix("RESULT "))
    assert report["states"] == ["success", "success"]
    files = report["files"]
    runs = {path.split("/")[5] for path in files if path.startswith("/campaigns/seedance/marketing/")}
    assert len(runs) == 1
    run = f"/campaigns/seedance/marketing/spring-launch-2026/{runs.pop()}"
    names = ("trail-runner-shorts", "trail-runner-youtube")
    for name in names:
        assert files[f"{run}/videos/{name}.mp4"] > 10_000
        assert files[f"{run}/posters/{name}.jpg"] > 1_000
    assert files[f"{run}/index.html"] > 0 and files[f"{run}/manifest.json"] > 0
    published = {p.split("/ready_to_publish/", 1)[1]: size for p, size in files.items() if "/ready_to_publish/" in p}
    day = next(iter(published)).split("/", 1)[0]
    expected = ["index.html", "manifest.json"] + [f"{kind}/{n}.{ext}" for n in names for kind, ext in KINDS]
    assert sorted(published) == sorted(f"{day}/spring-launch-2026/{rel}" for rel in expected)
    for name in names:
        assert published[f"{day}/spring-launch-2026/videos/{name}.mp4"] == files[f"{run}/videos/{name}.mp4"]
