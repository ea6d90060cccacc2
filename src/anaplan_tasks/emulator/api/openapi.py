"""An OpenAPI 3.1 description generated from the route table, so it lists every route served."""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Route

from .faults import FAULT_KINDS

_PARAMETER = re.compile(r"{([^}:]+)(?::[^}]+)?}")

_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "status": {
            "type": "object",
            "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
        },
        "path": {"type": "string"},
        "timestamp": {"type": "string"},
    },
}

_TOKEN_ERROR_SCHEMA = {
    "type": "object",
    "required": ["status", "statusMessage"],
    "properties": {
        "status": {"enum": ["FAILURE_BAD_CREDENTIAL", "FAILURE_BAD_HEADER"]},
        "statusMessage": {"type": "string"},
    },
}
"""The authentication service's own error body (`/token/…` 400 and 401)."""

_BINARY = {"type": "string", "format": "binary"}
_CHUNK_BODY = {
    "required": True,
    "content": {
        "application/octet-stream": {"schema": _BINARY},
        "application/x-gzip": {"schema": _BINARY},
    },
}
_JSON_BODIES: dict[str, dict[str, Any]] = {
    "set_chunk_count": {
        "type": "object",
        "required": ["chunkCount"],
        "properties": {"chunkCount": {"type": "integer", "minimum": -1, "maximum": 1000}},
    },
    "start_task": {
        "type": "object",
        "required": ["localeName"],
        "properties": {
            "localeName": {"type": "string", "example": "en_US"},
            "mappingParameters": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["entityType", "entityName"],
                    "properties": {
                        "entityType": {"type": "string"},
                        "entityName": {"type": "string"},
                        "importId": {"type": "string"},
                    },
                },
            },
        },
    },
    "control_progression": {
        "type": "object",
        "required": ["mode"],
        "properties": {
            "mode": {"enum": ["real", "fixed", "polls", "manual"]},
            "seconds": {"type": "number", "minimum": 0},
            "polls": {"type": "integer", "minimum": 0},
        },
    },
    "control_faults": {
        "type": "object",
        "properties": {
            "seed": {"type": ["integer", "null"]},
            "rules": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["fault"],
                    "properties": {
                        "fault": {"enum": list(FAULT_KINDS)},
                        "method": {"type": "string"},
                        "path": {"type": "string"},
                        "probability": {"type": "number", "minimum": 0, "maximum": 1},
                        "times": {"type": ["integer", "null"], "minimum": 0},
                        "status": {"type": "integer", "minimum": 400, "maximum": 599},
                        "retryAfter": {"type": ["integer", "null"], "minimum": 0},
                        "latency": {"type": "number", "minimum": 0, "maximum": 60},
                        "delay": {"type": "number", "minimum": 0, "maximum": 60},
                        "hold": {"type": "boolean"},
                    },
                },
            },
        },
    },
    "control_rate_limit": {
        "type": "object",
        "required": ["perMinute"],
        "properties": {
            "perMinute": {"type": "integer", "minimum": 1},
            "retryAfter": {"type": "boolean"},
        },
    },
    "control_token_lifetime": {
        "type": "object",
        "required": ["seconds"],
        "properties": {"seconds": {"type": "number", "exclusiveMinimum": 0}},
    },
}


_OBJECT: dict[str, Any] = {"type": "object"}
_CW_INTEGRATION = {
    "type": "object",
    "required": ["name", "workspaceId", "modelId"],
    "properties": {
        "name": {"type": "string"},
        "version": {"const": "2.0"},
        "workspaceId": {"type": "string"},
        "modelId": {"type": "string"},
        "nuxVisible": {"type": "boolean"},
        "processId": {"type": "string"},
        "jobs": {"type": "array", "items": _OBJECT},
    },
}
_CW_SCHEDULE = {
    "type": "object",
    "required": ["integrationId", "schedule"],
    "properties": {"integrationId": {"type": "string"}, "schedule": _OBJECT},
}
_CW_NOTIFICATION = {
    "type": "object",
    "required": ["integrationIds", "channels", "notifications"],
    "properties": {
        "integrationIds": {"type": "array", "items": {"type": "string"}},
        "channels": {"type": "array", "items": {"enum": ["email", "in_app"]}},
        "notifications": _OBJECT,
    },
}
_CW_FLOW = {
    "type": "object",
    "required": ["name", "steps"],
    "properties": {
        "name": {"type": "string"},
        "version": {"const": "2.0"},
        "type": {"const": "IntegrationFlow"},
        "steps": {"type": "array", "items": _OBJECT},
    },
}
_JSON_BODIES.update(
    {
        "cw_create_connection": {
            "type": "object",
            "required": ["type", "body"],
            "properties": {
                "type": {"enum": ["AmazonS3", "AzureBlob", "GoogleBigQuery"]},
                "body": _OBJECT,
            },
        },
        "cw_edit_connection": _OBJECT,
        "cw_patch_connection": _OBJECT,
        "cw_create_integration": _CW_INTEGRATION,
        "cw_edit_integration": _CW_INTEGRATION,
        "cw_create_schedule": _CW_SCHEDULE,
        "cw_edit_schedule": _CW_SCHEDULE,
        "cw_create_notification": _CW_NOTIFICATION,
        "cw_edit_notification": _CW_NOTIFICATION,
        "cw_create_flow": _CW_FLOW,
        "cw_edit_flow": _CW_FLOW,
        "cw_run_flow": {
            "type": "object",
            "properties": {"stepsToRun": {"type": "array", "items": {"type": "string"}}},
        },
    }
)


def _request_body(method: str, route: Route) -> dict[str, Any] | None:
    name = route.name.removesuffix("_by_model").removesuffix("_cloudworks_base")
    if name in ("put_chunk", "put_whole_file"):
        return _CHUNK_BODY
    if name.startswith("start_") and name.endswith("_task"):
        name = "start_task"
    schema = _JSON_BODIES.get(name)
    if schema is None or method not in ("POST", "PUT", "PATCH"):
        return None
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_SUCCESS_BY_METHOD = {"GET": "200", "POST": "200", "PUT": "204", "DELETE": "204"}
_SUCCESS_OVERRIDES = {
    ("POST", "/token/authenticate"): "201",
    ("POST", "/token/logout"): "204",
    ("PUT", "/_emulator/progression"): "200",
    ("PUT", "/_emulator/faults"): "200",
    ("PUT", "/_emulator/token-lifetime"): "200",
    ("POST", "/_emulator/reset"): "204",
    ("POST", "/_emulator/definitions"): "204",
    ("POST", "/_emulator/advance"): "204",
    ("POST", "/_emulator/tokens/expire"): "204",
    ("DELETE", "/_emulator/faults"): "204",
    ("PUT", "/_emulator/rate-limit"): "200",
    ("DELETE", "/_emulator/rate-limit"): "204",
    ("DELETE", "/_emulator/requests"): "204",
}


def _is_cloudworks(path: str) -> bool:
    return path.startswith(("/cloudworks/", "/2/0/integrations", "/2/0/integrationflows"))


def _tag(path: str) -> str:
    if _is_cloudworks(path):
        return "cloudworks"
    if path.startswith("/token/"):
        return "authentication"
    if path.startswith("/_emulator/"):
        return "emulator control"
    for word in ("dump", "tasks", "files", "imports", "exports", "actions", "processes"):
        if f"/{word}" in path:
            return {"dump": "dumps"}.get(word, word)
    return "users, workspaces and models"


def _success_status(method: str, route: Route) -> str:
    override = _SUCCESS_OVERRIDES.get((method, route.path))
    if override:
        return override
    if _is_cloudworks(route.path):
        return "200"  # every CloudWorks success is a 200 with a body
    if method == "DELETE" and "/tasks/" in route.path:
        return "200"  # cancelling answers with the task
    if method == "POST" and route.path.endswith("/close"):
        return "204"
    return _SUCCESS_BY_METHOD.get(method, "200")


def _responses(success: str, path: str) -> dict[str, Any]:
    envelope = {
        "description": "Anaplan's error envelope",
        "content": {"application/json": {"schema": _ERROR_SCHEMA}},
    }
    responses: dict[str, Any] = {success: {"description": "Success"}}
    if path.startswith("/token/"):
        # The authentication service answers a bad header or credential with its own body;
        # routing (405) and the rate limit (429) answer with the envelope.
        token_error = {
            "description": "The authentication service's error body",
            "content": {"application/json": {"schema": _TOKEN_ERROR_SCHEMA}},
        }
        responses["400"] = token_error
        responses["401"] = token_error
    responses["4XX"] = envelope
    return responses


def openapi_document(routes: Sequence[BaseRoute], *, server_url: str) -> dict[str, Any]:
    """Describe every HTTP route of the table."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        path_item = paths.setdefault(route.path, {})
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PARAMETER.findall(route.path)
        ]
        doc = inspect.getdoc(route.endpoint) or route.name
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            success = _success_status(method, route)
            operation: dict[str, Any] = {
                "operationId": f"{route.name}_{method.lower()}",
                "summary": doc.splitlines()[0],
                "tags": [_tag(route.path)],
                "responses": _responses(success, route.path),
            }
            if parameters:
                operation["parameters"] = parameters
            body = _request_body(method, route)
            if body is not None:
                operation["requestBody"] = body
            if route.path.startswith(("/2/0", "/cloudworks/")):
                operation["security"] = [{"AnaplanAuthToken": []}]
            if route.name.startswith("cw_removed"):
                operation["deprecated"] = True  # removed by Anaplan: an HTML 404 for everyone
            path_item[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "anaplan-tasks emulator",
            "version": "2.0",
            "description": (
                "Anaplan's Integration API v2.0 (bulk tasks, files, dumps), its authentication "
                "service, CloudWorks API v2 (under /2/0/integrations… and again under "
                "/cloudworks/2/0/…), and the emulator's control routes. Model-scoped paths are "
                "served with and without /workspaces/{workspaceId}; a trailing slash is tolerated."
            ),
        },
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {
                "AnaplanAuthToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "'AnaplanAuthToken <tokenValue>' or 'Bearer <tokenValue>'.",
                }
            }
        },
        "paths": paths,
    }
