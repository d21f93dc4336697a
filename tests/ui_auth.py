"""An auth manager for the Seedance tab's tests: Airflow's simple auth manager, where the user ``outsider``
(a viewer) may read no DAG at all, as a per-DAG permission of the FAB or Keycloak auth managers would say.

The api-server imports it (``AIRFLOW__CORE__AUTH_MANAGER=tests.ui_auth.OutsiderAuthManager``, the repository
on ``PYTHONPATH``)."""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

OUTSIDER = "outsider"


class OutsiderAuthManager(SimpleAuthManager):
    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None) -> bool:
        if user.get_name() == OUTSIDER:
            return False
        return super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details)
