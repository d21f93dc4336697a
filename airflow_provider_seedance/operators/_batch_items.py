"""A batch's items checked before any create: each request built and validated as the single operator does
(``_request_fields``, ``SeedanceHook.prepare``), and on every fallback connection (``_batch_routes``), each
item's output path formatted from the template; every refusal named by the item's index and field, all at once.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_seedance.contract.batch import item_digest
from airflow_provider_seedance.contract.limits import with_vendor_expiry
from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.models import VideoRequest
from airflow_provider_seedance.operators._batch_routes import BatchConnections, Leg
from airflow_provider_seedance.operators._request_fields import (
    REQUEST_FIELDS,
    merged_fields,
    request_dict,
    request_from_fields,
)
from airflow_provider_seedance.runtime.storage import OutputNotWritable, check_writable

#: The one item key that is no request field: the item's name, for ``{name}`` in ``output_path``.
NAME_KEY = "name"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")
#: The placeholders ``output_path`` may hold (``str.format`` fields, filled per item after Jinja rendering).
PLACEHOLDERS = ("item_index", "name")
#: How many refused items the error message names (the log lists every one).
MAX_NAMED = 20


@dataclass(frozen=True)
class BatchItem:
    """One item, validated: its place in ``requests``, its name, its request, digest and output path, and its
    request and digest on each fallback connection."""

    index: int
    name: str | None
    request: VideoRequest
    digest: str
    output_path: str | None
    fallbacks: tuple[Leg, ...] = ()

    @property
    def legs(self) -> tuple[Leg, ...]:
        """Its request and digest on every connection it may be created on: the task's own first."""
        return ((self.request, self.digest), *self.fallbacks)

    def model_on(self, conn_index: int) -> str | None:
        """The model it renders on that connection; None where its request there was not built (a connection no
        longer listed, or any fallback on resume: the API's answer names the model)."""
        legs = self.legs
        return legs[conn_index][0].model if 0 <= conn_index < len(legs) else None


def batch_items(
    requests: Any,
    *,
    defaults: Any,
    hook: SeedanceHook,
    output_path: Any,
    seconds_left: float,
    connections: BatchConnections | None = None,
    log: Any = None,
) -> tuple[list[BatchItem], list[SeedanceValidationError]]:
    """Every item built and validated (on each fallback of ``connections`` too: a refusal names the fallback);
    the refusals, one per bad item, each field named ``requests[i].field``."""
    values = request_list(requests)
    base = _defaults(defaults)
    template = output_template(output_path)
    items: list[BatchItem] = []
    errors: list[SeedanceValidationError] = []
    names: dict[str, int] = {}

    def legs_of(checked: VideoRequest) -> tuple[Leg, ...]:
        if connections is None or len(connections.listed_hooks) == 1:
            return ()
        return connections.fallback_legs(checked, seconds_left, log)

    for index, value in enumerate(values):
        try:
            item = _item(index, value, base, hook, template, seconds_left, legs_of)
            if item.name is not None and names.setdefault(item.name, index) != index:
                raise SeedanceValidationError(NAME_KEY, item.name, f"is also the name of item {names[item.name]}")
            items.append(item)
        except SeedanceValidationError as exc:
            errors.append(at_index(index, exc))
    return items, errors


class BatchRefusal(SeedanceValidationError):
    """Items refused before any create: how many of how many, then the first ``MAX_NAMED`` of them by index and
    field (the log lists every one)."""

    def __init__(self, errors: list[SeedanceValidationError], total: int, *, task_id: str | None = None) -> None:
        shown = SeedanceValidationError.combined(errors[:MAX_NAMED])
        super().__init__(shown.field, shown.value, shown.limit, model=shown.model, task_id=task_id, others=shown.others)
        self.refused, self.total = len(errors), total
        hidden = len(errors) - MAX_NAMED
        more = f" (the first {MAX_NAMED} named here, all in the task log)" if hidden > 0 else ""
        self.args = (f"{len(errors)} of {total} items refused, nothing was submitted{more}: {self.args[0]}",)


def request_list(requests: Any) -> list[Any]:
    if isinstance(requests, (str, bytes, dict)) or not isinstance(requests, Sequence):
        raise SeedanceValidationError("requests", requests, "must be a list of request dicts")
    return list(requests)


def _defaults(defaults: Any) -> dict[str, Any]:
    try:
        return merged_fields(defaults, {})
    except SeedanceValidationError as exc:
        raise SeedanceValidationError(exc.field.replace("request", "defaults", 1), exc.value, exc.limit) from None


def _item(
    index: int,
    value: Any,
    base: dict[str, Any],
    hook: SeedanceHook,
    template: str | None,
    seconds_left: float,
    legs_of: Callable[[VideoRequest], tuple[Leg, ...]],
) -> BatchItem:
    given = request_dict(value)
    name = given.pop(NAME_KEY, None)
    if name is not None and not (isinstance(name, str) and NAME_PATTERN.fullmatch(name)):
        raise SeedanceValidationError(NAME_KEY, name, "must be 1-120 letters, digits, '.', '_' or '-'")
    unknown = sorted(set(given) - set(REQUEST_FIELDS))
    if unknown:
        raise SeedanceValidationError(unknown[0], given[unknown[0]], f"is not a request field (nor {NAME_KEY!r})")
    fields = merged_fields(base, given)
    if not fields.get("model"):
        raise SeedanceValidationError("model", None, "is missing: give it in the item or in defaults=")
    request = request_from_fields(fields, str(fields["model"]))
    checked = hook.prepare(request, hook.backend)
    fallbacks = legs_of(checked)  # from the request as given: a fallback sets its own vendor expiry, if any
    request = with_vendor_expiry(hook.backend.name, checked, seconds_left, hook.declared_models(hook.backend))
    path = item_path(template, index, name)
    return BatchItem(index, name, request, item_digest(hook.backend.name, request), path, fallbacks)


def at_index(index: int, exc: SeedanceValidationError) -> SeedanceValidationError:
    """``exc`` with each field it names prefixed by the item's place: ``requests[3].duration``."""
    field = exc.field.removeprefix("request.") if exc.field != "request" else ""
    where = f"requests[{index}]" + (f".{field}" if field else "")
    others = tuple(at_index(index, other) for other in exc.others)
    return SeedanceValidationError(where, exc.value, exc.limit, model=exc.model, others=others)


def output_template(output_path: Any) -> str | None:
    """``output_path`` (rendered by Jinja already) as a ``str.format`` template naming ``{item_index}`` or
    ``{name}``: one file per item; None keeps only the API's result links."""
    if output_path is None or output_path == "":
        return None
    template = str(output_path)
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError as exc:
        raise SeedanceValidationError("output_path", template, f"is not a valid template: {exc}") from None
    unknown = sorted(fields - set(PLACEHOLDERS))
    if unknown:
        raise SeedanceValidationError(
            "output_path", template, f"names {{{unknown[0]}}}; only {{item_index}} and {{name}} are filled per item"
        )
    if not fields:
        raise SeedanceValidationError(
            "output_path", template, "is one file for every item: include {item_index} or {name}"
        )
    return template


def item_path(template: str | None, index: int, name: str | None) -> str | None:
    if template is None:
        return None
    if name is None and "{name}" in template:
        raise SeedanceValidationError(NAME_KEY, None, "is missing: output_path names {name}")
    return template.format_map({"item_index": index, "name": name})


def check_folders(items: list[BatchItem], task_id: str) -> None:
    """Each distinct folder of the items' output paths proved writable once, before anything is paid for."""
    checked: set[str] = set()
    for item in items:
        if item.output_path is None:
            continue
        folder = item.output_path.rsplit("/", 1)[0]
        if folder in checked:
            continue
        checked.add(folder)
        try:
            check_writable(item.output_path)
        except OutputNotWritable as exc:
            raise SeedanceValidationError(
                f"requests[{item.index}].output_path", item.output_path, str(exc), task_id=task_id
            ) from None
