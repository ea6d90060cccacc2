"""CloudWorks in the emulator: connections, integrations, runs, schedules, notifications and
integration flows (reference: `anaplan-api-more.md` §11).

A connection reaches a *bucket*: a local directory that a definition names (`[[buckets]]`),
found by the connection's `bucketName` (Amazon S3), `storageAccountName` + `containerName`
(Azure Blob) or `dataset` (Google BigQuery, a table being `<table>.csv`). Creating a connection
validates it against the bucket as CloudWorks validates it against the cloud: an unknown bucket
is `Bucket name is invalid` (BigQuery: `Invalid Dataset`), a credential the bucket pins and the
connection does not match is `Credentials are invalid`.

A run is real work on the task engine, in a thread of its own:

- an import integration (`…ToAnaplan`) reads the source file from the bucket, uploads it as the
  caller's content of the import's data file (`fileId`) and runs the import task;
- an export integration (`AnaplanTo…`) runs the export task and writes its file into the
  bucket (into the target folder under the export file's name, a new name per run unless
  `overwrite`);
- a process integration stages the source file of each of its import jobs, runs the process,
  then writes the file of each of its export jobs.

The run then reads the task's result: `Success`, a partial success (`executionErrorCode` 38, the
import's own row counts as the message), or a failure (12, the first failure's text; a process:
`Process failed`); its errors are the task's result details and its dumps the task's dumps.
While a run is in flight its integration's `latestRun` says `Running` with no `endDate`; a
second run, or a delete, is a 409. Each read of a run's status reads its task's status too, so
the engine's `polls` progression moves CloudWorks runs as it moves tasks.

The data model lives in `storage/cloudworks.py` (one JSON document per resource). Every change
is made under one lock; a run's thread takes the engine's lease only around each engine call,
never while it waits. A reset wipes CloudWorks with the engine and bumps `generation`: a run
thread of an earlier generation ends without writing.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import secrets
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from ...models import TaskResult
from .. import errors
from ..definitions import BucketDef
from ..errors import EmulatorError
from ..storage.cloudworks import CloudWorksStore
from . import cloudworks_schedule
from .cloudworks_host import ActionInfo, CloudWorksHost
from .contract import ActionKind, Page, Paged, Principal

log = logging.getLogger(__name__)

TENANT_MAX = 500
"""Integrations (flows included) per tenant."""

CONNECTION_TYPES = ("AmazonS3", "AzureBlob", "GoogleBigQuery")
JOB_TYPES = {
    "AmazonS3ToAnaplan": ("AmazonS3", "import"),
    "AzureBlobToAnaplan": ("AzureBlob", "import"),
    "GoogleBigQueryToAnaplan": ("GoogleBigQuery", "import"),
    "AnaplanToAmazonS3": ("AmazonS3", "export"),
    "AnaplanToAzureBlob": ("AzureBlob", "export"),
    "AnaplanToGoogleBigQuery": ("GoogleBigQuery", "export"),
}
NOTIFICATION_TYPES = ("success", "partial_failure", "full_failure")
CHANNELS = ("email", "in_app")
MAX_NOTIFIED_USERS = 5
MAX_FLOW_STEPS = 100

RUNNING = "Running"
SUCCESS = "Success"
CANCELLED = "Cancelled"
PROCESS_FAILED = "Process failed"
STOPPED = "The emulator stopped while this run ran; nothing more was done."
PARTIAL_CODE = 38
FAILED_CODE = 12

# Anaplan's messages (reference §11.4).
NOT_FOUND = "Resource not found"
BAD_BODY = "Invalid request body"
BAD_INTEGRATION = "Integration payload is not compliant with the schema"
BAD_FLOW = "Integration flow error"
NO_WORKSPACE = "User does not have access to workspace"
NO_MODEL = "User does not have access to model"
DUPLICATE = "Duplicate resource name not allowed"
ALREADY_RUNNING = "Integration is already running"
REFERENCED = "The resource is being referenced"
SINGLE_JOB = "Only a single job is supported by import/export integration"
TOO_MANY = "Total number of integrations exceeded the limit"
NO_DUMP = "Your integration run was successful / no errors"
BAD_VERSION = "This API version is not supported for this request"
NOT_PERMITTED = "Not Permitted"
NOT_ENTITLED = "Tenant not entitled"
SINGLE_SCHEDULE = "Only a single schedule is supported per integration"
BAD_INTEGRATION_ID = "Invalid value for integration_id"
BAD_CONNECTION_ID = "Invalid connection_id"

_SECRETS = {
    "AmazonS3": ("accessKeyId", "secretAccessKey"),
    "AzureBlob": ("sasToken",),
    "GoogleBigQuery": ("serviceAccountKey",),
}
_REQUIRED = {
    "AmazonS3": ("name", "accessKeyId", "secretAccessKey", "bucketName"),
    "AzureBlob": ("name", "storageAccountName", "containerName", "sasToken"),
    "GoogleBigQuery": ("name", "dataset", "serviceAccountKey"),
}
_OPTIONAL = {
    "AmazonS3": ("roleArn", "workspaceId"),
    "AzureBlob": ("auth_method", "authMethod", "workspaceId"),
    "GoogleBigQuery": ("workspaceId",),
}
_ECHOED = {
    "AmazonS3": ("name", "bucketName"),
    "AzureBlob": ("name", "storageAccountName", "containerName", "authMethod"),
    "GoogleBigQuery": ("name", "dataset"),
}


class CloudWorksError(EmulatorError):
    """A refusal with CloudWorks' own status code (452 and 503 among them)."""

    def __init__(self, status_code: int, message: str):
        super().__init__(message)
        self.status_code = status_code


def _not_found() -> errors.NotFound:
    return errors.NotFound(NOT_FOUND)


def new_id() -> str:
    """A CloudWorks id: 32 lower-case hex digits."""
    return secrets.token_hex(16)


def iso_ms(ms: int) -> str:
    """`2025-06-03T07:15:02.000Z`."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def step_date(ms: int) -> str:
    """A flow step's date: `2025-06-03 07:15:02.123000+00:00`."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(sep=" ", timespec="microseconds")


def _text(body: dict[str, Any], key: str, message: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise errors.BadRequest(message)
    return value


def _is_hex_id(value: Any) -> bool:
    return (
        isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)
    )


def _safe_key(value: Any) -> bool:
    """A relative object key inside a bucket: no absolute path, no `..`, no backslash."""
    if not isinstance(value, str) or not value.strip() or "\\" in value or "\x00" in value:
        return False
    path = PurePosixPath(value)
    return not path.is_absolute() and ".." not in path.parts


@dataclass
class _Active:
    """A run in flight: what a cancel and a status read need to reach its task."""

    run_id: str
    integration_id: str
    principal: Principal
    model_id: str
    generation: int
    task: tuple[ActionKind, str, str] | None = None  # kind, action id, task id
    cancel_requested: bool = False
    finished: threading.Event = field(default_factory=threading.Event)


@dataclass
class _FlowActive:
    run_id: str
    flow_id: str
    generation: int
    finished: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended."""

    success: bool
    message: str
    code: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    task_id: str | None = None
    dumps: list[str] = field(default_factory=list)


class CloudWorks:
    """The CloudWorks service of the emulator.

    Args:
        host: The engine's side (`EngineCloudWorksHost`).
        clock: Epoch seconds (the emulator's clock: run times, schedules).
        poll_interval: How often a run's thread looks at its task (seconds).
    """

    def __init__(
        self,
        host: CloudWorksHost,
        *,
        clock: Callable[[], float] = time.time,
        poll_interval: float = 0.02,
    ):
        self.host = host
        self.clock = clock
        self.poll_interval = poll_interval
        path, durable = host.data_path()
        self.store = CloudWorksStore(path, durable=durable)
        self._lock = threading.RLock()
        self._active: dict[str, _Active] = {}
        self._flows_active: dict[str, _FlowActive] = {}
        self.generation = 0
        self._closed = False
        self._stopped = threading.Event()
        self.scheduler: threading.Thread | None = None
        """The thread `start_scheduler` started, if any."""
        self._recover()

    # == plumbing ============================================================================
    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _recover(self) -> None:
        """Runs a previous process left in flight end failed (their tasks ended too)."""
        with self._lock:
            for table in ("runs", "flow_runs"):
                for run in self.store.all(table):
                    if run.get("endDate") is None:
                        self._finish_doc(run, RunOutcome(False, STOPPED))
                        owner = run.get("integrationId") or run.get("flowId")
                        self.store.put(table, run["id"], run, owner=owner)

    def reset(self) -> None:
        """Forget everything (the emulator's reset); run threads of before end silently."""
        with self._lock:
            self.generation += 1
            for active in self._active.values():
                active.finished.set()
            for flow in self._flows_active.values():
                flow.finished.set()
            self._active.clear()
            self._flows_active.clear()
            self.store.wipe()

    def close(self) -> None:
        """Stop accepting work and close the database."""
        self._stopped.set()
        with self._lock:
            self._closed = True
            self.generation += 1
            for event in [a.finished for a in self._active.values()] + [
                f.finished for f in self._flows_active.values()
            ]:
                event.set()
            self.store.close()

    def _user(self, principal: Principal) -> str:
        return self.host.user_name(principal.user_id)

    # == roles and scope =====================================================================
    def check_role(self, principal: Principal, *, gated: bool = False) -> None:
        """A caller without a CloudWorks role: 403 `Not Permitted` (452 on gated routes)."""
        if self.host.role(principal) == "none":
            if gated:
                raise CloudWorksError(452, NOT_ENTITLED)
            raise errors.Forbidden(NOT_PERMITTED)

    def _scope(self, principal: Principal) -> set[str] | None:
        """The workspaces whose resources the caller sees; None: the whole tenant."""
        self.check_role(principal)
        if self.host.role(principal) == "integration_admin":
            return None
        return self.host.granted_workspaces(principal)

    @staticmethod
    def _in_scope(scope: set[str] | None, workspace_id: str | None) -> bool:
        return scope is None or (workspace_id is not None and workspace_id in scope)

    def _check_workspace(self, principal: Principal, workspace_id: str | None) -> None:
        scope = self._scope(principal)
        if workspace_id is None:
            if scope is not None:  # a restricted user's connection must name its workspace
                raise errors.BadRequest(NO_WORKSPACE)
            return
        if not self.host.workspace_exists(workspace_id) or not self._in_scope(scope, workspace_id):
            raise errors.BadRequest(NO_WORKSPACE)

    # == buckets =============================================================================
    def _bucket(self, connection: dict[str, Any]) -> BucketDef:
        """The bucket a stored connection reaches, validating it as at create time."""
        kind = connection["connectionType"]
        body = connection["body"]
        candidates = [b for b in self.host.buckets() if b.type == kind]
        if kind == "AmazonS3":
            bucket = next((b for b in candidates if b.name == body["bucketName"]), None)
            if bucket is None:
                raise errors.BadRequest("Bucket name is invalid")
            if (
                bucket.access_key_id is not None and bucket.access_key_id != body["accessKeyId"]
            ) or (
                bucket.secret_access_key is not None
                and bucket.secret_access_key != body["secretAccessKey"]
            ):
                raise errors.BadRequest("Credentials are invalid")
            role_arn = body.get("roleArn")
            if role_arn is not None and (
                not isinstance(role_arn, str)
                or not role_arn.startswith("arn:aws:iam::")
                or (bucket.role_arn is not None and bucket.role_arn != role_arn)
            ):
                raise errors.BadRequest("Role arn is invalid")
            return bucket
        if kind == "AzureBlob":
            in_account = [b for b in candidates if b.account == body["storageAccountName"]]
            if not in_account:
                raise errors.BadRequest("Credentials are invalid")
            bucket = next((b for b in in_account if b.name == body["containerName"]), None)
            if bucket is None:
                raise errors.BadRequest("Bucket name is invalid")
            if bucket.sas_token is not None and bucket.sas_token != body["sasToken"]:
                raise errors.BadRequest("Credentials are invalid")
            return bucket
        bucket = next((b for b in candidates if b.name == body["dataset"]), None)
        if bucket is None:
            raise errors.BadRequest("Invalid Dataset")
        key = body["serviceAccountKey"]
        email = key.get("clientEmail", key.get("client_email"))
        if bucket.client_email is not None and bucket.client_email != email:
            raise errors.BadRequest("Credentials are invalid")
        return bucket

    @staticmethod
    def bucket_dir(bucket: BucketDef) -> Path:
        """The bucket's directory (created when missing)."""
        path = Path(bucket.path).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        return path

    # == connections =========================================================================
    def _connection_body(self, kind: str, body: Any, *, partial: bool = False) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise errors.BadRequest(BAD_BODY)
        allowed = set(_REQUIRED[kind]) | set(_OPTIONAL[kind])
        if set(body) - allowed:
            raise errors.BadRequest(BAD_BODY)
        for key in _REQUIRED[kind]:
            if key not in body:
                if partial:
                    continue
                raise errors.BadRequest(BAD_BODY)
            value = body[key]
            if key == "serviceAccountKey":
                if not isinstance(value, dict) or not value:
                    raise errors.BadRequest(BAD_BODY)
            elif not isinstance(value, str) or not value.strip():
                raise errors.BadRequest(BAD_BODY)
        for key in ("roleArn", "workspaceId"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise errors.BadRequest(BAD_BODY)
        cleaned = dict(body)
        if kind == "AzureBlob":
            method = cleaned.pop("auth_method", None) or cleaned.pop("authMethod", None)
            cleaned.pop("authMethod", None)
            if method is None and partial:
                return cleaned
            if method != "SAS-based":
                raise errors.BadRequest(BAD_BODY)
            cleaned["authMethod"] = method
        return cleaned

    def create_connection(self, principal: Principal, request: dict[str, Any]) -> str:
        """`POST /integrations/connections` `{type, body}` → the new connection's id."""
        self.check_role(principal)
        kind = request.get("type")
        if kind not in CONNECTION_TYPES:
            raise errors.BadRequest("Invalid connection type")
        if set(request) - {"type", "body"}:
            raise errors.BadRequest(BAD_BODY)
        body = self._connection_body(kind, request.get("body"))
        self._check_workspace(principal, body.get("workspaceId"))
        now = self._now_ms()
        doc = {
            "connectionId": new_id(),
            "connectionType": kind,
            "body": body,
            "creationDate": iso_ms(now),
            "modificationDate": iso_ms(now),
            "createdBy": self._user(principal),
            "modifiedBy": self._user(principal),
            "createdById": principal.user_id,
            "status": 1,
            "integrationErrorCode": None,
            "workspaceId": body.get("workspaceId"),
        }
        self._bucket(doc)
        with self._lock:
            self._unique_name("connections", body["name"], None)
            self.store.put("connections", doc["connectionId"], doc)
        return str(doc["connectionId"])

    def _unique_name(
        self, table: Literal["connections", "integrations", "flows"], name: str, own: str | None
    ) -> None:
        key = {"connections": "connectionId", "integrations": "integrationId", "flows": "id"}[table]
        for doc in self.store.all(table):
            doc_name = doc["body"]["name"] if table == "connections" else doc["name"]
            if doc_name == name and doc[key] != own:
                raise errors.BadRequest(DUPLICATE)

    def _visible_connection(self, principal: Principal, connection_id: str) -> dict[str, Any]:
        scope = self._scope(principal)
        doc = self.store.get("connections", connection_id)
        if doc is None or not self._connection_in_scope(scope, doc):
            raise _not_found()
        return doc

    @staticmethod
    def _connection_in_scope(scope: set[str] | None, doc: dict[str, Any]) -> bool:
        return scope is None or doc.get("workspaceId") in scope

    def _health(self, doc: dict[str, Any]) -> tuple[int, int | None]:
        """`status` and `integrationErrorCode` of a connection as its bucket is now: 1 and
        None, or 0 and CloudWorks' code (1 bad credentials, 4 bad bucket, 10 bad role)."""
        try:
            self._bucket(doc)
        except errors.BadRequest as error:
            codes = {"Credentials are invalid": 1, "Role arn is invalid": 10}
            return 0, codes.get(error.message, 4)
        return 1, None

    def connection_wire(self, doc: dict[str, Any]) -> dict[str, Any]:
        """A connection as listed: secrets left out, its status as its bucket is now (a
        definition loaded later may have changed the bucket's credentials)."""
        status, code = self._health(doc)
        kind = doc["connectionType"]
        body = {key: doc["body"][key] for key in _ECHOED[kind] if key in doc["body"]}
        return {
            "connectionId": doc["connectionId"],
            "connectionType": kind,
            "body": body,
            "creationDate": doc["creationDate"],
            "modificationDate": doc["modificationDate"],
            "createdBy": doc["createdBy"],
            "modifiedBy": doc["modifiedBy"],
            "status": status,
            "integrationErrorCode": code,
            "workspaceId": doc["workspaceId"],
            "authMethod": doc["body"].get("authMethod"),
        }

    def connections(self, principal: Principal, page: Page) -> Paged[dict[str, Any]]:
        """`GET /integrations/connections`: the connections the caller sees, oldest first."""
        scope = self._scope(principal)
        docs = [d for d in self.store.all("connections") if self._connection_in_scope(scope, d)]
        return _page([self.connection_wire(d) for d in docs], page)

    def update_connection(
        self, principal: Principal, connection_id: str, body: dict[str, Any], *, partial: bool
    ) -> None:
        """`PUT` (the complete bare body, secrets included) or `PATCH` (any subset)."""
        with self._lock:
            doc = self._visible_connection(principal, connection_id)
            kind = doc["connectionType"]
            cleaned = self._connection_body(kind, body, partial=partial)
            merged = {**doc["body"], **cleaned} if partial else cleaned
            self._check_workspace(principal, merged.get("workspaceId"))
            updated = {
                **doc,
                "body": merged,
                "workspaceId": merged.get("workspaceId"),
                "modificationDate": iso_ms(self._now_ms()),
                "modifiedBy": self._user(principal),
            }
            self._bucket(updated)
            self._unique_name("connections", merged["name"], connection_id)
            self.store.put("connections", connection_id, updated)

    def delete_connection(self, principal: Principal, connection_id: str) -> None:
        """`DELETE`: 409 while an integration uses the connection."""
        with self._lock:
            self._visible_connection(principal, connection_id)
            for integration in self.store.all("integrations"):
                if connection_id in _connection_ids(integration):
                    raise errors.Conflict(REFERENCED)
            self.store.delete("connections", connection_id)

    # == integrations ========================================================================
    def _tenant_count(self) -> int:
        return self.store.count("integrations") + self.store.count("flows")

    def _integration_body(
        self, principal: Principal, body: dict[str, Any], own: str | None
    ) -> dict[str, Any]:
        """Validate an integration's create (or replace) body; the stored fields."""
        known = {"name", "version", "workspaceId", "modelId", "nuxVisible", "processId", "jobs"}
        if set(body) - known:
            raise errors.BadRequest(BAD_INTEGRATION)
        name = _text(body, "name", BAD_INTEGRATION)
        version = body.get("version", "2.0")
        if version != "2.0":
            raise errors.BadRequest(BAD_VERSION)
        workspace_id = _text(body, "workspaceId", BAD_INTEGRATION)
        model_id = _text(body, "modelId", BAD_INTEGRATION)
        assert name is not None
        assert workspace_id is not None
        assert model_id is not None
        nux = body.get("nuxVisible", False)
        if not isinstance(nux, bool):
            raise errors.BadRequest(BAD_INTEGRATION)
        process_id = body.get("processId")
        if process_id is not None and (not isinstance(process_id, str) or not process_id):
            raise errors.BadRequest(BAD_INTEGRATION)
        jobs = body.get("jobs")
        if jobs is None:
            jobs = []
        if not isinstance(jobs, list) or any(not isinstance(job, dict) for job in jobs):
            raise errors.BadRequest(BAD_INTEGRATION)
        self._check_workspace(principal, workspace_id)
        if not self.host.may_use_model(principal, workspace_id, model_id):
            raise errors.BadRequest(NO_MODEL)
        actions = self.host.actions(principal, model_id)
        if process_id is not None:
            process = actions.get(process_id)
            if process is None or process.kind != "processes":
                raise errors.BadRequest(_undefined([process_id]))
            allowed = {a.id: a for a in self.host.process_actions(principal, model_id, process_id)}
        else:
            if len(jobs) != 1:
                raise errors.Conflict(SINGLE_JOB)
            allowed = actions
        checked = [self._job(principal, job, workspace_id, allowed) for job in jobs]
        if process_id is not None:
            targets = [_anaplan_action(job) for job in checked]
            if len(set(targets)) != len(targets):
                raise errors.BadRequest(BAD_INTEGRATION)
        with self._lock:
            self._unique_name("integrations", name, own)
        stored: dict[str, Any] = {
            "name": name,
            "version": "2.0",
            "workspaceId": workspace_id,
            "modelId": model_id,
            "nuxVisible": nux,
        }
        if process_id is not None:
            stored["processId"] = process_id
        if checked:
            stored["jobs"] = checked
        return stored

    def _job(
        self,
        principal: Principal,
        job: dict[str, Any],
        workspace_id: str,
        allowed: dict[str, ActionInfo],
    ) -> dict[str, Any]:
        kind = job.get("type")
        if kind not in JOB_TYPES or set(job) - {"type", "sources", "targets", "mapping"}:
            raise errors.BadRequest(BAD_INTEGRATION)
        cloud, direction = JOB_TYPES[kind]
        sources, targets = job.get("sources"), job.get("targets")
        if not isinstance(sources, list) or not isinstance(targets, list):
            raise errors.BadRequest(BAD_INTEGRATION)
        if len(sources) != 1 or len(targets) != 1:
            raise errors.BadRequest(BAD_INTEGRATION)
        source, target = sources[0], targets[0]
        if not isinstance(source, dict) or not isinstance(target, dict):
            raise errors.BadRequest(BAD_INTEGRATION)
        anaplan, remote = (target, source) if direction == "import" else (source, target)
        if anaplan.get("type") != "Anaplan":
            raise errors.BadRequest(BAD_INTEGRATION)
        action_id = anaplan.get("actionId")
        if not isinstance(action_id, str) or not action_id:
            raise errors.BadRequest(BAD_INTEGRATION)
        action = allowed.get(action_id)
        wanted_kind = "imports" if direction == "import" else "exports"
        if action is None or action.kind != wanted_kind:
            raise errors.BadRequest(_undefined([action_id]))
        if direction == "import":
            file_id = anaplan.get("fileId")
            if set(anaplan) - {"type", "actionId", "fileId"} or file_id != action.file_id:
                raise errors.BadRequest(BAD_INTEGRATION)
            clean_anaplan = {"type": "Anaplan", "actionId": action_id, "fileId": file_id}
        else:
            if set(anaplan) - {"type", "actionId"}:
                raise errors.BadRequest(BAD_INTEGRATION)
            clean_anaplan = {"type": "Anaplan", "actionId": action_id}
        clean_remote = self._remote_endpoint(principal, remote, cloud, direction, workspace_id)
        mapping = job.get("mapping")
        if kind == "AnaplanToGoogleBigQuery" and (not isinstance(mapping, list) or not mapping):
            raise errors.BadRequest(BAD_INTEGRATION)
        if mapping is not None and (
            not isinstance(mapping, list)
            or any(
                not isinstance(m, dict)
                or set(m) != {"sourceName", "targetName"}
                or not all(isinstance(v, str) and v for v in m.values())
                for m in mapping
            )
        ):
            raise errors.BadRequest(BAD_INTEGRATION)
        cleaned: dict[str, Any] = {
            "type": kind,
            "sources": [clean_remote if direction == "import" else clean_anaplan],
            "targets": [clean_anaplan if direction == "import" else clean_remote],
        }
        if mapping is not None:
            cleaned["mapping"] = mapping
        return cleaned

    def _remote_endpoint(
        self,
        principal: Principal,
        endpoint: dict[str, Any],
        cloud: str,
        direction: str,
        workspace_id: str,
    ) -> dict[str, Any]:
        if endpoint.get("type") != cloud:
            raise errors.BadRequest(BAD_INTEGRATION)
        connection_id = endpoint.get("connectionId")
        if not isinstance(connection_id, str):
            raise errors.BadRequest(BAD_INTEGRATION)
        try:
            connection = self._visible_connection(principal, connection_id)
        except errors.NotFound:
            raise errors.NotFound(BAD_CONNECTION_ID) from None
        if connection["connectionType"] != cloud:
            raise errors.BadRequest(BAD_INTEGRATION)
        if connection.get("workspaceId") not in (None, workspace_id):
            raise errors.BadRequest(BAD_INTEGRATION)
        where = "table" if cloud == "GoogleBigQuery" else "file"
        known = {"type", "connectionId", where} | (
            {"overwrite"} if direction == "export" else set()
        )
        if set(endpoint) - known:
            raise errors.BadRequest(BAD_INTEGRATION)
        key = endpoint.get(where)
        if not _safe_key(key):
            raise errors.BadRequest(BAD_INTEGRATION)
        cleaned: dict[str, Any] = {"type": cloud, "connectionId": connection_id, where: key}
        if direction == "export":
            overwrite = endpoint.get("overwrite", False)  # the server's default (the SDK: true)
            if not isinstance(overwrite, bool):
                raise errors.BadRequest(BAD_INTEGRATION)
            cleaned["overwrite"] = overwrite
        return cleaned

    def create_integration(self, principal: Principal, body: dict[str, Any]) -> str:
        """`POST /integrations` → the new integration's id (its notification config too)."""
        self.check_role(principal)
        stored = self._integration_body(principal, body, None)
        now = self._now_ms()
        integration_id = new_id()
        notification_id = new_id()
        user = self._user(principal)
        doc = {
            "integrationId": integration_id,
            **stored,
            "notificationId": notification_id,
            "createdBy": user,
            "creationDate": iso_ms(now),
            "modificationDate": iso_ms(now),
            "modifiedBy": user,
            "createdById": principal.user_id,
        }
        notification = {
            "notificationId": notification_id,
            "integrationIds": [integration_id],
            "channels": [],
            "config": [],
        }
        with self._lock:
            self._unique_name("integrations", stored["name"], None)
            if self._tenant_count() >= TENANT_MAX:
                raise errors.Conflict(TOO_MANY)
            with self.store.transaction():
                self.store.put("integrations", integration_id, doc)
                self.store.put("notifications", notification_id, notification, integration_id)
        return integration_id

    def _visible_integration(self, principal: Principal, integration_id: str) -> dict[str, Any]:
        scope = self._scope(principal)
        doc = self.store.get("integrations", integration_id)
        if doc is None or not self._in_scope(scope, doc["workspaceId"]):
            raise _not_found()
        return doc

    @staticmethod
    def integration_type(doc: dict[str, Any]) -> str:
        """`Import`, `Export` or `Process`."""
        if "processId" in doc:
            return "Process"
        return "Import" if doc["jobs"][0]["type"].endswith("ToAnaplan") else "Export"

    def _latest_run(self, owner_table: Literal["runs", "flow_runs"], owner: str) -> dict[str, Any]:
        run = self.store.last(owner_table, owner)
        if run is None:
            return {}
        return {
            key: run[key]
            for key in (
                "triggeredBy",
                "startDate",
                "endDate",
                "success",
                "message",
                "executionErrorCode",
                "triggerSource",
            )
        }

    def _schedule_wire(self, owner: str) -> dict[str, Any] | None:
        doc = self.store.get("schedules", owner)
        if doc is None:
            return None
        return {**doc["schedule"], "status": "Active" if doc["enabled"] else "Inactive"}

    def integration_summary(self, doc: dict[str, Any]) -> dict[str, Any]:
        """An integration as listed (no jobs; with its type, latest run and schedule)."""
        summary: dict[str, Any] = {
            "integrationId": doc["integrationId"],
            "name": doc["name"],
            "integrationType": self.integration_type(doc),
            "workspaceId": doc["workspaceId"],
            "modelId": doc["modelId"],
            "nuxVisible": doc["nuxVisible"],
            "notificationId": doc.get("notificationId"),
            "createdBy": doc["createdBy"],
            "creationDate": doc["creationDate"],
            "modificationDate": doc["modificationDate"],
            "modifiedBy": doc["modifiedBy"],
            "latestRun": self._latest_run("runs", doc["integrationId"]),
        }
        if "processId" in doc:
            summary["processId"] = doc["processId"]
        schedule = self._schedule_wire(doc["integrationId"])
        if schedule is not None:
            summary["schedule"] = schedule
        return summary

    def integrations(
        self, principal: Principal, page: Page, *, sort_by: str | None, mine: bool
    ) -> tuple[Paged[dict[str, Any]], int]:
        """`GET /integrations`: summaries the caller sees, and the tenant's count."""
        scope = self._scope(principal)
        docs = [
            d for d in self.store.all("integrations") if self._in_scope(scope, d["workspaceId"])
        ]
        if mine:
            docs = [d for d in docs if d.get("createdById") == principal.user_id]
        if sort_by in ("name", "-name"):
            docs.sort(key=lambda d: str(d["name"]).lower(), reverse=sort_by == "-name")
        elif sort_by:
            raise errors.BadRequest("sortBy")
        return _page([self.integration_summary(d) for d in docs], page), self._tenant_count()

    def integration(self, principal: Principal, integration_id: str) -> dict[str, Any]:
        """`GET /integrations/{id}`: the summary minus its type, plus version, jobs, schedule."""
        doc = self._visible_integration(principal, integration_id)
        wire = self.integration_summary(doc)
        wire.pop("integrationType")
        wire["version"] = doc["version"]
        if doc.get("jobs"):
            wire["jobs"] = [self._job_wire(job) for job in doc["jobs"]]
        wire.setdefault("schedule", None)
        return wire

    def _job_wire(self, job: dict[str, Any]) -> dict[str, Any]:
        def endpoint(value: dict[str, Any]) -> dict[str, Any]:
            if value["type"] == "Anaplan":
                return dict(value)
            connection = self.store.get("connections", value["connectionId"])
            body = connection["body"] if connection else {}
            return {
                **value,
                "connectionName": body.get("name"),
                "isConnectionDeleted": connection is None,
                "bucketName": body.get(
                    "bucketName", body.get("containerName", body.get("dataset"))
                ),
            }

        wire = {
            "type": job["type"],
            "sources": [endpoint(s) for s in job["sources"]],
            "targets": [endpoint(t) for t in job["targets"]],
        }
        if "mapping" in job:
            wire["mapping"] = job["mapping"]
        return wire

    def replace_integration(
        self, principal: Principal, integration_id: str, body: dict[str, Any]
    ) -> None:
        """`PUT /integrations/{id}` with a full create body."""
        with self._lock:
            doc = self._visible_integration(principal, integration_id)
            stored = self._integration_body(principal, body, integration_id)
            kept = {
                key: doc[key]
                for key in (
                    "integrationId",
                    "notificationId",
                    "createdBy",
                    "creationDate",
                    "createdById",
                )
            }
            self.store.put(
                "integrations",
                integration_id,
                {
                    **kept,
                    **stored,
                    "modificationDate": iso_ms(self._now_ms()),
                    "modifiedBy": self._user(principal),
                },
            )

    def delete_integration(self, principal: Principal, integration_id: str) -> None:
        """`DELETE /integrations/{id}`: 409 while it runs; its schedule, configuration and runs
        go with it."""
        with self._lock:
            doc = self._visible_integration(principal, integration_id)
            if integration_id in self._active:
                raise errors.Conflict(ALREADY_RUNNING)
            with self.store.transaction():
                self.store.delete("integrations", integration_id)
                self.store.delete("schedules", integration_id)
                if doc.get("notificationId"):
                    self.store.delete("notifications", doc["notificationId"])
                self.store.delete_owned("runs", integration_id)

    # == runs ================================================================================
    def run_integration(
        self,
        principal: Principal,
        integration_id: str,
        *,
        trigger_source: str = "manual",
        flow_group_id: str | None = None,
    ) -> str:
        """`POST /integrations/{id}/run` → the run's id; the work goes on in a thread."""
        with self._lock:
            if self._closed:
                raise errors.ServiceUnavailable("The emulator is shutting down.")
            doc = self._visible_integration(principal, integration_id)
            if integration_id in self._active:
                raise errors.Conflict(ALREADY_RUNNING)
            now = self._now_ms()
            user = self._user(principal)
            run_id = new_id()
            run = {
                "id": run_id,
                "integrationId": integration_id,
                "traceId": new_id(),
                "triggeredBy": user,
                "triggerSource": trigger_source,
                "lastRun": now // 1000,
                "startDate": iso_ms(now),
                "endDate": None,
                "success": False,
                "message": RUNNING,
                "executionErrorCode": None,
                "flowGroupId": flow_group_id,
                "creationDate": iso_ms(now),
                "modificationDate": iso_ms(now),
                "createdBy": user,
                "modifiedBy": user,
                "userId": principal.user_id,
                "modelId": doc["modelId"],
                "taskId": None,
                "taskKind": None,
                "actionId": None,
                "errors": None,
                "dumps": [],
            }
            self.store.put("runs", run_id, run, owner=integration_id)
            active = _Active(run_id, integration_id, principal, doc["modelId"], self.generation)
            self._active[integration_id] = active
        thread = threading.Thread(
            target=self._run_thread,
            args=(active, doc),
            name=f"cloudworks-run-{run_id[:8]}",
            daemon=True,
        )
        thread.start()
        return run_id

    def _run_thread(self, active: _Active, integration: dict[str, Any]) -> None:
        try:
            outcome = self._execute(active, integration)
        except _Superseded:
            return  # reset (CloudWorks forgot the run) or closed (the next start ends it)
        except Exception as error:  # the run fails; the emulator goes on
            if active.generation != self.generation:
                return
            log.exception("CloudWorks run %s failed", active.run_id)
            outcome = RunOutcome(
                False, f"The emulator failed while running this integration: {error}"
            )
        self._finish(active, outcome)

    def _finish(self, active: _Active, outcome: RunOutcome) -> None:
        with self._lock:
            if active.generation != self.generation or self._closed:
                return
            run = self.store.get("runs", active.run_id)
            if run is not None:
                self._finish_doc(run, outcome)
                self.store.put("runs", active.run_id, run, owner=active.integration_id)
            if self._active.get(active.integration_id) is active:
                del self._active[active.integration_id]
            active.finished.set()

    def _finish_doc(self, run: dict[str, Any], outcome: RunOutcome) -> None:
        now = self._now_ms()
        run.update(
            endDate=iso_ms(now),
            modificationDate=iso_ms(now),
            success=outcome.success,
            message=outcome.message,
            executionErrorCode=outcome.code,
        )
        if "integrationId" in run:
            run["errors"] = outcome.errors or None
            run["dumps"] = outcome.dumps
            run["taskId"] = outcome.task_id or run.get("taskId")

    def _leased(self, active: _Active, work: Callable[[], Any]) -> Any:
        """Run one engine call holding the store; a reset since the run began ends the run."""
        if active.generation != self.generation:
            raise _Superseded
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(self.host.use())
            except errors.ServiceUnavailable:
                raise _Superseded from None  # the engine closed: its next start ends the run
            if active.generation != self.generation:
                raise _Superseded
            return work()

    def _execute(self, active: _Active, integration: dict[str, Any]) -> RunOutcome:
        principal, model_id = active.principal, active.model_id
        jobs: list[dict[str, Any]] = integration.get("jobs", [])
        try:
            if "processId" in integration:
                kind: ActionKind = "processes"
                action_id = integration["processId"]
            else:
                job = jobs[0]
                kind = "imports" if job["type"].endswith("ToAnaplan") else "exports"
                action_id = _anaplan_action(job)
            for job in jobs:
                if job["type"].endswith("ToAnaplan"):
                    source = self._leased(active, partial(self._source_path, job))
                    file_id = job["targets"][0]["fileId"]
                    self._leased(
                        active, partial(self.host.upload, principal, model_id, file_id, source)
                    )
            # Never wait for the engine's lease while holding the lock (a reset holds the lease
            # and then takes the lock): start the task outside it, then record it under it.
            if active.cancel_requested:
                return RunOutcome(False, CANCELLED)
            task_id = self._leased(
                active, lambda: self.host.start(principal, model_id, kind, action_id)
            )
            with self._lock:
                active.task = (kind, action_id, task_id)
                cancel_now = active.cancel_requested
                run = self.store.get("runs", active.run_id)
                if run is not None and active.generation == self.generation:
                    run.update(taskId=task_id, taskKind=kind, actionId=action_id)
                    self.store.put("runs", active.run_id, run, owner=active.integration_id)
            if cancel_now:  # asked while the task was being started
                self._leased(
                    active,
                    lambda: self.host.cancel(principal, model_id, kind, action_id, task_id),
                )
            seen = self._wait(active, task_id)
            if seen.state == "CANCELLED":
                return RunOutcome(False, CANCELLED, task_id=task_id)
            assert seen.result is not None
            outcome = self._outcome(kind, action_id, task_id, seen.result, integration)
            if outcome.success or outcome.code == PARTIAL_CODE:
                for job in jobs:
                    if not job["type"].endswith("ToAnaplan"):
                        self._leased(active, partial(self._write_target, active, job))
            return outcome
        except _Superseded:
            raise
        except _RunFailed as failure:
            return RunOutcome(False, str(failure), FAILED_CODE)
        except EmulatorError as error:
            return RunOutcome(False, error.message, FAILED_CODE)

    def _wait(self, active: _Active, task_id: str) -> Any:
        delay = self.poll_interval
        while True:
            seen = self._leased(active, lambda: self.host.seen(task_id))
            if seen is None:
                raise _RunFailed("Anaplan model was deleted")
            if seen.state in ("COMPLETE", "CANCELLED"):
                return seen
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    def _outcome(
        self,
        kind: ActionKind,
        action_id: str,
        task_id: str,
        result: TaskResult,
        integration: dict[str, Any],
    ) -> RunOutcome:
        names = self._action_names(integration)
        parts = list(result.nested_results) if kind == "processes" else [result]
        messages: list[dict[str, Any]] = []
        dumps: list[str] = []
        for part in parts or [result]:
            part_id = part.object_id or action_id
            if part.failure_dump_available:
                dumps.append(part_id if kind == "processes" else "")
            troubled = (
                part.failure_dump_available
                or not part.successful
                or any("Failure" in d.type for d in part.details)
            )
            if troubled:
                messages.append(
                    {
                        "errorMessage": [d.to_wire() for d in part.details],
                        "actionId": part_id,
                        "actionName": names.get(part_id, part.object_name or part_id),
                        "failureDumpGenerated": part.failure_dump_available,
                    }
                )
        if not result.successful:
            text = PROCESS_FAILED if kind == "processes" else _first_text(result) or PROCESS_FAILED
            return RunOutcome(False, text, FAILED_CODE, messages, task_id, dumps)
        if messages:
            text = _first_text(result, failures_only=True) or "Partial success"
            return RunOutcome(False, text, PARTIAL_CODE, messages, task_id, dumps)
        return RunOutcome(True, SUCCESS, None, [], task_id, [])

    def _action_names(self, integration: dict[str, Any]) -> dict[str, str]:
        principal = self.host.principal(integration["createdById"])
        if principal is None:
            return {}
        try:
            with self.host.use():
                return {
                    a.id: a.name
                    for a in self.host.actions(principal, integration["modelId"]).values()
                }
        except EmulatorError:
            return {}

    # -- bucket I/O --------------------------------------------------------------------------
    def _endpoint_path(self, endpoint: dict[str, Any]) -> tuple[BucketDef, Path, str]:
        connection = self.store.get("connections", endpoint["connectionId"])
        if connection is None:
            raise _RunFailed("The connection of this integration was deleted")
        try:
            bucket = self._bucket(connection)
        except EmulatorError as error:
            raise _RunFailed(error.message) from None
        root = self.bucket_dir(bucket)
        key = endpoint.get("file") or f"{endpoint['table']}.csv"
        return bucket, root, key

    def _source_path(self, job: dict[str, Any]) -> Path:
        _, root, key = self._endpoint_path(job["sources"][0])
        path = root / key
        if not path.is_file():
            raise _RunFailed(f"File {key} not found in the bucket")
        return path

    def _write_target(self, active: _Active, job: dict[str, Any]) -> None:
        target = job["targets"][0]
        bucket, root, key = self._endpoint_path(target)
        export_id = job["sources"][0]["actionId"]
        chunks = self.host.read_file(active.principal, active.model_id, export_id)
        if bucket.type == "GoogleBigQuery" or "mapping" in job:
            content = b"".join(chunks)  # a table's rows are rewritten: it is read whole
            if "mapping" in job:
                content = _remap(content, job["mapping"])
            path = root / key
            if bucket.type == "GoogleBigQuery" and not target.get("overwrite") and path.is_file():
                content = _append_rows(path.read_bytes(), content)
            _write_atomically(path, iter([content]))
            return
        if key.endswith("/") or (root / key).is_dir():
            names = self.host.actions(active.principal, active.model_id)
            name = names[export_id].file_name if export_id in names else None
            path = root / key / (name or f"{export_id}.csv")
        else:
            path = root / key
        if not target.get("overwrite"):
            path = _fresh_name(path, self._now_ms())
        _write_atomically(path, chunks)

    # -- cancel, status, history, errors, dumps -----------------------------------------------
    def cancel(self, principal: Principal, integration_id: str) -> None:
        """`POST /integrations/{id}/cancel`: only while a run is in flight (409 otherwise)."""
        with self._lock:
            self._visible_integration(principal, integration_id)
            active = self._active.get(integration_id)
            if active is None:
                raise errors.Conflict(f"Integration {integration_id} is not in running state")
            active.cancel_requested = True
            task = active.task
        if task is not None:
            kind, action_id, task_id = task
            with contextlib.suppress(errors.NotFound):  # it finished meanwhile
                self.host.cancel(active.principal, active.model_id, kind, action_id, task_id)

    def _visible_run(self, principal: Principal, run_id: str) -> dict[str, Any]:
        run = self.store.get("runs", run_id)
        if run is None:
            self._scope(principal)
            raise _not_found()
        self._visible_integration(principal, run["integrationId"])
        return run

    def _touch(self, run: dict[str, Any]) -> dict[str, Any]:
        """Read an in-flight run's task status (a poll), and the run again if that ended it."""
        active = self._active.get(run["integrationId"])
        if active is None or active.run_id != run["id"] or active.task is None:
            return run
        kind, action_id, task_id = active.task
        try:
            self.host.poll(active.principal, active.model_id, kind, action_id, task_id)
        except EmulatorError:
            return run
        seen = self.host.seen(task_id)
        if seen is not None and seen.state in ("COMPLETE", "CANCELLED"):
            active.finished.wait(5)  # the run's thread is finishing the run
            return self.store.get("runs", run["id"]) or run
        return run

    def run_status(self, principal: Principal, run_id: str) -> dict[str, Any]:
        """`GET /integrations/run/{runId}`."""
        run = self._touch(self._visible_run(principal, run_id))
        return {
            key: run[key]
            for key in (
                "id",
                "integrationId",
                "traceId",
                "startDate",
                "endDate",
                "success",
                "message",
                "creationDate",
                "modificationDate",
                "createdBy",
                "modifiedBy",
                "executionErrorCode",
                "flowGroupId",
                "triggerSource",
            )
        }

    def run_history(self, principal: Principal, integration_id: str, page: Page) -> dict[str, Any]:
        """`GET /integrations/runs/{integrationId}`: the integration and its runs, newest first."""
        doc = self._visible_integration(principal, integration_id)
        runs = self.store.all("runs", integration_id)
        if runs and runs[-1].get("endDate") is None:
            runs[-1] = self._touch(runs[-1])
        runs.reverse()
        shown = runs[page.offset : page.offset + page.limit]
        summary = self.integration_summary(doc)
        history: dict[str, Any] = {
            key: summary.get(key)
            for key in (
                "integrationId",
                "name",
                "integrationType",
                "workspaceId",
                "modelId",
                "creationDate",
                "modificationDate",
                "createdBy",
                "modifiedBy",
                "notificationId",
            )
        }
        history["schedule"] = summary.get("schedule")
        history["status"] = 1
        history["runs"] = [
            {
                key: run[key]
                for key in (
                    "id",
                    "triggeredBy",
                    "lastRun",
                    "startDate",
                    "endDate",
                    "success",
                    "message",
                    "executionErrorCode",
                    "traceId",
                    "triggerSource",
                )
            }
            for run in shown
        ]
        history["totalRuns"] = len(runs)
        return history

    def run_errors(self, principal: Principal, run_id: str) -> dict[str, Any]:
        """`GET /integrations/runerror/{runId}`: one object, `{}` for a run without errors."""
        run = self._visible_run(principal, run_id)
        if not run.get("errors"):
            return {}
        return {
            "id": run["id"],
            "taskId": run["taskId"],
            "errorMessages": run["errors"],
            "creationDate": run["endDate"],
            "modificationDate": run["endDate"],
            "createdBy": run["createdBy"],
            "modifiedBy": run["modifiedBy"],
        }

    def run_dump(self, principal: Principal, run_id: str, action_id: str | None) -> list[bytes]:
        """An import run's dump (`action_id` None) or one import's of a process run."""
        self.check_role(principal, gated=action_id is None)
        run = self._visible_run(principal, run_id)
        wanted = "" if action_id is None else action_id
        if run.get("taskId") is None or wanted not in run.get("dumps", []):
            raise errors.NotFound(NO_DUMP)
        if (run["taskKind"] == "processes") != (action_id is not None):
            raise errors.NotFound(NO_DUMP)
        owner = self.host.principal(run["userId"])
        if owner is None:
            raise errors.NotFound(NO_DUMP)
        chunks = self.host.dump(
            owner, run["modelId"], run["taskKind"], run["actionId"], run["taskId"], action_id
        )
        if chunks is None:
            raise errors.NotFound(NO_DUMP)
        return chunks

    # == schedules ===========================================================================
    def _schedule_owner(self, principal: Principal, integration_id: str) -> dict[str, Any]:
        self.check_role(principal, gated=True)
        return self._visible_integration(principal, integration_id)

    def set_schedule(
        self, principal: Principal, integration_id: str, body: dict[str, Any], *, replace: bool
    ) -> None:
        """`POST` (create) or `PUT` (replace) `…/{id}/schedule` `{integrationId, schedule}`."""
        with self._lock:
            self._schedule_owner(principal, integration_id)
            if body.get("integrationId") != integration_id:
                raise errors.BadRequest(BAD_INTEGRATION_ID)
            if set(body) - {"integrationId", "schedule"}:
                raise errors.BadRequest(BAD_BODY)
            existing = self.store.get("schedules", integration_id)
            if existing is not None and not replace:
                raise errors.BadRequest(SINGLE_SCHEDULE)
            now = self.clock()
            schedule = cloudworks_schedule.validate(body.get("schedule"), now)
            enabled = existing["enabled"] if existing is not None else True
            self.store.put(
                "schedules",
                integration_id,
                {
                    "integrationId": integration_id,
                    "schedule": schedule,
                    "enabled": enabled,
                    "next": cloudworks_schedule.next_fire(schedule, now),
                    "userId": principal.user_id,
                },
                owner=integration_id,
            )

    def delete_schedule(self, principal: Principal, integration_id: str) -> None:
        """`DELETE …/{id}/schedule` (404 when there is none)."""
        with self._lock:
            self._schedule_owner(principal, integration_id)
            if not self.store.delete("schedules", integration_id):
                raise _not_found()

    def schedule_status(self, principal: Principal, integration_id: str, status: str) -> None:
        """`POST …/{id}/schedule/status/{enabled|disabled}`."""
        with self._lock:
            self._schedule_owner(principal, integration_id)
            if status not in ("enabled", "disabled"):
                raise _not_found()
            doc = self.store.get("schedules", integration_id)
            if doc is None:
                raise _not_found()
            doc["enabled"] = status == "enabled"
            doc["next"] = cloudworks_schedule.next_fire(doc["schedule"], self.clock())
            self.store.put("schedules", integration_id, doc, owner=integration_id)

    def fire_due(self) -> list[str]:
        """Start a run of every enabled schedule now due (`triggerSource: scheduled`); the runs'
        ids. A schedule whose integration is still running skips that turn."""
        now = self.clock()
        started = []
        with self._lock:
            due = [
                (doc["integrationId"], doc)
                for doc in self.store.all("schedules")
                if doc["enabled"] and doc["next"] is not None and doc["next"] <= now
            ]
        for integration_id, doc in due:
            with self._lock:
                doc["next"] = cloudworks_schedule.next_fire(doc["schedule"], now)
                self.store.put("schedules", integration_id, doc, owner=integration_id)
                integration = self.store.get("integrations", integration_id)
                owner = (
                    None if integration is None else self.host.principal(integration["createdById"])
                )
                if owner is None or integration_id in self._active:
                    continue
            try:
                with self.host.use():
                    started.append(
                        self.run_integration(owner, integration_id, trigger_source="scheduled")
                    )
            except EmulatorError as error:
                log.info("scheduled run of %s not started: %s", integration_id, error.message)
        return started

    # == notifications =======================================================================
    def _notification_body(self, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
        if set(body) - {"integrationIds", "channels", "notifications"}:
            raise errors.BadRequest(BAD_BODY)
        ids = body.get("integrationIds")
        channels = body.get("channels")
        config = body.get("notifications")
        if not isinstance(ids, list) or len(ids) != 1 or not isinstance(ids[0], str):
            raise errors.BadRequest(BAD_BODY)
        if (
            not isinstance(channels, list)
            or not channels
            or any(c not in CHANNELS for c in channels)
            or len(set(channels)) != len(channels)
        ):
            raise errors.BadRequest(BAD_BODY)
        if not isinstance(config, dict) or set(config) != {"config"}:
            raise errors.BadRequest(BAD_BODY)
        items = config["config"]
        if not isinstance(items, list) or not items:
            raise errors.BadRequest(BAD_BODY)
        seen_types: set[str] = set()
        cleaned = []
        for item in items:
            if not isinstance(item, dict) or set(item) != {"type", "users"}:
                raise errors.BadRequest(BAD_BODY)
            kind, users = item["type"], item["users"]
            if kind not in NOTIFICATION_TYPES or kind in seen_types:
                raise errors.BadRequest(BAD_BODY)
            seen_types.add(kind)
            if not isinstance(users, list) or not users or len(users) > MAX_NOTIFIED_USERS:
                raise errors.BadRequest(BAD_BODY)
            for user in users:
                if not _is_hex_id(user) or self.host.user_names(user) is None:
                    raise errors.BadRequest(BAD_BODY)
            cleaned.append({"type": kind, "users": list(dict.fromkeys(users))})
        self._visible_integration(principal, ids[0])
        return {"integrationIds": ids, "channels": channels, "config": cleaned}

    def create_notification(self, principal: Principal, body: dict[str, Any]) -> str:
        """`POST /integrations/notification` → the new configuration's id."""
        self.check_role(principal)
        with self._lock:
            cleaned = self._notification_body(principal, body)
            integration_id = cleaned["integrationIds"][0]
            integration = self.store.get("integrations", integration_id)
            assert integration is not None
            if integration.get("notificationId") is not None:
                raise errors.BadRequest(DUPLICATE)
            notification_id = new_id()
            with self.store.transaction():
                self.store.put(
                    "notifications",
                    notification_id,
                    {"notificationId": notification_id, **cleaned},
                    owner=integration_id,
                )
                self.store.put(
                    "integrations",
                    integration_id,
                    {**integration, "notificationId": notification_id},
                )
        return notification_id

    def _visible_notification(self, principal: Principal, notification_id: str) -> dict[str, Any]:
        doc = self.store.get("notifications", notification_id)
        if doc is None:
            self._scope(principal)
            raise _not_found()
        self._visible_integration(principal, doc["integrationIds"][0])
        return doc

    def notification(self, principal: Principal, notification_id: str) -> dict[str, Any]:
        """`GET /integrations/notification/{id}`: users come back with their names."""
        doc = self._visible_notification(principal, notification_id)
        config = []
        for item in doc["config"]:
            users = []
            for user_id in item["users"]:
                names = self.host.user_names(user_id) or ("", "")
                users.append({"userGuid": user_id, "firstName": names[0], "lastName": names[1]})
            config.append({"type": item["type"], "users": users})
        return {
            "notificationId": doc["notificationId"],
            "integrationIds": doc["integrationIds"],
            "channels": doc["channels"],
            "notifications": {"config": config},
        }

    def replace_notification(
        self, principal: Principal, notification_id: str, body: dict[str, Any]
    ) -> None:
        """`PUT /integrations/notification/{id}` with a complete create body."""
        with self._lock:
            doc = self._visible_notification(principal, notification_id)
            cleaned = self._notification_body(principal, body)
            if cleaned["integrationIds"] != doc["integrationIds"]:
                raise errors.BadRequest(BAD_BODY)
            self.store.put(
                "notifications",
                notification_id,
                {"notificationId": notification_id, **cleaned},
                owner=doc["integrationIds"][0],
            )

    def delete_notification(self, principal: Principal, notification_id: str) -> None:
        """`DELETE /integrations/notification/{id}`: the integration then has none."""
        with self._lock:
            doc = self._visible_notification(principal, notification_id)
            with self.store.transaction():
                self.store.delete("notifications", notification_id)
                for integration_id in doc["integrationIds"]:
                    integration = self.store.get("integrations", integration_id)
                    if integration is not None:
                        integration["notificationId"] = None
                        self.store.put("integrations", integration_id, integration)

    # == integration flows ===================================================================
    def _flow_body(
        self, principal: Principal, body: dict[str, Any], own: str | None
    ) -> dict[str, Any]:
        if set(body) - {"name", "version", "type", "steps", "nuxVisible"}:
            raise errors.BadRequest(BAD_BODY)
        name = _text(body, "name", BAD_BODY)
        assert name is not None
        if body.get("version", "2.0") != "2.0":
            raise errors.BadRequest(BAD_VERSION)
        if body.get("type", "IntegrationFlow") != "IntegrationFlow":
            raise errors.BadRequest(BAD_BODY)
        nux = body.get("nuxVisible", False)
        steps = body.get("steps")
        if not isinstance(nux, bool) or not isinstance(steps, list) or len(steps) > MAX_FLOW_STEPS:
            raise errors.BadRequest(BAD_FLOW)
        cleaned = []
        earlier: list[str] = []
        for step in steps:
            if not isinstance(step, dict) or set(step) - {
                "type",
                "referrer",
                "dependsOn",
                "isSkipped",
                "exceptionBehavior",
            }:
                raise errors.BadRequest(BAD_FLOW)
            referrer = step.get("referrer")
            if step.get("type", "Integration") != "Integration" or not isinstance(referrer, str):
                raise errors.BadRequest(BAD_FLOW)
            self._visible_integration(principal, referrer)
            if referrer in earlier:
                raise errors.BadRequest(BAD_FLOW)
            depends = step.get("dependsOn") or []
            if not isinstance(depends, list) or any(d not in earlier for d in depends):
                raise errors.BadRequest(BAD_FLOW)
            skipped = step.get("isSkipped", False)
            if not isinstance(skipped, bool):
                raise errors.BadRequest(BAD_FLOW)
            behaviour = {"failure": "stop", "partial_success": "continue"}
            raw = step.get("exceptionBehavior") or []
            if not isinstance(raw, list):
                raise errors.BadRequest(BAD_FLOW)
            for entry in raw:
                if (
                    not isinstance(entry, dict)
                    or entry.get("type") not in behaviour
                    or entry.get("strategy") not in ("stop", "continue")
                ):
                    raise errors.BadRequest(BAD_FLOW)
                behaviour[entry["type"]] = entry["strategy"]
            cleaned.append(
                {
                    "type": "Integration",
                    "referrer": referrer,
                    "dependsOn": list(depends),
                    "isSkipped": skipped,
                    "exceptionBehavior": [
                        {"type": kind, "strategy": strategy} for kind, strategy in behaviour.items()
                    ],
                }
            )
            earlier.append(referrer)
        if sum(1 for step in cleaned if not step["isSkipped"]) < 2:
            raise errors.BadRequest(BAD_FLOW)
        with self._lock:
            self._unique_name("flows", name, own)
        return {
            "name": name,
            "version": "2.0",
            "type": "IntegrationFlow",
            "nuxVisible": nux,
            "steps": cleaned,
        }

    def create_flow(self, principal: Principal, body: dict[str, Any]) -> str:
        """`POST /integrationflows` → the new flow's id."""
        self.check_role(principal)
        stored = self._flow_body(principal, body, None)
        now = self._now_ms()
        user = self._user(principal)
        flow_id = new_id()
        doc = {
            "id": flow_id,
            **stored,
            "notificationId": None,
            "createdBy": user,
            "creationDate": iso_ms(now),
            "modificationDate": iso_ms(now),
            "modifiedBy": user,
            "createdById": principal.user_id,
            "stepDates": {s["referrer"]: step_date(now) for s in stored["steps"]},
        }
        with self._lock:
            self._unique_name("flows", stored["name"], None)
            if self._tenant_count() >= TENANT_MAX:
                raise errors.Conflict(TOO_MANY)
            self.store.put("flows", flow_id, doc)
        return flow_id

    def _flow_in_scope(self, scope: set[str] | None, doc: dict[str, Any]) -> bool:
        if scope is None:
            return True
        for step in doc["steps"]:
            integration = self.store.get("integrations", step["referrer"])
            if integration is not None and integration["workspaceId"] not in scope:
                return False
        return True

    def _visible_flow(self, principal: Principal, flow_id: str) -> dict[str, Any]:
        scope = self._scope(principal)
        doc = self.store.get("flows", flow_id)
        if doc is None or not self._flow_in_scope(scope, doc):
            raise _not_found()
        return doc

    def _flow_summary(self, doc: dict[str, Any]) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "id": doc["id"],
            "name": doc["name"],
            "createdBy": doc["createdBy"],
            "creationDate": doc["creationDate"],
            "modificationDate": doc["modificationDate"],
            "modifiedBy": doc["modifiedBy"],
            "notificationId": doc["notificationId"],
            "nuxVisible": doc["nuxVisible"],
            "stepsCount": len(doc["steps"]),
            "latestRun": self._latest_run("flow_runs", doc["id"]),
        }
        return summary

    def flows(self, principal: Principal, page: Page, *, mine: bool) -> Paged[dict[str, Any]]:
        """`GET /integrationflows`."""
        scope = self._scope(principal)
        docs = [d for d in self.store.all("flows") if self._flow_in_scope(scope, d)]
        if mine:
            docs = [d for d in docs if d.get("createdById") == principal.user_id]
        return _page([self._flow_summary(d) for d in docs], page)

    def flow(self, principal: Principal, flow_id: str) -> dict[str, Any]:
        """`GET /integrationflows/{id}`: the summary plus version and steps."""
        doc = self._visible_flow(principal, flow_id)
        scope = self._scope(principal)
        wire = self._flow_summary(doc)
        wire["version"] = doc["version"]
        steps = []
        for step in doc["steps"]:
            integration = self.store.get("integrations", step["referrer"])
            created = doc["stepDates"].get(step["referrer"], step_date(self._now_ms()))
            entry: dict[str, Any] = {
                "referrer": step["referrer"],
                "name": integration["name"] if integration else "",
                "type": self.integration_type(integration) if integration else "Import",
                "createdBy": doc["createdBy"],
                "createdDate": created,
                "modifiedDate": created,
                "modifiedBy": doc["modifiedBy"],
                "workspaceId": integration["workspaceId"] if integration else None,
                "modelId": integration["modelId"] if integration else None,
                "dependsOn": step["dependsOn"],
                "isSkipped": step["isSkipped"],
                "exceptionBehavior": step["exceptionBehavior"],
                "accessible": integration is not None
                and self._in_scope(scope, integration["workspaceId"]),
            }
            if integration is not None:
                entry["latestRun"] = self._latest_run("runs", step["referrer"])
            steps.append(entry)
        wire["steps"] = steps
        return wire

    def replace_flow(self, principal: Principal, flow_id: str, body: dict[str, Any]) -> None:
        """`PUT /integrationflows/{id}` with a full create body."""
        with self._lock:
            doc = self._visible_flow(principal, flow_id)
            stored = self._flow_body(principal, body, flow_id)
            now = self._now_ms()
            dates = {
                s["referrer"]: doc["stepDates"].get(s["referrer"], step_date(now))
                for s in stored["steps"]
            }
            self.store.put(
                "flows",
                flow_id,
                {
                    **doc,
                    **stored,
                    "stepDates": dates,
                    "modificationDate": iso_ms(now),
                    "modifiedBy": self._user(principal),
                },
            )

    def delete_flow(self, principal: Principal, flow_id: str) -> None:
        """`DELETE /integrationflows/{id}`: 409 while it runs."""
        with self._lock:
            self._visible_flow(principal, flow_id)
            if flow_id in self._flows_active:
                raise errors.Conflict(ALREADY_RUNNING)
            with self.store.transaction():
                self.store.delete("flows", flow_id)
                self.store.delete_owned("flow_runs", flow_id)

    def run_flow(self, principal: Principal, flow_id: str, body: dict[str, Any]) -> str:
        """`POST /integrationflows/{id}/run` `{stepsToRun?}` → the flow run's id."""
        with self._lock:
            doc = self._visible_flow(principal, flow_id)
            if set(body) - {"stepsToRun"}:
                raise errors.BadRequest(BAD_BODY)
            wanted = body.get("stepsToRun")
            referrers = [s["referrer"] for s in doc["steps"]]
            if wanted is not None and (
                not isinstance(wanted, list)
                or not wanted
                or any(w not in referrers for w in wanted)
            ):
                raise errors.BadRequest(BAD_FLOW)
            if flow_id in self._flows_active:
                raise errors.Conflict(ALREADY_RUNNING)
            now = self._now_ms()
            user = self._user(principal)
            run_id = new_id()
            run: dict[str, Any] = {
                "id": run_id,
                "flowId": flow_id,
                "triggeredBy": user,
                "triggerSource": "manual",
                "startDate": iso_ms(now),
                "endDate": None,
                "success": False,
                "message": RUNNING,
                "executionErrorCode": None,
                "steps": [],
            }
            self.store.put("flow_runs", run_id, run, owner=flow_id)
            active = _FlowActive(run_id, flow_id, self.generation)
            self._flows_active[flow_id] = active
        steps = [
            s
            for s in doc["steps"]
            if not s["isSkipped"] and (wanted is None or s["referrer"] in wanted)
        ]
        threading.Thread(
            target=self._flow_thread,
            args=(active, principal, steps),
            name=f"cloudworks-flow-{run_id[:8]}",
            daemon=True,
        ).start()
        return run_id

    def _flow_thread(
        self, active: _FlowActive, principal: Principal, steps: list[dict[str, Any]]
    ) -> None:
        outcome = RunOutcome(True, SUCCESS)
        ran: list[dict[str, Any]] = []
        partial = False
        try:
            for step in steps:
                if active.generation != self.generation:
                    return
                try:
                    with self.host.use():
                        run_id = self.run_integration(
                            principal, step["referrer"], flow_group_id=active.run_id
                        )
                except EmulatorError as error:
                    ran.append(
                        {"referrer": step["referrer"], "runId": None, "message": error.message}
                    )
                    outcome = RunOutcome(False, error.message, FAILED_CODE)
                    break
                with self._lock:
                    step_active = self._active.get(step["referrer"])
                if step_active is not None and step_active.run_id == run_id:
                    step_active.finished.wait()
                run = self.store.get("runs", run_id) or {}
                ran.append(
                    {"referrer": step["referrer"], "runId": run_id, "message": run.get("message")}
                )
                behaviour = {e["type"]: e["strategy"] for e in step["exceptionBehavior"]}
                if run.get("success"):
                    continue
                if run.get("executionErrorCode") == PARTIAL_CODE:
                    partial = True
                    if behaviour.get("partial_success") == "stop":
                        outcome = RunOutcome(False, str(run.get("message")), PARTIAL_CODE)
                        break
                    continue
                outcome = RunOutcome(False, str(run.get("message") or PROCESS_FAILED), FAILED_CODE)
                if behaviour.get("failure") == "stop":
                    break
            else:
                if outcome.success and partial:
                    outcome = RunOutcome(False, "Partial success", PARTIAL_CODE)
        finally:
            with self._lock:
                if active.generation == self.generation and not self._closed:
                    flow_run = self.store.get("flow_runs", active.run_id)
                    if flow_run is not None:
                        self._finish_doc(flow_run, outcome)
                        flow_run["steps"] = ran
                        self.store.put("flow_runs", active.run_id, flow_run, owner=active.flow_id)
                    self._flows_active.pop(active.flow_id, None)
                active.finished.set()

    def start_scheduler(self, interval: float = 1.0) -> threading.Thread:
        """Fire due schedules every `interval` seconds of real time, until `close()`."""

        def loop() -> None:
            while not self._stopped.wait(interval):
                try:
                    with self.host.use():
                        self.fire_due()
                except errors.ServiceUnavailable:
                    self.close()  # the engine closed: so does CloudWorks
                    return
                except (EmulatorError, sqlite3.ProgrammingError):
                    continue
                except Exception:
                    log.exception("CloudWorks scheduler")

        thread = threading.Thread(target=loop, name="cloudworks-scheduler", daemon=True)
        thread.start()
        self.scheduler = thread
        return thread


class _Superseded(Exception):
    """The emulator was reset while the run ran: end without a trace."""


class _RunFailed(Exception):
    """The run cannot go on (a missing file, a deleted connection): it fails with this text."""


def _page(items: list[dict[str, Any]], page: Page) -> Paged[dict[str, Any]]:
    return Paged(
        items=items[page.offset : page.offset + page.limit],
        total_size=len(items),
        offset=page.offset,
    )


def _connection_ids(integration: dict[str, Any]) -> set[str]:
    found = set()
    for job in integration.get("jobs", []):
        for endpoint in (*job["sources"], *job["targets"]):
            if "connectionId" in endpoint:
                found.add(endpoint["connectionId"])
    return found


def _anaplan_action(job: dict[str, Any]) -> str:
    endpoint = job["targets"][0] if job["type"].endswith("ToAnaplan") else job["sources"][0]
    return str(endpoint["actionId"])


def _undefined(action_ids: list[str]) -> str:
    return f"Action(s) you included, {', '.join(action_ids)} are not defined in your Anaplan model."


def _first_text(result: TaskResult, *, failures_only: bool = False) -> str | None:
    for part in result.walk():
        for detail in part.details:
            text = detail.local_message_text
            if not text:
                continue
            if failures_only and "failed" not in text.lower() and "Failures" not in detail.type:
                continue
            return text.strip()
    return None


def _fresh_name(path: Path, now_ms: int) -> Path:
    """A file name no earlier run used: `name_YYYYMMDDHHMMSSmmm.ext` (then `-2`, `-3`, …)."""
    stamp = (
        datetime.fromtimestamp(now_ms / 1000, tz=UTC).strftime("%Y%m%d%H%M%S")
        + f"{now_ms % 1000:03d}"
    )
    candidate = path.with_name(f"{path.stem}_{stamp}{path.suffix}")
    counter = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}_{stamp}-{counter}{path.suffix}")
        counter += 1
    return candidate


def _write_atomically(path: Path, chunks: Iterator[bytes]) -> None:
    """Write chunk after chunk to a temporary file beside `path`, then rename it into place:
    a reader of the bucket never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".cloudworks-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _csv(rows: Iterator[list[str]] | list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def _remap(content: bytes, mapping: list[dict[str, str]]) -> bytes:
    """Keep the mapped columns, renamed (`sourceName` → `targetName`)."""
    rows = _rows(content)
    if not rows:
        return content
    header = rows[0]
    picks = [
        (header.index(m["sourceName"]), m["targetName"])
        for m in mapping
        if m["sourceName"] in header
    ]
    return _csv(
        [
            [name for _, name in picks],
            *([row[i] if i < len(row) else "" for i, _ in picks] for row in rows[1:]),
        ]
    )


def _append_rows(existing: bytes, content: bytes) -> bytes:
    """A BigQuery table without `overwrite` gains the new rows (one header kept)."""
    rows = _rows(content)
    old = _rows(existing)
    return _csv([*old, *rows[1:]]) if old else content
