"""What ALM needs from the rest of the emulator: models, admin rights, structure, online status.

`AlmService` talks to the engine only through this protocol, so ALM stays in its own package and
its tests can run against any engine that offers these few things.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..definitions import ModelDef
from ..engine.contract import Principal


@dataclass(frozen=True)
class ModelInfo:
    """A model as ALM sees it.

    Attributes:
        id: The model id.
        name: The model's name.
        workspace_id: Its workspace.
        workspace_name: Its workspace's name.
        origin: The name of the model it was copied from (they share an ALM origin), if any.
        state: Its state (`UNLOCKED`, `LOCKED`, `ARCHIVED`, `OFFLINE`, …).
        created_ms: When the emulator created it (a reset recreates models with new times).
    """

    id: str
    name: str
    workspace_id: str
    workspace_name: str
    origin: str | None
    state: str
    created_ms: int


class AlmHost(Protocol):
    """The engine's side of ALM."""

    def model_info(self, principal: Principal, model_id: str) -> ModelInfo:
        """A model the caller may use; raises `NotFound` otherwise."""
        ...

    def all_models(self) -> list[ModelInfo]:
        """Every model, in creation order."""
        ...

    def is_workspace_admin(self, principal: Principal, workspace_id: str) -> bool:
        """True when the caller administers the workspace."""
        ...

    def workspace_admins(self, workspace_id: str) -> list[str]:
        """The user ids of a workspace's administrators, in the order they were granted."""
        ...

    def structure(self, model_id: str) -> ModelDef:
        """A model's current structure."""
        ...

    def replace_structure(self, model_id: str, new: ModelDef) -> None:
        """Give a model a new structure, keeping its data where the structure still holds it."""
        ...

    def set_online(self, model_id: str, online: bool) -> None:
        """Take a model offline (other endpoints then answer 424) or bring it back online."""
        ...
