"""``CampaignReviewOperator``: one review of one slot's takes in Airflow's Required Actions, answered with a
typed ``Decision``. Usable on its own in any DAG, as the standard provider's ``ApprovalOperator`` is: the
options are fixed (one approve per take, reject, re-render with a note), the answer is read in
``execute_complete``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import Param

from airflow_provider_seedance.contract.review import REJECT, decide, review_request
from airflow_provider_seedance.operators.review import SeedanceReviewOperator
from airflow_provider_seedance.plugin.addresses import run_page_template

NOTE_PARAM = "note"


def note_param() -> dict[str, Param]:
    """The review form's note field, for a re-render: what to change."""
    return {NOTE_PARAM: Param(None, type=["null", "string"], description="For a re-render: what to change.")}


def _airflow_base_url() -> str:
    from airflow.configuration import conf

    return conf.get("api", "base_url", fallback="") or ""


class CampaignReviewOperator(SeedanceReviewOperator):
    """Review the takes of one slot; returns ``Decision.model_dump()``: ``kind`` (``approve``, ``reject``,
    ``rerender``, ``timed_out``, ``no_answer``), ``take`` (1-based, for approve), ``note``, ``reviewer``,
    ``slot``. A timeout answers Reject by nobody, which is ``timed_out``: never an approval.

    :param slot: what the review decides on (its subject is ``Review <slot>``).
    :param clips: the slot's takes, as manifest clips (``Clip.model_dump(mode="json")``) or dicts with
        ``name``, ``prompt``, ``model``, ``duration``, ``quality``, ``credits``, ``url``, ``poster_url``.
    :param gallery: where the reviewer can watch every take (shown as text).
    :param response_timeout: how long the review waits for its answer (``HITLOperator``'s).

    Give ``params=note_param()`` in ``.partial(...)`` (or the constructor) for the re-render note field: a
    task's params must come through ``BaseOperator`` to count as the task's (Airflow 3.3 drops others from the
    form). The options, subject, body, defaults and multiple are fixed; every other ``HITLOperator`` argument
    (``notifiers``, ``assigned_users``, ``response_timeout``...) and every ``BaseOperator`` one is taken.
    """

    FIXED_ARGS = ("subject", "body", "options", "defaults", "multiple")

    def __init__(
        self,
        *,
        slot: str,
        clips: Sequence[Mapping[str, Any]],
        gallery: str | None = None,
        **kwargs: Any,
    ) -> None:
        for arg in self.FIXED_ARGS:
            if arg in kwargs:
                raise ValueError(f"CampaignReviewOperator: {arg} is fixed by the clips; do not pass it")
        if not clips:
            raise ValueError(f"CampaignReviewOperator: slot {slot!r} has no clips to review")
        asked = review_request(slot, list(clips), gallery or "", player=run_page_template(_airflow_base_url()))
        super().__init__(
            subject=asked["subject"],
            body=asked["body"],
            options=asked["options"],
            defaults=[REJECT],
            multiple=False,
            **kwargs,
        )
        self.slot = slot
        self.clips = list(clips)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        answer = super().execute_complete(context=context, event=event)
        decision = decide(answer, self.slot)
        self.log.info("Review of %s: %s %s", self.slot, decision.kind, decision.note)
        return decision.model_dump()
