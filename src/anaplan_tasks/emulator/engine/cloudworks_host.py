"""What CloudWorks needs from the rest of the emulator, and that over `EmulatorEngine`.

CloudWorks (`engine/cloudworks.py`) talks to the task engine only through `CloudWorksHost`: who
the caller is and where they may go, the buckets the definitions name, the model's actions, and
the few task calls a run makes (upload the source file, start the task, watch it, cancel it,
read its dump or its export). A run's tasks are ordinary tasks of the engine: they queue behind
the model's other tasks, follow the progression knob, and leave ordinary dumps.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ...models import TaskResult
from .. import errors
from ..definitions import BucketDef
from .context import CHUNK_SIZE
from .contract import ActionKind, Page, Principal, TaskStart

RUN_LOCALE = "en_US"
"""The locale CloudWorks starts its tasks with."""


@dataclass(frozen=True)
class ActionInfo:
    """An action of a model as CloudWorks checks it.

    Attributes:
        id: The action id (`112…`, `116…`, `117…`, `118…`).
        name: Its name.
        kind: `imports`, `exports`, `actions` or `processes`.
        file_id: An import's data source file; an export's output file (its own id).
        file_name: That file's name.
    """

    id: str
    name: str
    kind: ActionKind
    file_id: str | None = None
    file_name: str | None = None


@dataclass(frozen=True)
class TaskSeen:
    """A task as a run watches it: its state, and its result once it has one."""

    state: str
    result: TaskResult | None


class CloudWorksHost(Protocol):
    """The engine's side of CloudWorks."""

    def use(self) -> AbstractContextManager[None]:
        """Hold the engine's store for one call (see `engine/lifecycle.py`)."""
        ...

    def data_path(self) -> tuple[Path, bool]:
        """Where CloudWorks keeps its database, and whether writes must be durable."""
        ...

    def buckets(self) -> list[BucketDef]:
        """The buckets the definitions name."""
        ...

    def role(self, principal: Principal) -> str:
        """`integration_admin`, `restricted_integration_user` or `none`."""
        ...

    def granted_workspaces(self, principal: Principal) -> set[str]:
        """The workspaces the caller is assigned to."""
        ...

    def workspace_exists(self, workspace_id: str) -> bool:
        """True for a workspace of the tenant."""
        ...

    def model_workspace(self, model_id: str) -> str | None:
        """The workspace of a model, None for no such model."""
        ...

    def may_use_model(self, principal: Principal, workspace_id: str, model_id: str) -> bool:
        """True when the caller may use the model (and it lives in that workspace)."""
        ...

    def actions(self, principal: Principal, model_id: str) -> dict[str, ActionInfo]:
        """The model's imports, exports, delete actions and processes by id."""
        ...

    def process_actions(
        self, principal: Principal, model_id: str, process_id: str
    ) -> list[ActionInfo]:
        """A process's actions in order."""
        ...

    def user_name(self, user_id: str) -> str:
        """A user's display name ("Demo User")."""
        ...

    def user_names(self, user_id: str) -> tuple[str, str] | None:
        """A user's first and last names, None for no such user."""
        ...

    def principal(self, user_id: str) -> Principal | None:
        """The principal a run started by this user acts as (None: the user is gone)."""
        ...

    def upload(self, principal: Principal, model_id: str, file_id: str, source: Path) -> None:
        """Make the local file `source` the caller's content of the model's file, as a chunked
        upload does (chunk after chunk, never the whole file in memory)."""
        ...

    def start(self, principal: Principal, model_id: str, kind: ActionKind, action_id: str) -> str:
        """Start a task; its id."""
        ...

    def seen(self, task_id: str) -> TaskSeen | None:
        """The task's state without counting a poll (None: the task is gone)."""
        ...

    def poll(
        self, principal: Principal, model_id: str, kind: ActionKind, action_id: str, task_id: str
    ) -> None:
        """Read the task's status as a client would (it counts for the `polls` progression)."""
        ...

    def cancel(
        self, principal: Principal, model_id: str, kind: ActionKind, action_id: str, task_id: str
    ) -> None:
        """Ask the task to cancel."""
        ...

    def dump(
        self,
        principal: Principal,
        model_id: str,
        kind: ActionKind,
        action_id: str,
        task_id: str,
        object_id: str | None,
    ) -> list[bytes] | None:
        """A task's failure dump (an import's, or one import's of a process), None if none."""
        ...

    def read_file(self, principal: Principal, model_id: str, file_id: str) -> Iterator[bytes]:
        """The caller's content of a file (an export's output), chunk after chunk."""
        ...


class EngineCloudWorksHost:
    """`CloudWorksHost` over `EmulatorEngine`.

    Args:
        engine: The engine (it offers `buckets`, `cloudworks_role`, `resolve_model`, the
            catalogue and the task calls of `contract.Engine`).
    """

    def __init__(self, engine: Any):
        self.engine = engine

    def use(self) -> AbstractContextManager[None]:
        """Hold the engine's store."""
        lease: AbstractContextManager[None] = self.engine.use()
        return lease

    def data_path(self) -> tuple[Path, bool]:
        """`cloudworks.sqlite` in the engine's store directory (temporary for a memory store)."""
        store = self.engine.store
        return Path(store.root) / "cloudworks.sqlite", not bool(getattr(store, "memory", False))

    def buckets(self) -> list[BucketDef]:
        """The buckets the definitions name."""
        buckets: list[BucketDef] = self.engine.buckets()
        return buckets

    def role(self, principal: Principal) -> str:
        """The caller's CloudWorks role."""
        role: str = self.engine.cloudworks_role(principal)
        return role

    def granted_workspaces(self, principal: Principal) -> set[str]:
        """Workspaces the caller is assigned to."""
        return set(self.engine._grants.get(principal.user_id, {}))

    def workspace_exists(self, workspace_id: str) -> bool:
        """True for a known workspace."""
        return workspace_id in self.engine._workspaces

    def model_workspace(self, model_id: str) -> str | None:
        """The model's workspace."""
        model = self.engine._models.get(model_id)
        return None if model is None else str(model.workspace_id)

    def may_use_model(self, principal: Principal, workspace_id: str, model_id: str) -> bool:
        """True when the caller may use the model in that workspace."""
        try:
            self.engine.resolve_model(principal, workspace_id, model_id)
        except errors.EmulatorError:
            return False
        return True

    def actions(self, principal: Principal, model_id: str) -> dict[str, ActionInfo]:
        """The model's actions by id."""
        page = Page(limit=5000)
        engine = self.engine
        files = {f.id: f.name for f in engine.files(principal, model_id, page).items}
        found: dict[str, ActionInfo] = {}
        for imp in engine.imports(principal, model_id, page).items:
            source = imp.import_data_source_id
            found[imp.id] = ActionInfo(imp.id, imp.name, "imports", source, files.get(source or ""))
        for exp in engine.exports(principal, model_id, page).items:
            found[exp.id] = ActionInfo(
                exp.id, exp.name, "exports", exp.id, files.get(exp.id, exp.name)
            )
        for action in engine.actions(principal, model_id, page).items:
            found[action.id] = ActionInfo(action.id, action.name, "actions")
        for process in engine.processes(principal, model_id, page).items:
            found[process.id] = ActionInfo(process.id, process.name, "processes")
        return found

    def process_actions(
        self, principal: Principal, model_id: str, process_id: str
    ) -> list[ActionInfo]:
        """A process's actions in order."""
        known = self.actions(principal, model_id)
        metadata = self.engine.process_metadata(principal, model_id, process_id)
        return [known.get(a.id, ActionInfo(a.id, a.name, "actions")) for a in metadata.actions]

    def user_name(self, user_id: str) -> str:
        """'First Last'."""
        names = self.user_names(user_id)
        return "Unknown User" if names is None else f"{names[0]} {names[1]}".strip()

    def user_names(self, user_id: str) -> tuple[str, str] | None:
        """First and last names."""
        user = self.engine._users_by_id.get(user_id)
        return None if user is None else (str(user.first_name), str(user.last_name))

    def principal(self, user_id: str) -> Principal | None:
        """The user as a principal."""
        user = self.engine._users_by_id.get(user_id)
        if user is None:
            return None
        return Principal(user_id=user.id, email=user.email, customer_id=user.customer_id)

    def upload(self, principal: Principal, model_id: str, file_id: str, source: Path) -> None:
        """A chunked upload of `source` as the caller: 10 MB chunks, an open-ended chunk count
        (`-1`) frozen by `complete` once the file is read."""
        engine = self.engine
        engine.set_chunk_count(principal, model_id, file_id, -1)
        with source.open("rb") as data:
            index = 0
            while chunk := data.read(CHUNK_SIZE):
                engine.put_chunk(principal, model_id, file_id, index, chunk)
                index += 1
        if index == 0:
            engine.put_chunk(principal, model_id, file_id, 0, b"")
        engine.complete_upload(principal, model_id, file_id)

    def start(self, principal: Principal, model_id: str, kind: ActionKind, action_id: str) -> str:
        """Start a task like `POST …/tasks` with `localeName` en_US."""
        task = self.engine.start_task(
            principal, model_id, kind, action_id, TaskStart(locale_name=RUN_LOCALE)
        )
        return str(task.id)

    def seen(self, task_id: str) -> TaskSeen | None:
        """The stored task (its final state is written once its data committed)."""
        record = self.engine.store.task(task_id)
        if record is None:
            return None
        result = None
        if record.result_json is not None:
            result = TaskResult.model_validate(json.loads(record.result_json))
        return TaskSeen(record.state, result)

    def poll(
        self, principal: Principal, model_id: str, kind: ActionKind, action_id: str, task_id: str
    ) -> None:
        """One status read of the task."""
        self.engine.task(principal, model_id, kind, action_id, task_id)

    def cancel(
        self, principal: Principal, model_id: str, kind: ActionKind, action_id: str, task_id: str
    ) -> None:
        """`DELETE …/tasks/{id}`."""
        self.engine.cancel_task(principal, model_id, kind, action_id, task_id)

    def dump(
        self,
        principal: Principal,
        model_id: str,
        kind: ActionKind,
        action_id: str,
        task_id: str,
        object_id: str | None,
    ) -> list[bytes] | None:
        """The task's failure dump, None when it left none."""
        try:
            chunks: list[bytes] = self.engine.dump_content(
                principal, model_id, kind, action_id, task_id, object_id
            )
        except errors.NotFound:
            return None
        return chunks

    def read_file(self, principal: Principal, model_id: str, file_id: str) -> Iterator[bytes]:
        """The caller's content of the file."""
        content: Iterator[bytes] = self.engine.read_file(principal, model_id, file_id)
        return content
