"""The gallery page of a campaign run: one static ``index.html`` with a player and a poster for every
rendered clip, its facts and its review, grouped by section; relative links only, so it works from a local
folder or any static host. Rendered from the packaged template ``templates/gallery.html``, every value
escaped. Pure apart from reading the template (jinja2, which Airflow brings).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jinja2

from airflow_provider_seedance.campaign.manifest import Clip, Manifest


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("airflow_provider_seedance.campaign", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("gallery.html")


def fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    """A figure for people: ``n/a`` for none, floats without trailing zeros."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        value = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return f"{value}{unit}"


def spend_words(manifest: Manifest) -> str:
    """The header's words after "Spent N credits": the budget and the estimate, or that there was none (an
    estimate with no known price is no estimate)."""
    budget = manifest.budget
    known = bool(budget.estimate) and "counted as 0" not in budget.estimated_how
    estimated = f"estimated before the run: {fmt(budget.estimate, '', 2)}" if known else "not estimated"
    if budget.max_credits is None:
        return f"; no budget, {estimated}"
    return f" of a budget of {fmt(budget.max_credits, '', 2)} ({estimated})"


def _sections(clips: list[Clip]) -> list[dict[str, Any]]:
    grouped: dict[str, list[Clip]] = {}
    for clip in clips:
        if clip.rendered:
            grouped.setdefault(clip.section or clip.aspect_ratio or "", []).append(clip)
    sections = []
    for title, entries in grouped.items():
        ratio = entries[0].aspect_ratio or ""
        width, height = (int(n) for n in ratio.split(":")) if re.fullmatch(r"\d+:\d+", ratio) else (16, 9)
        minimum = 200 if width < height else 300 if width == height else 360
        shape = f"aspect-ratio: {width} / {height}"
        sections.append({"title": title, "ratio": ratio, "clips": entries, "minimum": minimum, "shape": shape})
    return sections


def render_gallery(manifest: Manifest, clips: list[Clip] | None = None, player: str = "") -> str:
    """The page of ``manifest`` showing ``clips`` (default: all of them); ``player``, when given, is the
    run's Seedance page in Airflow, linked from the header."""
    shown = manifest.videos if clips is None else clips
    page = manifest.model_copy(update={"videos": shown})
    values = {"sections": _sections(shown), "spend": spend_words(manifest), "fmt": fmt, "player": player}
    return _template().render(m=page, **values)
