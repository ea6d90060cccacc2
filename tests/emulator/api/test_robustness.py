"""Bad input never crashes the server: every route, fed junk, answers a 4xx with the envelope.

The routes come from the emulator's own OpenAPI description, so a new route is covered as soon
as it is served. The junk is drawn from a seeded generator: runs repeat exactly.
"""

from __future__ import annotations

import random
import re

import httpx2

from .conftest import Demo, ok

JUNK_IDS = [
    "x",
    "0",
    "-1",
    "999999999999999999999999",
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
    "%E2%98%83",
    "112000000000",
    "113000000000",
    "A" * 300,
    "1e9",
    "null",
    "%F0%9F%92%A5",
    "%C3%A9t%C3%A9",
    "%FF",
    "%C2%B2",  # "²": isdigit() but not int()
    "%D9%A1",  # Arabic-Indic one: isdigit() and int() reads it as 1
]
JUNK_BODIES: list[tuple[bytes, str | None]] = [
    (b"", None),
    (b"{", "application/json"),
    (b"null", "application/json"),
    (b"[]", "application/json"),
    (b'{"chunkCount": "many", "localeName": 7}', "application/json"),
    (b'{"localeName": "en_US", "mappingParameters": [null]}', "application/json"),
    (b"\xff\xfe\x00garbage", "application/octet-stream"),
    (b"\x1f\x8b\x08\x00broken", "application/x-gzip"),
    (b"a,b\n1,2\n", "text/csv"),
    (b"<xml/>", "application/xml"),
    (b"[" * 3000 + b"]" * 3000, "application/json"),
    (b'{"a":' * 2000 + b"1" + b"}" * 2000, "application/json"),
]


def fill(path: str, demo: Demo, rng: random.Random) -> str:
    """Put a mix of real and junk ids into a route template."""
    known = {
        "workspaceId": demo.workspace_id,
        "modelId": demo.model_id,
        "fileId": demo.file_id,
        "actionId": demo.imports["Load Employees"],
        "chunkId": "0",
    }

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in known and rng.random() < 0.5:
            return known[name]
        return rng.choice(JUNK_IDS)

    return re.sub(r"{([^}]+)}", replace, path)


def test_junk_on_every_route_is_a_4xx_with_the_envelope(api: httpx2.Client, demo: Demo) -> None:
    document = ok(api.get("/_emulator/openapi.json"))
    rng = random.Random(20261128)
    seen_routes = 0
    for template, item in sorted(document["paths"].items()):
        if template in ("/_emulator/reset", "/_emulator/tokens/expire", "/token/logout"):
            continue  # they work on anything; the session must survive the run
        for method in sorted(item):
            seen_routes += 1
            for _ in range(4):
                path = fill(template, demo, rng) + rng.choice(["", "", "/", "//"])
                body, content_type = rng.choice(JUNK_BODIES)
                headers = {} if content_type is None else {"Content-Type": content_type}
                if method in ("get", "delete"):
                    body = b""
                response = api.request(
                    method.upper(),
                    path,
                    content=body,
                    headers=headers,
                    params={
                        "limit": rng.choice(["1", "-3", "x", "5000", "99999999999999999999"]),
                        "offset": rng.choice(["0", "2", "-1", "%", "1e3", "\u0661"]),
                        "includeProcessDetails": rng.choice(["true", "TRUE", "yes", ""]),
                    },
                )
                where = f"{method.upper()} {path} -> {response.status_code}: {response.text[:200]}"
                assert response.status_code < 500, where
                cloudworks = template.startswith(("/cloudworks/", "/2/0/integration"))
                if response.status_code == 404 and cloudworks and "<html>" in response.text:
                    continue  # CloudWorks: a path it does not route is the web server's 404
                if response.status_code >= 400 and template.startswith(("/auth/", "/activate")):
                    assert 'role="alert"' in response.text, where  # a page, for a person
                elif response.status_code >= 400:
                    error = response.json()
                    if template.startswith("/oauth/"):
                        assert error["error"], where
                        assert error["error_description"], where
                    elif template.startswith("/token/"):
                        assert error["status"].startswith("FAILURE_"), where
                    else:
                        assert error["status"]["code"] == response.status_code, where
                        assert error["status"]["message"], where
    assert seen_routes > 80
    assert api.get("/2/0/users/me").status_code == 200


def test_unknown_paths_and_methods(api: httpx2.Client) -> None:
    for method, path in (
        ("GET", "/"),
        ("GET", "/2"),
        ("GET", "/2/0"),
        ("PATCH", "/2/0/users/me"),
        ("GET", "/token"),
        ("GET", "/token/authenticate"),
        ("GET", "/_emulator/nothing"),
        ("GET", "/2/0/models/%E2%98%83/"),
        ("GET", "/2/0/%E2%98%83//"),
        ("GET", "///"),
    ):
        response = api.request(method, path)
        assert 400 <= response.status_code < 500, (method, path)
        assert response.json()["status"]["code"] == response.status_code
