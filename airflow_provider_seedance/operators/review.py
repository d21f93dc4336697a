"""``SeedanceReviewOperator``: Airflow's ``HITLOperator`` for reviewing renders, whose ``response_timeout``
holds under ``airflow dags test`` too.

In a deployment it is ``HITLOperator`` unchanged: the task waits for an answer in the Airflow UI's Required
Actions (or the REST API, or ``seedance-review``) and the scheduler applies the timeout. Under
``airflow dags test`` / ``dag.test()`` on Airflow 3.3, where no scheduler runs, the provider applies the
timeout itself and SIGTERM ends the command (see ``airflow_provider_seedance.runtime._local_review``).
"""

from __future__ import annotations

from typing import Any

from airflow.providers.standard.operators.hitl import HITLOperator

from airflow_provider_seedance.runtime import _local_review as local_review


class SeedanceReviewOperator(HITLOperator):
    """A Human-in-the-loop review that cannot hang a local run. Takes every ``HITLOperator`` argument
    (``subject``, ``options``, ``body``, ``defaults``, ``params``, ``response_timeout``, ...)."""

    def execute(self, context: Any) -> Any:
        if local_review.is_local_test_run(context) and local_review.parks_in_awaiting_input():
            local_review.guard(self.response_timeout, self.task_id)
        return super().execute(context)
