"""DAGs of the deployment suite: mapped Seedance generations across the three backends, and one batch task.

Each run's ``conf`` says what to generate: ``{"items": [{"backend": "evolink", "prompt": "...",
"timeout": 30, "pause_at": "before_defer", "duration": 10, "fallback_conn_ids": [...], "poll_interval": 5},
...]}``. Connections ``seedance_<backend>`` come from the environment; videos are saved under
``$SEEDANCE_DEPLOY_OUTPUT/<run id>/``.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, get_current_context, task

from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.operators.batch import SeedanceBatchGenerateVideosOperator
from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

OUTPUT = os.environ.get("SEEDANCE_DEPLOY_OUTPUT", "/tmp/seedance-deploy-output")
MODELS = {
    "evolink": "seedance-2.0-fast-text-to-video",
    "aimlapi": "bytedance/seedance-1-0-pro-fast",
    "modelark": "dreamina-seedance-2-0-fast-260128",
}
START = datetime(2026, 1, 1)


@task
def plan() -> list[dict[str, Any]]:
    """One operator's kwargs per requested generation."""
    dag_run = get_current_context()["dag_run"]
    items = (dag_run.conf or {}).get("items", [])
    planned = []
    for index, item in enumerate(items):
        backend = item["backend"]
        kwargs: dict[str, Any] = {
            "seedance_conn_id": f"seedance_{backend}",
            "model": MODELS[backend],
            "prompt": item["prompt"],
            "output_path": f"{OUTPUT}/{dag_run.run_id}/{index:03d}-{backend}.mp4",
            "duration": item.get("duration", 5),
        }
        for key in ("timeout", "pause_at", "pause_s", "fallback_conn_ids", "poll_interval"):
            if key in item:
                kwargs[key] = item[key]
        planned.append(kwargs)
    return planned


def _dag(dag_id: str, retries: int, doc: str) -> DAG:
    return DAG(
        dag_id,
        schedule=None,
        start_date=START,
        catchup=False,
        max_active_tasks=64,
        default_args={"retries": retries, "retry_delay": timedelta(seconds=1), "retry_exponential_backoff": 0},
        tags=["seedance", "deployment-test"],
        doc_md=doc,
    )


COMMON: dict[str, Any] = {"quality": "480p"}

with _dag("seedance_deploy_batch", 2, "Mapped generations with retries=2 (the usual production setting).") as batch:
    SeedanceGenerateVideoOperator.partial(task_id="generate", **COMMON).expand_kwargs(plan())

VENDOR_POOL = "seedance_vendor"  # created by the test that uses it, with include_deferred: renders in flight

with _dag("seedance_deploy_pooled", 2, f"Mapped generations in the `{VENDOR_POOL}` pool.") as pooled:
    SeedanceGenerateVideoOperator.partial(task_id="generate", pool=VENDOR_POOL, **COMMON).expand_kwargs(plan())

with _dag("seedance_deploy_no_retry", 0, "Mapped generations without retries (deadline checks).") as no_retry:
    SeedanceGenerateVideoOperator.partial(task_id="generate", **COMMON).expand_kwargs(plan())


# -- crash window --------------------------------------------------------------------------------------
# A real crash hits a window of a few milliseconds; to hit it on purpose these subclasses hold the
# first try still inside the window. The crash itself comes from outside: the suite SIGKILLs the task
# process. Retries run the stock code path (no pause).


def _first_try() -> bool:
    return int(get_current_context()["ti"].try_number) <= 1


class _PauseAfterSubmitHook(SeedanceHook):
    """Pauses after the create call returned, before the operator persisted the generation id; or, with
    ``pause_download_s``, in the middle of saving the video (the temporary file open, nothing committed)."""

    pause_s = 0.0
    pause_download_s = 0.0

    def download_video(
        self, url: str, destination: Any, *, generation_id: str = "", replace: bool = False, **limits: Any
    ) -> Any:
        if not (self.pause_download_s and _first_try()):
            return super().download_video(url, destination, generation_id=generation_id, replace=replace, **limits)
        from airflow_provider_seedance.hooks.seedance import content_length
        from airflow_provider_seedance.runtime.storage import save_stream

        with self.download_client() as client, client.stream("GET", url) as response:
            response.raise_for_status()

            def chunks() -> Any:
                for number, chunk in enumerate(response.iter_bytes()):
                    yield chunk
                    if number == 0:
                        self.log.info("deployment test: holding %.0fs while downloading", self.pause_download_s)
                        time.sleep(self.pause_download_s)

            return save_stream(chunks(), destination, expected_size=content_length(response), replace=replace)

    def submit(self, request: Any, **kwargs: Any) -> Any:
        generation = super().submit(request, **kwargs)
        if self.pause_s and _first_try():
            self.log.info("deployment test: holding %.0fs after submitting %s", self.pause_s, generation.id)
            time.sleep(self.pause_s)
        return generation


class CrashWindowOperator(SeedanceGenerateVideoOperator):
    """``pause_at="after_submit"``: created, id not yet persisted; ``"before_defer"``: persisted, not deferred;
    ``"downloading"``: back from the triggerer, in the middle of saving the video."""

    def __init__(self, *, pause_at: str = "none", pause_s: float = 120.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pause_at = pause_at
        self.pause_s = float(pause_s)

    @property
    def hook(self) -> SeedanceHook:
        hook = _PauseAfterSubmitHook(self.seedance_conn_id)
        hook.pause_s = self.pause_s if self.pause_at == "after_submit" else 0.0
        hook.pause_download_s = self.pause_s if self.pause_at == "downloading" else 0.0
        return hook

    def defer(self, **kwargs: Any) -> Any:
        if self.pause_at == "before_defer" and _first_try():
            self.log.info("deployment test: holding %.0fs before deferring", self.pause_s)
            time.sleep(self.pause_s)
        return super().defer(**kwargs)


with _dag("seedance_deploy_crash", 1, "A crash between submit and defer; retries=1.") as crash:
    CrashWindowOperator.partial(task_id="generate", **COMMON).expand_kwargs(plan())


# -- catalog: one batch task --------------------------------------------------------------------------


@task
def catalog() -> list[dict[str, Any]]:
    """The run's items as batch requests (EvoLink), named by their place."""
    items = (get_current_context()["dag_run"].conf or {}).get("items", [])
    return [{"prompt": item["prompt"], "name": f"{index:03d}"} for index, item in enumerate(items)]


with _dag("seedance_deploy_catalog", 1, "The run's items as one batch task on EvoLink; retries=1.") as catalog_dag:
    SeedanceBatchGenerateVideosOperator(
        task_id="generate",
        seedance_conn_id="seedance_evolink",
        requests=catalog(),
        defaults={"model": MODELS["evolink"], "duration": 5, **COMMON},
        output_path=OUTPUT + "/{{ run_id }}/{name}.mp4",
        max_concurrency=2,
    )
