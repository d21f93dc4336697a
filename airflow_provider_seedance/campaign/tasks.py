"""What each task of a ``SeedanceCampaign`` does: plan, gallery, decide, collect, finals, release. Each reads
the run's manifest (``manifest.json`` in the run's folder), moves its clips through ``campaign.fates`` and writes
it back with the gallery page; the renders' results are read from mapped renders or a batch task alike.

``ids`` is the group's ``CampaignIds``: the full task ids of its tasks, to read their XComs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from airflow_provider_seedance.campaign import fates
from airflow_provider_seedance.campaign.batching import Outcome, check_names, outcomes
from airflow_provider_seedance.campaign.manifest import Manifest, RunBudget
from airflow_provider_seedance.campaign.options import Budget, Output, Render, Review, TakeOptions, checked
from airflow_provider_seedance.campaign.store import (
    earlier_clips,
    output_root,
    read_manifest,
    save_poster,
    write_manifest,
    write_page,
)
from airflow_provider_seedance.campaign.takes import Take, expand, fit_to_model, parse_takes, planned_spend, slug
from airflow_provider_seedance.contract.budget import estimate_cost, refusal
from airflow_provider_seedance.contract.review import Decision
from airflow_provider_seedance.operators.batch import RESULTS_XCOM_KEY
from airflow_provider_seedance.operators.seedance import SKIPPED_XCOM_KEY
from airflow_provider_seedance.runtime._compat import AirflowFailException, AirflowSkipException

log = logging.getLogger(__name__)

#: The plan's XCom keys: the run (a manifest without clips), its folder, and the message that refused it.
RUN, FOLDER, REFUSED = "run", "folder", "refused"


class CampaignRefused(Exception):
    """The plan refused the whole run (its estimate passes the budget); nothing was submitted."""


@dataclass(frozen=True)
class CampaignIds:
    """The full task ids of a campaign group's tasks (``group.child_id(...)``)."""

    prefix: str = ""

    def of(self, task: str) -> str:
        return f"{self.prefix}{task}"

    @property
    def plan(self) -> str:
        return self.of("plan")


def _pull(ti: Any, task_id: str, index: int | None = None, key: str = "return_value") -> Any:
    if index is None:
        return ti.xcom_pull(task_ids=task_id, key=key, map_indexes=-1)
    return ti.xcom_pull(task_ids=task_id, key=key, map_indexes=index)


def _takes(values: Any) -> list[Take]:
    return [Take.model_validate(v) for v in (values or [])]


def plan(
    takes: Any, name: str, title: str, options: dict[str, Any], prefix: str, **context: Any
) -> list[dict[str, Any]]:
    """The takes -> the run's renders (each checked against its model), the run's estimate against the
    budget (refused whole, before anything is submitted), the run's folder."""
    from airflow_provider_seedance.hooks.seedance import SeedanceHook

    ti = context["ti"]
    output, budget, review, render, take_options = (
        checked(kind, options[key], key, rendered=True)
        for kind, key in (
            (Output, "output"),
            (Budget, "budget"),
            (Review, "review"),
            (Render, "render"),
            (TakeOptions, "takes"),
        )
    )
    dialect = SeedanceHook(render.seedance_conn_id).backend
    root = output_root(output.root)
    stamp = context["dag_run"].run_after.strftime("%Y%m%dT%H%M%S")
    folder = root / output.prefix / slug(name) / stamp
    parsed = parse_takes(takes)
    if render.batch:
        check_names(parsed)
    renders = _renders_of(parsed, dialect, take_options, str(folder), render.seedance_conn_id)
    history = earlier_clips(str(root), output.prefix)
    estimate = estimate_cost(planned_spend(renders), history, budget.credits_per_second)
    message = refusal(estimate, budget.max_credits)
    if message:
        ti.xcom_push(key=REFUSED, value=message)  # release fails the run with it
        raise CampaignRefused(message)
    run = _run(name, title, dialect.name, str(folder), str(root), output, render, budget, review, estimate, renders)
    run.max_rerenders = min(review.allowed_rerenders, int(options["rounds"]))
    ti.xcom_push(key=RUN, value=run.model_dump(mode="json"))
    ti.xcom_push(key=FOLDER, value=str(folder))
    log.info("Planned %d renders with %s on %s into %s", len(renders), run.model, dialect.name, folder)
    log.info("Estimated %s credits (budget %s): %s", estimate.total, budget.max_credits, estimate.explain())
    clips = estimate.clips[: len(renders)]  # then, with drafts, the finals
    return [
        t.model_copy(update={"estimate": c.credits}).model_dump(mode="json")
        for t, c in zip(renders, clips, strict=True)
    ]


def _run(
    name: str,
    title: str,
    backend: str,
    folder: str,
    root: str,
    output: Any,
    render: Any,
    budget: Any,
    review: Any,
    estimate: Any,
    renders: list[Take],
) -> Manifest:
    """The run's manifest before any clip: where it writes, what it may spend, how it reviews."""
    return Manifest(
        campaign=name,
        brand=title,
        backend=backend,
        model=", ".join(sorted({str(t.request["model"]) for t in renders})),
        folder=folder,
        root=root,
        prefix=output.prefix,
        seedance_conn_id=render.seedance_conn_id,
        budget=RunBudget(**budget.model_dump(), estimate=estimate.total, estimated_how=estimate.explain()),
        review_hours=float(review.hours),
        drafts=any(t.request.get("draft") for t in renders),
        batch=render.batch,
    )


def _renders_of(takes: list[Take], dialect: Any, options: TakeOptions, folder: str, conn_id: str) -> list[Take]:
    """Each take fitted to its model (on the connection's backend) and expanded into its renders, each
    request checked against the model's limits (warnings logged)."""
    from airflow_provider_seedance.contract.limits import limits_for, validate_request
    from airflow_provider_seedance.models import VideoRequest

    renders = []
    for take in takes:
        limits = limits_for(dialect.name, str(take.request["model"]))
        take = fit_to_model(take, limits.fields if limits else None)
        renders += expand(
            [take],
            variants=int(options.variants),
            drafts=bool(options.drafts and limits is not None and limits.drafts),
            takes_seed=limits is None or "seed" in limits.fields,
            folder=folder,
            seedance_conn_id=conn_id,
        )
    for render in renders:
        for warning in validate_request(dialect, VideoRequest.model_validate(render.request)):
            log.warning("%s", warning)
    return renders


def _manifest_or_skip(ti: Any, ids: CampaignIds) -> Manifest:
    """This run's manifest; a skip when the run never got that far."""
    folder = _pull(ti, ids.plan, key=FOLDER)
    if not folder:
        raise AirflowSkipException("nothing was rendered in this run")
    try:
        return read_manifest(folder)
    except FileNotFoundError:
        raise AirflowSkipException(f"no manifest in {folder}: nothing was rendered") from None


def _outcomes(ti: Any, task_id: str, takes: list[Take], manifest: Manifest) -> list[Outcome]:
    """Each take's render result (None: no video) and the reason a spend check skipped it, from the step's
    mapped renders (one per take, by map index) or, with ``Render(batch=True)``, its one batch task (one result
    per take, kept in ``seedance_batch_results`` when the task failed)."""
    if manifest.batch:
        results = _pull(ti, task_id) or _pull(ti, task_id, key=RESULTS_XCOM_KEY)
        return outcomes(takes, results, manifest.backend)
    found: list[Outcome] = []
    for index in range(len(takes)):
        result = _pull(ti, task_id, index)
        found.append((result, None if result else _pull(ti, task_id, index, key=SKIPPED_XCOM_KEY)))
    return found


def _rendered_clip(manifest: Manifest, take: Take, result: Any, skipped: str | None = None) -> Any:
    poster = save_poster(manifest.folder, take.file) if result else None
    return fates.clip_from_result(take, result, skipped=skipped, poster=poster, folder=manifest.folder)


def _queue(manifest: Manifest, round_number: int) -> list[dict[str, Any]]:
    """The review tasks' arguments: one per slot with takes in review."""
    gallery = f"{manifest.folder.rstrip('/')}/{manifest.gallery}"
    timeout = timedelta(hours=manifest.review_hours)  # read when the review task runs: the run's own
    return [
        {
            "slot": slot,
            "clips": [c.model_dump(mode="json") for c in clips],
            "gallery": gallery,
            "response_timeout": timeout,
        }
        for slot, clips in fates.review_queue(manifest, round_number)
    ]


def gallery(prefix: str, **context: Any) -> list[dict[str, Any]]:
    """Posters, the gallery page and the manifest next to the videos (a failed or skipped render is listed as
    such); the first round's review queue."""
    ti, ids = context["ti"], CampaignIds(prefix)
    run = _pull(ti, ids.plan, key=RUN)
    if not run:
        raise AirflowSkipException("nothing was planned")
    manifest = Manifest.model_validate(run)
    manifest.dag_id, manifest.run_id = context["dag"].dag_id, context["run_id"]
    takes = _takes(_pull(ti, ids.plan))
    for take, (result, skipped) in zip(takes, _outcomes(ti, ids.of("render"), takes, manifest), strict=True):
        manifest.put(_rendered_clip(manifest, take, result, skipped))
    queue = _queue(manifest, 0)
    write_manifest(manifest)
    log.info("Gallery with %d videos: %s/%s", len(manifest.videos), manifest.folder, manifest.gallery)
    return queue


def decide(round_number: int, prefix: str, **context: Any) -> list[dict[str, Any]]:
    """The round's decisions onto the manifest; the re-renders that were asked and fit the budget."""
    ti, ids = context["ti"], CampaignIds(prefix)
    manifest = _manifest_or_skip(ti, ids)
    slots = manifest.rounds.get(str(round_number), [])
    decisions = []
    for index, slot in enumerate(slots):
        answer = _pull(ti, ids.of(f"review_{round_number}"), index)
        decisions.append(Decision.model_validate(answer) if answer else Decision(kind="no_answer", slot=slot))
    again = fates.apply_decisions(manifest, round_number, decisions)
    admitted = fates.admit(manifest, again, earlier_clips(manifest.root, manifest.prefix, manifest.folder))
    write_manifest(manifest)
    return [t.model_dump(mode="json") for t in admitted]


def collect(round_number: int, prefix: str, **context: Any) -> list[dict[str, Any]]:
    """The re-rendered takes into the manifest and the gallery; the review queue of ``round_number``."""
    ti, ids = context["ti"], CampaignIds(prefix)
    manifest = _manifest_or_skip(ti, ids)
    takes = _takes(_pull(ti, ids.of(f"decide_{round_number - 1}")))
    rendered = _outcomes(ti, ids.of(f"rerender_{round_number}"), takes, manifest)
    for take, (result, _) in zip(takes, rendered, strict=True):
        manifest.put(_rendered_clip(manifest, take, result))
    queue = _queue(manifest, round_number)
    write_manifest(manifest)
    return queue


def finals(prefix: str, **context: Any) -> list[dict[str, Any]]:
    """With drafts first: the final of every approved draft, within the budget (drafts are never published)."""
    ti, ids = context["ti"], CampaignIds(prefix)
    manifest = _manifest_or_skip(ti, ids)
    if not manifest.drafts:
        return []
    wanted = fates.approve_drafts(manifest)
    admitted = fates.admit(manifest, wanted, earlier_clips(manifest.root, manifest.prefix, manifest.folder))
    write_manifest(manifest)
    return [t.model_dump(mode="json") for t in admitted]


def release(prefix: str, **context: Any) -> list[dict[str, Any]]:
    """Every clip's fate into the manifest and the gallery, ``approved.html`` (the approved clips only), the
    outlets' Asset events; returns the approved clips. A run the plan refused fails here with the refusal."""
    ti, ids = context["ti"], CampaignIds(prefix)
    refused = _pull(ti, ids.plan, key=REFUSED)
    if refused:
        raise AirflowFailException(f"run refused for budget: {refused}")
    manifest = _manifest_or_skip(ti, ids)
    takes = _takes(_pull(ti, ids.of("finals")))
    for take, (result, _) in zip(takes, _outcomes(ti, ids.of("final"), takes, manifest), strict=True):
        poster = save_poster(manifest.folder, take.file) if result else None
        fates.add_final(manifest, take, result, poster=poster, folder=manifest.folder)
    counts = fates.settle(manifest)
    write_manifest(manifest)
    approved = [c for c in manifest.videos if c.status.value == "approved"]
    write_page(manifest, "approved.html", approved)
    folder = manifest.folder.rstrip("/")
    extra = {
        "gallery": f"{folder}/{manifest.gallery}",
        "manifest": f"{folder}/manifest.json",
        "folder": manifest.folder,
        "campaign": manifest.campaign,
        "videos": len(approved),
        "fates": counts,
        "total_credits": manifest.total_credits,
    }
    for outlet in context["task"].outlets:
        context["outlet_events"][outlet].extra = extra
    log.info(
        "Released %s: %s approved of %d clips; fates %s", manifest.campaign, len(approved), len(manifest.videos), counts
    )
    return [c.model_dump(mode="json") for c in approved]
