"""The operator's rendered arguments -> a ``VideoRequest``: URL lists from templates, empty means not given,
whole numbers from strings, and every type error named by its field.

Also which arguments are still templates, so that a DAG with literal arguments is validated while it parses.
"""

from __future__ import annotations

import ast
import json
from typing import Any

from pydantic import ValidationError

from airflow_provider_seedance.exceptions import SeedanceValidationError
from airflow_provider_seedance.models import VideoRequest

REQUEST_FIELDS = tuple(VideoRequest.model_fields)
URL_FIELDS = ("image_urls", "video_urls", "audio_urls")
BOOL_FIELDS = ("generate_audio", "camera_fixed", "watermark", "web_search", "return_last_frame", "draft")
#: Fields a template may render empty, meaning "not given".
OPTIONAL_TEXT_FIELDS = (
    "quality",
    "aspect_ratio",
    "service_tier",
    "callback_url",
    "safety_identifier",
    "output_format",
    "omni_reference_task_type",
    "draft_generation_id",
    *BOOL_FIELDS,
)
#: Whole-number fields a template renders as text.
INT_FIELDS = ("duration", "seed", "execution_expires_after", "priority", "frames")


def request_from_fields(values: dict[str, Any], model: str) -> VideoRequest:
    """The rendered fields as a ``VideoRequest``; a wrong type names the field."""
    values = dict(values)
    for name in URL_FIELDS:
        values[name] = rendered_url_list(name, values[name], model)
    for name in OPTIONAL_TEXT_FIELDS:
        if isinstance(values[name], str) and not values[name].strip():
            values[name] = None
    for name in INT_FIELDS:
        value = values[name]
        if isinstance(value, str):
            try:
                values[name] = int(value) if value.strip() else None
            except ValueError:
                raise SeedanceValidationError(name, value, "must be a whole number", model=model) from None
    try:
        return VideoRequest.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "request"
        raise SeedanceValidationError(field, error.get("input"), error["msg"], model=model) from None


def merged_fields(request: Any, named: dict[str, Any]) -> dict[str, Any]:
    """A whole ``request`` (a dict, a ``VideoRequest``, or a rendered JSON/Python dict literal) with the named
    arguments that were given laid over it: a named argument that is None, empty text or an empty list is
    not given. ``extra_params`` of both are merged, the named ones winning. A key of ``request`` that is no
    request field is refused, naming it."""
    base = request_dict(request)
    unknown = sorted(set(base) - set(REQUEST_FIELDS))
    if unknown:
        model = str(base.get("model") or named.get("model") or "")
        raise SeedanceValidationError(
            f"request.{unknown[0]}", base[unknown[0]], "is not a request field", model=model or None
        )
    merged = {name: base.get(name) for name in REQUEST_FIELDS}
    for name, value in named.items():
        if name == "extra_params":
            merged[name] = {**(base.get(name) or {}), **(value or {})}
        elif value is not None and value != "" and value != []:
            merged[name] = value
    for name in URL_FIELDS:
        merged[name] = [] if merged[name] is None else merged[name]
    merged["prompt"] = merged["prompt"] or ""
    merged["extra_params"] = merged["extra_params"] or {}
    return merged


def request_dict(request: Any) -> dict[str, Any]:
    """The ``request`` argument as a dict of fields (empty when not given)."""
    if request is None or request == "":
        return {}
    if isinstance(request, VideoRequest):
        return request.model_dump(exclude_defaults=True)
    if isinstance(request, str):
        try:
            request = ast.literal_eval(request.strip())
        except (ValueError, SyntaxError):
            try:
                request = json.loads(request)
            except ValueError:
                raise SeedanceValidationError("request", request, "must be a dict of request fields") from None
    if not isinstance(request, dict):
        raise SeedanceValidationError("request", request, "must be a dict of request fields or a VideoRequest")
    return dict(request)


def url_list_arg(value: Any) -> Any:
    """A URL-list argument as given: a list stays a list; a string (a template, or one URL) or an XComArg
    stays as it is until rendering."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return value


def rendered_url_list(field: str, value: Any, model: str) -> list[str]:
    """A rendered URL list: a list, one URL, a JSON/Python list literal (non-native templates), or empty."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            try:
                parsed = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise SeedanceValidationError(field, value, "must be a list of URLs", model=model) from None
            return [str(item) for item in parsed]
        return [text]
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    raise SeedanceValidationError(field, value, "must be a list of URLs", model=model)


def templated(value: Any) -> bool:
    """Whether an argument is (or holds) a template or an XComArg: known only at run time."""
    if isinstance(value, VideoRequest):
        return False
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, (list, tuple)):
        return any(templated(v) for v in value)
    if isinstance(value, dict):
        return any(templated(v) for v in value.values())
    return not isinstance(value, (int, float, bool, type(None)))
