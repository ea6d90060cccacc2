"""The large-volume read flows, driven by hand: requests sent, pages in order, the poll backoff
while no page is new, and every end state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from anaplan_tasks._core import readrequests as core
from anaplan_tasks._core.flow import Request, Response
from anaplan_tasks.errors import (
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
    UnknownTaskStateError,
)
from anaplan_tasks.models.transactional import ReadRequest

from .scripted import Scripted, json_response

BASE = "https://api.test/2/0/workspaces/ws/models/MODEL/views/102000000001/readRequests"


class Server:
    """Answers status reads from a script of (state, availablePages, successful)."""

    def __init__(self, script: Sequence[tuple[str, int, bool]]):
        self.script = list(script)
        self.polls = 0

    def __call__(self, request: Request) -> Response:
        if request.url.endswith("/readRequests") and request.method == "POST":
            assert request.json == {"exportType": "GRID_ALL_PAGES"}
            return json_response(
                200, {"viewReadRequest": {"requestId": "R1", "requestState": "NOT_STARTED"}}
            )
        if "/pages/" in request.url:
            number = int(request.url.rsplit("/", 1)[1])
            return Response(200, {"content-type": "text/csv"}, f"page {number}\n".encode())
        state, pages, successful = self.script[min(self.polls, len(self.script) - 1)]
        self.polls += 1
        record: dict[str, Any] = {
            "requestId": "R1",
            "viewId": 102000000001,
            "requestState": state,
            "availablePages": pages,
            "successful": successful,
        }
        return json_response(200, {"viewReadRequest": record})


def read(env: Scripted, **options: Any) -> int:
    ctx = env.context()
    started = env.run(core.start(ctx, "view", "102000000001", "GRID_ALL_PAGES"))
    assert started == ReadRequest(request_id="R1", request_state="NOT_STARTED")
    seen: list[tuple[int, int | None]] = options.pop("seen", [])
    flow = core.read_pages(
        ctx,
        "view",
        "102000000001",
        started,
        on_progress=lambda done, total: seen.append((done, total)),
        **options,
    )
    result: int = env.run(flow)
    return result


def test_pages_are_emitted_in_order_as_they_become_available() -> None:
    server = Server(
        [
            ("NOT_STARTED", 0, False),
            ("IN_PROGRESS", 0, False),
            ("IN_PROGRESS", 3, False),
            ("IN_PROGRESS", 3, False),
            ("IN_PROGRESS", 3, False),
            ("COMPLETE", 5, True),
        ]
    )
    env = Scripted(server)
    seen: list[tuple[int, int | None]] = []
    total = read(env, workers=2, seen=seen)
    assert env.emitted == [f"page {n}\n".encode() for n in range(5)]
    assert total == sum(len(page) for page in env.emitted)
    assert seen == [(1, None), (2, None), (3, None), (4, 5), (5, 5)]
    pages = [r.url.rsplit("/", 1)[1] for r in env.sent if "/pages/" in r.url]
    assert pages == ["0", "1", "2", "3", "4"]
    assert all(r.headers["Accept"] == "text/csv" for r in env.sent if "/pages/" in r.url)
    assert env.sent[0].url == BASE
    assert env.sent[0].retry == "start"  # a lost start is never sent twice
    # backoff while nothing is new, halved again when pages arrive
    assert env.sleeps == [0.25, 0.5, 0.25, 0.5, 1.0]


def test_the_poll_backoff_is_capped() -> None:
    env = Scripted(Server([*[("IN_PROGRESS", 0, False)] * 8, ("COMPLETE", 1, True)]))
    read(env)
    assert max(env.sleeps) == core.MAX_READ_POLL_INTERVAL
    assert env.sleeps[:5] == [0.25, 0.5, 1.0, 2.0, 4.0]


@pytest.mark.parametrize(
    ("last", "error"),
    [
        (("COMPLETE", 2, False), TaskFailedError),
        (("CANCELLED", 2, False), TaskCancelledError),
        (("EXPLODED", 2, False), UnknownTaskStateError),
    ],
)
def test_end_states_that_are_not_success(last: tuple[str, int, bool], error: type) -> None:
    env = Scripted(Server([("IN_PROGRESS", 0, False), last]))
    with pytest.raises(error) as raised:
        read(env)
    if isinstance(raised.value, TaskFailedError | TaskCancelledError):
        assert raised.value.task.request_id == "R1"


def test_a_deadline_raises_with_the_last_status() -> None:
    env = Scripted(Server([("IN_PROGRESS", 1, False)]))
    with pytest.raises(TaskTimeoutError, match="1 pages read") as raised:
        read(env, timeout=10)
    assert raised.value.task.request_state == "IN_PROGRESS"
    assert env.now <= 10


def test_list_requests_and_bad_arguments() -> None:
    env = Scripted(lambda request: json_response(200, {}))
    ctx = env.context()
    assert core.requests_url(ctx, "list", "101000000002").endswith(
        "/models/MODEL/lists/101000000002/readRequests"
    )
    with pytest.raises(ValueError, match="GRID_ALL_PAGES"):
        env.run(core.start(ctx, "view", "1", "TABULAR_SINGLE_ITEMS"))
    with pytest.raises(Exception, match="listReadRequest"):
        env.run(core.start(ctx, "list", "101000000002"))
    assert env.sent[-1].json is None  # a list start has no body
