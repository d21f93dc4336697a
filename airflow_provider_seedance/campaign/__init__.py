"""Campaigns: takes in, renders, a gallery, human review with re-renders, a budget, drafts first, and a
release with every clip's fate out, as one part of any DAG (``SeedanceCampaign``).

The models and their transitions (``Clip``, ``Manifest``, ``ClipStatus``, ``campaign.fates``), the takes
(``campaign.takes``) and the options are pure; ``SeedanceCampaign`` and ``CampaignReviewOperator`` import
Airflow when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_seedance.campaign.manifest import Clip, ClipStatus, Manifest
from airflow_provider_seedance.campaign.options import (
    Budget,
    CampaignOptionError,
    Output,
    Render,
    Review,
)
from airflow_provider_seedance.campaign.takes import Take
from airflow_provider_seedance.contract.review import Decision

if TYPE_CHECKING:
    from airflow_provider_seedance.campaign.group import SeedanceCampaign
    from airflow_provider_seedance.campaign.review_operator import CampaignReviewOperator

__all__ = [
    "Budget",
    "CampaignOptionError",
    "CampaignReviewOperator",
    "Clip",
    "ClipStatus",
    "Decision",
    "Manifest",
    "Output",
    "Render",
    "Review",
    "SeedanceCampaign",
    "Take",
]


def __getattr__(name: str) -> Any:
    if name == "SeedanceCampaign":
        from airflow_provider_seedance.campaign.group import SeedanceCampaign

        return SeedanceCampaign
    if name == "CampaignReviewOperator":
        from airflow_provider_seedance.campaign.review_operator import CampaignReviewOperator

        return CampaignReviewOperator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
