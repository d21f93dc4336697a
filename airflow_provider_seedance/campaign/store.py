"""Where a campaign run's files live: the output root, the run's folder, its manifest and gallery pages, the
posters, and the manifests of earlier runs (which price later ones). ``ObjectStoragePath`` throughout: a local
folder, ``file://`` or any object store Airflow reaches.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from airflow.sdk import ObjectStoragePath, Variable

from airflow_provider_seedance.campaign.gallery import render_gallery
from airflow_provider_seedance.campaign.manifest import Clip, Manifest
from airflow_provider_seedance.campaign.posters import poster_jpeg
from airflow_provider_seedance.plugin.addresses import run_page
from airflow_provider_seedance.runtime.storage import make_folders

DEFAULT_OUTPUT_ROOT = "~/seedance_output"
MANIFEST = "manifest.json"

log = logging.getLogger(__name__)


def output_root(value: str | None) -> ObjectStoragePath:
    """The option if given, else the Variable ``seedance_output_root``, else ``~/seedance_output``; its
    filesystem resolved now, so that a missing one fails before any render is paid for."""
    text = (value or "").strip()
    if text in ("", "None"):
        text = Variable.get("seedance_output_root", default=None) or DEFAULT_OUTPUT_ROOT
    text = text.rstrip("/")
    if "://" not in text:
        text = "file://" + os.path.abspath(os.path.expanduser(text))
    root = ObjectStoragePath(text)
    try:
        root.fs  # noqa: B018
    except ValueError as exc:
        raise ValueError(f"output root {text!r}: {exc} (install the provider for that object store)") from None
    return root


def read_manifest(folder: str) -> Manifest:
    text = (ObjectStoragePath(folder) / MANIFEST).read_text(encoding="utf-8")
    return Manifest.model_validate_json(text)


def player_of(manifest: Manifest) -> str:
    """The run's Seedance page when Airflow says where it is served (``[api] base_url``); else no link (a
    gallery opened from a file or a bucket cannot follow a link relative to the api-server)."""
    from airflow.configuration import conf

    base = conf.get("api", "base_url", fallback="") or ""
    return run_page(manifest.dag_id, manifest.run_id, base) if base and manifest.dag_id else ""


def write_manifest(manifest: Manifest) -> None:
    """The manifest and the gallery page (``index.html``), with the spend recomputed."""
    folder = ObjectStoragePath(manifest.folder)
    make_folders(folder)
    manifest.tally()
    (folder / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    (folder / manifest.gallery).write_text(render_gallery(manifest, player=player_of(manifest)), encoding="utf-8")


def write_page(manifest: Manifest, name: str, clips: list[Clip]) -> str:
    """Another page of the gallery showing ``clips`` only (``approved.html``: what is published)."""
    path = ObjectStoragePath(manifest.folder) / name
    path.write_text(render_gallery(manifest, clips, player=player_of(manifest)), encoding="utf-8")
    return str(path)


def save_poster(folder: str, video_file: str) -> str | None:
    """A poster of ``folder/video_file`` at ``posters/<stem>.jpg``; its relative path, or None."""
    base = ObjectStoragePath(folder)
    data = poster_jpeg(base / video_file)
    if data is None:
        return None
    relative = f"posters/{video_file.rsplit('/', 1)[-1].rsplit('.', 1)[0]}.jpg"
    make_folders((base / relative).parent)
    (base / relative).write_bytes(data)
    return relative


def earlier_clips(root: str, prefix: str, skip: str = "") -> list[dict[str, Any]]:
    """What earlier runs' renders cost: the rendered clips of every manifest under ``root/prefix`` (each
    carries model, duration, quality, credits)."""
    found: list[dict[str, Any]] = []
    try:
        manifests = list((ObjectStoragePath(root) / prefix).glob(f"*/*/{MANIFEST}"))
    except (OSError, ValueError):
        return found
    for path in manifests:
        if skip and str(path.parent) == skip:
            continue
        try:
            found += json.loads(path.read_text(encoding="utf-8")).get("videos", [])
        except (OSError, ValueError) as exc:
            log.warning("Skipping unreadable manifest %s: %s", path, exc)
    return [v for v in found if v.get("rendered", True)]
