"""Downstream of the marketing pipeline: collect each new gallery into a dated "ready to publish" folder.

What it shows: data-aware scheduling. This DAG runs whenever ``example_seedance_marketing_pipeline``
emits an event on the Asset ``seedance://marketing/gallery``; the event's ``extra`` says where the
manifest is. It copies the videos, posters, gallery page and manifest into
``<root>/ready_to_publish/<date>/<campaign>/`` (``<root>`` is the pipeline's output root, so it works on
any object store), and marks the manifest ``ready_to_publish``. Only the clips a reviewer approved are
copied (the manifest's ``status`` of each clip, written by the pipeline's ``release`` task): rejected, timed
out, unreviewed or skipped clips never reach the folder. It posts nothing anywhere: hand that
folder to your publishing tool or team.

What it needs: nothing beyond what the marketing pipeline needs (no Seedance connection, no network).
Triggered by hand, it republishes the manifest given in the ``manifest`` Param, or else the latest gallery.
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime, timezone
from typing import Any

from airflow.sdk import Asset, ObjectStoragePath, Param, dag, get_current_context, task

from airflow_provider_seedance.runtime.storage import make_folders

try:
    from airflow.sdk.exceptions import AirflowSkipException
except ImportError:  # Airflow < 3.2
    from airflow.exceptions import AirflowSkipException  # type: ignore[no-redef]

GALLERY = Asset("seedance://marketing/gallery")

log = logging.getLogger(__name__)


def manifests_to_publish(context: Any) -> list[str]:
    """The manifest Param, else the triggering events' manifests, else the latest gallery event."""
    if context["params"].get("manifest"):
        return [context["params"]["manifest"]]
    events = context["triggering_asset_events"].get(GALLERY, [])
    found = [e.extra["manifest"] for e in events if (e.extra or {}).get("manifest")]
    if found:
        return list(dict.fromkeys(found))
    try:
        latest = context["inlet_events"][GALLERY][-1]
    except (IndexError, KeyError):
        return []
    return [latest.extra["manifest"]] if (latest.extra or {}).get("manifest") else []


def copy_file(source: ObjectStoragePath, target: ObjectStoragePath) -> None:
    """Stream one file across any two stores (local -> S3, S3 -> GCS, ...); never creates a bucket."""
    make_folders(target.parent)
    with source.open("rb") as reader, target.open("wb") as writer:
        shutil.copyfileobj(reader, writer, 1024 * 1024)


@dag(
    dag_id="example_seedance_publish",
    description="Collect each new Seedance gallery into a dated ready_to_publish folder",
    schedule=[GALLERY],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "seedance", "marketing"],
    params={
        "manifest": Param(
            None,
            type=["null", "string"],
            description="Manual runs: the manifest.json URL to publish; empty: the latest gallery.",
        ),
        "publish_root": Param(
            None,
            type=["null", "string"],
            description="Where ready_to_publish/ goes; empty: the pipeline's output root.",
        ),
    },
    doc_md=__doc__,
)
def example_seedance_publish() -> None:
    @task(inlets=[GALLERY])
    def collect() -> list[dict[str, Any]]:
        context = get_current_context()
        manifests = manifests_to_publish(context)
        if not manifests:
            raise AirflowSkipException("no gallery to publish yet: run example_seedance_marketing_pipeline first")
        day = context["dag_run"].run_after.strftime("%Y-%m-%d")
        published = []
        for location in manifests:
            manifest_path = ObjectStoragePath(location)
            source = manifest_path.parent
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            root = ObjectStoragePath(context["params"].get("publish_root") or manifest["root"])
            target = root / "ready_to_publish" / day / manifest["campaign"]
            manifest["videos"] = [v for v in manifest["videos"] if v.get("status") == "approved"]
            for video in manifest["videos"]:
                for relative in (video["file"], video.get("poster")):
                    if relative:
                        copy_file(source / relative, target / relative)
                video["url"] = str(target / video["file"])
            # The source's index.html shows every take with its fate; approved.html only the approved ones.
            if (source / "approved.html").exists():
                copy_file(source / "approved.html", target / "index.html")
            make_folders(target)
            manifest.update(
                status="ready_to_publish",
                source=str(source),
                published_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            )
            (target / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            log.info("Ready to publish: %d videos of %s in %s", len(manifest["videos"]), manifest["campaign"], target)
            published.append(
                {"campaign": manifest["campaign"], "folder": str(target), "videos": len(manifest["videos"])}
            )
        return published

    collect()


example_seedance_publish()
