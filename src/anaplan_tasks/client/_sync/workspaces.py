# Generated from src/anaplan_tasks/client/_async/workspaces.py by scripts/unasync.py: do not edit.
# Change the async source and run `python scripts/unasync.py`.
"""`client.workspaces` and `client.models`: what the signed-in user can see."""

from __future__ import annotations

from ..._core import workspaces as core
from ...models import Model, Workspace
from .runner import Namespace


class Workspaces(Namespace):
    """`client.workspaces`: the workspaces you can see."""

    def list(self) -> list[Workspace]:
        """Every workspace visible to the signed-in user."""
        return self._runner.run(core.list_workspaces(self._ctx), in_scope=False)


class Models(Namespace):
    """`client.models`: the models you can see."""

    def list(self, workspace_id: str | None = None) -> list[Model]:
        """Models of one workspace (default: the client's), or all with `workspace_id="*"`."""
        flow = core.list_models(self._ctx, workspace_id)
        return self._runner.run(flow, in_scope=workspace_id is None)
