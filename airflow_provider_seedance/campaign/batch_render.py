"""``CampaignBatchRender``: one step of a campaign's renders (the first renders, a round's re-renders, the finals)
as one ``SeedanceBatchGenerateVideosOperator`` task, for ``Render(batch=True)``: the step's takes become its items,
each named by its take and saved at its take's path.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_seedance.campaign.batching import batch_of
from airflow_provider_seedance.campaign.takes import Take
from airflow_provider_seedance.operators.batch import SeedanceBatchGenerateVideosOperator
from airflow_provider_seedance.runtime._compat import AirflowSkipException


class CampaignBatchRender(SeedanceBatchGenerateVideosOperator):
    """Render a campaign step's takes in one task; one result per take, in the order of ``takes``.

    :param takes: the step's takes (``Take`` dumps, an upstream task's output); none: the task is skipped, as a
        mapped render over no takes is. The batch's ``requests``, ``output_path`` and ``seedance_conn_id`` are
        theirs (the take's name is its item's ``name``).

    The other arguments are the batch operator's. Its ``failure_policy`` is ``"any"``: a render that failed and
    can be rendered again is, by the task's retries, as a mapped render's retry would; once the retries are spent,
    or for a failure no retry can fix, the results are in the ``seedance_batch_results`` XCom, and the campaign
    gives each take its fate from them.
    """

    template_fields = (*SeedanceBatchGenerateVideosOperator.template_fields, "takes")

    def __init__(self, *, takes: Any, **kwargs: Any) -> None:
        super().__init__(requests=[], failure_policy="any", **kwargs)
        self.takes = takes

    def execute(self, context: Any) -> Any:
        self._take_on()
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        self._take_on()  # resumed on a worker: the same takes, rendered again from the upstream XCom
        return super().execute_complete(context, event)

    def _take_on(self) -> None:
        takes = [Take.model_validate(take) for take in self.takes or ()]
        if not takes:
            raise AirflowSkipException("no takes to render in this step")
        batch = batch_of(takes)
        self.requests, self.output_path = batch.requests, batch.output_path
        self.seedance_conn_id = batch.seedance_conn_id
