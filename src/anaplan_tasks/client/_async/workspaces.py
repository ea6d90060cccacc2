"""`client.workspaces` and `client.models`: what the signed-in user can see."""

from __future__ import annotations

from ..._core import workspaces as core
from ...models import Model, Workspace
from .runner import AsyncNamespace


class AsyncWorkspaces(AsyncNamespace):
    """`client.workspaces`: the workspaces you can see."""

    async def list(self) -> list[Workspace]:
        """Every workspace visible to the signed-in user."""
        return await self._runner.run(core.list_workspaces(self._ctx), in_scope=False)


class AsyncModels(AsyncNamespace):
    """`client.models`: the models you can see."""

    async def list(self, workspace_id: str | None = None) -> list[Model]:
        """Models of one workspace (default: the client's), or all with `workspace_id="*"`."""
        flow = core.list_models(self._ctx, workspace_id)
        return await self._runner.run(flow, in_scope=workspace_id is None)
