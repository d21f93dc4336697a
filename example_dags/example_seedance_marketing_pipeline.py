"""The scheduled marketing content pipeline: a campaign brief in, reviewed and approved videos out.

What it shows: ``brief`` reads the campaign brief kept next to this file (``campaign_brief.json``: brand, products,
messages, channels) and turns it into one take per product x channel (a *slot*) in the channel's format
(9:16 short-form vertical, 16:9 video platforms, 1:1 feeds). The provider's ``SeedanceCampaign`` does the
rest, in its TaskGroup ``campaign`` (see ``docs/campaigns.md``):

- ``plan``: every take checked against its model, ``variants`` takes per slot with different seeds, the
  run's cost estimated from earlier runs (else ``credits_per_second``) and refused whole, before anything is
  submitted, when it passes ``max_credits``;
- ``render``: one deferrable render per take in the pool ``seedance_renders``; a render that would take what
  was spent plus what is still planned past ``max_credits`` is skipped for budget;
- ``gallery``: ``index.html`` (a player and a poster per video) and ``manifest.json`` next to the videos;
- ``review_N``: one Required Action per slot (approve a take, reject, or re-render with a note, at most
  ``max_rerenders`` times); a review not answered in ``review_hours`` counts as rejected;
- drafts first (``drafts``) where the model renders drafts (ModelArk, Seedance 1.5 pro): cheap 480p drafts
  are reviewed and only approved drafts get their final;
- ``release``: every clip's fate in the manifest and the gallery, and the Asset event
  ``seedance://marketing/gallery`` that schedules ``example_seedance_publish`` (approved clips only).

What it needs: a connection ``seedance_default`` of type ``seedance`` (any backend: the model follows the
connection's backend unless you choose one); the pool, created once with deferred tasks counted::

    airflow pools set seedance_renders 4 "Seedance renders" --include-deferred

a triggerer; a reviewer with access to the DAG in the Airflow UI (or ``seedance-review``, or the REST API);
and where the output goes: the ``output_root`` Param, else the Variable ``seedance_output_root``, else
``~/seedance_output`` (a folder, ``file://``, ``s3://``...). Posters need PyAV and Pillow.
Output layout: ``<root>/marketing/<campaign>/<run time>/{videos/*.mp4, posters/*.jpg, index.html, manifest.json}``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import Asset, ObjectStoragePath, Param, dag, task

from airflow_provider_seedance.campaign import Budget, Output, Render, Review, SeedanceCampaign
from airflow_provider_seedance.campaign.takes import slug

GALLERY = Asset("seedance://marketing/gallery")
BRIEF = Path(__file__).with_name("campaign_brief.json")
#: The fast text-to-video model of each backend: used when the ``model`` Param is empty.
DEFAULT_MODELS = {
    "evolink": "seedance-2.0-fast-text-to-video",
    "aimlapi": "bytedance/seedance-1-0-pro-fast",
    "modelark": "dreamina-seedance-2-0-fast-260128",
}
#: Review rounds are tasks, fixed when the DAG is parsed; the ``max_rerenders`` Param uses 0 to this.
MAX_RERENDERS = 2


def load_brief(location: str | None) -> dict[str, Any]:
    path = ObjectStoragePath(location) if location and "://" in location else Path(location or BRIEF)
    brief: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for key in ("campaign", "products", "channels"):
        if not brief.get(key):
            raise ValueError(f"campaign brief {location or BRIEF} has no {key!r}")
    return brief


def take(brief: dict[str, Any], product: dict[str, Any], channel: dict[str, Any], params: Any) -> dict[str, Any]:
    """One slot's take: the product's visual and message, the brand style, the channel's direction."""
    parts = [product["visual"].rstrip(".") + ".", f"Message: {product['message']}", brief.get("style", "")]
    labels = {"product": product["id"], "product_name": product.get("name", product["id"])}
    labels.update(message=product.get("message", ""), channel=channel["id"])
    labels["channel_name"] = channel.get("name", channel["id"])
    return {
        "name": f"{slug(product['id'])}-{slug(channel['id'])}",
        "prompt": " ".join(p for p in [*parts, channel.get("direction", "")] if p),
        "duration": params["duration"],
        "quality": params["quality"],
        "aspect_ratio": channel["aspect_ratio"],
        "title": labels["product_name"],
        "caption": labels["message"],
        "section": labels["channel_name"],
        "labels": labels,
    }


@task(multiple_outputs=True)
def brief(params: Any = None) -> dict[str, Any]:
    """The brief -> one take per product x channel (the first ``max_videos`` slots), on the model of the
    ``model`` Param, else the connection's backend's fast model."""
    from airflow_provider_seedance.hooks.seedance import SeedanceHook

    found = load_brief(params["brief"])
    model = params["model"] or DEFAULT_MODELS[SeedanceHook(params["seedance_conn_id"]).backend.name]
    takes = [{**take(found, p, c, params), "model": model} for p in found["products"] for c in found["channels"]]
    return {
        "campaign": found["campaign"],
        "brand": found.get("brand", ""),
        "takes": takes[: params["max_videos"] or None],
    }


def number(default: Any, description: str, **schema: Any) -> Param:
    return Param(default, type=["null", "number"] if default is None else "number", description=description, **schema)


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
            description="Empty: the connection's backend's fast model ("
            + ", ".join(f"{k} {v}" for k, v in DEFAULT_MODELS.items())
            + ").",
        ),
        "seedance_conn_id": Param("seedance_default", type="string", description="Seedance connection id."),
        "duration": Param(5, type="integer", minimum=2, maximum=15, description="Seconds per video."),
        "quality": Param("720p", type="string", enum=["480p", "720p", "1080p"]),
        "output_root": Param(
            None,
            type=["null", "string"],
            description="Where videos and the gallery go; empty: Variable seedance_output_root, else "
            "~/seedance_output. Any ObjectStoragePath URL: file://, s3://, gs://...",
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
        "max_credits": number(None, "Credit budget of the run; empty: no budget.", minimum=0),
        "review_hours": number(
            72,
            "How long each review waits for an answer; then its default, Reject: the "
            "slot counts as timed out and nothing of it is published.",
            exclusiveMinimum=0,
        ),
        "drafts": Param(
            True,
            type="boolean",
            description="Where the model renders drafts (ModelArk, Seedance "
            "1.5 pro): review cheap 480p drafts, then render finals of the approved drafts only.",
        ),
        "credits_per_second": number(
            None, "Estimate for renders with no earlier run of the same model, duration and quality.", minimum=0
        ),
    },
    doc_md=__doc__,
)
def example_seedance_marketing_pipeline() -> None:
    planned = brief()
    SeedanceCampaign(
        takes=planned["takes"],
        name=planned["campaign"],
        title=planned["brand"],
        output=Output(root="{{ params.output_root }}", prefix="marketing"),
        budget=Budget(max_credits="{{ params.max_credits }}", credits_per_second="{{ params.credits_per_second }}"),
        review=Review(
            rounds=MAX_RERENDERS, max_rerenders="{{ params.max_rerenders }}", hours="{{ params.review_hours }}"
        ),
        render=Render(seedance_conn_id="{{ params.seedance_conn_id }}", pool="seedance_renders"),
        variants="{{ params.variants }}",
        drafts="{{ params.drafts }}",
        outlets=[GALLERY],
    )


example_seedance_marketing_pipeline()
