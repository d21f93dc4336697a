"""A campaign run's review state per render, read from its ``manifest.json`` (``campaign`` part).

The campaign's plan task keeps the run's folder in XCom; its manifest says, per clip, the status, the fate
and the review slot. Read defensively: a manifest that is missing, over :data:`MAX_MANIFEST_BYTES` or not a
manifest adds nothing to the tab (a render still plays).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from airflow_provider_seedance.campaign.manifest import Clip, ClipStatus, Manifest
from airflow_provider_seedance.contract._vendor_text import inert
from airflow_provider_seedance.plugin.media import storage_path
from airflow_provider_seedance.plugin.renders import Render, XComRow

log = logging.getLogger(__name__)

MAX_MANIFEST_BYTES = 8 * 1024 * 1024
MANIFEST = "manifest.json"


def manifest_of(folder: str) -> Manifest | None:
    base = storage_path(folder)  # object storage or a local folder: never fetched over http
    if base is None:
        return None
    try:
        path = base / MANIFEST
        if not path.is_file() or int(path.stat().st_size) > MAX_MANIFEST_BYTES:
            return None
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except Exception as exc:  # the tab shows the renders without their review state
        log.warning("No campaign manifest read from %s: %s", inert(folder, 200), type(exc).__name__)
        return None


def _status(clip: Clip) -> str:
    status = clip.status if isinstance(clip.status, ClipStatus) else ClipStatus(clip.status)
    return status.value.replace("_", " ")


def with_review_state(renders: list[Render], rows: Iterable[XComRow]) -> list[Render]:
    """``renders`` with each campaign clip's review status and fate filled in (matched by generation id)."""
    folders = {row.value for row in rows if row.key == "folder" and isinstance(row.value, str)}
    clips: dict[str, Clip] = {}
    for folder in sorted(folders):
        manifest = manifest_of(folder)
        for clip in manifest.videos if manifest else ():
            if clip.generation_id:
                clips[clip.generation_id] = clip
    for render in renders:
        found = clips.get(render.generation_id or "")
        if found is not None:
            render.review = _status(found)
            render.fate = found.fate or (found.status.fate if isinstance(found.status, ClipStatus) else None)
            render.review_task_id = found.slot
    return renders


def campaign_names(rows: Iterable[XComRow]) -> dict[tuple[str, str], str]:
    """(dag_id, run_id) -> the campaign's task group, for runs whose plan task kept a folder."""
    return {
        (row.dag_id, row.run_id): f"{row.dag_id}: {row.task_id.rpartition('.')[0] or 'campaign'}"
        for row in rows
        if row.key == "folder" and isinstance(row.value, str)
    }
