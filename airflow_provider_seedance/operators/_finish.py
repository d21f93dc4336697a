"""What a task does once a generation has ended: check it, save the video, link it, emit asset events, and
return the result. Shared by the operator and the sensor, so both return the same ``VideoResult`` shape.

Failures become Airflow exceptions: permanent ones (``AirflowFailException``) skip the remaining retries,
transient ones let Airflow retry. A save that fails keeps the id and the link in XCom.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_seedance.contract.events import GenerationEvent, VideoResult
from airflow_provider_seedance.exceptions import SeedanceError, SeedanceGenerationError, SeedanceGenerationTimeout
from airflow_provider_seedance.hooks.seedance import SeedanceHook, raise_unless_succeeded
from airflow_provider_seedance.links import push_link
from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.runtime import _metrics as metrics
from airflow_provider_seedance.runtime._compat import AirflowException, AirflowFailException

UNSAVED_XCOM_KEY = "seedance_unsaved_result"


def video_result(generation: Generation, *, elapsed_s: float | None = None, **extra: Any) -> VideoResult:
    """The XCom result of a generation as known so far; ``extra`` adds or overrides fields (e.g. ``prompt``)."""
    fields: dict[str, Any] = {
        "generation_id": generation.id,
        "backend": generation.backend,
        "model": generation.model,
        "status": generation.state,
        "video_url": generation.video_url,
        "last_frame_url": generation.last_frame_url,
        "credits": generation.credits,
        "elapsed_s": round(elapsed_s, 3) if elapsed_s is not None else None,
        "draft": bool(generation.draft),
    }
    return VideoResult(**{**fields, **extra})


def as_airflow_error(exc: SeedanceError) -> AirflowException:
    """Permanent failures must not burn retries (a retry would pay again for the same refusal)."""
    cls = AirflowException if exc.retryable else AirflowFailException
    return cls(str(exc))


def generation_from_event(event: dict[str, Any]) -> tuple[Generation, float | None]:
    """Validate a trigger event against the closed set of statuses; the succeeded generation and elapsed s."""
    parsed = GenerationEvent.model_validate(event)
    if parsed.status == "success" and parsed.generation is not None:
        return parsed.generation, parsed.elapsed_s
    if parsed.status == "failed" and parsed.generation is not None:
        raise SeedanceGenerationError(parsed.message, parsed.generation)
    if parsed.status == "timeout":
        raise SeedanceGenerationTimeout(parsed.message, parsed.generation)
    raise SeedanceGenerationError(parsed.message, parsed.generation, retryable=parsed.retryable)


def finish(
    hook: SeedanceHook,
    generation: Generation,
    context: Any,
    *,
    output_path: Any,
    elapsed_s: float | None,
    outlets: list[Any],
    extra: dict[str, Any] | None = None,
    replace: bool = False,
    max_download_mb: float | None = None,
    download_deadline: float | None = None,
) -> dict[str, Any]:
    """Save the video (if asked), push the link, emit asset events, and return the XCom result.

    A generation that did not succeed raises its ``SeedanceError`` instead (the caller records it and raises
    its Airflow error: ``as_airflow_error``). A save that fails pushes ``seedance_unsaved_result`` (the id and
    the link) before raising; it is
    final where a retry would meet the same refusal (a URL the download guard refused, a video over
    ``max_download_mb``). ``download_deadline``: Unix time by which the transfer must have ended.
    """
    raise_unless_succeeded(generation)
    # the hook's connection is the one that rendered (the operator's extra says so too, with its fallbacks)
    result = video_result(
        generation, elapsed_s=elapsed_s, **{"seedance_conn_id": hook.seedance_conn_id, **(extra or {})}
    )
    push_link(context, generation.video_url)
    if output_path and generation.video_url:
        limits = {"max_download_mb": max_download_mb, "deadline": download_deadline}
        result = _save(hook, generation.video_url, result, context, output_path=output_path, replace=replace, **limits)
    elif output_path:
        raise AirflowException(f"generation {generation.id} succeeded without a video URL; nothing to save")
    _emit_asset_events(context, outlets, result)
    return result.to_xcom()


def _save(
    hook: SeedanceHook, url: str, result: VideoResult, context: Any, *, output_path: Any, **download: Any
) -> VideoResult:
    """Save the video; on any failure keep the id and the link in XCom (a retry, or a person, can still fetch
    it within 24 hours) and raise the error."""
    try:
        saved = hook.download_video(url, output_path, generation_id=result.generation_id, **download)
    except SeedanceError:
        context["ti"].xcom_push(key=UNSAVED_XCOM_KEY, value=result.to_xcom())
        raise
    if saved.rewritten:
        metrics.saved(result.backend, result.model, saved.size_bytes)
    hook.log.info(
        "Saved %s (%d bytes, sha256 %s)%s",
        saved.path,
        saved.size_bytes,
        saved.sha256,
        "" if saved.rewritten else ": identical file was already there",
    )
    if saved.path.startswith(("http://", "https://")):
        push_link(context, saved.path)
    return result.model_copy(update={"output_path": saved.path, "size_bytes": saved.size_bytes, "sha256": saved.sha256})


def _emit_asset_events(context: Any, outlets: list[Any], result: VideoResult) -> None:
    events = context.get("outlet_events")
    if events is None:
        return
    extra = {
        "generation_id": result.generation_id,
        "model": result.model,
        "sha256": result.sha256,
        "output_path": result.output_path,
        "credits": result.credits,
        "video_url": result.video_url,
    }
    for outlet in outlets:
        try:
            events[outlet].extra.update(extra)
        except (KeyError, TypeError, AttributeError):
            continue
