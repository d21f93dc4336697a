"""The Seedance tab: every render of a run playable inside the Airflow UI, behind Airflow's permissions.

A plugin the provider registers (``get_provider_info``'s ``plugins``): the api-server mounts its FastAPI app
(``plugin.app``) at ``/seedance`` and the UI shows it as a **Seedance** tab on DAG-run and task-instance pages
and as **Seedance renders** in the navigation. Nothing to copy into a plugins folder.
"""
