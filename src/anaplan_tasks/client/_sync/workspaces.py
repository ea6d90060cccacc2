# Generated from src/anaplan_tasks/client/_async/workspaces.py by scripts/unasync.py: do not edit.
# Change the async source and run `python scripts/unasync.py`.
"""`client.workspaces` and `client.models`: what the signed-in user can see."""

from __future__ import annotations

from ..._core import endpoints
from ..._core.calls import list_all
from ...models import Model, Workspace
from .runner import Namespace


class Workspaces(Namespace):
    """`client.workspaces`: the workspaces you can see."""

    def list(self) -> list[Workspace]:
        """Every workspace visible to the signed-in user."""
        url = endpoints.api_url(self._ctx, "/workspaces")
        items = self._run(list_all(self._ctx, url, "workspaces", {"tenantDetails": "true"}))
        return [Workspace.model_validate(item) for item in items]


class Models(Namespace):
    """`client.models`: the models you can see."""

    def list(self, workspace_id: str | None = None) -> list[Model]:
        """Models of one workspace (default: the client's), or all with `workspace_id="*"`."""
        workspace = workspace_id or self._ctx.workspace_id
        path = "/models" if workspace in (None, "*") else f"/workspaces/{workspace}/models"
        items = self._run(list_all(self._ctx, endpoints.api_url(self._ctx, path), "models"))
        return [Model.model_validate(item) for item in items]
