"""The `/_emulator/…` control routes: reset, definitions, faults, counts, OpenAPI."""

from __future__ import annotations

import json
import re

import httpx2
import pytest

from anaplan_tasks.emulator.server import RunningEmulator

from .conftest import Demo, FakeClock, assert_error, login, ok

RAW = {"Content-Type": "application/octet-stream"}
USERS_ME = "GET /2/0/users/me"
PUT_CHUNK = "PUT /2/0/workspaces/{workspaceId}/models/{modelId}/files/{fileId}/chunks/{chunkId}"


def set_faults(http: httpx2.Client, *rules: dict[str, object], seed: int | None = None) -> None:
    response = http.put("/_emulator/faults", json={"seed": seed, "rules": list(rules)})
    assert response.status_code == 200, response.text


def test_health(http: httpx2.Client) -> None:
    assert ok(http.get("/_emulator/health")) == {"status": "ok"}


def test_reset_forgets_changes(api: httpx2.Client, demo: Demo) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    api.put(path, content=b"changed\n", headers={"Content-Type": "application/octet-stream"})
    assert api.post("/_emulator/reset").status_code == 204
    api.headers["Authorization"] = f"AnaplanAuthToken {login(api)}"  # reset drops tokens
    after = api.get(path)
    assert after.content != b"changed\n"


def test_loading_a_definition_in_toml(api: httpx2.Client) -> None:
    toml = """
[[users]]
email = "toml.user@example.com"
password = "pw"

[[workspaces]]
name = "From TOML"
admins = ["toml.user@example.com"]

[[workspaces.models]]
name = "Tiny"

[[workspaces.models.lists]]
name = "Things"
"""
    response = api.post(
        "/_emulator/definitions", content=toml, headers={"Content-Type": "application/toml"}
    )
    assert response.status_code == 204, response.text
    token = login(api, "toml.user@example.com", "pw")
    models = ok(api.get("/2/0/models", headers={"Authorization": f"AnaplanAuthToken {token}"}))
    assert [m["name"] for m in models["models"]] == ["Tiny"]


def test_a_bad_definition_is_a_400_naming_the_problem(http: httpx2.Client) -> None:
    bad = {"workspaces": [{"name": "W", "models": [{"name": "M", "lists": [{"nam": "typo"}]}]}]}
    body = assert_error(http.post("/_emulator/definitions", content=json.dumps(bad)), 400)
    assert "workspaces[0].models[0].lists[0]" in body["status"]["message"]
    assert_error(http.post("/_emulator/definitions", content=b"{{{ not toml"), 400)
    assert_error(http.post("/_emulator/definitions", content=b"\xff\xfe"), 400)


def test_progression_round_trip(http: httpx2.Client) -> None:
    assert ok(http.get("/_emulator/progression"))["mode"] == "real"
    changed = ok(http.put("/_emulator/progression", json={"mode": "polls", "polls": 3}))
    assert changed == {"mode": "polls", "seconds": 0.0, "polls": 3}
    assert ok(http.get("/_emulator/progression"))["polls"] == 3
    for bad in (
        {"mode": "warp"},
        {"mode": "fixed"},
        {"mode": "polls", "polls": 0},
        {"mode": "fixed", "seconds": "soon"},
        {"mode": "polls", "polls": 1.5},
    ):
        assert_error(http.put("/_emulator/progression", json=bad), 400)
    assert_error(http.put("/_emulator/progression", content=b"nope"), 400)
    http.post("/_emulator/reset")
    assert ok(http.get("/_emulator/progression"))["mode"] == "real"


def test_request_counts_per_route(api: httpx2.Client, demo: Demo) -> None:
    assert api.delete("/_emulator/requests").status_code == 204
    api.get("/2/0/users/me")
    api.get("/2/0/users/me/")
    api.get(f"{demo.base}/imports")
    api.get(f"{demo.model_base}/imports")
    api.get("/2/0/nowhere")
    counts = ok(api.get("/_emulator/requests"))["requests"]
    assert counts[USERS_ME] == 2
    assert counts["GET /2/0/workspaces/{workspaceId}/models/{modelId}/imports"] == 1
    assert counts["GET /2/0/models/{modelId}/imports"] == 1
    assert counts["GET <unknown>"] == 1
    assert not any(key.startswith("GET /_emulator") for key in counts)


# -- faults --------------------------------------------------------------------------------------


def test_status_faults_with_and_without_retry_after(api: httpx2.Client) -> None:
    set_faults(
        api,
        {"fault": "status", "status": 429, "retryAfter": 7, "times": 1, "path": "/2/0/users/*"},
        {"fault": "status", "status": 429, "times": 1, "path": "/2/0/users/*"},
        {"fault": "status", "status": 503, "times": 1, "method": "GET"},
        {"fault": "status", "status": 500, "times": 1},
    )
    first = api.get("/2/0/users/me")
    assert_error(first, 429)
    assert first.headers["retry-after"] == "7"
    second = api.get("/2/0/users/me")
    assert_error(second, 429)
    assert "retry-after" not in second.headers
    assert_error(api.get("/2/0/users/me"), 503)
    assert_error(api.get("/2/0/users/me"), 500)
    assert api.get("/2/0/users/me").status_code == 200
    rules = ok(api.get("/_emulator/faults"))["rules"]
    assert [r["hits"] for r in rules] == [1, 1, 1, 1]
    assert [r["remaining"] for r in rules] == [0, 0, 0, 0]


def test_faults_match_method_and_path(api: httpx2.Client, demo: Demo) -> None:
    set_faults(api, {"fault": "status", "status": 503, "method": "PUT", "path": "*/chunks/*"})
    chunk = f"{demo.base}/files/{demo.file_id}/chunks/0"
    headers = {"Content-Type": "application/octet-stream"}
    for _ in range(3):
        assert_error(api.put(chunk, content=b"x", headers=headers), 503)
    assert api.get("/2/0/users/me").status_code == 200
    assert api.get(f"{demo.base}/files/{demo.file_id}/chunks").status_code == 200
    assert api.delete("/_emulator/faults").status_code == 204
    assert api.put(chunk, content=b"x", headers=headers).status_code == 204


def test_faults_apply_to_the_token_paths(http: httpx2.Client) -> None:
    set_faults(http, {"fault": "status", "status": 503, "times": 1, "path": "/token/*"})
    assert_error(http.post("/token/authenticate"), 503)
    assert login(http)


def test_probabilistic_faults_repeat_with_the_same_seed(api: httpx2.Client) -> None:
    def outcomes(seed: int) -> list[int]:
        set_faults(api, {"fault": "status", "status": 503, "probability": 0.5}, seed=seed)
        return [api.get("/2/0/users/me").status_code for _ in range(40)]

    first = outcomes(11)
    assert first == outcomes(11)
    assert {200, 503} == set(first)
    assert first != outcomes(12)


def test_reset_before_the_handler_does_nothing(api: httpx2.Client, demo: Demo) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    ok(api.post(path, json={"chunkCount": 1}))
    set_faults(api, {"fault": "reset_before", "times": 1, "method": "PUT"})
    with pytest.raises(httpx2.TransportError):
        api.put(
            f"{path}/chunks/0",
            content=b"lost\n",
            headers={"Content-Type": "application/octet-stream"},
        )
    assert (
        "chunks" not in ok(api.get(f"{path}/chunks"))
        or api.get(f"{path}/chunks/0").content != b"lost\n"
    )
    assert_error(api.get(f"{path}/chunks/0"), 404)


def test_reset_after_the_handler_keeps_the_work(api: httpx2.Client, demo: Demo) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    ok(api.post(path, json={"chunkCount": 1}))
    set_faults(api, {"fault": "reset_after", "times": 2})
    with pytest.raises(httpx2.TransportError):
        api.put(
            f"{path}/chunks/0",
            content=b"kept\n",
            headers={"Content-Type": "application/octet-stream"},
        )
    # An answer with a body is cut in the middle.
    with pytest.raises(httpx2.TransportError):
        api.get(f"{path}/chunks/0")
    assert api.get(f"{path}/chunks/0").content == b"kept\n"


def test_latency_fault_still_answers(api: httpx2.Client) -> None:
    set_faults(api, {"fault": "latency", "latency": 0.01, "times": 1})
    assert api.get("/2/0/users/me").status_code == 200
    assert ok(api.get("/_emulator/faults"))["rules"][0]["hits"] == 1


@pytest.mark.parametrize(
    "rule",
    [
        {"fault": "explode"},
        {"fault": "status", "status": 200},
        {"fault": "status", "probability": 2},
        {"fault": "status", "times": -1},
        {"fault": "status", "retryAfter": "soon"},
        {"fault": "status", "surprise": True},
        {"fault": "latency", "latency": 600},
        "not an object",
    ],
)
def test_bad_fault_rules_are_400s(http: httpx2.Client, rule: object) -> None:
    assert_error(http.put("/_emulator/faults", json={"rules": [rule]}), 400)
    assert ok(http.get("/_emulator/faults"))["rules"] == []


def test_control_paths_are_never_faulted(http: httpx2.Client) -> None:
    set_faults(http, {"fault": "status", "status": 503})
    assert http.get("/_emulator/health").status_code == 200
    assert http.delete("/_emulator/faults").status_code == 204


# -- rate limit ---------------------------------------------------------------------------------


def test_rate_limit_refuses_beyond_the_bucket_and_refills(
    api: httpx2.Client, clock: FakeClock
) -> None:
    limited = ok(api.put("/_emulator/rate-limit", json={"perMinute": 3}))
    assert limited == {"limit": {"perMinute": 3, "retryAfter": True}, "refused": 0}
    assert [api.get("/2/0/users/me").status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get("/2/0/users/me")
    assert_error(refused, 429)
    assert refused.headers["retry-after"] == "20"  # one token every 20 s at 3 a minute
    assert api.get("/_emulator/health").status_code == 200  # control paths are not limited
    clock.advance(20)
    assert api.get("/2/0/users/me").status_code == 200
    assert_error(api.get("/2/0/users/me"), 429)
    assert ok(api.get("/_emulator/rate-limit"))["refused"] == 2
    ok(api.put("/_emulator/rate-limit", json={"perMinute": 1, "retryAfter": False}))
    api.get("/2/0/users/me")
    assert "retry-after" not in assert_error_response(api.get("/2/0/users/me")).headers
    assert api.delete("/_emulator/rate-limit").status_code == 204
    assert api.get("/2/0/users/me").status_code == 200


def assert_error_response(response: httpx2.Response) -> httpx2.Response:
    assert_error(response, 429)
    return response


@pytest.mark.parametrize(
    "body", [{}, {"perMinute": 0}, {"perMinute": "10"}, {"perMinute": 5, "retryAfter": "yes"}]
)
def test_bad_rate_limits_are_400s(http: httpx2.Client, body: dict[str, object]) -> None:
    assert_error(http.put("/_emulator/rate-limit", json=body), 400)
    assert ok(http.get("/_emulator/rate-limit"))["limit"] is None


# -- OpenAPI --------------------------------------------------------------------------------------


def test_openapi_lists_every_route(http: httpx2.Client, emulator: RunningEmulator) -> None:
    document = ok(http.get("/_emulator/openapi.json"))
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    served = {
        (method.lower(), route.path)  # type: ignore[attr-defined]
        for route in emulator.app.routes
        for method in route.methods or ()  # type: ignore[attr-defined]
        if method != "HEAD"
    }
    described = {(method, path) for path, item in paths.items() for method in item}
    assert described == served
    for required in (
        "/token/authenticate",
        "/2/0/workspaces/{workspaceId}/models/{modelId}/files/{fileId}/chunks/{chunkId}",
        "/2/0/models/{modelId}/imports/{actionId}/tasks/{taskId}",
        "/2/0/workspaces/{workspaceId}/models/{modelId}/processes/{actionId}/tasks/{taskId}/dumps/{objectId}/chunks/{chunkId}",
        "/_emulator/faults",
        "/_emulator/openapi.json",
    ):
        assert required in paths, required
    chunk_put = paths[
        "/2/0/workspaces/{workspaceId}/models/{modelId}/files/{fileId}/chunks/{chunkId}"
    ]["put"]
    assert {p["name"] for p in chunk_put["parameters"]} == {
        "workspaceId",
        "modelId",
        "fileId",
        "chunkId",
    }
    assert chunk_put["security"] == [{"AnaplanAuthToken": []}]
    assert set(chunk_put["requestBody"]["content"]) == {
        "application/octet-stream",
        "application/x-gzip",
    }
    start = paths["/2/0/models/{modelId}/processes/{actionId}/tasks"]["post"]
    schema = start["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["localeName"]
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", op) for op in operation_ids)
