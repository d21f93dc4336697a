"""SeedanceGenerationSensor: wait for an existing generation id (poke, reschedule or deferrable).

Pairs with ``SeedanceGenerateVideoOperator(wait_for_completion=False)``; returns the operator's result shape.

Elapsed time (in the per-poke log line and the result's ``elapsed_s``) comes from the generation's own
timestamps where the API gives them (EvoLink ``created``, ModelArk ``created_at``/``updated_at``), else from
the first poke, as the task instance remembers it across reschedules; in deferrable mode from the trigger.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_seedance.exceptions import SeedanceError
from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.links import SeedanceVideoLink
from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.operators._finish import as_airflow_error, finish, generation_from_event
from airflow_provider_seedance.polling._poll_steps import progress_line
from airflow_provider_seedance.runtime._compat import default_deferrable
from airflow_provider_seedance.runtime._lineage import task_lineage
from airflow_provider_seedance.triggers.seedance import SeedanceGenerationTrigger


class SeedanceGenerationSensor(BaseSensorOperator):
    """Waits until a Seedance generation ends; saves the video to ``output_path`` if given.

    :param generation_id: the id returned on submit (templated, e.g. from the operator's XCom).
    :param seedance_conn_id: connection of type ``seedance`` (templated).
    :param output_path: where to save the MP4 (local path, URL or ``ObjectStoragePath``); None: don't.
    :param replace: replace a different file already at ``output_path`` (default False: the save fails,
        keeping the id and the link in the ``seedance_unsaved_result`` XCom).
    :param deferrable: wait in the triggerer instead of poking. Defaults to Airflow's
        ``[operators] default_deferrable`` (False unless the deployment sets it).
    :param poll_interval: with ``deferrable``, fixed seconds between polls in the triggerer; None (default)
        polls adaptively around the API's estimate (``poke_interval`` applies to poke/reschedule modes).
    :param cancel_on_kill: with ``deferrable``, cancel the remote generation when the task is killed.

    ``timeout`` and ``poke_interval`` are the usual sensor arguments; in deferrable mode ``timeout``
    becomes the trigger's wall-clock deadline.
    """

    template_fields: Sequence[str] = ("seedance_conn_id", "generation_id", "output_path")
    operator_extra_links = (SeedanceVideoLink(),)
    #: The link the task has so far (read by ``SeedanceVideoLink`` when the task ends).
    seedance_video_link: str | None = None

    def __init__(
        self,
        *,
        generation_id: str,
        seedance_conn_id: str = SeedanceHook.default_conn_name,
        output_path: Any = None,
        replace: bool = False,
        deferrable: bool | None = None,
        poll_interval: float | None = None,
        cancel_on_kill: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.generation_id = generation_id
        self.seedance_conn_id = seedance_conn_id
        self.output_path = output_path
        self.replace = replace
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.cancel_on_kill = cancel_on_kill
        self.poll_interval = poll_interval
        self._first_poke_at: float | None = None  # Unix time; set at the first poke, never at parse time
        self._result: dict[str, Any] | None = None  # what this instance returned (read for OpenLineage)

    @property
    def hook(self) -> SeedanceHook:
        return SeedanceHook(self.seedance_conn_id)

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        self.defer(
            trigger=SeedanceGenerationTrigger(
                generation_id=str(self.generation_id),
                seedance_conn_id=self.seedance_conn_id,
                deadline=time.time() + float(self.timeout),
                poll_interval=self.poll_interval,
                cancel_on_kill=self.cancel_on_kill,
            ),
            method_name="execute_complete",
            timeout=None,
        )

    def poke(self, context: Any) -> PokeReturnValue | bool:
        hook = self.hook
        try:
            generation = hook.get_generation(str(self.generation_id))
        except SeedanceError as exc:
            if exc.retryable:
                self.log.warning("Poll of %s failed, will poke again: %s", self.generation_id, exc)
                return False
            raise as_airflow_error(exc) from None
        elapsed = self._elapsed(generation, context)
        self.log.info("%s", progress_line(generation, elapsed))
        if not generation.is_terminal:
            return False
        try:
            return PokeReturnValue(is_done=True, xcom_value=self._finish(hook, generation, context, elapsed))
        except SeedanceError as exc:
            raise as_airflow_error(exc) from None

    def _elapsed(self, generation: Generation, context: Any) -> float:
        """Seconds by the API's timestamps if it gives them, else since the first poke."""
        now = time.time()
        by_api = api_elapsed(generation, now)
        if by_api is not None:
            return by_api
        if self._first_poke_at is None:
            self._first_poke_at = first_poke_time(context, reschedule=self.reschedule) or now
        return max(0.0, now - self._first_poke_at)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        try:
            generation, elapsed = generation_from_event(event)
            return self._finish(self.hook, generation, context, elapsed)
        except SeedanceError as exc:
            raise as_airflow_error(exc) from None

    def _finish(self, hook: SeedanceHook, generation: Generation, context: Any, elapsed: float | None) -> Any:
        self._result = finish(
            hook,
            generation,
            context,
            output_path=self.output_path,
            elapsed_s=elapsed,
            outlets=list(self.outlets or []),
            replace=self.replace,
        )
        return self._result

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """No inputs (the media went to whoever submitted); output: the saved video; run facet ``seedance``."""
        return task_lineage((), self._result)


def first_poke_time(context: Any, *, reschedule: bool) -> float | None:
    """When this task instance started poking, as Unix time; None if the context cannot tell.

    Reschedule mode runs a fresh operator for every poke: its first poke is the start of the first run,
    which Airflow keeps (``get_first_reschedule_date``). Otherwise (and on reschedule mode's first run) it
    is the start of this run: ``ti.start_date``.
    """
    ti = context.get("ti")
    if ti is None:
        return None
    if reschedule and callable(getattr(ti, "get_first_reschedule_date", None)):
        try:
            first = ti.get_first_reschedule_date(context)
        except Exception:  # the supervisor could not tell: fall back to the start date, lose only precision
            first = None
        if isinstance(first, datetime):
            return first.timestamp()
    start = getattr(ti, "start_date", None)
    return start.timestamp() if isinstance(start, datetime) else None


def api_elapsed(generation: Generation, now: float) -> float | None:
    """Seconds from the API's creation timestamp to its last update once the generation has ended (ModelArk
    ``updated_at``), else to ``now``; None when the API gives no creation time (AIML API)."""
    raw = generation.raw
    created = unix_time(raw.get("created_at", raw.get("created")))
    if created is None:
        return None
    ended = unix_time(raw.get("updated_at")) if generation.is_terminal else None
    return max(0.0, (now if ended is None else ended) - created)


def unix_time(value: Any) -> float | None:
    """A timestamp from an API body: Unix seconds (or milliseconds), or an ISO 8601 string."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            return moment.timestamp() if moment.tzinfo is not None else None
    if not isinstance(value, (int, float)) or value <= 0:
        return None
    return float(value) / 1000 if value > 1e11 else float(value)
