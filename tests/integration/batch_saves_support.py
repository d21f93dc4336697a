"""The killed trigger of ``tests/dags/seedance_batch_saves.py``, importable by its path (a trigger is rebuilt
from its classpath): a batch trigger whose first run dies after a few saves, then runs again."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from airflow.triggers.base import TriggerEvent

from airflow_provider_seedance.contract.batch_saves import saves_key
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.runtime._xcom import aget_xcom
from airflow_provider_seedance.triggers._batch_saves import TriggerSaver
from airflow_provider_seedance.triggers.batch import SeedanceBatchTrigger

OUTPUT = os.environ.get("SEEDANCE_TEST_OUTPUT", "/tmp/seedance-test-output")
#: The killed trigger's first run records this many saves before it dies (and saves one more file unrecorded).
RECORDED_BEFORE_KILL = 2


def emulator_stats_url() -> str:
    """The emulator's control API, at the connection's host."""
    return json.loads(os.environ["AIRFLOW_CONN_SEEDANCE_EVOLINK"])["host"] + "/_emulator/stats"


def emulator_downloads() -> int:
    return int(httpx.get(emulator_stats_url(), timeout=10).json()["downloads"])


async def aemulator_downloads() -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        return int((await client.get(emulator_stats_url())).json()["downloads"])


class DyingSaver(TriggerSaver):
    """Records ``RECORDED_BEFORE_KILL`` saves in XCom, then saves one more file and dies before recording it (as
    a triggerer killed right after a rename): from then on nothing is written, nothing more is saved."""

    dead = False

    async def save(self, index: int, hook: SeedanceHook, generation: Generation) -> None:
        self.calls = getattr(self, "calls", 0) + 1  # counted on entry: the saves of one run overlap
        if self.dead or self.calls > RECORDED_BEFORE_KILL + 1:
            await asyncio.Event().wait()  # the process is gone: this never ends (the run is cancelled)
        if self.calls <= RECORDED_BEFORE_KILL:
            await super().save(index, hook, generation)
            return
        while self.saved < RECORDED_BEFORE_KILL:  # the kill comes after the recorded saves
            await asyncio.sleep(0.01)
        await self._save(hook, generation, self.plan.paths.get(str(index)))  # on disk, never in the ledger
        await self._write()  # what the writer had written by the time of the kill
        self.dead, self.unrecorded = True, index

    async def _write(self) -> None:
        if not self.dead:
            await super()._write()


class KilledOnceTrigger(SeedanceBatchTrigger):
    """Its first run dies mid-way (``DyingSaver``); the trigger is then run again, with the same kwargs, as
    another triggerer would run it. Between the two, a stray ``.part`` file is left for an item not yet saved (a
    transfer the kill cut off) and the facts the test checks are written to ``probe.json`` beside the videos."""

    async def _saver(self) -> TriggerSaver | None:
        saver = await super()._saver()
        if saver is not None:
            saver.__class__ = DyingSaver
            self.dying = saver
        return saver

    async def run(self) -> AsyncIterator[TriggerEvent]:
        first = asyncio.ensure_future(self.watch_all())
        while not getattr(getattr(self, "dying", None), "dead", False):
            await asyncio.sleep(0.05)
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        folder = Path(OUTPUT) / "batch" / "killed"
        recorded = await aget_xcom(saves_key(0), self.save_to)  # type: ignore[arg-type]
        unrecorded = folder / f"{self.dying.unrecorded}.mp4"
        unsaved = next(n for n in range(len(self.generation_ids)) if not (folder / f"{n}.mp4").exists())
        (folder / f".{unsaved}.mp4.0.part").write_bytes(b"half a video")  # as a killed first save leaves it
        probe = {"downloads": await aemulator_downloads(), "recorded": sorted((recorded or {}).get("items", {}))}
        probe |= {"unrecorded": self.dying.unrecorded, "unrecorded_inode": unrecorded.stat().st_ino}
        (folder / "probe.json").write_text(json.dumps(probe))
        again = SeedanceBatchTrigger(**self.serialize()[1])
        yield TriggerEvent((await again.watch_all()).model_dump(mode="json"))
