"""SeedanceBatchGenerateVideosOperator: many renders in one task, two worker steps per batch.

One step validates every item (all refusals at once, before any create), creates them concurrently under a
bound, keeps each accepted id in the task state store as it comes, and defers once to ``SeedanceBatchTrigger``;
the second saves every succeeded video concurrently and returns one result per item. A retry reattaches to
every accepted item (on the connection that accepted it) and creates only the rest, or the renders that
failed transiently. With ``fallback_conn_ids`` an item whose create is refused for sure goes to the next one.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_seedance.contract.batch import (
    NOT_FAILED,
    BatchEvent,
    BatchItemResult,
    BatchRecord,
    check_failure_policy,
    policy_verdict,
)
from airflow_provider_seedance.exceptions import SeedanceError
from airflow_provider_seedance.hooks.seedance import DEFAULT_GENERATION_TIMEOUT, SeedanceHook, transfer_deadline
from airflow_provider_seedance.models import VideoRequest
from airflow_provider_seedance.operators._batch_items import BatchItem, BatchRefusal, batch_items, check_folders
from airflow_provider_seedance.operators._batch_plan import (
    NOT_CREATED,
    Settled,
    add_refusals,
    ids_to_wait_for,
    plan_try,
    polled_result,
    record_outcomes,
    settled_result,
)
from airflow_provider_seedance.operators._batch_resume import resume_connections, retry_refusal
from airflow_provider_seedance.operators._batch_routes import BatchConnections
from airflow_provider_seedance.operators._batch_save import save_all
from airflow_provider_seedance.operators._batch_submit import submit_all
from airflow_provider_seedance.operators._batch_trigger_saves import push_save_plan, read_ledger, saved_by_trigger
from airflow_provider_seedance.operators._fallbacks import fallback_args
from airflow_provider_seedance.operators._finish import as_airflow_error
from airflow_provider_seedance.operators.seedance import TRIGGERER_HINT, WORKER_POLLING_HINT, idempotency_key
from airflow_provider_seedance.polling._render_memory import render_spec
from airflow_provider_seedance.runtime._compat import AirflowException, AirflowFailException, default_deferrable
from airflow_provider_seedance.runtime._lineage import batch_lineage
from airflow_provider_seedance.runtime._xcom import ti_key_of
from airflow_provider_seedance.triggers.batch import SeedanceBatchTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

#: The XCom key of the per-item results when the failure policy fails the task (no return value then).
RESULTS_XCOM_KEY = "seedance_batch_results"
#: The XCom key of the items settled before deferring (refused, or settled by earlier tries), for the resume.
SETTLED_XCOM_KEY = "seedance_batch_settled"
#: Seconds a kill on the worker spends cancelling unfinished generations (Airflow SIGKILLs a task that stays).
KILL_CANCEL_SECONDS = 20.0


class SeedanceBatchGenerateVideosOperator(BaseOperator):
    """Generate many videos in one task: validate all, create concurrently, wait once, save all.

    :param requests: a list of request dicts (templated, or an XComArg from an upstream task): each holds the
        request fields of ``SeedanceGenerateVideoOperator``'s ``request`` (``model``, ``prompt``, ``duration``,
        ...) and optionally ``name``: the item's name for ``{name}`` in ``output_path`` (1-120 letters, digits,
        ``.``, ``_``, ``-``; unique in the batch). Every item is validated before any create; the bad ones are
        refused together, each named by its index and field (``requests[3].duration``).
    :param defaults: request fields every item starts from (templated); an item's own field, when given (not
        None, empty text or an empty list), wins.
    :param output_path: where each item's MP4 is saved: a path or URL template, rendered by Jinja first, then
        per item by ``str.format`` with ``{item_index}`` (the item's place in ``requests``, from 0) and ``{name}``;
        it must name one of them, so that each item has its own file. None keeps only the API's result links.
    :param seedance_conn_id: connection of type ``seedance`` (templated).
    :param max_concurrency: creates, polls and saves in flight at once (default 8).
    :param failure_policy: ``"any"`` (default: the task fails when any item failed), ``"never"``, or a share
        from 0 to 1 (0.1: the task fails when more than 10% of the items failed). Failing, the results are in the
        ``seedance_batch_results`` XCom; a retry renders (or saves) again only the items that failed and can.
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``, as the single operator.
    :param poll_interval: fixed seconds between one generation's polls; None polls adaptively.
    :param timeout: wall-clock seconds from the creates to the last poll (default 3600).
    :param replace: replace a different file already at an item's path.
    :param max_download_mb: the largest video saved, in MiB (default: the connection's, else 1024).
    :param download_timeout: seconds the saves may take; default: until the deadline, at least 60 s.
    :param spend_check: called as ``spend_check(context, request)`` right before each item's create (not when
        a retry reattaches): a string skips the item with that reason (status ``skipped``, nothing sent; not a
        failure for ``failure_policy``), None creates it. The same callable as the single operator's (a run's
        budget: ``contract.budget.spend_refusal``), asked one item at a time.
    :param fallback_conn_ids: connections to create an item on, in order, when its create on the one before was
        refused for sure (402 no credits, 401/403, 429 after retries, a connection that failed before sending,
        the model not offered there); never when the create may have landed (templated). Once a connection
        has refused for sure, the rest of the try's items go straight to the next one (for a refusal about
        the model, the items of that model). Each result names the connection that rendered it.
    :param fallback_models: the model each fallback renders, by connection id or backend name (templated), as
        the single operator's; every item's request is validated on every fallback before any create.
    :param save_in_triggerer: with ``deferrable=True``, save each video in the triggerer as soon as its render
        succeeds (while the others still render), instead of on the worker after all have ended: the resumed
        step only reads each item's outcome from XCom, builds the results and applies ``failure_policy``, so
        the worker slot is held for neither the waits nor the downloads. The save plan and the outcomes go
        through this task instance's XCom (``seedance_batch_save_plan``, ``seedance_batch_saves`` and its shards),
        never the trigger's kwargs or event (the kwargs carry the plan's sha256: a plan edited in XCom, or a
        missing or invalid one, is refused, and the worker saves). The triggerer must be able to write each
        ``output_path`` with the same meaning (same filesystem or object store, packages and credentials); on
        resume the worker checks each file recorded as saved and saves what is not there, and every save that
        failed retryably. Known limits: a new httpx transport per trigger-side download (about 23 ms of CPU
        each); ledger shards rewritten whole up to once a second; on Airflow 3.1 file operations needing a
        connection run from ``to_thread`` threads, untested on a real 3.1 triggerer; an unexplained memory
        growth (+57 MB trigger runner, +77 MB supervisor at 200 items); the default executor's threads are
        shared with other triggers. Default False: the worker saves, as before.
    :param cancel_on_kill: when a user kills the task while it waits (marks it failed or success, clears it),
        cancel every unfinished generation its API can still cancel (ModelArk, while queued; EvoLink and AIML
        API cannot cancel): in the triggerer on Airflow 3.3+ (the trigger's ``on_kill``), on the worker with
        ``deferrable=False`` (for at most 20 s). Default True, as the single operator.
    """

    template_fields: Sequence[str] = (
        "seedance_conn_id",
        "requests",
        "defaults",
        "output_path",
        "fallback_conn_ids",
        "fallback_models",
    )
    template_fields_renderers = {"requests": "json", "defaults": "json", "fallback_models": "json"}
    ui_color = "#1f2a44"
    ui_fgcolor = "#ffffff"

    def __init__(
        self,
        *,
        requests: Any,
        defaults: dict[str, Any] | None = None,
        output_path: Any = None,
        seedance_conn_id: str = SeedanceHook.default_conn_name,
        max_concurrency: int = 8,
        failure_policy: str | float = "any",
        deferrable: bool | None = None,
        poll_interval: float | None = None,
        timeout: float | None = None,
        replace: bool = False,
        max_download_mb: float | None = None,
        download_timeout: float | None = None,
        spend_check: Callable[[Any, VideoRequest], str | None] | None = None,
        fallback_conn_ids: Sequence[str] | str | None = None,
        fallback_models: dict[str, str] | str | None = None,
        save_in_triggerer: bool = False,
        cancel_on_kill: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise ValueError(f"max_concurrency={max_concurrency!r} must be a whole number of at least 1")
        self.requests, self.defaults, self.output_path = requests, defaults, output_path
        self.seedance_conn_id, self.max_concurrency = seedance_conn_id, max_concurrency
        self.failure_policy = check_failure_policy(failure_policy)
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self._deferrable_from_default = deferrable is None
        self.poll_interval = poll_interval
        self.generation_timeout = float(timeout) if timeout is not None else DEFAULT_GENERATION_TIMEOUT
        self.replace, self.max_download_mb, self.download_timeout = replace, max_download_mb, download_timeout
        self.spend_check = spend_check
        self.fallback_conn_ids, self.fallback_models = fallback_args(fallback_conn_ids, fallback_models)
        self.save_in_triggerer = save_in_triggerer
        self.cancel_on_kill = cancel_on_kill
        self._results: list[dict[str, Any]] | None = None
        self._waiting: SeedanceBatchTrigger | None = None  # the wait running on this worker, for on_kill

    @property
    def hook(self) -> SeedanceHook:
        return SeedanceHook(self.seedance_conn_id)

    def _connections(self) -> BatchConnections:
        """The task's own connection, then its fallbacks, each read once."""
        return BatchConnections.of(self.hook, self.fallback_conn_ids, self.fallback_models)

    def _validated_items(self, connections: BatchConnections) -> list[BatchItem]:
        """Every item built and validated (on every listed fallback too), or one error naming each bad item
        (logged one line each)."""
        items, errors = batch_items(
            self.requests,
            defaults=self.defaults,
            hook=connections.hooks[0],
            output_path=self.output_path,
            seconds_left=self.generation_timeout,
            connections=connections,
            log=self.log,
        )
        for error in errors:
            self.log.error("Refused before any create: %s", error)
        if errors:
            raise BatchRefusal(errors, len(items) + len(errors), task_id=self.task_id)
        return items

    def execute(self, context: Context) -> Any:
        try:
            return self._execute(context)
        except SeedanceError as exc:
            raise as_airflow_error(exc) from None

    def _execute(self, context: Context) -> Any:
        connections = self._connections()
        items = self._validated_items(connections)
        check_folders(items, self.task_id)
        store = context.get("task_state_store")
        record = BatchRecord.load(store, len(items), connections.conn_ids)
        connections.adopt(record.connections)  # connections an earlier try used, no longer listed: polled there
        plan = plan_try(items, record)
        self.log.info(
            "Batch of %d items: %d to create, %d to reattach to, %d settled by earlier tries",
            len(items),
            len(plan.create),
            len(plan.wait),
            len(plan.settled),
        )
        started = time.time()
        refused, estimates = asyncio.run(
            submit_all(
                connections,
                plan.create,
                record,
                store,
                key_of=self._key_of(context),
                concurrency=self.max_concurrency,
                spend_check=self._spend_check_of(context),
                log=self.log,
            )
        )
        if refused:
            add_refusals(plan, record, refused)
            record.save(store)
        ids = ids_to_wait_for(items, plan, record)
        if not any(ids):
            return self._complete(context, connections, items, None, plan.settled)
        trigger = self._trigger(connections, items, ids, started, estimates, record)
        if self._saves_in_trigger():
            trigger.save_plan_sha256 = push_save_plan(context["ti"], items, ids)
            trigger.save_to = ti_key_of(context["ti"])
        return self._wait(context, connections, items, trigger, plan.settled)

    def _spend_check_of(self, context: Context) -> Any:
        check = self.spend_check
        return None if check is None else lambda item: check(context, item.request)

    def _key_of(self, context: Context) -> Any:
        """An item's key on a connection: its request's digest there (its own digest on the task's own)."""
        return lambda item, conn_index, submissions: idempotency_key(
            context, f"{item.index}:{item.legs[conn_index][1]}", submissions
        )

    def _trigger(
        self,
        connections: BatchConnections,
        items: list[BatchItem],
        ids: list[str],
        started: float,
        estimates: list[float],
        record: BatchRecord,
    ) -> SeedanceBatchTrigger:
        """The trigger of the ids to wait for, each polled on the connection that accepted it."""
        elsewhere = {str(i): record.conn_of(i) for i, gid in enumerate(ids) if gid and record.conn_of(i)}
        specs = {tuple(sorted(render_spec(item.request).items())) for item in items}
        return SeedanceBatchTrigger(
            generation_ids=ids,
            deadline=started + self.generation_timeout,
            seedance_conn_id=self.seedance_conn_id,
            started_at=started,
            poll_interval=self.poll_interval,
            estimated_time=statistics.median(estimates) if estimates else None,
            render_spec=render_spec(items[0].request) if len(specs) == 1 else None,
            backend=connections.hooks[0].backend.name,
            poll_concurrency=self.max_concurrency,
            fallback_conn_ids=connections.conn_ids[1:],
            conn_indexes=elsewhere,
            replace=self.replace,
            max_download_mb=self.max_download_mb,
            download_timeout=self.download_timeout,
            cancel_on_kill=self.cancel_on_kill,
        )

    def _saves_in_trigger(self) -> bool:
        """Whether the trigger saves the videos: only when the wait is deferred to a triggerer."""
        return bool(self.save_in_triggerer and self.deferrable)

    def _wait(
        self,
        context: Context,
        connections: BatchConnections,
        items: list[BatchItem],
        trigger: SeedanceBatchTrigger,
        settled: dict[str, Settled],
    ) -> Any:
        waiting = sum(1 for gid in trigger.generation_ids if gid)
        if self.deferrable:
            self.log.info("Deferring to the triggerer for %d generations. %s", waiting, TRIGGERER_HINT)
            # Kept in XCom, not in the method kwargs (``dag.test()`` drops those): XComs live until the next try.
            context["ti"].xcom_push(key=SETTLED_XCOM_KEY, value=settled)
            self.defer(trigger=trigger, method_name="execute_complete", timeout=None)  # the trigger keeps the deadline
        if self._deferrable_from_default:
            self.log.warning("%s", WORKER_POLLING_HINT)
        self._waiting = trigger
        event = asyncio.run(trigger.watch_all())
        self._waiting = None
        return self._complete(context, connections, items, event, settled)

    def on_kill(self) -> None:
        """Killed while waiting on the worker: the trigger's ``on_kill`` (each unfinished generation cancelled
        where its API can), in a thread of its own (the killed wait's event loop is this thread's), for at most
        ``KILL_CANCEL_SECONDS``."""
        trigger = self._waiting
        if trigger is None or not self.cancel_on_kill:
            return
        cancelling = threading.Thread(
            target=lambda: asyncio.run(asyncio.wait_for(trigger.on_kill(), KILL_CANCEL_SECONDS)),
            name="seedance-batch-kill",
            daemon=True,
        )
        cancelling.start()
        cancelling.join(KILL_CANCEL_SECONDS + 1)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Back on a worker after the trigger fired: save every succeeded video, return the results."""
        try:
            parsed = BatchEvent.model_validate(event)
            # the connections the event's indexes point into, as they were before deferring; only the task's
            # own validates the items (the same items: the fields render as they did before)
            connections = resume_connections(self.seedance_conn_id, parsed)
            items = self._validated_items(connections)
            ti = context["ti"]
            # this instance's own: without map_indexes a mapped task's pull answers every instance's, as a list
            kept = ti.xcom_pull(task_ids=ti.task_id, key=SETTLED_XCOM_KEY, map_indexes=ti.map_index)
            kept = kept if isinstance(kept, dict) else {}
            settled = {
                str(item.index): kept.get(str(item.index)) or NOT_CREATED
                for item in items
                if not parsed.generation_ids[item.index]
            }
            return self._complete(context, connections, items, parsed, settled)
        except SeedanceError as exc:
            raise as_airflow_error(exc) from None

    def _complete(
        self,
        context: Context,
        connections: BatchConnections,
        items: list[BatchItem],
        event: BatchEvent | None,
        settled: dict[str, Settled],
    ) -> list[dict[str, Any]]:
        store = context.get("task_state_store")
        record = BatchRecord.load(store, len(items), connections.conn_ids)
        results: dict[int, BatchItemResult] = {}
        succeeded: list[tuple[BatchItem, str, int]] = []
        for item in items:
            if str(item.index) in settled:
                results[item.index] = settled_result(item, settled[str(item.index)], record, connections)
            elif event is not None and (result := polled_result(item, event, connections)) is not None:
                results[item.index] = result
            elif event is not None:
                conn_index = event.conn_indexes.get(str(item.index), 0)
                succeeded.append((item, event.generation_ids[item.index], conn_index))
        if self._saves_in_trigger() and event is not None and succeeded:
            done, succeeded = saved_by_trigger(read_ledger(context["ti"]), succeeded, connections)
            results.update((result.item_index, result) for result in done)
            if succeeded:
                self.log.warning("%d succeeded videos have no save recorded by the triggerer", len(succeeded))
        for result in self._save(connections, succeeded, event):
            results[result.item_index] = result
        ordered = [results[item.index] for item in items]
        record_outcomes(record, ordered)
        record.save(store)
        return self._verdict(context, connections, ordered)

    def _save(
        self, connections: BatchConnections, succeeded: list[tuple[BatchItem, str, int]], event: BatchEvent | None
    ) -> list[BatchItemResult]:
        if not succeeded:
            return []
        deadline = transfer_deadline(time.time(), event.deadline if event else None, self.download_timeout)
        self.log.info("Saving %d videos, %d at a time", len(succeeded), self.max_concurrency)
        saving = save_all(
            connections,
            succeeded,
            concurrency=self.max_concurrency,
            replace=self.replace,
            max_download_mb=self.max_download_mb,
            deadline=deadline,
        )
        return asyncio.run(saving)

    def _verdict(
        self, context: Context, connections: BatchConnections, results: list[BatchItemResult]
    ) -> list[dict[str, Any]]:
        """The results, or the task's failure when the policy says so (the results kept in XCom)."""
        failed = [result for result in results if result.status not in NOT_FAILED]
        counts = {status: sum(1 for r in results if r.status == status) for status in {r.status for r in results}}
        self.log.info("Batch of %d items ended: %s", len(results), dict(sorted(counts.items())))
        for result in failed[:20]:
            self.log.warning("Item %d (%s): %s", result.item_index, result.name or "-", result.reason)
        payload = self._results = [result.to_xcom() for result in results]
        reason = policy_verdict(self.failure_policy, len(failed), len(results))
        if reason is None:
            return payload
        context["ti"].xcom_push(key=RESULTS_XCOM_KEY, value=payload)
        retryable = [result.item_index for result in failed if result.retryable]
        if not retryable:
            raise AirflowFailException(f"{reason}; none of them can be rendered again by a retry")
        if (unsafe := retry_refusal(connections, context.get("task_state_store"))) is not None:
            raise AirflowFailException(f"{reason}; {unsafe}")
        raise AirflowException(f"{reason}; a retry renders again only items {_shown(retryable)}")

    # -- lineage (OpenLineage calls these; without its provider they return None) ----------------------

    def get_openlineage_facets_on_start(self) -> Any:
        return batch_lineage(self._media_urls(), None, None)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Inputs: every item's media URLs; outputs: each saved video; run facet ``seedanceBatch``."""
        return batch_lineage(self._media_urls(), self._results, self._backend_name())

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        return batch_lineage(self._media_urls(), self._results, self._backend_name())

    def _media_urls(self) -> list[str]:
        """The rendered items' media (an item's own lists, else the defaults'); lineage never fails a task."""
        defaults = self.defaults if isinstance(self.defaults, dict) else {}
        items = self.requests if isinstance(self.requests, list) else []
        urls: list[str] = []
        for item in items:
            for key in ("image_urls", "video_urls", "audio_urls"):
                value = (item.get(key) if isinstance(item, dict) else None) or defaults.get(key)
                if isinstance(value, list):
                    urls.extend(url for url in value if isinstance(url, str))
        return urls

    def _backend_name(self) -> str | None:
        try:
            return self.hook.backend.name
        except (SeedanceError, AirflowException):
            return None


def _shown(indexes: list[int]) -> str:
    shown = ", ".join(str(index) for index in indexes[:20])
    return shown + (f" and {len(indexes) - 20} more" if len(indexes) > 20 else "")
