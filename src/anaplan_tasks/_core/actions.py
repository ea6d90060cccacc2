"""The action catalogue: list imports, exports, actions and processes; find one by id or name."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from ..errors import ActionNotFoundError
from ..models import ActionKind, ExportAction, ImportAction, ModelAction, Process, action_kind_of
from . import endpoints
from .calls import call, list_all
from .flow import Context, Flow, Request

ActionModel = ImportAction | ExportAction | ModelAction | Process

_MODELS: dict[ActionKind, type[ActionModel]] = {
    "imports": ImportAction,
    "exports": ExportAction,
    "actions": ModelAction,
    "processes": Process,
}

_NOUNS: dict[ActionKind, str] = {
    "imports": "import",
    "exports": "export",
    "actions": "action",
    "processes": "process",
}


@dataclass(frozen=True)
class ActionRef:
    """A resolved action: its kind, id and (when looked up) name and definition."""

    kind: ActionKind
    id: str
    name: str | None = None
    definition: Any = None


def list_actions(ctx: Context, kind: ActionKind) -> Flow[list[ActionModel]]:
    """Every action of one kind in the model."""
    items = yield from list_all(ctx, endpoints.actions(ctx, kind), kind)
    model = _MODELS[kind]
    return [model.model_validate(item) for item in items]


def resolve(
    ctx: Context, kind: ActionKind, wanted: str, *, look_up: bool = False
) -> Flow[ActionRef]:
    """Find an action by id or name.

    An id of this kind (`112…` for imports, …) is taken as is unless `look_up` is set; anything
    else is looked up by exact name, then by case-insensitive name. An unknown name raises
    `ActionNotFoundError` listing the closest names.
    """
    if action_kind_of(wanted) == kind and not look_up:
        return ActionRef(kind, wanted)
    actions = yield from list_actions(ctx, kind)
    for action in actions:
        if action.id == wanted or action.name == wanted:
            return ActionRef(kind, action.id, action.name, action)
    folded = [action for action in actions if action.name.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return ActionRef(kind, folded[0].id, folded[0].name, folded[0])
    names = [action.name for action in actions]
    closest = difflib.get_close_matches(wanted, names, n=3, cutoff=0.4)
    raise ActionNotFoundError(wanted, _NOUNS[kind], closest)


def solution_log(ctx: Context, optimizer_id: str, correlation_id: str) -> Flow[str]:
    """The solution log an optimizer's run left: under the optimizer's id (`117…`) and the id
    of the task that ran it (its own task, or a process's that had it as a step). Anaplan keeps
    it 48 hours after the last read and serves it to workspace administrators only."""
    request = Request(
        "GET",
        endpoints.solution_log(ctx, optimizer_id, correlation_id),
        headers={"Accept": "text/plain"},
    )
    response = yield from call(ctx, request)
    return response.content.decode("utf-8", errors="replace")
