"""Static provider metadata: the ``seedance`` connection type, its form, and the operator's extra link.

Airflow renders the connection form from this declaration alone (``ui-field-behaviour`` and
``conn-fields``), without importing the hook.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_seedance.version import __version__


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-seedance",
        "name": "Seedance",
        "description": "Generate videos with ByteDance Seedance (EvoLink, AIML API, BytePlus ModelArk).",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Seedance",
                "external-doc-url": "https://seed.bytedance.com/en/seedance",
                "tags": ["software"],
            }
        ],
        "hooks": [{"integration-name": "Seedance", "python-modules": ["airflow_provider_seedance.hooks.seedance"]}],
        "operators": [
            {"integration-name": "Seedance", "python-modules": ["airflow_provider_seedance.operators.seedance"]}
        ],
        "sensors": [{"integration-name": "Seedance", "python-modules": ["airflow_provider_seedance.sensors.seedance"]}],
        "triggers": [
            {"integration-name": "Seedance", "python-modules": ["airflow_provider_seedance.triggers.seedance"]}
        ],
        "connection-types": [
            {
                "connection-type": "seedance",
                "hook-class-name": "airflow_provider_seedance.hooks.seedance.SeedanceHook",
                "hook-name": "Seedance",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login"],
                    "relabeling": {"password": "API key", "host": "Base URL"},
                    "placeholders": {
                        "password": "your Seedance API key (EvoLink, AIML API or ModelArk)",
                        "host": "empty = the backend's public API, e.g. https://api.evolink.ai",
                    },
                },
                "conn-fields": {
                    "backend": {
                        "label": "Backend",
                        "description": "Which Seedance API this key belongs to.",
                        "schema": {
                            "type": "string",
                            "enum": ["evolink", "aimlapi", "modelark"],
                            "default": "evolink",
                        },
                    },
                    "timeout": {
                        "label": "Request timeout (seconds)",
                        "description": "Per HTTP request, not for the whole generation. Default 60.",
                        "schema": {"type": ["number", "null"], "minimum": 1},
                    },
                    "create_timeout": {
                        "label": "Create timeout (seconds)",
                        "description": "Read timeout of the paid create call, shorter than the request "
                        "timeout so a create that hangs is retried (under EvoLink's idempotency key) or "
                        "reported soon. Default 30.",
                        "schema": {"type": ["number", "null"], "minimum": 1},
                    },
                    "max_retries": {
                        "label": "Max retries",
                        "description": "Retries of safe requests on 408, 429, 5xx and network errors. Default 4.",
                        "schema": {"type": ["integer", "null"], "minimum": 0, "maximum": 20},
                    },
                },
            }
        ],
        "extra-links": ["airflow_provider_seedance.links.SeedanceVideoLink"],
        "config": {
            "seedance": {
                "description": "Seedance video generation provider.",
                "options": {
                    "models": {
                        "description": "Limits of models this provider's table does not know yet (or overrides), "
                        "as JSON: model id -> {modes, durations, qualities, ratios, optional_fields, drafts, ...}. "
                        "Checked like the built-in table; a connection's extra `models` wins for its backend.",
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": '{"dreamina-seedance-2-5-261001": {"modes": ["text"], "durations": [4, 30], '
                        '"optional_fields": ["duration", "quality"]}}',
                        "default": "",
                    }
                },
            }
        },
    }
