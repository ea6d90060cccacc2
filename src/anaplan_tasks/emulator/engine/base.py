"""What the engine's parts share: its state, and the lookups every part uses."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TypeVar

from .. import errors
from ..definitions import ModelDef
from ..storage import ModelRecord, Store, UserRecord, WorkspaceRecord
from .access import Access, access_of
from .catalog import ModelCatalog
from .clock import Clock
from .context import LiveTask
from .contract import Page, Paged, Principal, Progression
from .lifecycle import Lifecycle
from .worker import ModelWorker

T = TypeVar("T")


def page_of(items: Sequence[T], page: Page) -> Paged[T]:
    """One page of a listing and its total size."""
    return Paged(
        items=list(items[page.offset : page.offset + page.limit]),
        total_size=len(items),
        offset=page.offset,
    )


class EngineBase:
    """The engine's state; `EmulatorEngine` fills it in."""

    _store: Store
    _lifecycle: Lifecycle
    _clock: Clock
    _progression: Progression
    _lock: threading.RLock
    _cond: threading.Condition
    _stopping: bool
    _live: dict[str, LiveTask]
    _workers: dict[str, ModelWorker]
    _poll_counts: dict[str, int]
    _file_access: dict[tuple[str, str, str], float]
    _users: dict[str, UserRecord]
    _users_by_id: dict[str, UserRecord]
    _workspaces: dict[str, WorkspaceRecord]
    _grants: dict[str, dict[str, bool]]
    _models: dict[str, ModelRecord]
    _catalogs: dict[str, ModelCatalog]

    def _expire_private_content(self, model_id: str, user_id: str, *, touch: bool) -> None:
        """Drop a user's private file content unused for 48 h (`FilesMixin` implements it)."""
        raise NotImplementedError

    def _now_ms(self) -> int:
        return int(self._clock.now() * 1000)

    def _visible(self, principal: Principal, model_id: str) -> ModelRecord:
        model = self._models.get(model_id)
        if model is None or model.workspace_id not in self._grants.get(principal.user_id, {}):
            raise errors.NotFound(f"Model {model_id} not found")
        return model

    def _access(self, principal: Principal, model_id: str) -> Access:
        """The caller's rights in a model they can see (see `access.py`)."""
        model = self._visible(principal, model_id)
        admin = self._grants.get(principal.user_id, {}).get(model.workspace_id, False)
        return access_of(self._catalogs[model_id].structure, principal.email, admin=admin)

    def is_model_admin(self, principal: Principal, model_id: str) -> bool:
        """Whether the caller administers the model's workspace (selective access does not
        hide items from administrators)."""
        return self._access(principal, model_id).admin

    def _usable(self, principal: Principal, model_id: str) -> tuple[ModelRecord, Access]:
        """The model and the caller's rights, for a model-scoped call: No Access is a 404."""
        model = self._visible(principal, model_id)
        access = self._access(principal, model_id)
        if not access.visible:
            raise errors.NotFound(f"Model {model_id} not found")
        return model, access

    def _catalog(self, principal: Principal, model_id: str) -> ModelCatalog:
        self._usable(principal, model_id)
        return self._catalogs[model_id]

    def replace_structure(self, model_id: str, new: ModelDef) -> None:
        """Make `new` the model's structure (implemented by `EmulatorEngine`)."""
        raise NotImplementedError
