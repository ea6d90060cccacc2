"""Workspaces and models the signed-in user can see."""

from __future__ import annotations

from ..models import Model, Workspace
from . import endpoints
from .calls import list_all
from .flow import Context, Flow


def list_workspaces(ctx: Context) -> Flow[list[Workspace]]:
    """Every workspace visible to the user, with its size details."""
    url = endpoints.api_url(ctx, "/workspaces")
    items = yield from list_all(ctx, url, "workspaces", {"tenantDetails": "true"})
    return [Workspace.model_validate(item) for item in items]


def list_models(ctx: Context, workspace_id: str | None) -> Flow[list[Model]]:
    """Models of one workspace (default: the context's, read when the flow runs), or all (`*`)."""
    workspace = workspace_id or ctx.workspace_id
    path = "/models" if workspace in (None, "*") else f"/workspaces/{workspace}/models"
    items = yield from list_all(ctx, endpoints.api_url(ctx, path), "models")
    return [Model.model_validate(item) for item in items]
