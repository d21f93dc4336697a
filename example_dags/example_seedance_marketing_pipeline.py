"""The scheduled marketing content pipeline: a campaign brief in, reviewed and approved videos out.

What it shows, task by task:
1. ``plan``: reads the campaign brief kept next to this file (``campaign_brief.json``: brand, products,
   messages, channels) and builds one prompt per product x channel (a *slot*) in the channel's format (9:16
   short-form vertical, 16:9 video platforms, 1:1 feeds), ``variants`` takes per slot with different seeds.
   Every request is checked against the model's limits, and the run's cost is estimated with the provider's
   ``estimate_cost`` (what renders of the same model, duration and quality cost in earlier runs of this
   pipeline, else the ``credits_per_second`` Param): over ``max_credits``, the whole run is refused before
   anything is submitted, with the estimate, the budget and how it was estimated.
2. ``render``: dynamic task mapping (``SeedanceGenerateVideoOperator.partial(...).expand_kwargs(...)``),
   one deferrable render per take, in the Airflow pool ``seedance_renders``; each video is saved to an
   ``ObjectStoragePath``.
3. ``gallery``: one static ``index.html`` (a player with a poster frame for every video, with its prompt,
   model, duration, credits, render time; the spend and the budget at the top) and a ``manifest.json``.
4. ``review_0``: Airflow's human-in-the-loop ``HITLOperator``, one task per slot (Airflow UI, "Required
   Actions", or the REST API). The reviewer sees the gallery link and each take (prompt, model, credits,
   video, poster) and answers: approve (at most one take per slot), reject, or re-render with a note.
5. ``decide_N`` / ``rerender_N`` / ``collect_N`` / ``review_N``: a re-render renders the slot's takes again
   with the note added to the prompt and a new seed (where the model takes one), and sends them back for
   review, at most ``max_rerenders`` times. Approved slots are never rendered again. A re-render that would
   take what was spent plus what is still planned past ``max_credits`` is not submitted: skipped for budget.
6. Drafts first (``drafts`` Param, on), where the model renders drafts (ModelArk, Seedance 1.5 pro): the takes
   are cheap 480p drafts, the reviewer reviews drafts, and ``finals`` / ``final`` render the final of each
   approved draft only, from its generation id (``draft_generation_id``) at the run's ``quality``; the
   manifest's ``draft_savings`` reports the credits this saved.
7. ``release``: always runs. It writes every clip's fate (approved, rejected, review timed out, skipped for
   budget, ...) into the manifest and the gallery, and emits the Asset event ``seedance://marketing/gallery``
   that schedules ``example_seedance_publish``, which publishes the approved clips only. A review that times
   out (Param ``review_hours``, 72 by default) counts as a rejection: nothing unreviewed is ever published.

What it needs:
- a connection ``seedance_default`` of type ``seedance`` (any backend: the model follows the connection's
  backend unless you choose one);
- the pool, created once with deferred tasks counted (a deferred render holds a slot while it waits)::

      airflow pools set seedance_renders 4 "Seedance renders" --include-deferred

  (set the slots to your API concurrency; without the pool the scheduler will not run the renders;
  ``dag.test()`` / ``airflow dags test`` ignore pools);
- a triggerer (the renders defer; on Airflow 3.1 and 3.2 the review tasks defer too);
- a reviewer with access to the DAG in the Airflow UI (or a client of the REST API's ``hitlDetails``);
- where the output goes: the Variable ``seedance_output_root`` or the ``output_root`` Param: a local folder,
  ``file://...``, or any object store Airflow can reach (``s3://bucket/marketing``, ``gs://...`` with the
  provider installed). Default: ``~/seedance_output``;
- optional: PyAV and Pillow (``pip install av pillow``) for poster frames; without them the gallery has no
  posters.

Output layout: ``<root>/marketing/<campaign>/<run time>/{videos/*.mp4, posters/*.jpg, index.html, manifest.json}``.
"""

from __future__ import annotations

import html
import io
import json
import logging
import os
import re
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from airflow.sdk import Asset, ObjectStoragePath, Param, Variable, dag, get_current_context, task

from airflow_provider_seedance.operators.seedance import SKIPPED_XCOM_KEY as SKIPPED
from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

try:
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
except ImportError:  # Airflow < 3.2
    from airflow.exceptions import AirflowFailException, AirflowSkipException  # type: ignore[no-redef]

GALLERY = Asset("seedance://marketing/gallery")
POOL = "seedance_renders"
#: The plan's XCom key of the message that refused the run for budget.
REFUSED = "refused"
BRIEF = Path(__file__).with_name("campaign_brief.json")
DEFAULT_OUTPUT_ROOT = "~/seedance_output"
#: The fast text-to-video model of each backend: used when the ``model`` Param is empty.
DEFAULT_MODELS = {
    "evolink": "seedance-2.0-fast-text-to-video",
    "aimlapi": "bytedance/seedance-1-0-pro-fast",
    "modelark": "dreamina-seedance-2-0-fast-260128",
}
FRAMING = {"9:16": "vertical 9:16", "16:9": "widescreen 16:9", "1:1": "square 1:1"}
#: Review rounds are tasks, so their number is fixed when the DAG is parsed; ``max_rerenders`` uses 0 to this.
MAX_RERENDERS = 2
#: How long a review waits for its answer by default (Param ``review_hours``); then the slot counts as timed
#: out (never published).
REVIEW_HOURS = 72

log = logging.getLogger(__name__)


def output_root(value: str | None) -> ObjectStoragePath:
    """The Param if given, else the Variable ``seedance_output_root``, else a local folder."""
    text = (value or "").strip() or Variable.get("seedance_output_root", default=None) or DEFAULT_OUTPUT_ROOT
    text = text.rstrip("/")
    if "://" not in text:
        text = "file://" + os.path.abspath(os.path.expanduser(text))
    root = ObjectStoragePath(text)
    try:
        root.fs  # noqa: B018 - resolve the filesystem now: fail before any render is paid for
    except ValueError as exc:
        raise ValueError(f"output root {text!r}: {exc} (install the provider for that object store)") from None
    return root


def load_brief(location: str | None) -> dict[str, Any]:
    path = ObjectStoragePath(location) if location and "://" in location else Path(location or BRIEF)
    brief: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for key in ("campaign", "products", "channels"):
        if not brief.get(key):
            raise ValueError(f"campaign brief {location or BRIEF} has no {key!r}")
    return brief


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "item"


def build_prompt(brief: dict[str, Any], product: dict[str, Any], channel: dict[str, Any], framing: bool) -> str:
    """One prompt: the product's visual and message, the brand style, the channel's direction."""
    parts = [product["visual"].rstrip(".") + ".", f"Message: {product['message']}", brief.get("style", "")]
    parts.append(channel.get("direction", ""))
    if framing:  # the model takes no aspect_ratio field: ask for the format in words
        parts.append(f"Composed for {FRAMING.get(channel['aspect_ratio'], channel['aspect_ratio'])} framing.")
    return " ".join(p for p in parts if p)


def earlier_renders(root: ObjectStoragePath, skip: str = "") -> list[dict[str, Any]]:
    """What earlier runs' renders cost: the clips of every manifest this pipeline wrote under the root
    (each carries its render's XCom result: model, duration, quality, credits)."""
    found: list[dict[str, Any]] = []
    try:
        manifests = list((root / "marketing").glob("*/*/manifest.json"))
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


def plan_takes(brief: dict[str, Any], params: dict[str, Any], spec: dict[str, Any]) -> list[dict[str, Any]]:
    """One item per product x channel x take: render arguments and what the gallery and review show."""
    items = []
    for product in brief["products"]:
        for channel in brief["channels"]:
            slot = f"{slug(product['id'])}-{slug(channel['id'])}"
            for take in range(1, params["variants"] + 1):
                name = slot if params["variants"] == 1 else f"{slot}-t{take}"
                request = {
                    "model": spec["model"],
                    "prompt": build_prompt(brief, product, channel, framing=not spec["takes_ratio"]),
                    "duration": params["duration"],
                    "quality": params["quality"],
                }
                if spec["takes_ratio"]:
                    request["aspect_ratio"] = channel["aspect_ratio"]
                if spec["takes_seed"]:
                    request["seed"] = (zlib.crc32(slot.encode()) + 1009 * take) % 2_147_483_647
                if spec["drafts"]:  # a cheap 480p draft first; the final comes from the approved draft
                    request.update(draft=True, quality="480p")
                items.append(
                    {
                        "render": {**request, "seedance_conn_id": spec["conn_id"], "output_path": ""},
                        "name": name,
                        "slot": slot,
                        "take": take,
                        "round": 0,
                        "product": product["id"],
                        "product_name": product.get("name", product["id"]),
                        "message": product.get("message", ""),
                        "channel": channel["id"],
                        "channel_name": channel.get("name", channel["id"]),
                        "aspect_ratio": channel["aspect_ratio"],
                    }
                )
    return items


def planned_spend(items: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """What the plan will pay for: every take, and with drafts one final per slot at the asked quality."""
    renders = [i["render"] for i in items]
    if any(r.get("draft") for r in renders):
        slots = {i["slot"]: i["render"] for i in items}
        renders += [{**r, "draft": False, "quality": params["quality"]} for r in slots.values()]
    return renders


def limit_slots(items: list[dict[str, Any]], max_videos: int) -> list[dict[str, Any]]:
    """``max_videos`` counts slots (product x channel), each with all its takes."""
    if not max_videos:
        return items
    keep = list(dict.fromkeys(i["slot"] for i in items))[:max_videos]
    return [i for i in items if i["slot"] in keep]


def read_manifest(folder: str) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((ObjectStoragePath(folder) / "manifest.json").read_text(encoding="utf-8"))
    return manifest


def write_manifest(manifest: dict[str, Any]) -> None:
    """The manifest and the gallery page, with the spend recomputed from every clip rendered so far."""
    folder = ObjectStoragePath(manifest["folder"])
    rendered = [v for v in manifest["videos"] if v.get("rendered")]
    manifest["total_credits"] = round(sum(v.get("credits") or 0 for v in rendered), 3)
    manifest["total_render_s"] = round(sum(v.get("elapsed_s") or 0 for v in rendered), 1)
    manifest["generated_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    (folder / "index.html").write_text(render_html(manifest), encoding="utf-8")


def clip_from_result(
    item: dict[str, Any], result: dict[str, Any] | None, folder: ObjectStoragePath, skipped: str | None = None
) -> dict[str, Any]:
    """One gallery entry: the plan's facts about the take and its render's XCom result (or why its render was
    skipped for budget)."""
    file = file_name(item)
    stem = file.rsplit(".", 1)[0]
    base = {k: v for k, v in item.items() if k != "render"}
    base.update(quality=item["render"].get("quality"), seed=item["render"].get("seed"), file=f"videos/{file}")
    base.update(
        draft=bool(item["render"].get("draft")), duration=item["render"].get("duration") or item.get("duration")
    )
    if not result:
        return {
            **base,
            "rendered": False,
            "status": "skipped_budget" if skipped else "render_failed",
            **({"skip_reason": skipped} if skipped else {}),
            "prompt": item["render"].get("prompt") or item.get("prompt"),
        }
    has_poster = make_poster(folder / "videos" / file, folder / "posters" / f"{stem}.jpg")
    poster = f"posters/{stem}.jpg" if has_poster else None
    return {
        **base,
        "rendered": True,
        "status": "in_review",
        "poster": poster,
        "poster_url": str(folder / poster) if poster else None,
        "url": result["output_path"],
        "prompt": result.get("prompt") or item["render"].get("prompt") or item.get("prompt"),
        "model": result.get("model") or item["render"]["model"],
        "backend": result.get("backend"),
        "duration": result.get("duration") or base["duration"],
        **{k: result.get(k) for k in ("credits", "elapsed_s", "size_bytes", "sha256", "generation_id")},
    }


def within_run_budget(context: Any, request: Any) -> str | None:
    """The first renders' ``spend_check``, asked before each create (never for a render already submitted):
    what the finished renders really cost, plus what is still planned (the renders neither finished nor
    skipped, this one included, each at what this run's renders really cost so far, else the plan's
    estimate; and the finals the plan counted). A render that would take the run past ``max_credits`` is
    skipped for budget and nothing is submitted. Renders that started together all pass it (none has
    finished): they are paid for whatever they cost, so the budget holds as far as the estimate does for
    them; a failed render stays counted as planned (the safe side)."""
    from statistics import median

    from airflow_provider_seedance.budget import spend_refusal

    max_credits = context["params"]["max_credits"]
    if max_credits is None:
        return None
    ti = context["ti"]
    items = ti.xcom_pull(task_ids="plan", map_indexes=-1) or []
    if not items:
        return None
    done = results_by_file(every_index(ti.xcom_pull(task_ids=ti.task_id)))  # every map index in one read
    skipped = len(every_index(ti.xcom_pull(task_ids=ti.task_id, key=SKIPPED)))
    costs = [float(r["credits"]) for r in done.values() if r.get("credits") is not None]
    each = median(costs) if costs else max(float(i.get("estimate") or 0) for i in items)  # one spec per run
    spent = sum(costs) + (len(done) - len(costs)) * each  # a render that reported no credits: at the going price
    finals = items[0]["run"]["budget"]["estimate"] - sum(float(i.get("estimate") or 0) for i in items)
    still = max(0, len(items) - len(done) - skipped) * each + max(0.0, finals)
    return spend_refusal(max_credits, round(spent, 3), round(still, 3))


def every_index(pulled: Any) -> list[Any]:
    """A read of every map index of a task: Airflow answers one value alone, a list for several."""
    if pulled is None:
        return []
    return list(pulled) if isinstance(pulled, list) else [pulled]


def file_name(item: dict[str, Any]) -> str:
    return str(item["render"]["output_path"]).rsplit("/", 1)[-1]


def results_by_file(results: Any) -> dict[str, dict[str, Any]]:
    # Index access (not iteration): the lazy sequence knows its length, no probing past the end.
    saved = [results[index] for index in range(len(results))] if results else []
    return {str(r["output_path"]).rsplit("/", 1)[-1]: r for r in saved if r and r.get("output_path")}


def review_queue(manifest: dict[str, Any], round_number: int) -> list[dict[str, Any]]:
    """HITL arguments for every slot with takes in review, in slot order; noted in the manifest."""
    from airflow_provider_seedance.review import review_request

    slots: dict[str, list[dict[str, Any]]] = {}
    for clip in manifest["videos"]:
        if clip["status"] == "in_review":
            slots.setdefault(clip["slot"], []).append(clip)
    manifest.setdefault("rounds", {})[str(round_number)] = list(slots)
    gallery = str(ObjectStoragePath(manifest["folder"]) / "index.html")
    # The run's review time rides with each request: response_timeout is read when the review task runs.
    timeout = timedelta(hours=float(manifest.get("review_hours") or REVIEW_HOURS))
    return [{**review_request(slot, clips, gallery), "response_timeout": timeout} for slot, clips in slots.items()]


def next_take(clip: dict[str, Any], note: str, round_number: int, manifest: dict[str, Any]) -> dict[str, Any]:
    """The plan item that renders ``clip`` again: the note added to its prompt, a new seed, a new file."""
    from airflow_provider_seedance.review import rerender_prompt, rerender_seed

    request = {k: clip[k] for k in ("model", "duration", "quality") if clip.get(k) is not None}
    request["prompt"] = rerender_prompt(clip["prompt"], note)
    if manifest["takes_ratio"]:
        request["aspect_ratio"] = clip["aspect_ratio"]
    if clip.get("seed") is not None:
        request["seed"] = rerender_seed(int(clip["seed"]), round_number, int(clip["take"]))
    if clip.get("draft"):
        request["draft"] = True
    name = re.sub(r"-r\d+$", "", clip["name"]) + f"-r{round_number}"
    output_path = str(ObjectStoragePath(manifest["folder"]) / "videos" / f"{name}.mp4")
    keep = ("slot", "take", "product", "product_name", "message", "channel", "channel_name", "aspect_ratio")
    return {
        **{k: clip[k] for k in keep},
        "name": name,
        "round": round_number,
        "note": note,
        "render": {**request, "seedance_conn_id": manifest["seedance_conn_id"], "output_path": output_path},
    }


def apply_answers(manifest: dict[str, Any], round_number: int, answers: list[Any], max_rerenders: int) -> list[Any]:
    """Each slot's answer onto its takes in review; returns the takes to render again (before the budget)."""
    from airflow_provider_seedance.review import decide

    again = []
    for slot, answer in zip(manifest.get("rounds", {}).get(str(round_number), []), answers, strict=True):
        decision = decide(answer)
        log.info("Review of %s (round %d): %s %s", slot, round_number, decision.kind, decision.note or "")
        takes = [c for c in manifest["videos"] if c["slot"] == slot and c["status"] == "in_review"]
        for index, clip in enumerate(takes, start=1):
            clip["review"] = {"round": round_number, "decision": decision.kind, "note": decision.note}
            clip["reviewer"] = decision.reviewer
            if decision.kind == "approve":
                clip["status"] = "approved" if index == decision.take else "not_chosen"
            elif decision.kind == "rerender" and round_number < max_rerenders:
                clip["status"] = "rerendered"
                again.append(next_take(clip, decision.note, round_number + 1, manifest))
            elif decision.kind == "rerender":
                clip["status"] = "rerender_limit"
            else:
                clip["status"] = "rejected" if decision.kind == "reject" else decision.kind
    return again


def within_budget(manifest: dict[str, Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The re-renders that fit: spent so far plus each one's estimate stays within ``max_credits``; the
    others are recorded as skipped for budget and never submitted."""
    from airflow_provider_seedance.budget import BudgetGate, estimate_cost

    history = [*manifest["videos"], *earlier_renders(ObjectStoragePath(manifest["root"]), manifest["folder"])]
    specs = [{**i["render"], "duration": i["render"].get("duration") or i.get("duration")} for i in items]
    estimate = estimate_cost(specs, history, manifest["budget"]["credits_per_second"])
    spent = sum(v.get("credits") or 0 for v in manifest["videos"] if v.get("rendered"))
    verdicts = BudgetGate(manifest["budget"]["max_credits"], spent).admit([c.credits for c in estimate.clips])
    admitted = []
    for item, fits, clip in zip(items, verdicts, estimate.clips, strict=True):
        entry = {k: v for k, v in item.items() if k != "render"}
        entry.update(
            prompt=item["render"].get("prompt") or item.get("prompt"), model=item["render"]["model"], rendered=False
        )
        entry.update(duration=item["render"].get("duration") or item.get("duration"))
        entry.update(quality=item["render"].get("quality"), draft=bool(item["render"].get("draft")))
        entry.update(seed=item["render"].get("seed"), estimate=clip.credits)
        entry["status"] = "rendering" if fits else "skipped_budget"
        manifest["videos"].append(entry)
        if fits:
            admitted.append(item)
        else:
            log.warning("Skipped for budget: %s (estimate %s, spent %s)", item["name"], clip.credits, spent)
    return admitted


def settle_fates(manifest: dict[str, Any]) -> dict[str, int]:
    """Nothing unreviewed is published: takes still waiting count as unanswered, renders that never
    came back as failed. Returns the count per fate."""
    from airflow_provider_seedance.review import FATES

    counts: dict[str, int] = {}
    for clip in manifest["videos"]:
        if clip["status"] == "in_review":
            clip["status"] = "no_answer"
        elif clip["status"] == "rendering":
            clip["status"] = "render_failed"
        clip["fate"] = FATES.get(clip["status"], clip["status"])
        if clip.get("skip_reason"):
            clip["fate"] += f" ({clip['skip_reason']})"
        counts[clip["status"]] = counts.get(clip["status"], 0) + 1
        log.info("Fate of %s: %s", clip["name"], clip["fate"])
    return counts


def manifest_or_skip() -> dict[str, Any]:
    """This run's manifest; a skip when the run never got that far."""
    folder = get_current_context()["ti"].xcom_pull(task_ids="plan", key="folder")
    if not folder:
        raise AirflowSkipException("nothing was rendered in this run")
    try:
        return read_manifest(folder)
    except FileNotFoundError:
        raise AirflowSkipException(f"no manifest in {folder}: nothing was rendered") from None


RENDER_ARGS: dict[str, Any] = {
    "pool": POOL,
    "deferrable": True,
    "timeout": 1800,
    # A retry reattaches to the same generation (never pays twice) unless it failed remotely.
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "map_index_template": "{{ task.output_path.rsplit('/', 1)[-1] }}",
}


def render_kwargs(item: dict[str, Any]) -> dict[str, Any]:
    return dict(item["render"])


@dag(
    dag_id="example_seedance_marketing_pipeline",
    description="Campaign brief -> Seedance videos -> gallery -> human review (re-render with notes) -> publish",
    schedule="@weekly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["example", "seedance", "marketing"],
    params={
        "model": Param(
            None,
            type=["null", "string"],
            examples=list(DEFAULT_MODELS.values()),
            description="Empty: the connection's backend's fast model "
            "(evolink seedance-2.0-fast-text-to-video, aimlapi bytedance/seedance-1-0-pro-fast, "
            "modelark dreamina-seedance-2-0-fast-260128).",
        ),
        "seedance_conn_id": Param("seedance_default", type="string", description="Seedance connection id."),
        "duration": Param(5, type="integer", minimum=2, maximum=15, description="Seconds per video."),
        "quality": Param("720p", type="string", enum=["480p", "720p", "1080p"]),
        "output_root": Param(
            None,
            type=["null", "string"],
            description="Where videos and the gallery go; empty: Variable seedance_output_root, "
            f"else {DEFAULT_OUTPUT_ROOT}. Any ObjectStoragePath URL: file://, s3://, gs://...",
        ),
        "brief": Param(
            None,
            type=["null", "string"],
            description="Campaign brief JSON (path or URL); empty: campaign_brief.json next to this DAG.",
        ),
        "max_videos": Param(0, type="integer", minimum=0, description="Render at most this many slots (0: all)."),
        "variants": Param(1, type="integer", minimum=1, maximum=4, description="Takes per product x channel."),
        "max_rerenders": Param(
            1, type="integer", minimum=0, maximum=MAX_RERENDERS, description="Re-render rounds a reviewer may ask."
        ),
        "max_credits": Param(
            None, type=["null", "number"], minimum=0, description="Credit budget of the run; empty: no budget."
        ),
        "review_hours": Param(
            REVIEW_HOURS,
            type="number",
            exclusiveMinimum=0,
            description="How long each review waits for an answer; then its default, Reject: the slot counts as "
            "timed out and nothing of it is published.",
        ),
        "drafts": Param(
            True,
            type="boolean",
            description="Where the model renders drafts (ModelArk, Seedance 1.5 pro): review cheap 480p drafts, "
            "then render finals of the approved drafts only.",
        ),
        "credits_per_second": Param(
            None,
            type=["null", "number"],
            minimum=0,
            description="Estimate for renders with no earlier run of the same model, duration and quality.",
        ),
    },
    doc_md=__doc__,
)
def example_seedance_marketing_pipeline() -> None:
    first = SeedanceGenerateVideoOperator.partial(task_id="render", spend_check=within_run_budget, **RENDER_ARGS)
    queue = gallery(plan_task(), first)
    for round_number in range(MAX_RERENDERS + 1):
        queue = review_round(round_number, queue)
    finals = finals_task()
    final = SeedanceGenerateVideoOperator.partial(task_id="final", **RENDER_ARGS).expand_kwargs(
        finals.map(render_kwargs)
    )
    queue >> finals
    [finals, final] >> release()


def plan_task() -> Any:
    @task(task_id="plan")
    def plan() -> list[dict[str, Any]]:
        """Brief -> renders (each validated), the run's estimate checked against ``max_credits``."""
        from airflow_provider_seedance.budget import estimate_cost, refusal
        from airflow_provider_seedance.hooks.seedance import SeedanceHook
        from airflow_provider_seedance.limits import limits_for

        context = get_current_context()
        params = context["params"]
        brief = load_brief(params["brief"])
        dialect = SeedanceHook(params["seedance_conn_id"]).backend
        model = params["model"] or DEFAULT_MODELS[dialect.name]
        limits = limits_for(dialect.name, model)
        spec = {
            "model": model,
            "conn_id": params["seedance_conn_id"],
            "takes_ratio": limits is None or "aspect_ratio" in limits.fields,
            "takes_seed": limits is None or "seed" in limits.fields,
            "drafts": bool(params["drafts"] and limits is not None and getattr(limits, "drafts", False)),
        }
        root = output_root(params["output_root"])
        stamp = context["dag_run"].run_after.strftime("%Y%m%dT%H%M%S")
        folder = root / "marketing" / slug(brief["campaign"]) / stamp
        items = limit_slots(plan_takes(brief, params, spec), params["max_videos"])
        check_requests(dialect, items, folder)
        estimate = estimate_cost(planned_spend(items, params), earlier_renders(root), params["credits_per_second"])
        message = refusal(estimate, params["max_credits"])
        if message:
            context["ti"].xcom_push(key=REFUSED, value=message)  # release fails the run with it
            raise RunRefused(message)
        budget = {k: params[k] for k in ("max_credits", "credits_per_second")}
        budget.update(estimate=estimate.total, estimated_how=estimate.explain())
        run = {"campaign": brief["campaign"], "brand": brief.get("brand", ""), "backend": dialect.name}
        run.update(model=model, folder=str(folder), root=str(root), budget=budget, takes_ratio=spec["takes_ratio"])
        run.update(seedance_conn_id=params["seedance_conn_id"], max_rerenders=params["max_rerenders"])
        run.update(drafts=spec["drafts"], final_quality=params["quality"], review_hours=params["review_hours"])
        context["ti"].xcom_push(key="folder", value=str(folder))
        log.info("Planned %d renders with %s on %s into %s", len(items), model, dialect.name, folder)
        log.info("Estimated %s credits (budget %s): %s", estimate.total, params["max_credits"], estimate.explain())
        # Each take's estimate rides along: the renders' spend_check counts the finished ones at their real cost.
        takes = estimate.clips[: len(items)]  # then, with drafts, the finals
        return [{**item, "run": run, "estimate": clip.credits} for item, clip in zip(items, takes, strict=True)]

    return plan()


def check_requests(dialect: Any, items: list[dict[str, Any]], folder: ObjectStoragePath) -> None:
    """Every request against the model's limits (warnings logged); each take's output path set."""
    from airflow_provider_seedance.limits import validate_request
    from airflow_provider_seedance.models import VideoRequest

    for item in items:
        request = {k: v for k, v in item["render"].items() if k not in ("seedance_conn_id", "output_path")}
        for warning in validate_request(dialect, VideoRequest(**request)):
            log.warning("%s", warning)
        item["render"]["output_path"] = str(folder / "videos" / f"{item['name']}.mp4")


class RunRefused(Exception):
    """The plan refused the whole run (its estimate passes the budget); nothing was submitted."""


def gallery(planned: Any, render: Any) -> Any:
    renders = render.expand_kwargs(planned.map(render_kwargs))

    @task(task_id="gallery", trigger_rule="all_done")
    def make_gallery(items: list[dict[str, Any]] | None, results: Any) -> list[dict[str, Any]]:
        """Posters, ``index.html`` and ``manifest.json`` next to the videos (a failed render is listed as
        such); the first review queue."""
        if not items:
            raise AirflowSkipException("nothing was planned")
        summary = items[0]["run"]
        folder = ObjectStoragePath(summary["folder"])
        by_file = results_by_file(results)
        context = get_current_context()
        videos = []
        for index, item in enumerate(items):
            result = by_file.get(file_name(item))
            skipped = None if result else context["ti"].xcom_pull(task_ids="render", key=SKIPPED, map_indexes=index)
            clip = {k: v for k, v in item.items() if k not in ("run", "estimate")}
            videos.append(clip_from_result(clip, result, folder, skipped))
        manifest = {**summary, "dag_id": context["dag"].dag_id, "run_id": context["run_id"], "status": "in_review"}
        manifest.update(gallery="index.html", videos=videos)
        queue = review_queue(manifest, 0)
        write_manifest(manifest)
        log.info("Gallery with %d videos: %s", len(videos), folder / "index.html")
        return queue

    return make_gallery(planned, renders.output)


def review_round(round_number: int, queue: Any) -> Any:
    """``review_N`` (one HITL task per slot), ``decide_N``; below the last round, ``rerender_N+1`` and
    ``collect_N+1`` (the next round's queue)."""
    from airflow.providers.standard.operators.hitl import HITLOperator

    from airflow_provider_seedance.review import REJECT

    review = HITLOperator.partial(
        task_id=f"review_{round_number}",
        params={"note": Param(None, type=["null", "string"], description="For a re-render: what to change.")},
        defaults=[REJECT],
    ).expand_kwargs(queue)

    @task(task_id=f"decide_{round_number}", trigger_rule="all_done")
    def decide_round() -> list[dict[str, Any]]:
        """The reviewer's answers onto the manifest; the re-renders that were asked and fit the budget."""
        manifest = manifest_or_skip()
        slots = manifest.get("rounds", {}).get(str(round_number), [])
        ti = get_current_context()["ti"]
        answers = [ti.xcom_pull(task_ids=f"review_{round_number}", map_indexes=i) for i in range(len(slots))]
        again = apply_answers(manifest, round_number, answers, manifest["max_rerenders"])
        admitted = within_budget(manifest, again)
        write_manifest(manifest)
        return admitted

    decided = decide_round()
    review >> decided
    if round_number == MAX_RERENDERS:
        return decided
    render = SeedanceGenerateVideoOperator.partial(task_id=f"rerender_{round_number + 1}", **RENDER_ARGS)
    rendered = render.expand_kwargs(decided.map(render_kwargs))
    collected = collect_task(round_number + 1)
    [decided, rendered] >> collected
    return collected


def collect_task(round_number: int) -> Any:
    @task(task_id=f"collect_{round_number}", trigger_rule="all_done")
    def collect() -> list[dict[str, Any]]:
        """The re-rendered takes into the manifest and the gallery; the queue of round ``round_number``."""
        manifest = manifest_or_skip()
        folder = ObjectStoragePath(manifest["folder"])
        ti = get_current_context()["ti"]
        for index, item in enumerate(ti.xcom_pull(task_ids=f"decide_{round_number - 1}") or []):
            result = ti.xcom_pull(task_ids=f"rerender_{round_number}", map_indexes=index)
            clip = clip_from_result(item, result, folder)
            manifest["videos"] = [v for v in manifest["videos"] if v["name"] != item["name"]] + [clip]
        queue = review_queue(manifest, round_number)
        write_manifest(manifest)
        return queue

    return collect()


def final_item(clip: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """The final render of an approved draft: from its generation id, at the quality the run asked for."""
    name = f"{clip['name']}-final"
    keep = ("slot", "take", "product", "product_name", "message", "channel", "channel_name", "aspect_ratio")
    render = {"model": clip["model"], "draft_generation_id": clip["generation_id"]}
    render.update(quality=manifest["final_quality"], seedance_conn_id=manifest["seedance_conn_id"])
    render["output_path"] = str(ObjectStoragePath(manifest["folder"]) / "videos" / f"{name}.mp4")
    extra = {"prompt": clip["prompt"], "seed": clip.get("seed"), "duration": clip.get("duration")}
    return {**{k: clip[k] for k in keep}, **extra, "name": name, "round": "final", "render": render}


def finals_task() -> Any:
    @task(task_id="finals", trigger_rule="all_done")
    def finals() -> list[dict[str, Any]]:
        """With drafts: the final render of every approved draft (within the budget); approved drafts
        themselves are never published."""
        manifest = manifest_or_skip()
        if not manifest.get("drafts"):
            return []
        approved = [c for c in manifest["videos"] if c["status"] == "approved" and c.get("draft")]
        for clip in approved:
            clip["status"] = "draft_approved"
        admitted = within_budget(manifest, [final_item(c, manifest) for c in approved])
        write_manifest(manifest)
        return admitted

    return finals()


def add_finals(manifest: dict[str, Any]) -> None:
    """The finals' results into the manifest: a rendered final of an approved draft is the approved clip."""
    ti = get_current_context()["ti"]
    folder = ObjectStoragePath(manifest["folder"])
    for index, item in enumerate(ti.xcom_pull(task_ids="finals") or []):
        result = ti.xcom_pull(task_ids="final", map_indexes=index)
        clip = clip_from_result(item, result, folder)
        if result:
            clip["status"] = "approved"
        manifest["videos"] = [v for v in manifest["videos"] if v["name"] != item["name"]] + [clip]


def draft_savings(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """Credits that drafts first saved: every take rendered as a final (at the finals' median cost) minus
    what the drafts and finals cost."""
    if not manifest.get("drafts"):
        return None
    rendered = [v for v in manifest["videos"] if v.get("rendered")]
    drafts = [v.get("credits") or 0 for v in rendered if v.get("draft")]
    finals = sorted(v.get("credits") or 0 for v in rendered if not v.get("draft"))
    each = finals[len(finals) // 2] if finals else 0
    spent = round(sum(drafts) + sum(finals), 3)
    all_finals = round(each * len(drafts), 3)
    return {
        "drafts": len(drafts),
        "draft_credits": round(sum(drafts), 3),
        "finals": len(finals),
        "final_credits": round(sum(finals), 3),
        "all_finals_estimate": all_finals,
        "saved": round(all_finals - spent, 3),
    }


def release() -> Any:
    @task(task_id="release", trigger_rule="all_done", outlets=[GALLERY])
    def release_clips() -> dict[str, Any]:
        """Every clip's fate into the manifest and the gallery; the Asset event that lets publish run. A run
        the plan refused for budget fails here with the refusal, so it shows failed, not green."""
        refused = get_current_context()["ti"].xcom_pull(task_ids="plan", key=REFUSED)
        if refused:
            raise AirflowFailException(f"run refused for budget: {refused}")
        manifest = manifest_or_skip()
        add_finals(manifest)
        counts = settle_fates(manifest)
        manifest["draft_savings"] = draft_savings(manifest)
        manifest["status"] = "released"
        manifest["approved"] = counts.get("approved", 0)
        write_manifest(manifest)
        folder = ObjectStoragePath(manifest["folder"])
        # The page publish ships: the approved clips only (index.html shows every take and its fate).
        approved = {**manifest, "videos": [v for v in manifest["videos"] if v["status"] == "approved"]}
        (folder / "approved.html").write_text(render_html(approved), encoding="utf-8")
        extra = {
            "gallery": str(folder / "index.html"),
            "manifest": str(folder / "manifest.json"),
            "folder": manifest["folder"],
            "campaign": manifest["campaign"],
            "videos": manifest["approved"],
            "fates": counts,
            "total_credits": manifest["total_credits"],
        }
        get_current_context()["outlet_events"][GALLERY].extra = extra
        log.info(
            "Released %s: %s approved of %d clips; fates %s",
            manifest["campaign"],
            extra["videos"],
            len(manifest["videos"]),
            counts,
        )
        return extra

    return release_clips()


def make_poster(video: ObjectStoragePath, poster: ObjectStoragePath, at_s: float = 1.0) -> bool:
    """Save one frame (about 1 s in) as a JPEG poster; False when PyAV/Pillow are missing or decoding fails."""
    try:
        import av
    except ImportError:
        return False
    try:
        with video.open("rb") as handle, av.open(handle) as container:
            stream = container.streams.video[0]
            duration = float(container.duration or 0) / 1_000_000
            target = min(at_s, duration / 2) if duration else 0.0
            frame = None
            for frame in container.decode(stream):
                if frame.time is not None and frame.time >= target:
                    break
            if frame is None:
                return False
            image = frame.to_image()  # needs Pillow
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=85)
        poster.parent.mkdir(parents=True, exist_ok=True)
        poster.write_bytes(buffer.getvalue())
        return True
    except Exception as exc:  # a poster is decoration: never fail the gallery for it
        log.warning("No poster for %s: %s", video, exc)
        return False


def spend_context(budget: dict[str, Any]) -> str:
    """The gallery header's words after "Spent N credits" (HTML, escaped): the budget and the estimate, or that
    there was none (an estimate with no known price is no estimate)."""
    estimate = budget.get("estimate")
    known = bool(estimate) and "counted as 0" not in str(budget.get("estimated_how", ""))
    estimated = f"estimated before the run: {html.escape(_fmt(estimate, '', 2))}" if known else "not estimated"
    if budget.get("max_credits") is None:
        return f"; no budget, {estimated}"
    return f" of a budget of <b>{html.escape(_fmt(budget['max_credits'], '', 2))}</b> ({estimated})"


def _fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        value = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return f"{value}{unit}"


def render_html(manifest: dict[str, Any]) -> str:
    """One static page, relative links only, so it works from a local folder or any static host."""
    e = html.escape
    sections = []
    channels: dict[str, list[dict[str, Any]]] = {}
    for video in manifest["videos"]:
        if video.get("rendered", True):
            channels.setdefault(video["channel"], []).append(video)
    for entries in channels.values():
        ratio = entries[0]["aspect_ratio"]
        width, height = (int(n) for n in ratio.split(":")) if re.fullmatch(r"\d+:\d+", ratio) else (16, 9)
        shape = f"aspect-ratio: {width} / {height}"
        cards = []
        for v in entries:
            poster = f' poster="{e(v["poster"])}"' if v["poster"] else ""
            cards.append(
                f"""<figure class="card">
  <video controls preload="metadata" playsinline{poster} src="{e(v["file"])}" style="{shape}"></video>
  <figcaption>
    <h3>{e(v["product_name"])}</h3>
    <p class="message">{e(v["message"])}</p>
    <p class="prompt" title="{e(v["prompt"] or "")}">{e(v["prompt"] or "")}</p>
    <dl>
      <dt>Model</dt><dd>{e(str(v["model"]))}</dd>
      <dt>Duration</dt><dd>{e(_fmt(v["duration"], " s"))}</dd>
      <dt>Credits</dt><dd>{e(_fmt(v["credits"], "", 2))}</dd>
      <dt>Render time</dt><dd>{e(_fmt(v["elapsed_s"], " s"))}</dd>
      <dt>Review</dt><dd class="fate">{e(v.get("fate") or v.get("status") or "")}</dd>
    </dl>
  </figcaption>
</figure>"""
            )
        minimum = 200 if width < height else 300 if width == height else 360
        sections.append(
            f"""<section>
<h2>{e(entries[0]["channel_name"])} <span class="ratio">{e(ratio)}</span></h2>
<div class="grid" style="grid-template-columns: repeat(auto-fill, minmax({minimum}px, 1fr))">
{"".join(cards)}
</div>
</section>"""
        )
    m = manifest
    budget = m.get("budget") or {}
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(m["brand"])} {e(m["campaign"])}: Seedance gallery</title>
<style>
  body {{ font: 14px/1.4 system-ui, sans-serif; margin: 0; padding: 24px; background: #f4f5f7; color: #1f2a44; }}
  header p {{ margin: 4px 0; color: #555; }}
  h2 {{ margin: 28px 0 12px; font-size: 18px; }}
  .ratio {{ font-weight: normal; color: #777; font-size: 14px; }}
  .grid {{ display: grid; gap: 16px; align-items: start; }}
  .card {{ margin: 0; background: #fff; border-radius: 8px; overflow: hidden; box-shadow: 0 1px 3px #0002; }}
  .card video {{ display: block; width: 100%; background: #000; }}
  figcaption {{ padding: 10px 12px; }}
  h3 {{ margin: 0 0 4px; font-size: 15px; }}
  .message {{ margin: 0 0 6px; font-style: italic; }}
  .prompt {{ margin: 0 0 8px; color: #555; font-size: 12px; display: -webkit-box; -webkit-line-clamp: 4;
             -webkit-box-orient: vertical; overflow: hidden; }}
  dl {{ display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 0; font-size: 12px; }}
  dt {{ color: #777; }} dd {{ margin: 0; }}
</style>
</head>
<body>
<header>
<h1>{e(m["brand"])}: {e(m["campaign"])}</h1>
<p class="spend">Spent <b>{e(_fmt(m["total_credits"], "", 2))}</b> credits{spend_context(budget)}.</p>
<p>{len(m["videos"])} videos with <b>{e(m["model"])}</b> on {e(m["backend"])}; {e(_fmt(m["total_credits"], "", 2))}
credits; {e(_fmt(m["total_render_s"], " s"))} of render time; generated {e(m["generated_at"])}
by {e(m["dag_id"])} ({e(m["run_id"])}). <a href="manifest.json">manifest.json</a></p>
</header>
{"".join(sections)}
</body>
</html>
"""


example_seedance_marketing_pipeline()
