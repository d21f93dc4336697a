"""SeedanceHook: an Airflow connection of type ``seedance`` -> settings -> backend + HTTP clients.

Sync methods and ``a``-prefixed async twins; every decision (validation, wire bodies, parsing, errors,
retries, polling) lives in pure modules, so each twin is a few lines of I/O.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any

import httpx
from airflow.sdk.bases.hook import BaseHook

from airflow_provider_seedance.contract._declared_models import parse_shared_models
from airflow_provider_seedance.contract._urls import check_callback_resolves, system_resolver
from airflow_provider_seedance.contract._vendor_text import scrub
from airflow_provider_seedance.contract.limits import ModelLimits, validate_request, with_vendor_expiry
from airflow_provider_seedance.exceptions import (
    SeedanceConnectionError,
    SeedanceError,
    SeedanceGenerationError,
    SeedanceGenerationTimeout,
    SeedanceSaveError,
)
from airflow_provider_seedance.get_provider_info import get_provider_info
from airflow_provider_seedance.models import Generation, VideoRequest
from airflow_provider_seedance.polling._plan import PollPlan
from airflow_provider_seedance.polling._poll_steps import poll_answered, poll_failed
from airflow_provider_seedance.polling._render_memory import RENDER_MEMORY, render_key
from airflow_provider_seedance.runtime import _metrics as metrics
from airflow_provider_seedance.runtime._compat import amask_secret, configured_models, mask_secret
from airflow_provider_seedance.runtime.download_guard import (
    DownloadRefused,
    FetchRules,
    GuardedTransport,
    Resolver,
)
from airflow_provider_seedance.runtime.storage import (
    DownloadTooLarge,
    DownloadTooSlow,
    SavedVideo,
    TransferLimits,
    asave_stream,
    asave_stream_offloaded,
    missing_filesystem,
    save_stream,
)
from airflow_provider_seedance.wire._calls import (
    connection_error,
    parse_response,
    request_kwargs,
    submit_error,
    transport_detail,
)
from airflow_provider_seedance.wire._rules import RetryPolicy
from airflow_provider_seedance.wire._transport import RetryTransport
from airflow_provider_seedance.wire.backends import ApiCall, Backend
from airflow_provider_seedance.wire.settings import (
    ConnectionSettings,
    build_async_client,
    build_client,
    settings_from_fields,
    shared_async_client,
    unknown_extra_keys,
)

#: How long a whole generation may take, submit to finish, unless the caller says (``timeout``).
DEFAULT_GENERATION_TIMEOUT = 3600.0


class SeedanceHook(BaseHook):
    """Talks to a Seedance API (EvoLink, AIML API or BytePlus ModelArk) with the key of one connection.

    :param seedance_conn_id: connection of type ``seedance``; the API key is its password, the base URL
        its host (empty: the backend's public API) and ``extra.backend`` selects the API dialect.
    :param transport: optional httpx transport for the sync client (tests use ``httpx.MockTransport``).
    :param async_transport: optional httpx transport for the async client; without it the async methods
        share one pooled client per connection per event loop.
    :param resolver: optional ``(host, port) -> [address, ...]`` for the download guard's DNS lookups
        (default ``socket.getaddrinfo``; tests name hosts that resolve nowhere else).
    """

    conn_name_attr = "seedance_conn_id"
    default_conn_name = "seedance_default"
    conn_type = "seedance"
    hook_name = "Seedance"

    def __init__(
        self,
        seedance_conn_id: str = default_conn_name,
        *,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.seedance_conn_id = seedance_conn_id
        self._transport = transport
        self._async_transport = async_transport
        self._resolver = resolver
        self._async_settings: ConnectionSettings | None = None
        self._async_client: httpx.AsyncClient | None = None
        self._warned: set[str] = set()
        #: After ``wait_for_generation`` succeeds: how long the render took as polling saw it.
        self.last_render_s: float | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The standard fields as declared in ``get_provider_info``, in the hook method's format
        (``hidden_fields``): Airflow 3.1 asks the hook, 3.2 and later read the declaration."""
        declared = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
        return {key.replace("-", "_"): value for key, value in declared.items()}

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The declared ``conn-fields`` as WTForms fields, for Airflow 3.1 (3.2 and later read the declaration
        and do not call this). Numbers become whole-second integer fields there."""
        from wtforms import IntegerField, StringField
        from wtforms.validators import Optional, any_of

        fields: dict[str, Any] = {}
        for name, spec in get_provider_info()["connection-types"][0]["conn-fields"].items():
            schema, description = spec["schema"], spec.get("description", "")
            if "enum" in schema:
                validators = [any_of(schema["enum"])]
                default = schema.get("default")
                fields[name] = StringField(
                    spec["label"], validators=validators, description=description, default=default
                )
            else:
                fields[name] = IntegerField(spec["label"], validators=[Optional()], description=description)
        return fields

    # -- connection ---------------------------------------------------------------------------------

    def _settings_from(self, conn: Any) -> ConnectionSettings:
        extra = conn.extra_dejson
        for line in unknown_extra_keys(extra):
            self.log.warning("Connection %r: %s", self.seedance_conn_id, line)
        return settings_from_fields(
            password=conn.password, host=conn.host, port=conn.port, extra=extra, conn_id=self.seedance_conn_id
        )

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The connection's settings; its key is registered with Airflow's secrets masker first, in whatever
        process reads it (a task, ``dag.test()``, a script), so no log line of this process can print it."""
        conn = self.get_connection(self.seedance_conn_id)
        if conn.password:
            mask_secret(conn.password)
        return self._settings_from(conn)

    async def aget_settings(self) -> ConnectionSettings:
        """Settings read through ``BaseHook.aget_connection``: never blocks the triggerer's event loop. The
        key is registered with the secrets masker, as in ``settings``."""
        if self._async_settings is None:
            getter = getattr(BaseHook, "aget_connection", None)
            if getter is not None:
                conn = await getter(self.seedance_conn_id)
            else:  # Airflow < 3.2: no async connection API
                from asgiref.sync import sync_to_async

                conn = await sync_to_async(self.get_connection)(self.seedance_conn_id)
            if conn.password:
                await amask_secret(conn.password)
            self._async_settings = self._settings_from(conn)
        return self._async_settings

    @property
    def backend(self) -> Backend:
        return self.settings.backend

    @cached_property
    def client(self) -> httpx.Client:
        return build_client(self.settings, transport=self._transport)

    async def aclient(self) -> httpx.AsyncClient:
        settings = await self.aget_settings()
        if self._async_transport is not None:
            if self._async_client is None:
                self._async_client = build_async_client(settings, transport=self._async_transport)
            return self._async_client
        return shared_async_client(settings)

    # -- the two I/O twins --------------------------------------------------------------------------

    def _send(self, call: ApiCall) -> dict[str, Any]:
        secrets = (self.settings.api_key,)
        try:
            response = self.client.request(**request_kwargs(call, self.settings))
        except httpx.HTTPError as exc:
            raise connection_error(exc, call, self.settings.base_url, secrets) from None
        return parse_response(self.backend, call, response, self.seedance_conn_id, secrets)

    async def _asend(self, call: ApiCall) -> dict[str, Any]:
        client = await self.aclient()
        settings = await self.aget_settings()
        secrets = (settings.api_key,)
        try:
            response = await client.request(**request_kwargs(call, settings))
        except httpx.HTTPError as exc:
            raise connection_error(exc, call, settings.base_url, secrets) from None
        return parse_response(settings.backend, call, response, self.seedance_conn_id, secrets)

    # -- API ----------------------------------------------------------------------------------------

    def prepare(
        self, request: VideoRequest | dict[str, Any], backend: Backend, *, seconds_left: float | None = None
    ) -> VideoRequest:
        """Validate a request against the model's limits (the built-in table, or the deployment's declared
        models); raises before anything is sent. Each warning (an unknown model id) is logged once per hook.

        ``seconds_left`` (until the task's deadline) sets ModelArk's ``execution_expires_after`` when not given,
        so the vendor expires a render our deadline abandons.
        """
        if not isinstance(request, VideoRequest):
            request = VideoRequest.model_validate(request)
        models = self.declared_models(backend)
        for warning in validate_request(backend, request, models):
            if warning not in self._warned:
                self._warned.add(warning)
                self.log.warning("%s", warning)
        if seconds_left is not None:
            request = with_vendor_expiry(backend.name, request, seconds_left, models)
        return request

    def declared_models(self, backend: Backend) -> dict[str, ModelLimits]:
        """The model limits this deployment declares for ``backend``: ``[seedance] models`` (the models there
        that ``backend``'s API can carry), then this connection's extra ``models`` (which wins for a model in
        both)."""
        models = parse_shared_models(configured_models(), backend.name, "[seedance] models")
        if self.settings.backend_name == backend.name:
            models.update(self.settings.models)
        return models

    def submit(
        self, request: VideoRequest | dict[str, Any], *, idempotency_key: str | None = None, validate: bool = True
    ) -> Generation:
        """Validate (unless ``validate=False``: the caller already ran ``prepare``), refuse a ``callback_url``
        whose host resolves to an internal address, then create one generation (one paid POST, never blindly
        retried).

        Raises ``SeedanceSubmitUncertainError`` (final) when the POST may have reached an API that has no
        idempotency key but no usable answer came back.
        """
        request = self.prepare(request, self.backend) if validate else VideoRequest.model_validate(request)
        if request.callback_url:
            check_callback_resolves(request.callback_url, self._resolver or system_resolver)
        call = self.backend.create_call(request, idempotency_key if self.backend.supports_idempotency else None)
        try:
            body = self._send(call)
        except SeedanceError as exc:
            raise submit_error(exc, call, self.backend) from None
        return self._created(self.backend, body, request.model, self.settings.api_key)

    async def asubmit(
        self, request: VideoRequest | dict[str, Any], *, idempotency_key: str | None = None, validate: bool = True
    ) -> Generation:
        backend = (await self.aget_settings()).backend
        request = self.prepare(request, backend) if validate else VideoRequest.model_validate(request)
        if request.callback_url:
            resolver = self._resolver or system_resolver
            await asyncio.get_running_loop().run_in_executor(
                None, check_callback_resolves, request.callback_url, resolver
            )
        call = backend.create_call(request, idempotency_key if backend.supports_idempotency else None)
        try:
            body = await self._asend(call)
        except SeedanceError as exc:
            raise submit_error(exc, call, backend) from None
        return self._created(backend, body, request.model, (await self.aget_settings()).api_key)

    def get_generation(self, generation_id: str, *, model: str | None = None) -> Generation:
        """One status request. ``model``: the model the generation was created with, for an answer that does
        not name it (and the metrics' ``model`` tag)."""
        metrics.polled(self.backend.name, model)
        try:
            body = self._send(self.backend.status_call(generation_id))
        except SeedanceError as exc:
            metrics.poll_failed(self.backend.name, model, exc)
            raise
        return self._generation(self.backend, body, model, self.settings.api_key, generation_id)

    async def aget_generation(self, generation_id: str, *, model: str | None = None) -> Generation:
        backend = (await self.aget_settings()).backend
        metrics.polled(backend.name, model)
        try:
            body = await self._asend(backend.status_call(generation_id))
        except SeedanceError as exc:
            metrics.poll_failed(backend.name, model, exc)
            raise
        return self._generation(backend, body, model, (await self.aget_settings()).api_key, generation_id)

    def cancel_generation(self, generation_id: str) -> None:
        """Cancel a queued generation (ModelArk); ``SeedanceUnsupportedError`` where the API cannot."""
        self._send(self.backend.cancel_call(generation_id))

    async def acancel_generation(self, generation_id: str) -> None:
        backend = (await self.aget_settings()).backend
        await self._asend(backend.cancel_call(generation_id))

    def cancel_if_queued(self, generation_id: str, last_seen: Generation | None = None) -> str:
        """At a deadline or a kill: cancel the generation where the API can (ModelArk, queued only).

        Polls once unless ``last_seen`` is given, never sends a cancel for a running or finished render,
        never raises; returns what happened, for the log and the error message.
        """
        backend = self.backend
        try:
            generation = (last_seen or self.get_generation(generation_id)) if backend.supports_cancel else None
            cancel, outcome = backend.cancel_decision(generation_id, generation)
            if cancel:
                self.cancel_generation(generation_id)
        except SeedanceError as exc:
            return f"could not cancel generation {generation_id}: {exc}"
        return outcome

    async def acancel_if_queued(self, generation_id: str, last_seen: Generation | None = None) -> str:
        try:
            backend = (await self.aget_settings()).backend
            generation = (last_seen or await self.aget_generation(generation_id)) if backend.supports_cancel else None
            cancel, outcome = backend.cancel_decision(generation_id, generation)
            if cancel:
                await self.acancel_generation(generation_id)
        except SeedanceError as exc:
            return f"could not cancel generation {generation_id}: {exc}"
        return outcome

    def _created(self, backend: Backend, body: dict[str, Any], model: str, api_key: str) -> Generation:
        generation = self._generation(backend, body, model, api_key)
        metrics.created(backend.name, generation.model)
        return generation

    def _generation(
        self, backend: Backend, body: dict[str, Any], model: str | None, api_key: str, fallback_id: str | None = None
    ) -> Generation:
        """The answer as a ``Generation`` whose every vendor word is scrubbed (no key, no control characters,
        bounded), so whatever logs, raises or stores it later prints nothing the vendor smuggled in. An unknown
        status word is logged once per generation and word, not at every poll."""
        try:
            generation = backend.parse_generation(body, fallback_id=fallback_id, model=model)
        except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            detail = scrub(f"{type(exc).__name__}: {exc}", (api_key,))
            raise SeedanceConnectionError(
                f"{backend.name} answered a generation this provider cannot read: {detail}"
            ) from None
        generation = generation.scrubbed((api_key,))
        if not backend.state_of(generation.status)[1]:
            warning = f"Unknown status {generation.status!r} from {backend.name} for generation {generation.id}"
            if warning not in self._warned:
                self._warned.add(warning)
                self.log.warning("%s: treated as still running", warning)
        return generation

    def wait_for_generation(
        self,
        generation_id: str,
        *,
        timeout: float = DEFAULT_GENERATION_TIMEOUT,
        poll_interval: float | None = None,
        estimated_time: float | None = None,
        render_spec: dict[str, Any] | None = None,
        typical_time: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> Generation:
        """Poll on this worker until the generation ends; raise unless it succeeded.

        Polls as the trigger does (``PollPlan``): transient poll errors (429, 5xx, network) are retried
        after a jittered back-off or the server's Retry-After until ``timeout`` seconds have passed, the
        last poll lands on the deadline, and with ``render_spec`` (``render_memory.render_spec(request)``)
        renders of the same spec seen in this process stand in for a missing API estimate, else
        ``typical_time`` (what earlier runs of the task took, ``_run_history``). On success,
        ``last_render_s`` is how long the render took as polling saw it.
        """
        start = clock()
        plan = PollPlan(
            started_at=start, deadline=start + timeout, poll_interval=poll_interval, estimated_time=estimated_time
        )
        key = render_key(self.backend.name, render_spec) if render_spec else None
        model = render_spec.get("model") if render_spec else None
        while True:
            sleep(plan.nap(clock(), (RENDER_MEMORY.typical(key) if key else None) or typical_time).seconds)
            generation: Generation | None = None
            try:
                generation = self.get_generation(generation_id, model=model)
            except SeedanceError as exc:
                if (outcome := poll_failed(self.log, plan, exc, clock(), generation_id)) == "error":
                    raise
            else:
                outcome = poll_answered(self.log, plan, generation, clock(), RENDER_MEMORY, key)
                if outcome == "success":
                    self.last_render_s = plan.took
                    metrics.rendered(self.backend.name, generation.model, plan.took, generation.credits)
                if outcome in ("success", "failed"):
                    return raise_unless_succeeded(generation)
            if outcome == "timeout":
                raise SeedanceGenerationTimeout(
                    f"generation {generation_id} did not finish before its deadline ({timeout:.0f} s)", generation
                )

    def download_video(
        self,
        url: str,
        destination: Any,
        *,
        generation_id: str = "",
        replace: bool = False,
        max_download_mb: float | None = None,
        deadline: float | None = None,
    ) -> SavedVideo:
        """Stream the video at ``url`` to ``destination`` (atomic, verified, constant memory).

        ``url`` is the vendor's word, so it is fetched only as ``download_guard`` allows (http(s), no internal
        address unless the API's own origin or the connection's ``download_hosts``, checked on every redirect).
        At most ``max_download_mb`` MiB are saved (default: the connection's extra ``max_download_mb``, else
        1024), and the transfer must end by ``deadline`` (Unix time; see ``transfer_deadline``). A different
        file already at ``destination`` is replaced only with ``replace=True``. Any failure, whatever its
        cause (a refused URL, a limit, the check, a missing filesystem package, a permission), raises
        ``SeedanceSaveError`` carrying the generation id and the video URL, and leaves no partial file.
        """
        limits = transfer_limits(self.settings, max_download_mb, deadline)
        try:
            with (
                self.download_client(limits) as client,
                client.stream("GET", url, timeout=read_timeout(self.settings, limits)) as response,
            ):
                response.raise_for_status()
                return save_stream(
                    response.iter_bytes(),  # as read off the socket: re-chunking cost a third of the time
                    destination,
                    **writer_args(response, limits, replace),
                )
        except Exception as exc:
            raise save_error(exc, url, destination, generation_id, self.settings.api_key) from None

    async def adownload_video(
        self,
        url: str,
        destination: Any,
        *,
        generation_id: str = "",
        replace: bool = False,
        max_download_mb: float | None = None,
        deadline: float | None = None,
        offload_writes: bool = False,
    ) -> SavedVideo:
        """``download_video`` for async code; the same client rules, limits, checks and atomic save. The reads
        await; the file writes are plain blocking writes, one per chunk as it comes off the socket, unless
        ``offload_writes`` hands every file operation to a thread (``storage.asave_stream_offloaded``): what
        a triggerer's event loop needs. (Offloading cost about 30% of the throughput against the emulator,
        so a worker's saves write inline.)"""
        settings = await self.aget_settings()
        limits = transfer_limits(settings, max_download_mb, deadline)
        save = asave_stream_offloaded if offload_writes else asave_stream

        async def transfer() -> SavedVideo:
            async with (
                await self.adownload_client() as client,
                client.stream("GET", url, timeout=read_timeout(settings, limits)) as response,
            ):
                response.raise_for_status()
                return await save(response.aiter_bytes(), destination, **writer_args(response, limits, replace))

        try:
            return await asyncio.wait_for(transfer(), timeout=limits.remaining())
        except asyncio.TimeoutError:
            late = DownloadTooSlow(f"the transfer was still running at its deadline: nothing was saved; {TIME_HINT}")
            raise save_error(late, url, destination, generation_id, settings.api_key) from None
        except Exception as exc:
            raise save_error(exc, url, destination, generation_id, settings.api_key) from None

    def download_client(self, limits: TransferLimits | None = None) -> httpx.Client:
        """A client WITHOUT the API key (result links live on the vendor's CDN, which must never see it) that
        fetches only what ``download_guard`` allows, every redirect hop checked; with ``limits``, no hop
        starts once the transfer's deadline has passed (the async twin is bounded as a whole instead)."""
        guard = GuardedTransport(self.fetch_rules(self.settings), sync_transport=self._transport)
        retry = RetryTransport(RetryPolicy(max_retries=self.settings.max_retries), sync_transport=guard)
        hooks = {"request": [lambda request: limits.check_time()]} if limits is not None else {}
        return httpx.Client(transport=retry, event_hooks=hooks, **download_client_kwargs(self.settings))

    async def adownload_client(self) -> httpx.AsyncClient:
        """The async ``download_client``: WITHOUT the API key, never the API's shared pooled client."""
        settings = await self.aget_settings()
        guard = GuardedTransport(self.fetch_rules(settings), async_transport=self._async_transport)
        retry = RetryTransport(RetryPolicy(max_retries=settings.max_retries), async_transport=guard)
        return httpx.AsyncClient(transport=retry, **download_client_kwargs(settings))

    def fetch_rules(self, settings: ConnectionSettings) -> FetchRules:
        """Where this connection's downloads may go: the API's origin, its ``download_hosts``, public hosts."""
        return FetchRules(
            settings.base_url, settings.download_hosts, **({"resolver": self._resolver} if self._resolver else {})
        )

    def test_connection(self) -> tuple[bool, str]:
        """One authenticated call that spends no credits; a clear reason when it fails."""
        try:
            settings = self.settings
            call = settings.backend.probe_call()
            response = self.client.request(**request_kwargs(call))
        except SeedanceError as exc:
            return False, str(exc)
        except httpx.HTTPError as exc:
            return False, f"Cannot reach {self.settings.base_url}: {transport_detail(exc, self.settings.base_url)}"
        return probe_verdict(settings, response)

    async def atest_connection(self) -> tuple[bool, str]:
        try:
            settings = await self.aget_settings()
            response = await (await self.aclient()).request(**request_kwargs(settings.backend.probe_call()))
        except SeedanceError as exc:
            return False, str(exc)
        except httpx.HTTPError as exc:
            return False, f"Cannot reach {settings.base_url}: {transport_detail(exc, settings.base_url)}"
        return probe_verdict(settings, response)


#: Redirect hops a video link may take (each one checked by ``download_guard``).
MAX_REDIRECTS = 5
#: The transfer's deadline when neither the task's deadline nor a ``download_timeout`` gives one.
DEFAULT_DOWNLOAD_TIMEOUT = 900.0
#: A transfer is given at least this long, even when the task's deadline is nearer (or has passed).
MIN_DOWNLOAD_S = 60.0
SIZE_HINT = (
    "raise the operator's max_download_mb, or the connection's extra max_download_mb, if the video is really "
    "this large, then clear the task: it reattaches to the same generation and pays nothing again"
)
TIME_HINT = (
    "give the operator a longer timeout or a download_timeout (seconds), then clear the task: it reattaches to "
    "the same generation and pays nothing again"
)


def download_client_kwargs(settings: ConnectionSettings) -> dict[str, Any]:
    """No headers: the key stays with the API client; result links may redirect within the CDN."""
    return {"timeout": httpx.Timeout(settings.timeout), "follow_redirects": True, "max_redirects": MAX_REDIRECTS}


def transfer_deadline(now: float, task_deadline: float | None, download_timeout: float | None) -> float:
    """When a video's transfer must have ended (Unix time): ``download_timeout`` seconds from ``now`` when
    given; else the task's deadline (its ``timeout`` from the submit), but never less than ``MIN_DOWNLOAD_S``
    from now; else ``DEFAULT_DOWNLOAD_TIMEOUT`` from now."""
    if download_timeout is not None:
        return now + download_timeout
    if task_deadline is not None:
        return max(task_deadline, now + MIN_DOWNLOAD_S)
    return now + DEFAULT_DOWNLOAD_TIMEOUT


def transfer_limits(
    settings: ConnectionSettings, max_download_mb: float | None, deadline: float | None
) -> TransferLimits:
    megabytes = max_download_mb if max_download_mb is not None else settings.max_download_mb
    return TransferLimits(
        max_bytes=int(megabytes * 1024 * 1024),
        deadline=deadline if deadline is not None else transfer_deadline(time.time(), None, None),
        clock=time.time,
        size_hint=SIZE_HINT,
        time_hint=TIME_HINT,
    )


def read_timeout(settings: ConnectionSettings, limits: TransferLimits) -> httpx.Timeout:
    """Each read waits at most the connection's timeout and never past the transfer's deadline."""
    remaining = limits.remaining()
    seconds = settings.timeout if remaining is None else max(0.1, min(settings.timeout, remaining))
    return httpx.Timeout(seconds, connect=min(10.0, seconds))


def writer_args(response: httpx.Response, limits: TransferLimits, replace: bool) -> dict[str, Any]:
    return {
        "expected_size": content_length(response),
        "replace": replace,
        "limits": limits,
        "content_type": response.headers.get("content-type"),
    }


def content_length(response: httpx.Response) -> int | None:
    length = response.headers.get("content-length")
    return int(length) if length and length.isdigit() else None


def save_error(exc: Exception, url: str, destination: Any, generation_id: str, api_key: str = "") -> SeedanceSaveError:
    """The save's failure as ``SeedanceSaveError``: final (no Airflow retry) when the URL was refused or a
    limit was hit, since a retry meets the same; every word of it scrubbed of the key and bounded."""
    if isinstance(exc, httpx.HTTPStatusError):
        detail = f"the video URL answered HTTP {exc.response.status_code}"
    elif isinstance(exc, (httpx.HTTPError, OSError, ValueError)):
        detail = str(exc)
    else:
        detail = f"{type(exc).__name__}: {exc}"
    detail = missing_filesystem(destination, exc) or detail
    final = isinstance(exc, (DownloadRefused, DownloadTooLarge))
    return SeedanceSaveError(
        f"could not save the video to {destination}: {scrub(detail, (api_key,), limit=1000)}",
        generation_id=generation_id,
        video_url=scrub(url, (api_key,), limit=2000),
        retryable=not final,
    )


def probe_verdict(settings: ConnectionSettings, response: httpx.Response) -> tuple[bool, str]:
    backend = settings.backend
    where = f"{backend.name} at {settings.base_url}"
    if response.status_code in (401, 403):
        error = backend.api_error(response.status_code, response.content, dict(response.headers))
        error = error.scrubbed((settings.api_key,))
        return False, f"The API key was rejected by {where}: {error.message}"
    if _looks_like(backend, response):
        return True, f"Connected to {where}: the API key was accepted"
    return False, (
        f"Unexpected answer HTTP {response.status_code} from {where} for {response.request.url.path}: "
        f"check the Base URL and that the Backend field matches the API this key belongs to"
    )


def _looks_like(backend: Backend, response: httpx.Response) -> bool:
    """The probe's answer has this dialect's status and shape (a wrong backend or host answers differently)."""
    try:
        body = response.json()
    except ValueError:
        return False
    return backend.probe_accepted(response.status_code, body)


def raise_unless_succeeded(generation: Generation) -> Generation:
    if generation.state == "succeeded":
        return generation
    raise SeedanceGenerationError(generation.describe(), generation)
