"""`AlmHost` over the emulator's engine (`EmulatorEngine`) and its store.

ALM's tables live in `alm.sqlite` beside the engine's databases (or in a temporary directory for
an in-memory engine), so a reset of the engine is seen by ALM through the models' creation times
(see `AlmService`), and a restart finds ALM's revisions again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..definitions import ModelDef
from ..engine.contract import Principal
from ..errors import NotFound
from .host import ModelInfo


class EngineAlmHost:
    """The engine's side of ALM.

    Args:
        engine: An `EmulatorEngine` (it offers `model_records`, `is_workspace_admin`,
            `structure` and `replace_structure` for ALM).
    """

    def __init__(self, engine: Any):
        self.engine = engine

    @property
    def _store(self) -> Any:
        # The engine's store (public `Store` protocol): workspaces, grants and model states.
        return self.engine._store

    def alm_database_path(self) -> Path | None:
        """Where ALM keeps its tables: beside the engine's data, None for a temporary database."""
        store = self._store
        if getattr(store, "memory", False) or getattr(store, "root", None) is None:
            return None
        return Path(store.root) / "alm.sqlite"

    def _info(self, record: Any, workspace_names: dict[str, str]) -> ModelInfo:
        return ModelInfo(
            id=record.id,
            name=record.name,
            workspace_id=record.workspace_id,
            workspace_name=workspace_names.get(record.workspace_id, ""),
            origin=record.origin,
            state=record.state,
            created_ms=record.created_ms,
        )

    def _workspace_names(self) -> dict[str, str]:
        return {workspace.id: workspace.name for workspace in self._store.workspaces()}

    def model_info(self, principal: Principal, model_id: str) -> ModelInfo:
        """A model the caller may use; `NotFound` otherwise."""
        self.engine.resolve_model(principal, None, model_id)
        for record in self.engine.model_records():
            if record.id == model_id:
                return self._info(record, self._workspace_names())
        raise NotFound(f"Model {model_id} not found")

    def all_models(self) -> list[ModelInfo]:
        """Every model."""
        names = self._workspace_names()
        return [self._info(record, names) for record in self.engine.model_records()]

    def is_workspace_admin(self, principal: Principal, workspace_id: str) -> bool:
        """True when the caller administers the workspace."""
        return bool(self.engine.is_workspace_admin(principal, workspace_id))

    def workspace_admins(self, workspace_id: str) -> list[str]:
        """User ids of the workspace's administrators."""
        return [
            grant.user_id
            for grant in self._store.grants()
            if grant.workspace_id == workspace_id and grant.admin
        ]

    def structure(self, model_id: str) -> ModelDef:
        """The model's current structure."""
        structure: ModelDef = self.engine.structure(model_id)
        return structure

    def replace_structure(self, model_id: str, new: ModelDef) -> None:
        """Give the model a new structure (the engine keeps data by name)."""
        self.engine.replace_structure(model_id, new)

    def set_online(self, model_id: str, online: bool) -> None:
        """Take the model offline (`OFFLINE`: the engine answers 424) or back online."""
        setter = getattr(self.engine, "set_model_state", None)
        state = "UNLOCKED" if online else "OFFLINE"
        if setter is not None:
            setter(model_id, state)
            return
        self._store.set_model_state(model_id, state)
        self.engine._reload()  # the engine caches model records; read the new state
