"""Which runs get the provider's local review guard: runs of ``dag.test()`` on an Airflow that parks reviews in
``awaiting_input`` (3.3+; 3.1 and 3.2 defer them to a trigger that ``dag.test()`` runs with its timeout)."""

from __future__ import annotations

from types import SimpleNamespace

from packaging.version import Version

from airflow_provider_seedance.runtime import _local_review as local_review


def test_only_airflow_3_3_and_later_park_reviews() -> None:
    import airflow

    assert local_review.parks_in_awaiting_input() is (Version(airflow.__version__).release >= (3, 3))


def test_only_runs_of_dag_test_are_local() -> None:
    assert local_review.is_local_test_run({"dag_run": SimpleNamespace(triggering_user_name="dag_test")})
    assert not local_review.is_local_test_run({"dag_run": SimpleNamespace(triggering_user_name="ana")})
    assert not local_review.is_local_test_run({"dag_run": SimpleNamespace(triggering_user_name=None)})
    assert not local_review.is_local_test_run({})
