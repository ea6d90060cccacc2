"""Files and chunks (§4): the upload protocol, downloads, and every bad upload refused cleanly."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import zlib
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest

from anaplan_tasks.emulator.api.files import MAX_CHUNK_BYTES, gunzip_capped
from anaplan_tasks.emulator.errors import BadRequest, PayloadTooLarge

from .conftest import Demo, assert_error, ok

RAW = {"Content-Type": "application/octet-stream"}
GZIP = {"Content-Type": "application/x-gzip"}


def chunk_ids(api: httpx2.Client, path: str) -> list[str]:
    body = ok(api.get(f"{path}/chunks"))
    assert body["meta"]["schema"].endswith("/objects/chunk")
    assert body["meta"]["paging"]["totalSize"] == len(body.get("chunks", []))
    for chunk in body.get("chunks", []):
        assert chunk["name"] == f"Chunk {chunk['id']}"
    return [chunk["id"] for chunk in body.get("chunks", [])]


def test_file_listing_shape(api: httpx2.Client, demo: Demo) -> None:
    body = ok(api.get(f"{demo.base}/files"))
    assert body["meta"]["schema"].endswith(f"/models/{demo.model_id}/objects/file")
    employees = next(f for f in body["files"] if f["id"] == demo.file_id)
    assert employees["name"] == "employees.csv"
    for key in (
        "chunkCount",
        "delimiter",
        "encoding",
        "firstDataRow",
        "format",
        "headerRow",
        "separator",
    ):
        assert key in employees, key
    export_files = [f for f in body["files"] if f["id"].startswith("116")]
    assert export_files, "an export's output file is listed under the export's id"


def test_upload_known_count_raw_and_gzip_out_of_order(api: httpx2.Client, demo: Demo) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    parts = [b"alpha," * 1000, b"beta\n" * 777, b"gamma" * 5]
    declared = ok(api.post(path, json={"chunkCount": 3}))
    assert declared["meta"]["schema"].endswith("/objects/file")
    assert declared["file"]["id"] == demo.file_id
    assert declared["file"]["chunkCount"] == 3
    response = api.put(f"{path}/chunks/2", content=parts[2], headers=RAW)
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    # Two concatenated gzip members make one chunk.
    half = len(parts[0]) // 2
    two_members = gzip.compress(parts[0][:half]) + gzip.compress(parts[0][half:])
    assert api.put(f"{path}/chunks/0", content=two_members, headers=GZIP).status_code == 204
    assert (
        api.put(
            f"{path}/chunks/1",
            content=gzip.compress(parts[1]),
            headers={"Content-Type": "application/x-gzip; charset=binary"},
        ).status_code
        == 204
    )
    assert chunk_ids(api, path) == ["0", "1", "2"]
    for index, part in enumerate(parts):
        chunk = api.get(f"{path}/chunks/{index}")
        assert chunk.status_code == 200
        assert chunk.headers["content-type"] == "application/octet-stream"
        assert chunk.content == part
    whole = api.get(path)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "application/octet-stream"
    assert whole.content == b"".join(parts)
    listed = next(f for f in ok(api.get(f"{demo.base}/files"))["files"] if f["id"] == demo.file_id)
    assert listed["chunkCount"] == 3
    # The workspace-less form reads the same content.
    assert api.get(f"{demo.model_base}/files/{demo.file_id}").content == b"".join(parts)


def test_parallel_out_of_order_uploads(api: httpx2.Client, demo: Demo) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    parts = [os.urandom(20_000 + index) for index in range(40)]
    ok(api.post(path, json={"chunkCount": len(parts)}))

    def put(index: int) -> int:
        body = gzip.compress(parts[index]) if index % 2 else parts[index]
        headers = GZIP if index % 2 else RAW
        with httpx2.Client(base_url=api.base_url, headers=api.headers, timeout=30) as client:
            return client.put(f"{path}/chunks/{index}", content=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(put, reversed(range(len(parts)))))
    assert statuses == [204] * len(parts)
    assert chunk_ids(api, path) == [str(index) for index in range(len(parts))]
    assert api.get(path).content == b"".join(parts)


def test_upload_unknown_count_then_complete(api: httpx2.Client, demo: Demo) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    assert ok(api.post(path, json={"chunkCount": -1, "id": demo.file_id}))["file"]["id"]
    data = os.urandom(100_000)
    for index in range(4):
        piece = data[index * 25_000 : (index + 1) * 25_000]
        assert api.put(f"{path}/chunks/{index}", content=piece, headers=RAW).status_code == 204
    completed = ok(api.post(f"{path}/complete", json={"id": int(demo.file_id)}))
    assert completed["file"]["chunkCount"] == 4
    assert hashlib.sha256(api.get(path).content).digest() == hashlib.sha256(data).digest()


def test_complete_accepts_an_empty_body(api: httpx2.Client, demo: Demo) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    ok(api.post(path, json={"chunkCount": -1}))
    api.put(f"{path}/chunks/0", content=b"x,y\n", headers=RAW)
    assert ok(api.post(f"{path}/complete"))["file"]["chunkCount"] == 1


def test_single_chunk_put_of_a_whole_file(api: httpx2.Client, demo: Demo) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    assert api.put(path, content=b"a,b\n1,2\n", headers=RAW).status_code == 204
    assert api.get(path).content == b"a,b\n1,2\n"
    assert chunk_ids(api, path) == ["0"]


def test_posting_a_name_creates_a_file(api: httpx2.Client, demo: Demo) -> None:
    body = ok(api.post(f"{demo.base}/files/new-data.csv", json={"chunkCount": 1}))
    created = body["file"]
    assert created["name"] == "new-data.csv"
    assert re.fullmatch(r"113\d{9}", created["id"])
    assert created["id"] != demo.file_id
    put = api.put(f"{demo.base}/files/{created['id']}/chunks/0", content=b"q\n", headers=RAW)
    assert put.status_code == 204
    names = [f["name"] for f in ok(api.get(f"{demo.base}/files"))["files"]]
    assert "new-data.csv" in names


@pytest.mark.parametrize("name", ["%2E%2E", "%00evil", "tab%09name", "x" * 256, "%20"])
def test_bad_new_file_names_are_400s(api: httpx2.Client, demo: Demo, name: str) -> None:
    assert_error(api.post(f"{demo.base}/files/{name}", json={"chunkCount": 1}), 400)
    names = [f["name"] for f in ok(api.get(f"{demo.base}/files"))["files"]]
    assert all(n.isprintable() and n.strip() for n in names)


def test_delete_removes_the_content(api: httpx2.Client, demo: Demo) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    api.put(path, content=b"to be deleted\n", headers=RAW)
    response = api.delete(path)
    assert response.status_code == 204
    assert_error(api.get(path), 404)
    assert chunk_ids(api, path) == []


def test_file_with_no_content(api: httpx2.Client, demo: Demo) -> None:
    created = ok(api.post(f"{demo.base}/files/empty.csv", json={"chunkCount": 1}))["file"]
    path = f"{demo.base}/files/{created['id']}"
    assert api.delete(path).status_code == 204
    assert "chunks" not in ok(api.get(f"{path}/chunks"))
    assert_error(api.get(path), 404)
    assert_error(api.get(f"{path}/chunks/0"), 404)


def test_unknown_file_and_chunk_ids(api: httpx2.Client, demo: Demo) -> None:
    assert_error(api.get(f"{demo.base}/files/113999999999"), 404)
    assert_error(api.get(f"{demo.base}/files/113999999999/chunks"), 404)
    assert_error(
        api.put(f"{demo.base}/files/113999999999/chunks/0", content=b"x", headers=RAW), 404
    )
    assert_error(api.post(f"{demo.base}/files/113999999999/complete"), 404)
    path = f"{demo.base}/files/{demo.file_id}"
    api.put(path, content=b"one chunk\n", headers=RAW)
    assert_error(api.get(f"{path}/chunks/1"), 404)
    assert_error(api.get(f"{path}/chunks/abc"), 400)


# -- bad uploads: each a 4xx with the envelope, and nothing stored --------------------------------


@pytest.fixture
def stored(api: httpx2.Client, demo: Demo) -> tuple[str, bytes]:
    """A file with known content that a refused upload must leave untouched."""
    path = f"{demo.base}/files/{demo.file_id}"
    content = b"id,name\n1,kept\n"
    ok(api.post(path, json={"chunkCount": 2}))
    assert api.put(f"{path}/chunks/0", content=content, headers=RAW).status_code == 204
    return path, content


def assert_untouched(api: httpx2.Client, stored: tuple[str, bytes]) -> None:
    path, content = stored
    assert chunk_ids(api, path) == ["0", "1"]
    assert api.get(f"{path}/chunks/0").content == content
    assert_error(api.get(f"{path}/chunks/1"), 404)


@pytest.mark.parametrize(
    "body",
    [
        b"this is not gzip at all",
        gzip.compress(b"truncated payload " * 100)[:-12],
        gzip.compress(b"fine") + b"trailing garbage",
        b"",
        b"\x1f\x8b",
    ],
    ids=["not-gzip", "truncated", "trailing-garbage", "empty", "header-only"],
)
def test_corrupt_gzip_is_a_400(api: httpx2.Client, stored: tuple[str, bytes], body: bytes) -> None:
    assert_error(api.put(f"{stored[0]}/chunks/1", content=body, headers=GZIP), 400)
    assert_untouched(api, stored)


def test_gzip_bomb_is_refused(api: httpx2.Client, stored: tuple[str, bytes]) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(block) for _ in range(200)) + compressor.flush()
    assert len(bomb) < 1024 * 1024  # 200 MB of zeros in well under 1 MB
    body = assert_error(api.put(f"{stored[0]}/chunks/1", content=bomb, headers=GZIP), 413)
    assert "50 MB" in body["status"]["message"]
    assert_untouched(api, stored)


def test_raw_chunk_over_50_mb_is_a_413(api: httpx2.Client, stored: tuple[str, bytes]) -> None:
    too_big = bytes(MAX_CHUNK_BYTES + 1)
    assert_error(api.put(f"{stored[0]}/chunks/1", content=too_big, headers=RAW), 413)
    assert_untouched(api, stored)


def test_chunk_of_exactly_50_mb_is_accepted(api: httpx2.Client, demo: Demo) -> None:
    path = f"{demo.base}/files/{demo.file_id}"
    ok(api.post(path, json={"chunkCount": 1}))
    data = gzip.compress(bytes(MAX_CHUNK_BYTES), compresslevel=1)
    assert api.put(f"{path}/chunks/0", content=data, headers=GZIP).status_code == 204
    assert len(api.get(f"{path}/chunks/0").content) == MAX_CHUNK_BYTES


@pytest.mark.parametrize(
    "content_type", [None, "text/csv", "application/json", "multipart/form-data"]
)
def test_wrong_content_type_is_a_415(
    api: httpx2.Client, stored: tuple[str, bytes], content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    assert_error(api.put(f"{stored[0]}/chunks/1", content=b"a,b\n", headers=headers), 415)
    assert_error(api.put(stored[0], content=b"a,b\n", headers=headers), 415)
    assert_untouched(api, stored)


@pytest.mark.parametrize("index", ["1000", "5000", "-1", "x"])
def test_chunk_index_beyond_1000_chunks_is_a_400(
    api: httpx2.Client, stored: tuple[str, bytes], index: str
) -> None:
    assert_error(api.put(f"{stored[0]}/chunks/{index}", content=b"x", headers=RAW), 400)
    assert_untouched(api, stored)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        b'"text"',
        b"{}",
        b'{"chunkCount": 1001}',
        b'{"chunkCount": -2}',
        b'{"chunkCount": "3"}',
        b'{"chunkCount": 2.5}',
        b'{"chunkCount": true}',
        b"",
    ],
)
def test_bad_chunk_count_bodies_are_400s(
    api: httpx2.Client, stored: tuple[str, bytes], body: bytes
) -> None:
    response = api.post(stored[0], content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 400)
    assert_untouched(api, stored)


def test_chunk_count_zero_is_refused_and_an_empty_upload_means_no_content(
    api: httpx2.Client, stored: tuple[str, bytes]
) -> None:
    # The reference only knows N >= 1 or -1; 0 is refused and names the two ways that work.
    response = api.post(stored[0], json={"chunkCount": 0})
    assert_error(response, 400)
    assert "-1" in response.json()["status"]["message"]
    assert_untouched(api, stored)
    # An empty upload (-1, then /complete with no chunk) is Anaplan's "no content": chunkCount 0.
    ok(api.post(stored[0], json={"chunkCount": -1}))
    assert ok(api.post(f"{stored[0]}/complete"))["file"]["chunkCount"] == 0
    assert chunk_ids(api, stored[0]) == []
    assert_error(api.get(stored[0]), 404)


def test_malformed_complete_body_is_a_400(api: httpx2.Client, stored: tuple[str, bytes]) -> None:
    assert_error(api.post(f"{stored[0]}/complete", content=b"{oops"), 400)
    assert_untouched(api, stored)


def test_oversized_json_body_is_a_413(api: httpx2.Client, stored: tuple[str, bytes]) -> None:
    huge = b'{"chunkCount": 1, "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = api.post(stored[0], content=huge, headers={"Content-Type": "application/json"})
    assert_error(response, 413)
    assert_untouched(api, stored)


# -- the decompressor on its own ------------------------------------------------------------------


def test_gunzip_capped_joins_members_and_enforces_the_cap() -> None:
    assert gunzip_capped(gzip.compress(b"ab") + gzip.compress(b"cd")) == b"abcd"
    assert gunzip_capped(gzip.compress(b"")) == b""
    assert gunzip_capped(gzip.compress(bytes(100)), limit=100) == bytes(100)
    with pytest.raises(PayloadTooLarge):
        gunzip_capped(gzip.compress(bytes(101)), limit=100)
    with pytest.raises(BadRequest):
        gunzip_capped(gzip.compress(b"abc")[:-1])
