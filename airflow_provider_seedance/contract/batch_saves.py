"""A batch's saves in the triggerer (``save_in_triggerer``) as typed boundaries: the save plan the worker leaves in
XCom before deferring (item index -> output path), and the ledger the trigger writes there as each item is saved
(item index -> its outcome), in shards, so the kwargs and the event carry only ids and counts.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from airflow_provider_seedance.contract.batch import SHARD_SIZE

#: The XCom key of the save plan: ``{"paths": {item index: output path}}``, for the items the trigger waits for.
SAVE_PLAN_XCOM_KEY = "seedance_batch_save_plan"
#: The XCom key of the ledger's index (``{"shards": [...]}``: the shards written so far, so nothing reads a missing
#: key) and the prefix of its shards' keys: ``seedance_batch_saves.0``, ... (item ``i`` in shard ``i // SHARD_SIZE``).
SAVES_XCOM_KEY = "seedance_batch_saves"


class SavePlan(BaseModel):
    """Where the trigger saves each item it waits for (an item absent: no ``output_path``, the link is kept)."""

    model_config = ConfigDict(extra="ignore")

    version: Literal[1] = 1
    paths: dict[str, str] = {}


class SaveIndex(BaseModel):
    """Which ledger shards exist: the worker writes it empty before deferring, the trigger adds each new shard."""

    model_config = ConfigDict(extra="ignore")

    version: Literal[1] = 1
    shards: list[int] = []

    @classmethod
    def read(cls, raw: Any) -> SaveIndex:
        try:
            return cls.model_validate(raw) if isinstance(raw, dict) else cls()
        except ValueError:
            return cls()


class TriggerSave(BaseModel):
    """One item's save by the trigger: ``succeeded`` (saved and verified, or its link kept without an output path)
    or ``error`` (the save failed; ``reason`` in a few words, scrubbed of the key)."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["succeeded", "error"]
    #: The generation saved: an entry for another generation of the item (another try's) is stale, ignored.
    generation_id: str | None = None
    reason: str | None = None
    retryable: bool = False
    credits: float | None = None
    video_url: str | None = None
    output_path: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None


class SaveLedger(BaseModel):
    """Every item the trigger has saved, by item index (as text), kept in shards of ``SHARD_SIZE``; ``put`` marks
    the item's shard, ``pending_writes`` takes the shards changed since the last call."""

    model_config = ConfigDict(extra="ignore")

    version: Literal[1] = 1
    items: dict[str, TriggerSave] = {}
    _dirty: set[int] = PrivateAttr(default_factory=set)

    @classmethod
    def from_shards(cls, shards: list[Any]) -> SaveLedger:
        """The ledger from its shards as read (None or an unreadable shard, or one of another version: empty)."""
        ledger = cls()
        for raw in shards:
            try:
                part = cls.model_validate(raw) if isinstance(raw, dict) else None
            except ValueError:
                part = None
            if part is not None:
                ledger.items.update(part.items)
        return ledger

    def put(self, index: int, save: TriggerSave) -> None:
        self.items[str(index)] = save
        self._dirty.add(index // SHARD_SIZE)

    def touch_all(self) -> None:
        """Every shard holding an item marked changed (a write that failed is made again)."""
        self._dirty.update(int(slot) // SHARD_SIZE for slot in self.items)

    def get(self, index: int) -> TriggerSave | None:
        return self.items.get(str(index))

    def pending_writes(self) -> list[tuple[str, dict[str, Any]]]:
        """The changed shards as ``(key, value)``, taken now (the ledger may change while they are written)."""
        dirty, self._dirty = sorted(self._dirty), set()
        return [(saves_key(shard), self._shard(shard)) for shard in dirty]

    def _shard(self, shard: int) -> dict[str, Any]:
        slots = (str(index) for index in range(shard * SHARD_SIZE, (shard + 1) * SHARD_SIZE))
        items = {slot: self.items[slot].model_dump(mode="json") for slot in slots if slot in self.items}
        return {"version": self.version, "items": items}


def saves_key(shard: int) -> str:
    """The XCom key of a ledger shard."""
    return f"{SAVES_XCOM_KEY}.{shard}"


def plan_digest(plan: dict[str, Any]) -> str:
    """The sha256 of a save plan's canonical JSON (sorted keys, no spaces), as pushed to XCom: the trigger's
    kwargs carry it, so a plan edited in XCom since the worker wrote it is refused."""
    canonical = json.dumps(plan, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
