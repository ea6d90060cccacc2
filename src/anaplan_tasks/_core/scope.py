"""The client's workspace and model given by name: resolved to ids once, before the first call.

Anaplan's URLs take ids only (`/workspaces/8a81…/models/75A4…`). A client configured with names
(`workspace_id="Demo Workspace"`, `model_id="FP&A Dev"`) resolves them here: the workspace among
the workspaces the user can see, the model among the workspace's models (or all the user's
models when no workspace is given, which then comes from the model; so does the workspace of a
model given by id alone). A name that matches nothing
raises `ConfigurationError` naming what was not found and what can be seen instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigurationError
from . import endpoints
from .calls import list_all
from .flow import Context, Flow

WORKSPACE_ID = re.compile(r"[0-9a-f]{32}")
"""A workspace id: 32 lower-case hexadecimal digits."""

MODEL_ID = re.compile(r"[0-9A-F]{32}")
"""A model id: 32 upper-case hexadecimal digits."""


@dataclass(frozen=True)
class Scope:
    """A workspace and a model, as given or as ids."""

    workspace: str | None
    model: str | None

    @property
    def needs_lookup(self) -> bool:
        """True when either is a name, or a model is given without its workspace."""
        if self.workspace is not None and not WORKSPACE_ID.fullmatch(self.workspace):
            return True
        return self.model is not None and (
            self.workspace is None or not MODEL_ID.fullmatch(self.model)
        )


def match_name(
    kind: str, wanted: str, candidates: Sequence[tuple[str, str]], where: str = ""
) -> str:
    """The one id whose name is `wanted` (exactly, else ignoring case).

    Raises:
        ConfigurationError: No such name (the visible names listed), or more than one.
    """
    exact = [item_id for item_id, name in candidates if name == wanted]
    folded = [item_id for item_id, name in candidates if name.casefold() == wanted.casefold()]
    matches = exact or folded
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ConfigurationError(f"{len(matches)} {kind}s are named {wanted!r}{where}: give its id")
    names = ", ".join(repr(name) for _, name in candidates[:10]) or "none"
    raise ConfigurationError(f"no {kind} named {wanted!r}{where} (you can see: {names})")


def _pairs(items: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    return [(str(item.get("id", "")), str(item.get("name", ""))) for item in items]


def resolve(ctx: Context, given: Scope) -> Flow[Scope]:
    """Ids for a scope given by names (ids pass through untouched)."""
    workspace, model = given.workspace, given.model
    workspace_named = workspace is not None and not WORKSPACE_ID.fullmatch(workspace)
    if workspace is not None and workspace_named:
        url = endpoints.api_url(ctx, "/workspaces")
        workspaces = yield from list_all(ctx, url, "workspaces")
        workspace = match_name("workspace", workspace, _pairs(workspaces))
    if model is not None and (workspace is None or not MODEL_ID.fullmatch(model)):
        path = "/models" if workspace is None else f"/workspaces/{workspace}/models"
        models = yield from list_all(ctx, endpoints.api_url(ctx, path), "models")
        if not MODEL_ID.fullmatch(model):
            where = "" if given.workspace is None else f" in workspace {given.workspace!r}"
            model = match_name("model", model, _pairs(models), where)
        if workspace is None:
            workspace = _workspace_of(models, model)
    return Scope(workspace, model)


def _workspace_of(models: Sequence[Mapping[str, Any]], model_id: str) -> str:
    for item in models:
        if item.get("id") == model_id and item.get("currentWorkspaceId"):
            return str(item["currentWorkspaceId"])
    raise ConfigurationError(
        f"model {model_id} is not in any workspace you can see: give its workspace too"
    )
