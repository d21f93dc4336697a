"""``python -m airflow_provider_seedance.emulator``: run the Seedance API emulator."""

from .cli import main

raise SystemExit(main())
