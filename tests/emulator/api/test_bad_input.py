"""Bad input that used to reach a 500, answered as a 4xx at its root.

Deeply nested JSON on every kind of JSON route, chunk ids and lengths written with non-ASCII
digits, a client that leaves before its body is read, and the `/token/…` error body the served
OpenAPI document declares.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import httpx2
import pytest

from anaplan_tasks.emulator.jsontext import MAX_JSON_DEPTH, is_number, json_depth, load_json
from anaplan_tasks.emulator.server import RunningEmulator

from .conftest import Demo, assert_error, ok

DEEP = "[" * 5000 + "]" * 5000
NESTED_OBJECT = '{"a":' * 2000 + "1" + "}" * 2000
OCTETS = {"Content-Type": "application/octet-stream"}


def test_json_depth_limits() -> None:
    assert json_depth(load_json("[[[1]]]")) == 3
    assert json_depth(load_json('{"a": [1, {"b": 2}]}')) == 3
    assert json_depth(load_json("1")) == 0
    load_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    for text in ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), DEEP, NESTED_OBJECT):
        with pytest.raises(ValueError, match="levels deep"):
            load_json(text)


def test_only_ascii_digits_are_numbers() -> None:
    assert is_number("0")
    assert is_number("999")
    for text in ("", "²", "\u0661", "1\u0661", "-1", " 1", "1.0", "\uff11"):
        assert not is_number(text), text


@pytest.mark.parametrize("body", [DEEP, NESTED_OBJECT])
def test_deeply_nested_json_is_a_400_on_every_json_route(
    api: httpx2.Client, demo: Demo, body: str
) -> None:
    tasks = f"{demo.base}/imports/{demo.imports['Load Employees']}/tasks"
    json_routes = [
        ("POST", tasks),
        ("POST", f"{demo.base}/files/{demo.file_id}"),
        ("POST", f"{demo.base}/files/{demo.file_id}/complete"),
        ("PUT", "/_emulator/faults"),
        ("PUT", "/_emulator/progression"),
        ("POST", "/_emulator/advance"),
        ("POST", f"/2/0/models/{demo.model_id}/alm/revisions"),
        ("PUT", f"/2/0/models/{demo.model_id}/onlineStatus"),
    ]
    for method, path in json_routes:
        response = api.request(
            method, path, content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, (method, path, response.text)
    loaded = api.post("/_emulator/definitions", content=body)
    assert loaded.status_code == 400
    if body.startswith("{"):  # read as JSON (anything else is TOML)
        assert "levels deep" in loaded.json()["status"]["message"]
    toml = "a = " + "[" * 3000 + "]" * 3000
    assert api.post("/_emulator/definitions", content=toml).status_code == 400


def test_a_deeply_nested_certificate_login_body_is_refused(http: httpx2.Client) -> None:
    import base64

    pem = base64.b64encode(b"not a certificate").decode()
    response = http.post(
        "/token/authenticate", content=DEEP, headers={"Authorization": f"CACertificate {pem}"}
    )
    assert response.status_code == 401  # the header is checked first; never a 500


@pytest.mark.parametrize("chunk_id", ["²", "\u0661", "\uff11", "1\u0661"])
def test_chunk_ids_with_non_ascii_digits_are_refused(
    api: httpx2.Client, demo: Demo, emulator: RunningEmulator, chunk_id: str
) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    ok(api.post(path, json={"chunkCount": 2}))
    assert api.put(f"{path}/chunks/1", content=b"kept", headers=OCTETS).status_code == 204
    assert_error(api.put(f"{path}/chunks/{chunk_id}", content=b"X", headers=OCTETS), 400)
    assert_error(api.get(f"{path}/chunks/{chunk_id}"), 400)
    assert api.get(f"{path}/chunks/1").content == b"kept"  # "\u0661" overwrote nothing
    dump = f"{demo.base}/imports/{demo.imports['Load Employees']}/tasks/{'0' * 32}/dump"
    assert_error(api.get(f"{dump}/chunks/{chunk_id}"), 400)


def test_a_content_length_of_non_ascii_digits_is_not_a_500(emulator: RunningEmulator) -> None:
    with socket.create_connection((emulator.host, emulator.port), timeout=10) as sock:
        sock.sendall(
            b"PUT /_emulator/faults HTTP/1.1\r\nHost: x\r\nContent-Length: \xc2\xb2\r\n\r\n"
        )
        answer = sock.recv(4096)
    assert not answer.startswith(b"HTTP/1.1 5"), answer[:200]


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    names = ("uvicorn", "uvicorn.error", "anaplan_tasks")
    previous = logging.getLogger("anaplan_tasks.emulator").level
    logging.getLogger("anaplan_tasks.emulator").setLevel(logging.INFO)
    for name in names:
        logging.getLogger(name).addHandler(handler)
    yield handler
    for name in names:
        logging.getLogger(name).removeHandler(handler)
    logging.getLogger("anaplan_tasks.emulator").setLevel(previous)


def test_a_client_that_leaves_before_its_body_is_read_logs_no_traceback(
    api: httpx2.Client, demo: Demo, emulator: RunningEmulator, records: Records
) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    ok(api.post(path, json={"chunkCount": 1}))
    request = (
        f"PUT {path}/chunks/0 HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: {api.headers['Authorization']}\r\n"
        "Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n"
    ).encode() + b"only a little"
    with socket.create_connection((emulator.host, emulator.port), timeout=10) as sock:
        sock.sendall(request)
    for _ in range(400):
        if any("client left" in record.getMessage() for record in records.records):
            break
        time.sleep(0.025)
    else:
        raise AssertionError("the emulator never noticed the client leaving")
    assert [r.getMessage() for r in records.records if r.levelno >= logging.WARNING] == []
    assert all(record.exc_info is None for record in records.records)
    assert api.get(f"{path}/chunks").status_code == 200  # and it serves on


def test_the_openapi_document_declares_the_token_error_body(http: httpx2.Client) -> None:
    document = ok(http.get("/_emulator/openapi.json"))
    login = document["paths"]["/token/authenticate"]["post"]["responses"]
    schema = login["401"]["content"]["application/json"]["schema"]
    assert schema["properties"]["status"]["enum"] == [
        "FAILURE_BAD_CREDENTIAL",
        "FAILURE_BAD_HEADER",
    ]
    refused = http.post("/token/authenticate", headers={"Authorization": "Basic bm9wZTpub3Bl"})
    assert refused.status_code == 401
    body = refused.json()
    assert set(body) == set(schema["required"])
    assert body["status"] in schema["properties"]["status"]["enum"]
    api_route = document["paths"]["/2/0/users/me"]["get"]["responses"]
    assert "401" not in api_route  # the API's own 401 is the envelope (4XX)
    assert "status" in api_route["4XX"]["content"]["application/json"]["schema"]["properties"]


@pytest.mark.parametrize("value", ["\u0661", "²", " 1", "1_0", "+1", "\uff11"])
def test_paging_numbers_are_ascii_digits(api: httpx2.Client, value: str) -> None:
    for name in ("limit", "offset"):
        assert_error(api.get("/2/0/workspaces", params={name: value}), 400)
    assert ok(api.get("/2/0/workspaces", params={"limit": "1", "offset": "0"}))
