"""A small in-memory `AlmHost`: models, admins and structures, for ALM service tests.

The service's own integration tests run over loopback against the real engine; this host lets
the ALM rules be checked alone, fast, with a driven clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from anaplan_tasks.emulator.alm.host import ModelInfo
from anaplan_tasks.emulator.definitions import ModelDef
from anaplan_tasks.emulator.engine.contract import Principal
from anaplan_tasks.emulator.errors import NotFound

WORKSPACE = "8a81b08e6f3c2d1a016f4b7c9e2d0a55"
ADMIN = Principal(user_id="a" * 32, email="admin@example.com", customer_id="c" * 32)
MEMBER = Principal(user_id="b" * 32, email="member@example.com", customer_id="c" * 32)
OUTSIDER = Principal(user_id="d" * 32, email="outsider@example.com", customer_id="c" * 32)


@dataclass
class FakeHost:
    """Models in one workspace: ADMIN administers it, MEMBER uses it, OUTSIDER sees nothing."""

    models: dict[str, ModelInfo] = field(default_factory=dict)
    structures: dict[str, ModelDef] = field(default_factory=dict)

    def add(self, model_id: str, structure: ModelDef, created_ms: int = 1) -> None:
        self.models[model_id] = ModelInfo(
            id=model_id,
            name=structure.name,
            workspace_id=WORKSPACE,
            workspace_name="FP&A",
            origin=structure.origin,
            state="UNLOCKED",
            created_ms=created_ms,
        )
        self.structures[model_id] = structure

    def model_info(self, principal: Principal, model_id: str) -> ModelInfo:
        if model_id not in self.models or principal == OUTSIDER:
            raise NotFound("Not Found")
        return self.models[model_id]

    def all_models(self) -> list[ModelInfo]:
        return list(self.models.values())

    def is_workspace_admin(self, principal: Principal, workspace_id: str) -> bool:
        return principal == ADMIN and workspace_id == WORKSPACE

    def workspace_admins(self, workspace_id: str) -> list[str]:
        return [ADMIN.user_id] if workspace_id == WORKSPACE else []

    def structure(self, model_id: str) -> ModelDef:
        return self.structures[model_id]

    def replace_structure(self, model_id: str, new: ModelDef) -> None:
        self.structures[model_id] = new

    def set_online(self, model_id: str, online: bool) -> None:
        self.models[model_id] = replace(
            self.models[model_id], state="UNLOCKED" if online else "OFFLINE"
        )
