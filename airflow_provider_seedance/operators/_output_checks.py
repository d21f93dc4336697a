"""Checks on an operator's ``output_path`` made before anything is submitted (and any credit spent).

A paid render must never be lost to a destination that cannot be written (a filesystem package missing on
the worker, a folder it may not create), and the renders of a mapped task must never all save to one file,
each overwriting the last.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.runtime.storage import OutputNotWritable, check_writable

HOW_TO_VARY = (
    "include {{ ti.map_index }} in the path (e.g. '/data/videos/{{ ds }}/teaser_{{ ti.map_index }}.mp4') "
    "or pass output_path per item in expand() / expand_kwargs()"
)


def check_output_path(output_path: Any, *, task_id: str, context: Any) -> None:
    """Raise ``SeedanceValidationError`` (field ``output_path``) naming what to fix, or return."""
    if not output_path:
        return
    problem = mapped_collision(context, task_id)
    if problem is None:
        try:
            check_writable(output_path)
        except OutputNotWritable as exc:
            problem = str(exc)
    if problem is not None:
        raise SeedanceValidationError("output_path", str(output_path), problem, task_id=task_id)


def mapped_collision(context: Any, task_id: str) -> str | None:
    """Why the instances of this mapped task would save to the same file; None when they cannot (or when
    the paths come from upstream XComs, which only the save itself can check)."""
    ti = context.get("ti")
    dag = context.get("dag")
    map_index = getattr(ti, "map_index", None)
    if dag is None or map_index is None or map_index < 0:
        return None
    mapped = getattr(dag, "task_dict", {}).get(task_id)
    partial = getattr(mapped, "partial_kwargs", None)
    expanded = getattr(getattr(mapped, "expand_input", None), "value", None)
    if partial is None or expanded is None:
        return None
    if partial.get("output_path") is not None:
        if varies_by_item(partial["output_path"]):
            return None
        return f"every mapped instance of this task would save to this one file, each replacing the last: {HOW_TO_VARY}"
    return _repeated_item_path(expanded)


def _repeated_item_path(expanded: Any) -> str | None:
    if isinstance(expanded, dict) and isinstance(expanded.get("output_path"), (list, tuple)):
        paths = list(expanded["output_path"])
        others = [v for k, v in expanded.items() if k != "output_path"]
        if any(not isinstance(v, (list, tuple, dict)) or len(v) > 1 for v in others) and not all(
            varies_by_item(p) for p in paths
        ):
            return (
                "expand() combines each output_path with every value of the other expanded arguments, so "
                f"several renders would share a file: {HOW_TO_VARY}"
            )
    elif isinstance(expanded, (list, tuple)) and all(isinstance(item, dict) for item in expanded):
        paths = [item.get("output_path") for item in expanded]
    else:
        return None
    repeated = [str(p) for p, n in Counter(str(p) for p in paths if p is not None).items() if n > 1]
    repeated = [p for p in repeated if not varies_by_item(p)]
    if repeated:
        return f"several mapped items save to {repeated[0]!r}, each replacing the last: {HOW_TO_VARY}"
    return None


def varies_by_item(template: Any) -> bool:
    """Whether a (templated) path renders differently for each map index: it names ``map_index`` or reads
    a per-item field of the task (``{{ task.prompt ... }}``)."""
    text = str(template)
    if "map_index" in text:
        return True
    if "{{" not in text and "{%" not in text:
        return False
    import jinja2
    from jinja2 import meta

    try:
        names = meta.find_undeclared_variables(jinja2.Environment(autoescape=False).parse(text))  # noqa: S701
    except jinja2.TemplateSyntaxError:
        return True  # rendering reports it
    return "task" in names
