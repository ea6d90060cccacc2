"""A scripted environment for running core flows in tests: fake clock, no sockets, no sleeping."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import replace
from email.utils import formatdate
from typing import Any

from anaplan_tasks._core.flow import (
    Context,
    Emit,
    Flow,
    GetToken,
    Offload,
    Parallel,
    ReadStream,
    Request,
    Response,
    Send,
    Sleep,
)
from anaplan_tasks._core.polling import PollPolicy
from anaplan_tasks._core.retry import RetryBudget, RetryPolicy

Handler = Callable[[Request], Response]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, headers or {}, json.dumps(body).encode())


class Scripted:
    """Runs a flow, answering `Send` with `handler` and advancing a fake clock on `Sleep`."""

    def __init__(self, handler: Handler, *, seed: int = 7, server_offset: float | None = 0.0):
        """`server_offset`: how far the server's clock (its `Date` headers) is ahead of ours;
        None sends no `Date`."""
        self.handler = handler
        self.server_offset = server_offset
        self.now = 0.0
        self.wall = 1_767_000_000.0
        self.sleeps: list[float] = []
        self.sent: list[Request] = []
        self.emitted: list[bytes] = []
        self.tokens: list[str | None] = []
        self.rng = random.Random(seed)
        self.keys = 0

    def new_key(self) -> str:
        self.keys += 1
        return f"key-{self.keys}"

    def context(self, **changes: Any) -> Context:
        settings: dict[str, Any] = {
            "api_base_url": "https://api.test/2/0",
            "auth_base_url": "https://auth.test",
            "workspace_id": "ws",
            "model_id": "MODEL",
            "retry": RetryPolicy(),
            "poll": PollPolicy(),
            "budget": RetryBudget(),
            "clock": lambda: self.now,
            "wall_clock": lambda: self.wall,
            "rng": self.rng,
            "new_key": self.new_key,
        }
        settings.update(changes)
        return Context(**settings)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.wall += seconds

    def run(self, flow: Flow[Any]) -> Any:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value
            value, error = None, None
            try:
                if isinstance(effect, Send):
                    self.sent.append(effect.request)
                    value = self.handler(effect.request)
                    if self.server_offset is not None and "date" not in value.headers:
                        date = formatdate(self.wall + self.server_offset, usegmt=True)
                        value = replace(value, headers={**value.headers, "date": date})
                    if effect.request.stream and value.is_success and value.stream is None:
                        value = Response(
                            value.status_code, value.headers, b"", iter([value.content])
                        )
                elif isinstance(effect, ReadStream):
                    value = next(effect.stream, b"")
                elif isinstance(effect, Sleep):
                    assert effect.seconds >= 0
                    self.sleeps.append(effect.seconds)
                    self.advance(effect.seconds)
                elif isinstance(effect, GetToken):
                    self.tokens.append(effect.stale)
                    value = "token-2" if effect.stale else "token-1"
                elif isinstance(effect, Offload):
                    value = effect.function()
                elif isinstance(effect, Parallel):
                    value = [self.run(inner) for inner in effect.flows]
                elif isinstance(effect, Emit):
                    self.emitted.append(effect.data)
            except BaseException as caught:
                error = caught
