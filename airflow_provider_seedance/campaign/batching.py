"""A campaign step's takes as one batch (``Render(batch=True)``): the batch's items, output path and connection
from the takes, and each take's outcome from the batch's per-item results, in the shape the mapped renders give
(a result, or the reason a spend check skipped it). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_seedance.campaign.options import CampaignOptionError
from airflow_provider_seedance.campaign.takes import Take

#: The batch operator's longest item name (``operators._batch_items.NAME_PATTERN``): a take's name is its item's.
MAX_ITEM_NAME = 120
#: What a take's name may grow by in a run: a variant, a re-render round, a final (``-t4-r5-final``).
MAX_TAKE_NAME = MAX_ITEM_NAME - len("-t4-r5-final")
#: A take's outcome: its render's result (None: no video) and the reason a spend check skipped it.
Outcome = tuple[dict[str, Any] | None, str | None]


@dataclass(frozen=True)
class Batch:
    """What one batch task renders: an item per take (named by the take), saved at the take's path."""

    requests: list[dict[str, Any]]
    output_path: str
    seedance_conn_id: str


def check_names(takes: Sequence[Take]) -> None:
    """A ``CampaignOptionError`` for a take whose name cannot be a batch item's, in every step of a run."""
    for index, take in enumerate(takes):
        if len(take.name) > MAX_TAKE_NAME:
            raise CampaignOptionError(
                f"takes[{index}].name is {len(take.name)} characters: with render.batch a take's name is at most "
                f"{MAX_TAKE_NAME} (a batch item's name is at most {MAX_ITEM_NAME}, with room for -t4-r5-final)"
            )


def batch_of(takes: Sequence[Take]) -> Batch:
    """The batch of a step's takes. Every take of a run has its file at ``<folder>/videos/<name>.mp4`` and the
    run's connection, so one ``{name}`` template and one connection serve them all."""
    first = takes[0]
    folder = first.output_path.removesuffix(first.file)
    template = folder.replace("{", "{{").replace("}", "}}") + "videos/{name}.mp4"
    for take in takes:
        if template.format(name=take.name) != take.output_path or take.seedance_conn_id != first.seedance_conn_id:
            raise ValueError(f"take {take.name!r} is not in the run's folder or on its connection: not one batch")
    return Batch(
        requests=[{"name": take.name, **take.request} for take in takes],
        output_path=template,
        seedance_conn_id=first.seedance_conn_id,
    )


def outcomes(takes: Sequence[Take], results: Sequence[Any] | None, backend: str) -> list[Outcome]:
    """Each take's outcome from its item's result (matched by item index, checked by name): a video is a result
    the clip keeps (``fates.RESULT_FIELDS``); a spend check's skip is its reason; any other end, or no result
    (the batch task never returned), is no video: the take's render failed, as a mapped render's would."""
    by_index = {r.get("item_index"): r for r in results or () if isinstance(r, Mapping)}
    found: list[Outcome] = []
    for index, take in enumerate(takes):
        item = by_index.get(index)
        if item is None or item.get("name") != take.name:
            found.append((None, None))
        elif item.get("status") == "succeeded":
            found.append((_result(item, backend), None))
        elif item.get("status") == "skipped":
            found.append((None, str(item.get("reason") or "skipped")))
        else:
            found.append((None, None))
    return found


def _result(item: Mapping[str, Any], backend: str) -> dict[str, Any]:
    keep = ("generation_id", "credits", "size_bytes", "output_path")
    return {**{key: item.get(key) for key in keep}, "backend": backend}
