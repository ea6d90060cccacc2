"""Apache Airflow provider for Anaplan tasks (`pip install 'anaplan-tasks[airflow]'`).

Connection type `anaplan` (`AnaplanHook`), operators for imports, exports, processes, model
actions and ALM syncs (`anaplan_tasks.airflow.operators`), a sensor for a task
(`AnaplanTaskSensor`) and the trigger their deferrable mode waits in (`AnaplanTaskTrigger`).
Airflow finds it through the `apache_airflow_provider` entry point (`get_provider_info`).
Only this subpackage imports Airflow.
"""

from __future__ import annotations

from typing import Any

__all__ = ["get_provider_info"]

_CONN_FIELDS: dict[str, Any] = {
    "workspace": {
        "label": "Workspace",
        "schema": {"type": ["string", "null"]},
        "description": "The workspace's id or name.",
    },
    "model": {
        "label": "Model",
        "schema": {"type": ["string", "null"]},
        "description": "The model's id or name.",
    },
    "auth_type": {
        "label": "Sign-in",
        "schema": {
            "type": ["string", "null"],
            "default": "basic",
            "enum": ["basic", "certificate", "token", "oauth"],
        },
        "description": "basic (login/password), certificate (certificate, private key and "
        "its password in the password field), token (the token in the password field) or "
        "oauth (OAuth client id and token store below; the client's secret, if any, in the "
        "password field).",
    },
    "oauth_client_id": {
        "label": "OAuth client id",
        "schema": {"type": ["string", "null"]},
    },
    "token_store": {
        "label": "OAuth token store (file)",
        "schema": {"type": ["string", "null"]},
        "description": "The file a sign-in was saved to (anaplan-tasks login), shared by the "
        "workers and the triggerer.",
    },
    "certificate": {
        "label": "Certificate (path or PEM)",
        "schema": {"type": ["string", "null"]},
    },
    "private_key": {
        "label": "Private key (path or PEM)",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
}


def get_provider_info() -> dict[str, Any]:
    """What Airflow's providers manager reads (the `apache_airflow_provider` entry point)."""
    return {
        "package-name": "anaplan-tasks",
        "name": "Anaplan",
        "description": "Run Anaplan imports, exports, processes, actions and ALM syncs.",
        "integrations": [
            {
                "integration-name": "Anaplan",
                "external-doc-url": "https://anaplanbulkapi20.docs.apiary.io/",
                "tags": ["service"],
            }
        ],
        "operators": [
            {
                "integration-name": "Anaplan",
                "python-modules": ["anaplan_tasks.airflow.operators"],
            }
        ],
        "sensors": [
            {"integration-name": "Anaplan", "python-modules": ["anaplan_tasks.airflow.sensors"]}
        ],
        "hooks": [
            {"integration-name": "Anaplan", "python-modules": ["anaplan_tasks.airflow.hooks"]}
        ],
        "triggers": [
            {"integration-name": "Anaplan", "python-modules": ["anaplan_tasks.airflow.triggers"]}
        ],
        "connection-types": [
            {
                "connection-type": "anaplan",
                "hook-class-name": "anaplan_tasks.airflow.hooks.AnaplanHook",
                "hook-name": "Anaplan",
                "conn-fields": _CONN_FIELDS,
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "host": "Base URL (emulator only; empty for Anaplan)",
                        "login": "E-mail (basic sign-in)",
                        "password": "Password, private key password or token",
                    },
                    "placeholders": {"host": "http://127.0.0.1:8080"},
                },
            }
        ],
    }
