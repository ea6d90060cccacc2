"""Route matching: the emulator finds a request's route once, as Starlette's router would."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest
from starlette.routing import BaseRoute, Match, Route

from anaplan_tasks.emulator.api.app import RouteIndex
from anaplan_tasks.emulator.server import RunningEmulator

from .conftest import login

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD")


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "path_params": {}}


def _starlette(routes: list[BaseRoute], scope: dict[str, Any]) -> tuple[str | None, Any]:
    """What `starlette.routing.Router` does: the first full match, else the first partial one;
    and the template the request counts under (the first route the path fits)."""
    template = None
    partial = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if template is None and isinstance(route, Route):
            template = route.path
        if match is Match.FULL:
            return template, (route, child)
        if partial is None:
            partial = (route, child)
    return template, partial


def _paths(routes: list[BaseRoute]) -> list[str]:
    """Every route's path with sample parameters, plus near misses and unknown paths."""
    paths = {"/", "/2/0", "/nothing/here", "/2/0/workspaces/w1/models/m1/unknown"}
    for route in routes:
        if isinstance(route, Route):
            path = re.sub(r"\{[^}]+\}", "x1", route.path)
            paths |= {path, path + "/extra", path.rsplit("/", 1)[0] or "/"}
    return sorted(paths)


def test_the_index_agrees_with_starlette_for_every_route_and_method(
    emulator: RunningEmulator,
) -> None:
    routes = emulator.app.routes
    index = RouteIndex(routes)
    checked = 0
    for path in _paths(routes):
        for method in METHODS:
            scope = _scope(method, path)
            assert index.match(scope) == _starlette(routes, scope), (method, path)
            checked += 1
    assert checked > 6 * len(routes)


def test_routes_starlette_cannot_index_are_still_tried_in_order() -> None:
    async def endpoint(request: Any) -> Any:
        raise AssertionError("not called")

    routes: list[BaseRoute] = [
        Route("/files/{name:path}", endpoint, methods=["GET"]),
        Route("/files/a/b", endpoint, methods=["GET", "PUT"]),
        Route("/files/{name}", endpoint, methods=["POST"]),
    ]
    index = RouteIndex(routes)
    for method in ("GET", "PUT", "POST", "DELETE"):
        for path in ("/files/a/b", "/files/a", "/files", "/other"):
            scope = _scope(method, path)
            assert index.match(scope) == _starlette(routes, scope), (method, path)


def test_requests_are_counted_and_answered_per_route(
    http: httpx2.Client, emulator: RunningEmulator
) -> None:
    headers = {"Authorization": f"AnaplanAuthToken {login(http)}"}
    assert http.get("/2/0/users/me", headers=headers).status_code == 200
    assert http.get("/2/0/users/me/", headers=headers).status_code == 200  # trailing slash
    assert http.delete("/2/0/users/me", headers=headers).status_code == 405
    assert http.get("/2/0/nothing", headers=headers).status_code == 404
    counts = emulator.control.request_counts()
    assert counts["GET /2/0/users/me"] == 2
    assert counts["DELETE /2/0/users/me"] == 1
    assert counts["GET <unknown>"] == 1


@pytest.mark.parametrize("mode", ["real", "polls"])
def test_status_reads_answer_in_every_progression(
    http: httpx2.Client, emulator: RunningEmulator, mode: str
) -> None:
    # Status reads run on the event loop, except under `polls`, where one waits for the task.
    headers = {"Authorization": f"AnaplanAuthToken {login(http)}"}
    assert http.put("/_emulator/progression", json={"mode": mode, "polls": 2}).status_code == 200
    model = http.get("/2/0/models", headers=headers).json()["models"][0]
    base = f"/2/0/workspaces/{model['currentWorkspaceId']}/models/{model['id']}"
    imports = http.get(f"{base}/imports", headers=headers).json()["imports"]
    import_id = next(i["id"] for i in imports if i["name"] == "Load Employees")
    started = http.post(
        f"{base}/imports/{import_id}/tasks", headers=headers, json={"localeName": "en_US"}
    )
    task_id = started.json()["task"]["taskId"]
    states = []
    for _ in range(200):
        task = http.get(f"{base}/imports/{import_id}/tasks/{task_id}", headers=headers).json()
        states.append(task["task"]["taskState"])
        if states[-1] == "COMPLETE":
            break
    assert states[-1] == "COMPLETE"
    assert emulator.control.poll_counts()[task_id] == len(states)
