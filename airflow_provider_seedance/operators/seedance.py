"""SeedanceGenerateVideoOperator: validate, submit once, defer (or poll), save the video, return a result.

Submit once: the generation id is persisted in the task state store (Airflow 3.3+) the moment the API
returns it, and EvoLink's create call carries an ``Idempotency-Key`` derived from the task instance and
the request. A retry reattaches to a queued, running or succeeded generation and resubmits only when the
previous one failed, was cancelled or expired, or succeeded so long ago that its result link has expired.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_seedance.contract._status import is_permanent_failure
from airflow_provider_seedance.contract.limits import backends_for_model, validate_request
from airflow_provider_seedance.contract.submission import SubmissionState, request_hash
from airflow_provider_seedance.exceptions import (
    SeedanceError,
    SeedanceGenerationTimeout,
    SeedanceNotFoundError,
    SeedanceValidationError,
    failure_reason,
)
from airflow_provider_seedance.hooks.seedance import DEFAULT_GENERATION_TIMEOUT, SeedanceHook, transfer_deadline
from airflow_provider_seedance.links import ID_XCOM_KEY, LINK_XCOM_KEY, SeedanceVideoLink
from airflow_provider_seedance.models import Generation, VideoRequest
from airflow_provider_seedance.operators._fallbacks import (
    Leg,
    accepted_hook,
    fallback_args,
    plan_legs,
    recalled_route,
    remember_route,
    route_facts,
    submit_in_turn,
    with_deadline,
)
from airflow_provider_seedance.operators._finish import as_airflow_error, finish, generation_from_event, video_result
from airflow_provider_seedance.operators._output_checks import check_output_path
from airflow_provider_seedance.operators._request_fields import (
    REQUEST_FIELDS,
    merged_fields,
    request_from_fields,
    templated,
    url_list_arg,
)
from airflow_provider_seedance.polling._plan import PollPlan
from airflow_provider_seedance.polling._render_memory import render_spec
from airflow_provider_seedance.polling._run_history import WarmStart, warm_start
from airflow_provider_seedance.runtime._compat import AirflowSkipException, default_deferrable
from airflow_provider_seedance.runtime._lineage import task_lineage
from airflow_provider_seedance.triggers.seedance import SeedanceGenerationTrigger
from airflow_provider_seedance.wire.backends import get_backend

if TYPE_CHECKING:
    from airflow.sdk import Context

#: Result links live 24 hours; an older succeeded generation is not reattached to (its video is gone).
LINK_LIFETIME_S = 23 * 3600.0
#: The XCom key of the reason a ``spend_check`` gave for skipping the task (nothing was submitted).
SKIPPED_XCOM_KEY = "seedance_skipped"
#: Why the task's render failed (``exceptions.failure_reason``), with its backend, connection and generation.
FAILURE_XCOM_KEY = "seedance_failure"
#: Said with every deferral: nothing polls a deferred render without a triggerer, and Airflow says nothing.
TRIGGERER_HINT = (
    "Only a running triggerer polls it: if this task stays deferred, start one (`airflow triggerer`) for this "
    "deployment"
)
#: Said when a task polls on its worker only because the deployment's default is off.
WORKER_POLLING_HINT = (
    "Polling on this worker, holding its slot for the whole render: this task does not set deferrable and "
    "[operators] default_deferrable is off. Where a triggerer runs, set AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE=True "
    "(or pass deferrable=True) to wait in the triggerer instead; pass deferrable=False to keep polling here "
    "without this warning"
)
#: How many consecutive idempotency keys may replay a failed task before giving up (EvoLink, no state store).
MAX_REPLAYED_FAILURES = 8


class SeedanceGenerateVideoOperator(BaseOperator):
    """Generate one video with Seedance (text-, image- or reference-to-video) and save it.

    The request is ``request`` (templated: a dict of request fields or a ``VideoRequest``, so that a mapped
    task can ``.expand(request=[...])``) with the named arguments laid over it: each one given (not None,
    empty text or an empty list) replaces the request's field, and ``extra_params`` are merged. A request
    key that is no request field is refused, naming it. Every field is validated per model either way.

    Request fields (``model``, ``prompt``, ``image_urls``, ``video_urls``, ``audio_urls``, ``duration``,
    ``quality``, ``aspect_ratio``, ``generate_audio``, ``seed``, ``camera_fixed``, ``watermark``,
    ``web_search``, ``return_last_frame``, ``service_tier``, ``callback_url``, ``extra_params``) are the
    provider's one vocabulary for every backend, checked against the model's limits before any request.
    BytePlus ModelArk also takes ``execution_expires_after`` (default: the time left until ``timeout``, within
    3600-259200 s), ``priority``, ``safety_identifier``, ``frames``, ``output_format``,
    ``omni_reference_task_type``, ``draft`` (a cheap 480p draft) and ``draft_generation_id`` (templated: a final
    render from a reviewed draft's generation id); other backends refuse them before any request.

    :param seedance_conn_id: connection of type ``seedance`` (templated).
    :param output_path: where to save the MP4: a local path, a URL (``file://``, ``s3://bucket/...``)
        or an ``ObjectStoragePath``. None keeps only the API's result link (valid 24 hours). Checked
        before submitting: its filesystem must be installed and its folder writable, and a mapped task's
        instances must not share one path.
    :param replace: replace a different file already at ``output_path`` (default False: the save fails,
        keeping the id and the link in the ``seedance_unsaved_result`` XCom).
    :param max_download_mb: the largest video saved, in MiB (default: the connection's extra
        ``max_download_mb``, else 1024); a larger one is not saved, with or without a ``Content-Length``.
    :param download_timeout: seconds the video's transfer may take; default: until the task's deadline
        (``timeout`` from the submit), at least 60 s.
    :param deferrable: wait in the triggerer, holding no worker slot. Defaults to Airflow's
        ``[operators] default_deferrable`` (False unless the deployment sets it), as in the official
        providers: set it to True where a triggerer runs, or pass ``deferrable=True`` per task. A task that
        polls on its worker only because that default is off says so in its log, with the fix; every deferral
        line says that only a running triggerer polls the render.
    :param poll_interval: fixed seconds between polls; None (default) polls adaptively.
    :param timeout: wall-clock seconds for the whole generation (default 3600); then it is cancelled
        where the backend can cancel, and the task fails naming the generation id, without retries
        (a retry would pay again or wait on a deadline already passed).
    :param wait_for_completion: False returns right after submitting (pair with the sensor).
    :param cancel_on_kill: cancel the remote generation when the task is killed.
    :param fallback_conn_ids: connections to submit to, in order, when the create on the one before was
        refused for sure (402 no credits, 401/403, 429 after retries, a connection that failed before
        sending, the model not offered there); never when the create may have landed (templated).
    :param fallback_models: the model each fallback renders, by connection id or backend name (templated);
        else the provider's equivalent of ``model`` on that backend, else the connection's
        ``extra.default_model``. Every fallback's request is validated before anything is sent.
    :param spend_check: called as ``spend_check(context, request)`` right before a create would be sent (not
        when a retry reattaches, not after the trigger): a string skips the task with that reason, pushed
        to the ``seedance_skipped`` XCom, and nothing is submitted; None submits. For a budget shared by a
        run's renders (see ``airflow_provider_seedance.contract.budget.spend_refusal``).
    """

    template_fields: Sequence[str] = (
        "seedance_conn_id",
        "request",
        "model",
        "prompt",
        "image_urls",
        "video_urls",
        "audio_urls",
        "duration",
        "quality",
        "aspect_ratio",
        "generate_audio",
        "seed",
        "camera_fixed",
        "watermark",
        "web_search",
        "return_last_frame",
        "callback_url",
        "service_tier",
        "execution_expires_after",
        "priority",
        "safety_identifier",
        "frames",
        "output_format",
        "omni_reference_task_type",
        "draft",
        "draft_generation_id",
        "extra_params",
        "output_path",
        "fallback_conn_ids",
        "fallback_models",
    )
    template_fields_renderers = {"prompt": "md", "extra_params": "json", "fallback_models": "json"}
    operator_extra_links = (SeedanceVideoLink(),)
    #: The link the task has so far (read by ``SeedanceVideoLink`` when the task ends).
    seedance_video_link: str | None = None
    ui_color = "#1f2a44"
    ui_fgcolor = "#ffffff"

    def __init__(
        self,
        *,
        request: dict[str, Any] | VideoRequest | str | None = None,
        model: str | None = None,
        prompt: str = "",
        image_urls: Sequence[str] | None = None,
        video_urls: Sequence[str] | None = None,
        audio_urls: Sequence[str] | None = None,
        duration: int | str | None = None,
        quality: str | None = None,
        aspect_ratio: str | None = None,
        generate_audio: bool | None = None,
        seed: int | str | None = None,
        camera_fixed: bool | None = None,
        watermark: bool | None = None,
        web_search: bool | None = None,
        return_last_frame: bool | None = None,
        service_tier: str | None = None,
        callback_url: str | None = None,
        execution_expires_after: int | str | None = None,
        priority: int | str | None = None,
        safety_identifier: str | None = None,
        frames: int | str | None = None,
        output_format: str | None = None,
        omni_reference_task_type: str | None = None,
        draft: bool | None = None,
        draft_generation_id: str | None = None,
        extra_params: dict[str, Any] | None = None,
        seedance_conn_id: str = SeedanceHook.default_conn_name,
        output_path: Any = None,
        replace: bool = False,
        max_download_mb: float | None = None,
        download_timeout: float | None = None,
        deferrable: bool | None = None,
        poll_interval: float | None = None,
        timeout: float | None = None,
        wait_for_completion: bool = True,
        cancel_on_kill: bool = True,
        fallback_conn_ids: Sequence[str] | str | None = None,
        fallback_models: dict[str, str] | str | None = None,
        spend_check: Callable[[Any, VideoRequest], str | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.request = request
        self.model = model
        self.prompt = prompt
        # A string (a template, or one URL) or an XComArg stays as given; it becomes a list after rendering.
        self.image_urls = url_list_arg(image_urls)
        self.video_urls = url_list_arg(video_urls)
        self.audio_urls = url_list_arg(audio_urls)
        self.duration = duration
        self.quality = quality
        self.aspect_ratio = aspect_ratio
        self.generate_audio = generate_audio
        self.seed = seed
        self.camera_fixed = camera_fixed
        self.watermark = watermark
        self.web_search = web_search
        self.return_last_frame = return_last_frame
        self.service_tier = service_tier
        self.callback_url = callback_url
        self.execution_expires_after, self.priority, self.frames = execution_expires_after, priority, frames
        self.safety_identifier, self.output_format = safety_identifier, output_format
        self.omni_reference_task_type = omni_reference_task_type
        self.draft, self.draft_generation_id = draft, draft_generation_id
        self.extra_params = dict(extra_params or {})
        self.seedance_conn_id = seedance_conn_id
        self.output_path, self.replace, self.spend_check = output_path, replace, spend_check
        self.max_download_mb, self.download_timeout = max_download_mb, download_timeout
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self._deferrable_from_default = deferrable is None
        self.poll_interval = poll_interval
        self.generation_timeout = float(timeout) if timeout is not None else DEFAULT_GENERATION_TIMEOUT
        self.wait_for_completion = wait_for_completion
        self.cancel_on_kill = cancel_on_kill
        self.fallback_conn_ids, self.fallback_models = fallback_args(fallback_conn_ids, fallback_models)
        self._accepted_conn_id: str | None = None  # the connection whose generation this instance waits on
        self._route: dict[str, Any] = {}  # that connection and the refusals before it, for the result
        self._generation_id: str | None = None
        self._result: dict[str, Any] | None = None  # what this instance returned (read for OpenLineage)
        self._validate_literal_request()

    # -- request ------------------------------------------------------------------------------------

    def build_request(self) -> VideoRequest:
        """``request`` with the named arguments laid over it, rendered, as a ``VideoRequest``; a wrong type
        names the field."""
        fields = merged_fields(self.request, {name: getattr(self, name) for name in REQUEST_FIELDS})
        if not fields.get("model"):
            raise SeedanceValidationError("model", None, "is missing: give model= or a request with a model")
        return request_from_fields(fields, str(fields["model"]))

    def _validate_literal_request(self) -> None:
        """At DAG parse time, where nothing is templated and the model names one backend, fail early."""
        if templated(self.request) or any(templated(getattr(self, name)) for name in REQUEST_FIELDS):
            return
        try:
            request = self.build_request()
            backends = backends_for_model(request.model)
            if len(backends) == 1:
                validate_request(get_backend(backends[0]), request)
        except SeedanceValidationError as exc:
            raise exc.in_task(self.task_id) from None

    @property
    def hook(self) -> SeedanceHook:
        return SeedanceHook(self.seedance_conn_id)

    def _hook_for(self, conn_id: str | None) -> SeedanceHook:
        """The hook of ``conn_id``: ``self.hook`` (which a subclass may override) for the task's own connection,
        a plain one for a fallback connection that accepted the create."""
        return self.hook if conn_id in (None, self.seedance_conn_id) else SeedanceHook(conn_id)

    # -- execution ----------------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        try:
            return self._execute(context)
        except SeedanceError as exc:
            self._record_failure(context, exc)
            raise as_airflow_error(exc) from None

    def _record_failure(self, context: Context, exc: SeedanceError) -> None:
        """Leave why this render failed (a reason word, the connection, the generation; never the message) for
        the Seedance tab's failures by backend and reason. Never raises: the task fails with ``exc`` anyway."""
        backend = getattr(exc, "backend", None) or getattr(getattr(exc, "generation", None), "backend", None)
        conn_id = self._route.get("seedance_conn_id") or self._accepted_conn_id or self.seedance_conn_id
        with contextlib.suppress(Exception):
            backend = backend or self._hook_for(conn_id).backend.name
        with contextlib.suppress(Exception):
            facts = {"reason": failure_reason(exc), "backend": backend, "seedance_conn_id": conn_id}
            context["ti"].xcom_push(key=FAILURE_XCOM_KEY, value={**facts, "generation_id": self._generation_id})

    def _execute(self, context: Context) -> Any:
        hook = self.hook
        request = hook.prepare(self.build_request(), hook.backend)  # validated once per execute
        legs = plan_legs(hook, request, self.fallback_conn_ids, self.fallback_models, self.log)  # fallbacks too
        # The vendor's own expiry (ModelArk) follows our deadline, set per connection tried.
        legs = with_deadline(legs, seconds_left=self.generation_timeout)
        check_output_path(self.output_path, task_id=self.task_id, context=context)
        generation, state = self._attach_or_submit(legs, context)
        hook, model = accepted_hook(legs, state)
        request = request.model_copy(update={"model": model or request.model})
        self._accepted_conn_id, self._route = hook.seedance_conn_id, route_facts(hook.seedance_conn_id, state.attempts)
        remember_route(context, self._route, bool(self.fallback_conn_ids))
        self._generation_id = generation.id
        context["ti"].xcom_push(key=ID_XCOM_KEY, value=generation.id)
        context["ti"].xcom_push(key=LINK_XCOM_KEY, value=generation.video_url or "")
        self.seedance_video_link = generation.video_url
        if generation.state == "succeeded":
            return self._finish(hook, generation, context, time.time() - state.submitted_at, request, state.deadline)
        if not self.wait_for_completion:
            facts = {**_request_facts(request), **self._route}
            self._result = video_result(generation, model=request.model, **facts).to_xcom()
            return self._result
        return self._wait(hook, generation, state, request, context)

    def _attach_or_submit(self, legs: list[Leg], context: Context) -> tuple[Generation, SubmissionState]:
        """The previous try's generation (on whichever connection accepted it) when it is still worth waiting
        for, else a new one, on the first connection that accepts, persisted the moment the API returns its id."""
        hook, request = legs[0][0], legs[0][1].request
        digest = request_hash(hook.backend.name, request)
        store = context.get("task_state_store")
        state = SubmissionState.load(store, digest)
        generation = self._reattach(accepted_hook(legs, state)[0], state)
        if generation is not None:
            return generation, state
        self._check_spend(context, request)

        def submit(leg_hook: SeedanceHook, leg_request: VideoRequest) -> tuple[Generation, int]:
            leg_digest = digest if leg_hook is hook else request_hash(leg_hook.backend.name, leg_request)
            return self._submit(leg_hook, leg_request, context, leg_digest, state.submissions)

        (hook, route), generation, submissions, attempts = submit_in_turn(legs, submit, self.log)
        now = time.time()
        state = SubmissionState(
            generation_id=generation.id,
            backend=hook.backend.name,
            request_hash=digest,
            submissions=submissions,
            submitted_at=now,
            deadline=now + self.generation_timeout,
            conn_id=route.conn_id,
            model=route.request.model,
            attempts=tuple(attempt.model_dump() for attempt in attempts),
        )
        state.save(store)
        self.log.info(
            "Submitted Seedance generation %s (%s, %s)", generation.id, hook.backend.name, route.request.model
        )
        return generation, state

    def _wait(
        self,
        hook: SeedanceHook,
        generation: Generation,
        state: SubmissionState,
        request: VideoRequest,
        context: Context,
    ) -> Any:
        """Defer to the triggerer (the default), or poll on this worker until the deadline; either starts from
        the render times earlier runs of this task left (``_run_history``)."""
        warm = warm_start(context, hook.backend.name, request, self.log)
        if self.deferrable:
            self.log.info("%s", deferral_line(generation, state, self.poll_interval, warm))
            self.defer(
                trigger=SeedanceGenerationTrigger(
                    generation_id=generation.id,
                    seedance_conn_id=hook.seedance_conn_id,
                    deadline=state.deadline,
                    started_at=state.submitted_at,
                    poll_interval=self.poll_interval,
                    estimated_time=generation.estimated_time_s,
                    cancel_on_kill=self.cancel_on_kill,
                    backend=hook.backend.name,
                    render_spec=render_spec(request),
                    **warm.trigger_kwargs(),
                ),
                method_name="execute_complete",
                # Our trigger enforces the deadline itself: an Airflow defer timeout would skip both
                # execute_complete and the cancellation.
                timeout=None,
            )
        if self._deferrable_from_default:
            self.log.warning("%s", WORKER_POLLING_HINT)
        try:
            generation = hook.wait_for_generation(
                generation.id,
                timeout=max(1.0, state.deadline - time.time()),
                poll_interval=self.poll_interval,
                estimated_time=generation.estimated_time_s,
                render_spec=render_spec(request),
                typical_time=warm.typical,
            )
        except SeedanceGenerationTimeout as exc:
            outcome = hook.cancel_if_queued(generation.id, exc.generation)
            raise SeedanceGenerationTimeout(f"{exc}; {outcome}", exc.generation) from None
        elapsed = time.time() - state.submitted_at
        times = warm.result_fields(hook.last_render_s)
        return self._finish(hook, generation, context, elapsed, request, state.deadline, times)

    def _submit(
        self, hook: SeedanceHook, request: VideoRequest, context: Context, digest: str, submissions: int
    ) -> tuple[Generation, int]:
        """Create the generation; returns it and its submission number (part of the idempotency key).

        Without a task state store (Airflow < 3.3) the number restarts at 1 on every try, so EvoLink replays
        the task an earlier try made with that key; one that ended without a video (transiently) is skipped
        by moving on to the next key, as a state store would have.
        """
        for _ in range(MAX_REPLAYED_FAILURES):
            submissions += 1
            key = idempotency_key(context, digest, submissions)
            generation = hook.submit(request, idempotency_key=key, validate=False)
            ended = generation.is_terminal and generation.state != "succeeded"
            if not (ended and hook.backend.supports_idempotency) or is_permanent_failure(generation):
                return generation, submissions
            self.log.warning("Key %d replayed an earlier try's %s; submitting anew", submissions, generation.describe())
        return generation, submissions

    def _check_spend(self, context: Context, request: VideoRequest) -> None:
        """``spend_check`` before a create: a reason skips the task, kept in XCom; nothing is sent."""
        reason = self.spend_check(context, request) if self.spend_check is not None else None
        if reason:
            context["ti"].xcom_push(key=SKIPPED_XCOM_KEY, value=str(reason))
            raise AirflowSkipException(str(reason))

    def _reattach(self, hook: SeedanceHook, state: SubmissionState) -> Generation | None:
        """The previous attempt's generation when it is still worth waiting for; None to submit anew."""
        if not state.generation_id:
            return None
        age = time.time() - state.submitted_at
        earlier = state.completion()
        try:
            generation = hook.get_generation(state.generation_id)
        except SeedanceNotFoundError:
            if earlier is not None and age <= LINK_LIFETIME_S:
                self.log.warning(
                    "Generation %s is now unknown to the API, which reported it succeeded with a video: keeping "
                    "that completion and its link instead of paying again",
                    state.generation_id,
                )
                return earlier
            self.log.warning("Stored generation %s is unknown to the API; submitting again", state.generation_id)
            return None
        if earlier is not None and generation.state != "succeeded" and age <= LINK_LIFETIME_S:
            self.log.warning(
                "Generation %s: the API reported it succeeded %.0f s ago with a video, and now reports it %s (%s); "
                "keeping the first completion and its video link",
                generation.id,
                time.time() - (state.completed_at or state.submitted_at),
                generation.state,
                generation.status,
            )
            return earlier
        if generation.state == "succeeded" and age > LINK_LIFETIME_S:
            self.log.warning(
                "Stored generation %s is %.0f h old: its link has expired; submitting again",
                generation.id,
                age / 3600,
            )
            return None
        if generation.state in ("queued", "running", "succeeded"):
            self.log.info("Reattaching to generation %s (%s) from a previous attempt", generation.id, generation.state)
            return generation
        self.log.warning("Previous %s; submitting again", generation.describe())
        return None

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Back on a worker after the trigger fired: validate the event, then save and return."""
        self._generation_id = str(event.get("generation_id") or "") or None
        try:
            generation, elapsed = generation_from_event(event)
            self._route = recalled_route(context, self.seedance_conn_id, bool(self.fallback_conn_ids))
            hook, request = self._hook_for(self._route["seedance_conn_id"]), self.build_request()
            warm = warm_start(context, hook.backend.name, request, self.log)  # the same read as before deferring
            times = warm.result_fields(event.get("render_s"))
            return self._finish(hook, generation, context, elapsed, request, event.get("deadline"), times)
        except SeedanceError as exc:
            self._record_failure(context, exc)
            raise as_airflow_error(exc) from None

    def _finish(
        self,
        hook: SeedanceHook,
        generation: Generation,
        context: Context,
        elapsed: float | None,
        request: VideoRequest,
        deadline: float | None,
        render_times: dict[str, Any] | None = None,
    ) -> Any:
        """``deadline``: the task's (Unix time; None when an older triggerer did not say), which the video's
        transfer must keep to unless ``download_timeout`` says otherwise. The success is recorded in the task
        state store first, so a retry keeps it whatever the API says later."""
        self._remember_completion(context, generation)
        self._result = finish(
            hook,
            generation,
            context,
            output_path=self.output_path,
            elapsed_s=elapsed,
            outlets=list(self.outlets or []),
            extra={**_request_facts(request), **self._route, **(render_times or {})},
            replace=self.replace,
            max_download_mb=self.max_download_mb,
            download_deadline=transfer_deadline(time.time(), deadline or None, self.download_timeout),
        )
        return self._result

    def _remember_completion(self, context: Context, generation: Generation) -> None:
        if generation.state != "succeeded":
            return
        store = context.get("task_state_store")
        state = SubmissionState.load(store, request_hash(self.hook.backend.name, self.build_request()))
        if state.generation_id == generation.id and state.completed is None:
            state.with_completion(generation, time.time()).save(store)

    # -- lineage (OpenLineage calls these; without its provider they return None) ----------------------

    def get_openlineage_facets_on_start(self) -> Any:
        return task_lineage(self._media_urls(), None)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Inputs: the media URLs; output: the saved video; run facet ``seedance`` (see ``runtime/_lineage.py``)."""
        return task_lineage(self._media_urls(), self._result)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        return task_lineage(self._media_urls(), self._result)

    def _media_urls(self) -> list[str]:
        try:
            request = self.build_request()
        except (SeedanceError, TypeError, ValueError):  # lineage never fails a task
            return []
        return [*request.image_urls, *request.video_urls, *request.audio_urls]

    def on_kill(self) -> None:
        """Killed while polling on the worker: cancel the render where the API can (ModelArk, queued)."""
        if self.cancel_on_kill and self._generation_id:
            hook = self._hook_for(self._accepted_conn_id)
            self.log.info("%s", hook.cancel_if_queued(self._generation_id))


def _request_facts(request: VideoRequest) -> dict[str, Any]:
    """The request's fields the XCom result repeats."""
    return {
        "prompt": request.prompt,
        "duration": request.duration,
        "aspect_ratio": request.aspect_ratio,
        "quality": request.quality,  # with the model and the duration, the spec a next run reads
        "service_tier": request.service_tier,
        "draft": bool(request.draft),
    }


def idempotency_key(context: Context, digest: str, submissions: int) -> str:
    """Same task instance + same request + same submission number -> same key, across retries."""
    ti = context["ti"]
    identity = [ti.dag_id, ti.task_id, ti.run_id, getattr(ti, "map_index", -1), digest, submissions]
    return "airflow-" + hashlib.sha256(json.dumps(identity, default=str).encode()).hexdigest()[:48]


def deferral_line(
    generation: Generation, state: SubmissionState, poll_interval: float | None, warm: WarmStart | None = None
) -> str:
    """The one line logged as the task defers: what is awaited, when it is first checked (the trigger's own
    plan, from the render times earlier runs left if any), until when."""
    now = time.time()
    estimate = generation.estimated_time_s
    plan = PollPlan(
        started_at=state.submitted_at, deadline=state.deadline, poll_interval=poll_interval, estimated_time=estimate
    )
    typical = warm.typical if warm else None
    nap = plan.nap(now, typical)
    first = f"first check in {nap.seconds:.0f} s"
    if typical and not estimate and warm:
        first += f" (earlier runs: typically {typical:.0f} s over {len(warm.samples)} renders)"
    if nap.learns:
        first += ", sooner once the triggerer has seen renders of this spec end"
    deadline = datetime.fromtimestamp(state.deadline, tz=timezone.utc)
    return (
        f"Deferring to the triggerer (no worker slot held) for generation {generation.id}: "
        f"{f'API estimate {estimate:.0f} s' if estimate else 'no estimate from the API'}, {first}, "
        f"deadline {deadline:%Y-%m-%d %H:%M:%S} UTC (in {state.deadline - now:.0f} s). {TRIGGERER_HINT}"
    )
