"""OpenLineage facets of a generation: the media it read, the video it wrote, and a ``seedance`` run facet.

The operator's and the sensor's ``get_openlineage_facets_on_*`` methods call ``task_lineage``. This module
imports nothing of OpenLineage at module level: the classes come from the ``common.compat`` shims and the
OpenLineage provider inside the functions, and without the provider ``task_lineage`` returns None (Airflow
then calls nothing of ours anyway, since no listener is registered).

What is emitted, and what never is:

* inputs: every ``image_urls``, ``video_urls`` and ``audio_urls`` entry. An http(s) URL is namespace
  ``scheme://host[:port]`` and name its path, without user info, query string or fragment (a signed link
  carries its secret there). A ``data:`` URI is never emitted verbatim: it becomes namespace ``data`` and name
  ``<media type>;sha256=<hex digest of the decoded payload>``, which names the content without leaking it.
* output: the saved video, as its ``ObjectStoragePath`` names it (``s3://bucket`` + key; a local file is
  namespace ``file`` and its absolute path, as Airflow's file assets are). With no ``output_path``, the API's
  result link (query string stripped) is the output, since that is where the video is.
* run facet ``seedance``: backend, model, generation id, status, credits and render time (``elapsed_s``),
  the connection that rendered (``connId``: with ``fallback_conn_ids``, the one that accepted; backend and
  model are its) and the connections that refused the create before it (``refusedConnIds``).
  Never the API key, the prompt, or a URL's query string.

The batch operator calls ``batch_lineage``: the same inputs (every item's media, each once) and one output per
item that succeeded (its saved video, else its result link), at most ``MAX_DATASETS`` of each, and a run facet
``seedanceBatch``: backend, the number of items, of each status, the datasets left out, and the credits.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any
from urllib.parse import urlsplit

#: The run facet's key in the event's ``run.facets``.
RUN_FACET_KEY = "seedance"
#: The batch operator's run facet's key.
BATCH_FACET_KEY = "seedanceBatch"
#: Inputs, and outputs, one event names at most (a catalog's batch has thousands of items).
MAX_DATASETS = 1000


def url_dataset_name(url: str) -> tuple[str, str]:
    """An OpenLineage (namespace, name) for a media URL: no user info, query string or fragment; a ``data:``
    URI by its media type and the sha256 of its payload."""
    if url.startswith("data:"):
        header, _, payload = url[len("data:") :].partition(",")
        media_type = header.split(";", 1)[0] or "text/plain"
        try:
            content = base64.b64decode(payload, validate=False) if ";base64" in header else payload.encode()
        except (binascii.Error, ValueError):
            content = payload.encode()
        return "data", f"{media_type};sha256={hashlib.sha256(content).hexdigest()}"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    namespace = f"{parts.scheme}://{host}" if host else (parts.scheme or "file")
    return namespace, parts.path or "/"


def storage_dataset_name(path: str) -> tuple[str, str]:
    """An OpenLineage (namespace, name) for a saved file, as its ``ObjectStoragePath`` names it."""
    if path.startswith(("http://", "https://")):
        return url_dataset_name(path)
    from airflow_provider_seedance.runtime.storage import to_object_path

    target = to_object_path(path)
    if target.protocol in ("file", "local"):
        return "file", "/" + target.key.lstrip("/")
    # Airflow 3.1 keeps the storage connection id in the namespace (s3://aws_default@bucket); 3.3 does not
    scheme, sep, rest = str(target.namespace).partition("://")
    namespace = f"{scheme}://{rest.rpartition('@')[2]}" if sep else scheme
    return namespace, str(target.key)


def input_names(urls: Iterable[str]) -> list[tuple[str, str]]:
    """Each distinct media URL once, in order; what is not a URL (an unrendered template or XComArg) skipped."""
    names: list[tuple[str, str]] = []
    for url in urls:
        try:
            if not isinstance(url, str) or not (url.startswith("data:") or urlsplit(url).netloc):
                continue
            name = url_dataset_name(url)
        except ValueError:  # a malformed URL (bad port, bracket) names no dataset; lineage never fails a task
            continue
        names.append(name)
    return list(dict.fromkeys(names))  # each once, in order (a set: a batch has thousands)


def output_name(result: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """Where the video is: the saved file, else the API's result link; None before either exists."""
    if not result:
        return None
    if result.get("output_path"):
        return storage_dataset_name(str(result["output_path"]))
    if result.get("video_url"):
        return url_dataset_name(str(result["video_url"]))
    return None


def run_facet_fields(result: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The ``seedance`` run facet's fields from a ``VideoResult`` dict; None without a generation."""
    if not result or not result.get("generation_id"):
        return None
    return {
        "backend": result.get("backend"),
        "model": result.get("model"),
        "generationId": result.get("generation_id"),
        "status": result.get("status"),
        "credits": result.get("credits"),
        "renderTimeS": result.get("elapsed_s"),
        "connId": result.get("seedance_conn_id"),
        "refusedConnIds": [attempt.get("conn_id") for attempt in result.get("attempts") or []],
    }


@cache
def _run_facet_class() -> type[Any]:
    """``SeedanceRunFacet``, defined on first use: its base class exists only with OpenLineage installed."""
    import attr
    from airflow.providers.common.compat.openlineage.facet import RunFacet

    @attr.define
    class SeedanceRunFacet(RunFacet):  # type: ignore[misc, unused-ignore]
        """The generation behind this run: backend, model, id, status, credits, render time (s), the
        connection that rendered and those that refused the create before it."""

        backend: str | None = None
        model: str | None = None
        generationId: str | None = None
        status: str | None = None
        credits: float | None = None
        renderTimeS: float | None = None
        connId: str | None = None
        refusedConnIds: list[str] = attr.field(factory=list)

    SeedanceRunFacet.__module__ = __name__
    SeedanceRunFacet.__qualname__ = "SeedanceRunFacet"
    return SeedanceRunFacet


def task_lineage(input_urls: Iterable[str], result: Mapping[str, Any] | None) -> Any:
    """An ``OperatorLineage`` for a task that read ``input_urls`` and returned ``result`` (a ``VideoResult``
    dict, or None when it has none yet); None when the OpenLineage provider is not installed."""
    try:
        from airflow.providers.openlineage.extractors import OperatorLineage
    except ImportError:
        return None
    from airflow.providers.common.compat.openlineage.facet import InputDataset, OutputDataset

    inputs = [InputDataset(namespace=ns, name=name) for ns, name in input_names(input_urls)]
    output = output_name(result)
    outputs = [OutputDataset(namespace=output[0], name=output[1])] if output else []
    fields = run_facet_fields(result)
    run_facets = {RUN_FACET_KEY: _run_facet_class()(**fields)} if fields else {}
    return OperatorLineage(inputs=inputs, outputs=outputs, run_facets=run_facets)


@cache
def _batch_facet_class() -> type[Any]:
    """``SeedanceBatchRunFacet``, defined on first use, as ``SeedanceRunFacet``."""
    import attr
    from airflow.providers.common.compat.openlineage.facet import RunFacet

    @attr.define
    class SeedanceBatchRunFacet(RunFacet):  # type: ignore[misc, unused-ignore]
        """A batch task's renders: backend, items, how many ended in each status, the credits they cost, and
        the inputs and outputs left out of the event past ``MAX_DATASETS``."""

        backend: str | None = None
        items: int = 0
        statuses: dict[str, int] = attr.field(factory=dict)
        credits: float | None = None
        inputsOmitted: int = 0
        outputsOmitted: int = 0

    SeedanceBatchRunFacet.__module__ = __name__
    SeedanceBatchRunFacet.__qualname__ = "SeedanceBatchRunFacet"
    return SeedanceBatchRunFacet


def batch_lineage(input_urls: Iterable[str], results: Sequence[Mapping[str, Any]] | None, backend: str | None) -> Any:
    """An ``OperatorLineage`` for a batch task: the items' media in, one output per item that succeeded (of
    ``results``, the task's per-item result dicts; None before it has them); None without OpenLineage."""
    try:
        from airflow.providers.openlineage.extractors import OperatorLineage
    except ImportError:
        return None
    from airflow.providers.common.compat.openlineage.facet import InputDataset, OutputDataset

    inputs = input_names(input_urls)
    named = (output_name(result) for result in results or [] if result.get("status") == "succeeded")
    outputs = list(dict.fromkeys(name for name in named if name is not None))
    run_facets = {}
    if results is not None:
        statuses = dict(Counter(str(result.get("status")) for result in results))
        credits = [float(r["credits"]) for r in results if isinstance(r.get("credits"), (int, float))]
        run_facets[BATCH_FACET_KEY] = _batch_facet_class()(
            backend=backend,
            items=len(results),
            statuses=statuses,
            credits=round(sum(credits), 6) if credits else None,
            inputsOmitted=max(0, len(inputs) - MAX_DATASETS),
            outputsOmitted=max(0, len(outputs) - MAX_DATASETS),
        )
    return OperatorLineage(
        inputs=[InputDataset(namespace=ns, name=name) for ns, name in inputs[:MAX_DATASETS]],
        outputs=[OutputDataset(namespace=ns, name=name) for ns, name in outputs[:MAX_DATASETS]],
        run_facets=run_facets,
    )
