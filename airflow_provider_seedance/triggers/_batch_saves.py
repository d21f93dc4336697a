"""A batch trigger's saves (``save_in_triggerer``): each item's video saved as soon as its render succeeds, the
outcome kept in the ledger (XCom shards, written by one writer whenever something changed); a trigger run again
elsewhere reads the ledger and keeps every video already saved and still there, saving only the rest.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from airflow_provider_seedance.contract.batch_saves import (
    SAVE_PLAN_XCOM_KEY,
    SAVES_XCOM_KEY,
    SaveIndex,
    SaveLedger,
    SavePlan,
    TriggerSave,
    plan_digest,
    saves_key,
)
from airflow_provider_seedance.exceptions import SeedanceError, failure_reason
from airflow_provider_seedance.hooks.seedance import SeedanceHook, transfer_deadline
from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.runtime import _metrics as metrics
from airflow_provider_seedance.runtime._xcom import TaskInstanceKey, aget_xcom, aset_xcom
from airflow_provider_seedance.runtime.storage import has_file_of_size

#: Seconds between two ledger writes while saves go on (the last one is written before the event).
WRITE_EVERY = 1.0


class SavePlanError(Exception):
    """The save plan cannot be used: the trigger only polls, and the worker saves every video."""


class TriggerSaver:
    """Saves for one trigger run: ``load`` the plan and the ledger, ``kept`` for what an earlier run saved,
    ``save`` per succeeded render, ``close`` to write what is left before the event."""

    def __init__(
        self,
        ti_key: TaskInstanceKey,
        *,
        deadline: float,
        concurrency: int,
        replace: bool = False,
        max_download_mb: float | None = None,
        download_timeout: float | None = None,
        plan_sha256: str | None = None,
        log: Any = None,
    ) -> None:
        self.ti_key, self.deadline = ti_key, deadline
        self.replace, self.max_download_mb, self.download_timeout = replace, max_download_mb, download_timeout
        self.plan_sha256 = plan_sha256
        self.log = log
        self.plan = SavePlan()
        self.index = SaveIndex()
        self.ledger = SaveLedger()
        self.saved = 0
        self._gate = asyncio.Semaphore(max(1, concurrency))
        self._changed = asyncio.Event()
        self._writer: asyncio.Future[None] | None = None
        self._writing = asyncio.Lock()

    async def load(self) -> None:
        """The worker's plan and what earlier runs of this trigger wrote (nothing on a first run); raise
        ``SavePlanError`` when the plan is missing or invalid (then nothing is saved here)."""
        plan = await aget_xcom(SAVE_PLAN_XCOM_KEY, self.ti_key)
        if not isinstance(plan, dict):  # never "save nothing": the caller disables the saves, the worker saves
            raise SavePlanError(f"the save plan is {'missing' if plan is None else 'not a mapping'}")
        try:
            self.plan = SavePlan.model_validate(plan)
        except ValueError as exc:
            raise SavePlanError("the save plan is invalid") from exc
        if self.plan_sha256 is None or plan_digest(plan) != self.plan_sha256:  # edited in XCom since the worker
            raise SavePlanError("the save plan's digest is not the one the worker wrote")
        self.index = SaveIndex.read(await aget_xcom(SAVES_XCOM_KEY, self.ti_key))
        self.ledger = SaveLedger.from_shards([await aget_xcom(saves_key(n), self.ti_key) for n in self.index.shards])
        self._writer = asyncio.ensure_future(self._write_loop())

    async def kept(self, index: int, generation_id: str) -> bool:
        """Whether an earlier run saved this item's generation and its file is still there, of that size (then
        it is not polled nor saved again); a link kept without an output path counts too. An entry for another
        generation (a stale one, of another try) does not count."""
        save = self.ledger.get(index)
        if save is None or save.status != "succeeded" or save.generation_id != generation_id:
            return False
        if save.output_path is None:
            return True
        return await asyncio.to_thread(has_file_of_size, save.output_path, save.size_bytes)

    async def save(self, index: int, hook: SeedanceHook, generation: Generation) -> None:
        """The succeeded render saved where the plan says (its link kept where the plan names no path)."""
        async with self._gate:
            save = await self._save(hook, generation, self.plan.paths.get(str(index)))
        self.ledger.put(index, save)
        self.saved += save.status == "succeeded"
        self._changed.set()

    async def _save(self, hook: SeedanceHook, generation: Generation, path: str | None) -> TriggerSave:
        facts: dict[str, Any] = {
            "generation_id": generation.id,
            "credits": generation.credits,
            "video_url": generation.video_url,
        }
        if not generation.video_url:
            return TriggerSave(status="error", reason="no video", retryable=True, **facts)
        if path is None:
            return TriggerSave(status="succeeded", **facts)
        try:
            saved = await hook.adownload_video(
                generation.video_url,
                path,
                generation_id=generation.id,
                replace=self.replace,
                max_download_mb=self.max_download_mb,
                deadline=transfer_deadline(time.time(), self.deadline, self.download_timeout),
                offload_writes=True,
            )
        except SeedanceError as exc:
            return TriggerSave(status="error", reason=failure_reason(exc), retryable=exc.retryable, **facts)
        if saved.rewritten:
            metrics.saved(generation.backend, generation.model, saved.size_bytes)
        return TriggerSave(
            status="succeeded", output_path=saved.path, size_bytes=saved.size_bytes, sha256=saved.sha256, **facts
        )

    async def _write_loop(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            async with self._writing:
                try:
                    await self._write()
                except Exception as exc:  # written again with the next change, or at close
                    self.ledger.touch_all()
                    self.log.warning("Writing the batch's saves to XCom failed (%s); trying again", type(exc).__name__)
            await asyncio.sleep(WRITE_EVERY)

    async def _write(self) -> None:
        writes = self.ledger.pending_writes()
        for key, value in writes:
            await aset_xcom(key, value, self.ti_key)
        new = {int(key.rpartition(".")[2]) for key, _ in writes} - set(self.index.shards)
        if new:  # listed once written, so that a reader never asks for a shard that is not there
            index = SaveIndex(shards=sorted({*self.index.shards, *new}))
            await aset_xcom(SAVES_XCOM_KEY, index.model_dump(mode="json"), self.ti_key)
            self.index = index  # only once written: a failed write lists the new shards again next time

    async def close(self) -> None:
        """Stop the writer (never mid-write) and write every shard changed since its last write: the worker
        reads them next. A failed write is logged, not raised: the worker saves what the ledger lacks."""
        async with self._writing:
            if self._writer is not None:
                self._writer.cancel()
                await asyncio.gather(self._writer, return_exceptions=True)
            try:
                await self._write()
            except Exception as exc:
                self.log.warning(
                    "Could not write the batch's saves to XCom (%s): the worker saves the videos it finds no "
                    "record of (identical files are kept as they are)",
                    type(exc).__name__,
                )
