"""Credit budgets: what a set of renders will likely cost, learned from what earlier renders really cost.

Pure (no I/O, no Airflow): feed it the results of earlier renders (``VideoResult`` dumps, or any dicts with
``model``, ``duration``, ``credits`` and optionally ``quality``) and the renders you plan; it answers with an
``Estimate`` that says how each figure was reached, and ``BudgetGate`` admits renders one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from statistics import median
from typing import Any

SpecKey = tuple[str, int, str | None]


def spec_key(render: Mapping[str, Any]) -> SpecKey:
    """(model, duration, quality): renders with the same key cost about the same. A draft render (``draft``
    true: a cheap 480p draft) is its own quality, ``"draft"``."""
    quality = "draft" if render.get("draft") else render.get("quality")
    return (str(render.get("model") or ""), int(render.get("duration") or 0), str(quality) if quality else None)


@dataclass(frozen=True)
class ClipEstimate:
    """One planned render: its likely cost and where that figure comes from."""

    key: SpecKey
    credits: float | None
    source: str  # "history" | "rate" | "unknown"
    samples: int = 0


@dataclass(frozen=True)
class Estimate:
    """The planned renders' likely total, and a sentence saying how it was reached."""

    clips: list[ClipEstimate] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(c.credits or 0.0 for c in self.clips), 3)

    @property
    def unknown(self) -> int:
        """Renders with no history and no rate: the total leaves them out."""
        return sum(1 for c in self.clips if c.credits is None)

    def explain(self) -> str:
        groups: dict[tuple[SpecKey, str], list[ClipEstimate]] = {}
        for clip in self.clips:
            groups.setdefault((clip.key, clip.source), []).append(clip)
        parts = []
        for (key, source), clips in groups.items():
            model, duration, quality = key
            spec = f"{len(clips)} x {model} {duration} s {quality or 'default quality'}"
            each = clips[0].credits
            if source == "history":
                parts.append(f"{spec} at {each:g} credits each (median of {clips[0].samples} earlier renders)")
            elif source == "rate":
                parts.append(f"{spec} at {each:g} credits each (the given per-second rate x {duration} s)")
            else:
                parts.append(f"{spec}: no earlier render and no per-second rate, counted as 0")
        return "; ".join(parts) or "nothing planned"


def history_by_spec(results: Iterable[Mapping[str, Any] | None]) -> dict[SpecKey, list[float]]:
    """Credits actually charged, grouped by spec; results without credits (failed, unknown) are left out."""
    found: dict[SpecKey, list[float]] = {}
    for result in results:
        if not result or result.get("credits") is None or result.get("status", "succeeded") != "succeeded":
            continue
        found.setdefault(spec_key(result), []).append(float(result["credits"]))
    return found


def _lookup(history: Mapping[SpecKey, list[float]], key: SpecKey) -> list[float]:
    """Same model, duration and quality; a result that did not record its quality matches any quality."""
    exact = history.get(key, [])
    loose = history.get((key[0], key[1], None), []) if key[2] is not None else []
    return [*exact, *loose]


def estimate_cost(
    planned: Iterable[Mapping[str, Any]],
    history: Iterable[Mapping[str, Any] | None] = (),
    credits_per_second: float | None = None,
) -> Estimate:
    """Estimate each planned render (``model``, ``duration``, ``quality``): the median of what renders of the
    same spec cost before, else ``credits_per_second`` x duration, else unknown (counted as 0, and said so)."""
    past = history_by_spec(history)
    clips = []
    for render in planned:
        key = spec_key(render)
        samples = _lookup(past, key)
        if samples:
            clips.append(ClipEstimate(key, round(median(samples), 3), "history", len(samples)))
        elif credits_per_second is not None:
            clips.append(ClipEstimate(key, round(credits_per_second * key[1], 3), "rate"))
        else:
            clips.append(ClipEstimate(key, None, "unknown"))
    return Estimate(clips)


def refusal(estimate: Estimate, max_credits: float | None) -> str | None:
    """The message that refuses a run whose estimate passes the budget, or that has a budget but renders with
    no known price (a budget that counts them as 0 protects nothing); None when it fits (or no budget)."""
    if max_credits is None:
        return None
    if estimate.unknown:
        return (
            f"a budget of {max_credits:g} credits (max_credits) is set, but {estimate.unknown} of "
            f"{len(estimate.clips)} renders have no known price: no earlier render of their model, duration and "
            "quality, and no credits_per_second. Give credits_per_second (the vendor's price per second of "
            "video), or run once without max_credits so that later runs learn the prices; nothing was "
            f"submitted. How it was estimated: {estimate.explain()}"
        )
    if estimate.total <= max_credits:
        return None
    return (
        f"estimated {estimate.total:g} credits for {len(estimate.clips)} renders exceeds the budget of "
        f"{max_credits:g} credits (max_credits); nothing was submitted. How it was estimated: {estimate.explain()}"
    )


def spend_refusal(max_credits: float | None, spent: float, still_planned: float) -> str | None:
    """Why a render is not submitted during a run: what was spent plus what is still planned (this render
    included) would pass the budget. None when it fits, or with no budget."""
    if BudgetGate(max_credits, spent).admit([still_planned]) == [True]:
        return None
    return (
        f"skipped for budget: {spent:g} credits spent and {still_planned:g} still planned would pass the budget "
        f"of {max_credits:g} credits (max_credits); nothing was submitted"
    )


@dataclass
class BudgetGate:
    """Admits renders while what was spent plus what is still planned stays within the budget."""

    max_credits: float | None
    spent: float = 0.0

    def admit(self, planned: list[float | None]) -> list[bool]:
        """For each planned render's estimate, in order: submit it (True) or skip it for budget (False)."""
        if self.max_credits is None:
            return [True] * len(planned)
        committed = self.spent
        verdicts = []
        for cost in planned:
            fits = committed + (cost or 0.0) <= self.max_credits + 1e-9
            verdicts.append(fits)
            if fits:
                committed += cost or 0.0
        return verdicts


def mapped_results(ti: Any, task_id: str, key: str = "return_value") -> list[Any]:
    """What every finished instance of the (mapped) task ``task_id`` pushed under ``key`` in this run, as a
    list, in one read: for a ``spend_check`` or any task that counts a run's renders. Use it instead of
    ``ti.xcom_pull(task_ids=...)``, which answers a lone value when one mapped instance has pushed and a list
    when several have, and instead of iterating a mapped task's ``.output``, which logs "XCom not found" past
    the instances that finished. ``ti`` is the task instance of the context (``context["ti"]``)."""
    pulled = ti.xcom_pull(task_ids=task_id, key=key)
    if pulled is None:
        return []
    values = list(pulled) if isinstance(pulled, list) else [pulled]
    return [value for value in values if value is not None]


@dataclass(frozen=True)
class RunSpend:
    """What the finished renders of a run cost so far (``run_spend``)."""

    credits: float
    renders: int
    unpriced: int = 0

    def explain(self) -> str:
        unpriced = f", {self.unpriced} of them without a reported price" if self.unpriced else ""
        return f"{self.credits:g} credits spent by {self.renders} finished render(s){unpriced}"


def run_spend(ti: Any, *task_ids: str) -> RunSpend:
    """The credits the finished renders of ``task_ids`` (``SeedanceGenerateVideoOperator`` tasks, mapped or
    not) reported in this run, whatever number of their instances has finished (``mapped_results``)."""
    results = [r for task_id in task_ids for r in mapped_results(ti, task_id) if isinstance(r, Mapping)]
    priced = [float(r["credits"]) for r in results if r.get("credits") is not None]
    return RunSpend(credits=round(sum(priced), 6), renders=len(results), unpriced=len(results) - len(priced))
