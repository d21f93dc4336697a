"""What the operator and the sensor do once a generation has ended: check, save, link, asset event, result.

Shared so both return the same ``VideoResult`` shape. Failures become Airflow exceptions: permanent ones
(``AirflowFailException``) skip the remaining retries, transient ones let Airflow retry.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperatorLink

from airflow_provider_seedance.compat import AirflowException, AirflowFailException
from airflow_provider_seedance.events import GenerationEvent, VideoResult
from airflow_provider_seedance.exceptions import SeedanceError, SeedanceGenerationError, SeedanceGenerationTimeout
from airflow_provider_seedance.hooks.seedance import SeedanceHook, raise_unless_succeeded
from airflow_provider_seedance.models import Generation

LINK_XCOM_KEY = "seedance_video_link"
ID_XCOM_KEY = "seedance_generation_id"


class SeedanceVideoLink(BaseOperatorLink):
    """Extra link "Seedance video": the saved video when it is http(s), else the API's result URL.

    On the worker (Airflow asks every link when a task ends) the operator itself holds the link it pushed,
    so a task that ended before it had one logs no "XCom not found" error; elsewhere the XCom is read.
    """

    name = "Seedance video"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        if hasattr(operator, "seedance_video_link"):
            return str(operator.seedance_video_link or "")
        from airflow.sdk.execution_time.xcom import XCom

        value = XCom.get_value(key=LINK_XCOM_KEY, ti_key=ti_key)
        return str(value) if value else ""


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


def push_link(context: Any, url: str | None) -> None:
    """The link in XCom (for the UI) and on the running operator (for ``SeedanceVideoLink`` at task end)."""
    if url:
        context["ti"].xcom_push(key=LINK_XCOM_KEY, value=url)
        task = context.get("task")
        if task is not None and hasattr(task, "seedance_video_link"):
            task.seedance_video_link = url


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
) -> dict[str, Any]:
    """Save the video (if asked), push the link, emit asset events, and return the XCom result.

    A generation that did not succeed raises its Airflow error instead (see ``as_airflow_error``). A save
    that fails for any reason pushes ``seedance_unsaved_result`` (the id and the link) before raising.
    """
    try:
        raise_unless_succeeded(generation)
    except SeedanceError as exc:
        raise as_airflow_error(exc) from None
    result = video_result(generation, elapsed_s=elapsed_s, **(extra or {}))
    push_link(context, generation.video_url)
    if output_path and generation.video_url:
        try:
            saved = hook.download_video(generation.video_url, output_path, generation_id=generation.id, replace=replace)
        except SeedanceError as exc:
            # Keep the id and the link in XCom: a retry (or a person) can still fetch it within 24 hours.
            context["ti"].xcom_push(key="seedance_unsaved_result", value=result.to_xcom())
            raise AirflowException(str(exc)) from None
        hook.log.info(
            "Saved %s (%d bytes, sha256 %s)%s",
            saved.path,
            saved.size_bytes,
            saved.sha256,
            "" if saved.rewritten else ": identical file was already there",
        )
        result = result.model_copy(
            update={"output_path": saved.path, "size_bytes": saved.size_bytes, "sha256": saved.sha256}
        )
        if saved.path.startswith(("http://", "https://")):
            push_link(context, saved.path)
    elif output_path:
        raise AirflowException(f"generation {generation.id} succeeded without a video URL; nothing to save")
    _emit_asset_events(context, outlets, result)
    return result.to_xcom()


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
