"""A batch's succeeded videos saved concurrently with bounded memory: at most ``concurrency`` transfers at once,
each streamed a chunk at a time through ``adownload_video`` of the hook of the connection that rendered it
(atomic, verified, size-bounded).
"""

from __future__ import annotations

import asyncio
from typing import Any

from airflow_provider_seedance.contract.batch import BatchItemResult
from airflow_provider_seedance.exceptions import SeedanceError, failure_reason
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.operators._batch_items import BatchItem
from airflow_provider_seedance.operators._batch_routes import BatchConnections
from airflow_provider_seedance.runtime import _metrics as metrics


async def save_all(
    connections: BatchConnections,
    succeeded: list[tuple[BatchItem, str, int]],
    *,
    concurrency: int,
    replace: bool,
    max_download_mb: float | None,
    deadline: float,
) -> list[BatchItemResult]:
    """Each ``(item, generation_id, conn_index)`` looked up once more on its connection (for its link and
    credits) and saved; a result each."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(item: BatchItem, generation_id: str, conn_index: int) -> BatchItemResult:
        facts = {"item_index": item.index, "name": item.name, "generation_id": generation_id}
        facts.update(connections.facts(conn_index))
        hook, model = connections.hooks[conn_index], item.model_on(conn_index)
        async with gate:
            return await _save_one(hook, item, model, facts, replace, max_download_mb, deadline)

    return list(await asyncio.gather(*(one(item, gid, conn) for item, gid, conn in succeeded)))


async def _save_one(
    hook: SeedanceHook,
    item: BatchItem,
    model: str | None,
    facts: dict[str, Any],
    replace: bool,
    max_download_mb: float | None,
    deadline: float,
) -> BatchItemResult:
    generation_id = facts["generation_id"]
    try:
        generation = await hook.aget_generation(generation_id, model=model)
        if generation.state != "succeeded" or not generation.video_url:
            return BatchItemResult(**facts, status="error", reason="no video", retryable=True)
        facts.update(credits=generation.credits, video_url=generation.video_url)
        if item.output_path is None:
            return BatchItemResult(**facts, status="succeeded")
        saved = await hook.adownload_video(
            generation.video_url,
            item.output_path,
            generation_id=generation_id,
            replace=replace,
            max_download_mb=max_download_mb,
            deadline=deadline,
        )
    except SeedanceError as exc:
        return BatchItemResult(**facts, status="error", reason=failure_reason(exc), retryable=exc.retryable)
    if saved.rewritten:
        metrics.saved(generation.backend, generation.model, saved.size_bytes)
    return BatchItemResult(**facts, status="succeeded", output_path=saved.path, size_bytes=saved.size_bytes)
