"""URLs of the Integration API and the authentication service, built in one place."""

from __future__ import annotations

from urllib.parse import quote

from ..errors import ConfigurationError
from ..models import ActionKind
from .flow import Context


def _segment(value: str) -> str:
    return quote(value, safe="")


def auth_url(ctx: Context, action: str) -> str:
    """`{auth}/token/{action}` (authenticate, refresh, logout, validate)."""
    return f"{ctx.auth_base_url}/token/{action}"


def api_url(ctx: Context, path: str) -> str:
    """A path under the Integration API root."""
    return f"{ctx.api_base_url}{path}"


def model_base(ctx: Context) -> str:
    """`{api}/workspaces/{ws}/models/{m}`; raises ConfigurationError without both ids."""
    if not ctx.workspace_id or not ctx.model_id:
        raise ConfigurationError(
            "this call needs a workspace and a model: pass workspace_id= and model_id= "
            "(or set ANAPLAN_WORKSPACE_ID and ANAPLAN_MODEL_ID), or use client.with_model()"
        )
    return (
        f"{ctx.api_base_url}/workspaces/{_segment(ctx.workspace_id)}"
        f"/models/{_segment(ctx.model_id)}"
    )


def files(ctx: Context) -> str:
    """The model's file list."""
    return f"{model_base(ctx)}/files"


def file(ctx: Context, file_id: str) -> str:
    """One file (POST sets the chunk count, GET downloads, DELETE removes private content)."""
    return f"{model_base(ctx)}/files/{_segment(file_id)}"


def file_chunks(ctx: Context, file_id: str) -> str:
    """A file's chunk list."""
    return f"{file(ctx, file_id)}/chunks"


def file_chunk(ctx: Context, file_id: str, index: int) -> str:
    """One chunk of a file."""
    return f"{file(ctx, file_id)}/chunks/{index}"


def file_complete(ctx: Context, file_id: str) -> str:
    """Finishes a `chunkCount: -1` upload."""
    return f"{file(ctx, file_id)}/complete"


def actions(ctx: Context, kind: ActionKind) -> str:
    """The list of one kind of action."""
    return f"{model_base(ctx)}/{kind}"


def action(ctx: Context, kind: ActionKind, action_id: str) -> str:
    """One action's definition or metadata."""
    return f"{model_base(ctx)}/{kind}/{_segment(action_id)}"


def tasks(ctx: Context, kind: ActionKind, action_id: str) -> str:
    """An action's tasks (POST starts one, GET lists them)."""
    return f"{action(ctx, kind, action_id)}/tasks"


def task(ctx: Context, kind: ActionKind, action_id: str, task_id: str) -> str:
    """One task (GET status, DELETE cancels)."""
    return f"{tasks(ctx, kind, action_id)}/{_segment(task_id)}"


def solution_log(ctx: Context, optimizer_id: str, correlation_id: str) -> str:
    """An optimizer run's solution log (only the workspace-prefixed form exists)."""
    return (
        f"{model_base(ctx)}/optimizeActions/{_segment(optimizer_id)}"
        f"/tasks/{_segment(correlation_id)}/solutionLogs"
    )


def dump_chunks(
    ctx: Context, kind: ActionKind, action_id: str, task_id: str, object_id: str | None
) -> str:
    """Chunk list of a failure dump: an import's own, or a process's per nested import."""
    base = task(ctx, kind, action_id, task_id)
    if object_id is None:
        return f"{base}/dump/chunks"
    return f"{base}/dumps/{_segment(object_id)}/chunks"


def dump_chunk(
    ctx: Context,
    kind: ActionKind,
    action_id: str,
    task_id: str,
    object_id: str | None,
    index: int,
) -> str:
    """One chunk of a failure dump."""
    return f"{dump_chunks(ctx, kind, action_id, task_id, object_id)}/{index}"
