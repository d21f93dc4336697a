"""The "Seedance video" extra link, and the XCom keys the operator and the sensor push for it.

The API server reads a finished task's link from XCom; on the worker, where Airflow asks every link as a
task ends, the running operator answers itself (``seedance_video_link``), so nothing is looked up in vain.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperatorLink

LINK_XCOM_KEY = "seedance_video_link"
ID_XCOM_KEY = "seedance_generation_id"


class SeedanceVideoLink(BaseOperatorLink):
    """Extra link "Seedance video": the saved video when it is http(s), else the API's result URL.

    On the worker (Airflow asks every link when a task ends) the operator itself holds the link it pushed,
    so a task that ended before it had one logs no "XCom not found" error; elsewhere the XCom is read.
    """

    name = "Seedance video"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        if hasattr(operator, "seedance_video_link"):
            return str(operator.seedance_video_link or "")
        from airflow.sdk.execution_time.xcom import XCom

        value = XCom.get_value(key=LINK_XCOM_KEY, ti_key=ti_key)
        return str(value) if value else ""


def push_link(context: Any, url: str | None) -> None:
    """The link in XCom (for the UI) and on the running operator (for ``SeedanceVideoLink`` at task end)."""
    if url:
        context["ti"].xcom_push(key=LINK_XCOM_KEY, value=url)
        task = context.get("task")
        if task is not None and hasattr(task, "seedance_video_link"):
            task.seedance_video_link = url
