"""The scheduled marketing content pipeline: a campaign brief in, a gallery of ready-to-review videos out.

What it shows, task by task:
1. ``plan``: reads the campaign brief kept next to this file (``campaign_brief.json``: brand, products,
   messages, channels) and builds one prompt per product x channel in the channel's format (9:16
   short-form vertical, 16:9 video platforms, 1:1 feeds). Every request is checked against the model's
   limits here, before anything is paid for.
2. ``render``: dynamic task mapping (``SeedanceGenerateVideoOperator.partial(...).expand_kwargs(...)``),
   one deferrable render per prompt, in the Airflow pool ``seedance_renders`` so concurrent renders never
   exceed the API's concurrency; each video is saved to an ``ObjectStoragePath``.
3. ``gallery``: one static ``index.html`` (a player with a poster frame for every video, with its prompt,
   model, duration, credits and render time) and a ``manifest.json``, next to the videos; then an Asset
   event on ``seedance://marketing/gallery`` that schedules ``example_seedance_publish``.

What it needs:
- a connection ``seedance_default`` of type ``seedance`` (any backend: the model follows the connection's
  backend unless you choose one);
- the pool, created once with deferred tasks counted (a deferred render holds a slot while it waits)::

      airflow pools set seedance_renders 4 "Seedance renders" --include-deferred

  (set the slots to your API concurrency; without the pool the scheduler will not run the renders;
  ``dag.test()`` / ``airflow dags test`` ignore pools);
- a triggerer (the renders defer);
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
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from airflow.sdk import Asset, ObjectStoragePath, Param, Variable, dag, get_current_context, task

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

GALLERY = Asset("seedance://marketing/gallery")
POOL = "seedance_renders"
BRIEF = Path(__file__).with_name("campaign_brief.json")
DEFAULT_OUTPUT_ROOT = "~/seedance_output"
#: The fast text-to-video model of each backend: used when the ``model`` Param is empty.
DEFAULT_MODELS = {
    "evolink": "seedance-2.0-fast-text-to-video",
    "aimlapi": "bytedance/seedance-1-0-pro-fast",
    "modelark": "dreamina-seedance-2-0-fast-260128",
}
FRAMING = {"9:16": "vertical 9:16", "16:9": "widescreen 16:9", "1:1": "square 1:1"}

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


@dag(
    dag_id="example_seedance_marketing_pipeline",
    description="Campaign brief -> one Seedance video per product x channel -> gallery -> Asset event",
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
        "max_videos": Param(0, type="integer", minimum=0, description="Render at most this many (0: all)."),
    },
    doc_md=__doc__,
)
def example_seedance_marketing_pipeline() -> None:
    @task
    def plan() -> list[dict[str, Any]]:
        """Brief -> one render per product x channel, each validated against the model's limits."""
        from airflow_provider_seedance.hooks.seedance import SeedanceHook
        from airflow_provider_seedance.limits import limits_for, validate_request
        from airflow_provider_seedance.models import VideoRequest

        context = get_current_context()
        params = context["params"]
        brief = load_brief(params["brief"])
        conn_id = params["seedance_conn_id"]
        dialect = SeedanceHook(conn_id).backend
        backend = dialect.name
        model = params["model"] or DEFAULT_MODELS[backend]
        limits = limits_for(backend, model)
        takes_ratio = limits is None or "aspect_ratio" in limits.fields
        stamp = context["dag_run"].run_after.strftime("%Y%m%dT%H%M%S")
        root = output_root(params["output_root"])
        folder = root / "marketing" / slug(brief["campaign"]) / stamp
        run = {
            "campaign": brief["campaign"],
            "brand": brief.get("brand", ""),
            "backend": backend,
            "model": model,
            "folder": str(folder),
            "root": str(root),
        }
        items = []
        for product in brief["products"]:
            for channel in brief["channels"]:
                name = f"{slug(product['id'])}-{slug(channel['id'])}"
                request = {
                    "model": model,
                    "prompt": build_prompt(brief, product, channel, framing=not takes_ratio),
                    "duration": params["duration"],
                    "quality": params["quality"],
                }
                if takes_ratio:
                    request["aspect_ratio"] = channel["aspect_ratio"]
                for warning in validate_request(dialect, VideoRequest(**request)):
                    log.warning("%s", warning)
                output_path = str(folder / "videos" / f"{name}.mp4")
                items.append(
                    {
                        "render": {**request, "seedance_conn_id": conn_id, "output_path": output_path},
                        "name": name,
                        "product": product["id"],
                        "product_name": product.get("name", product["id"]),
                        "message": product.get("message", ""),
                        "channel": channel["id"],
                        "channel_name": channel.get("name", channel["id"]),
                        "aspect_ratio": channel["aspect_ratio"],
                        "run": run,
                    }
                )
        if params["max_videos"]:
            items = items[: params["max_videos"]]
        log.info("Planned %d renders with %s on %s into %s", len(items), model, backend, folder)
        return items

    def render_kwargs(item: dict[str, Any]) -> dict[str, Any]:
        return dict(item["render"])

    planned = plan()

    renders = SeedanceGenerateVideoOperator.partial(
        task_id="render",
        pool=POOL,
        deferrable=True,
        timeout=1800,
        # A retry reattaches to the same generation (never pays twice) unless it failed remotely.
        retries=2,
        retry_delay=timedelta(seconds=30),
        map_index_template="{{ task.output_path.rsplit('/', 1)[-1] }}",
    ).expand_kwargs(planned.map(render_kwargs))

    @task(outlets=[GALLERY])
    def gallery(items: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
        """Posters, ``index.html`` and ``manifest.json`` next to the videos; then the Asset event."""
        if not items:
            raise ValueError("nothing was planned: the brief has no products or channels")
        summary = items[0]["run"]
        folder = ObjectStoragePath(summary["folder"])
        # Index access (not iteration): the lazy sequence knows its length, no probing past the end.
        saved = [results[index] for index in range(len(results))]
        by_name = {str(r["output_path"]).rsplit("/", 1)[-1]: r for r in saved if r and r.get("output_path")}
        videos = []
        for item in items:
            result = by_name.get(f"{item['name']}.mp4")
            if result is None:
                raise RuntimeError(f"no saved video for {item['name']}")
            poster = f"posters/{item['name']}.jpg"
            has_poster = make_poster(folder / "videos" / f"{item['name']}.mp4", folder / poster)
            videos.append(
                {
                    **{k: v for k, v in item.items() if k not in ("render", "run")},
                    "file": f"videos/{item['name']}.mp4",
                    "poster": poster if has_poster else None,
                    "url": result["output_path"],
                    "prompt": result.get("prompt"),
                    "model": result.get("model") or summary["model"],
                    "backend": result.get("backend"),
                    "duration": result.get("duration"),
                    "credits": result.get("credits"),
                    "elapsed_s": result.get("elapsed_s"),
                    "size_bytes": result.get("size_bytes"),
                    "sha256": result.get("sha256"),
                    "generation_id": result.get("generation_id"),
                }
            )
        context = get_current_context()
        manifest = {
            **summary,
            "dag_id": context["dag"].dag_id,
            "run_id": context["run_id"],
            "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "gallery": "index.html",
            "total_credits": round(sum(v["credits"] or 0 for v in videos), 3),
            "total_render_s": round(sum(v["elapsed_s"] or 0 for v in videos), 1),
            "videos": videos,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        (folder / "index.html").write_text(render_html(manifest), encoding="utf-8")
        extra = {
            "gallery": str(folder / "index.html"),
            "manifest": str(folder / "manifest.json"),
            "folder": summary["folder"],
            "campaign": summary["campaign"],
            "videos": len(videos),
        }
        context["outlet_events"][GALLERY].extra = extra
        log.info("Gallery with %d videos: %s", len(videos), extra["gallery"])
        return extra

    gallery(planned, renders.output)


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
<p>{len(m["videos"])} videos with <b>{e(m["model"])}</b> on {e(m["backend"])}; {e(_fmt(m["total_credits"], "", 2))}
credits; {e(_fmt(m["total_render_s"], " s"))} of render time; generated {e(m["generated_at"])}
by {e(m["dag_id"])} ({e(m["run_id"])}). <a href="manifest.json">manifest.json</a></p>
</header>
{"".join(sections)}
</body>
</html>
"""


example_seedance_marketing_pipeline()
