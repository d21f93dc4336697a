"""SeedanceGenerationSensor: wait for an existing generation id (poke, reschedule or deferrable).

Pairs with ``SeedanceGenerateVideoOperator(wait_for_completion=False)``; returns the operator's result shape.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_seedance.exceptions import SeedanceError
from airflow_provider_seedance.hooks.seedance import SeedanceHook, progress_line, raise_unless_succeeded
from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.operators.completion import (
    SeedanceVideoLink,
    as_airflow_error,
    finish,
    generation_from_event,
)
from airflow_provider_seedance.triggers.seedance import SeedanceGenerationTrigger


class SeedanceGenerationSensor(BaseSensorOperator):
    """Waits until a Seedance generation ends; saves the video to ``output_path`` if given.

    :param generation_id: the id returned on submit (templated, e.g. from the operator's XCom).
    :param seedance_conn_id: connection of type ``seedance``.
    :param output_path: where to save the MP4 (local path, URL or ``ObjectStoragePath``); None: don't.
    :param deferrable: wait in the triggerer instead of poking (default False, as for sensors).
    :param poll_interval: with ``deferrable``, fixed seconds between polls in the triggerer; None (default)
        polls adaptively around the API's estimate (``poke_interval`` applies to poke/reschedule modes).
    :param cancel_on_kill: with ``deferrable``, cancel the remote generation when the task is killed.

    ``timeout`` and ``poke_interval`` are the usual sensor arguments; in deferrable mode ``timeout``
    becomes the trigger's wall-clock deadline.
    """

    template_fields: Sequence[str] = ("generation_id", "output_path")
    operator_extra_links = (SeedanceVideoLink(),)

    def __init__(
        self,
        *,
        generation_id: str,
        seedance_conn_id: str = SeedanceHook.default_conn_name,
        output_path: Any = None,
        deferrable: bool = False,
        poll_interval: float | None = None,
        cancel_on_kill: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.generation_id = generation_id
        self.seedance_conn_id = seedance_conn_id
        self.output_path = output_path
        self.deferrable = deferrable
        self.cancel_on_kill = cancel_on_kill
        self.poll_interval = poll_interval
        self._started = time.time()

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
        self.log.info("%s", progress_line(generation, time.time() - self._started))
        if not generation.is_terminal:
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._finish(hook, generation, context))

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        try:
            generation, _ = generation_from_event(event)
            return self._finish(self.hook, generation, context)
        except SeedanceError as exc:
            raise as_airflow_error(exc) from None

    def _finish(self, hook: SeedanceHook, generation: Generation, context: Any) -> Any:
        try:
            raise_unless_succeeded(generation)
        except SeedanceError as exc:
            raise as_airflow_error(exc) from None
        return finish(
            hook, generation, context, output_path=self.output_path, elapsed_s=None, outlets=list(self.outlets or [])
        )
