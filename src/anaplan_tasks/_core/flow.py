"""Effects, requests and the context that flows run with.

A flow is a generator: it yields an effect, the driver performs it and sends back the result
(or throws the error into the flow). `yield from` composes flows.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias, TypeVar

from .polling import PollPolicy
from .retry import RetryBudget, RetryClass, RetryPolicy
from .state import ClientState

T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    """An HTTP request as plain data.

    `auth` adds the `Authorization` token when sent; `stream` leaves a successful answer's body
    unread (`Response.stream`, read piece by piece with `ReadStream`). `busy_retry=False` says a
    409/423 answer is final, not "model busy" (CloudWorks' 409s: already running, in use).
    """

    method: str
    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    retry: RetryClass = "idempotent"
    auth: bool = True
    stream: bool = False
    busy_retry: bool = True

    def with_headers(self, **headers: str) -> Request:
        """A copy with these headers added (names given with `_` for `-`)."""
        merged = dict(self.headers)
        merged.update({name.replace("_", "-"): value for name, value in headers.items()})
        return replace(self, headers=merged)

    def describe(self) -> str:
        """`METHOD path` for logs and errors: no query string, never a header."""
        return f"{self.method} {self.url}"


@dataclass(frozen=True)
class Response:
    """An HTTP response as plain data; header names are lower-case."""

    status_code: int
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""
    stream: Any = None

    @property
    def is_success(self) -> bool:
        """True for 2xx."""
        return 200 <= self.status_code < 300

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.content)


@dataclass(frozen=True)
class Send:
    """Send this request; the result is a `Response`, or a `TransportError` is thrown in."""

    request: Request


@dataclass(frozen=True)
class Sleep:
    """Wait this many seconds."""

    seconds: float


@dataclass(frozen=True)
class GetToken:
    """Give me a usable token value; `stale` names one the server just refused (401)."""

    stale: str | None = None


@dataclass(frozen=True)
class Offload:
    """Run this CPU- or disk-bound function off the event loop and send back its result."""

    function: Callable[[], Any]


@dataclass(frozen=True)
class Parallel:
    """Run these flows, at most `limit` at a time; the result is their results in order.

    Flows are pulled from the iterable only when a slot is free (so memory stays bounded); every
    result is consumed and the first failure propagates once the flows in flight are done.
    """

    flows: Iterable[Generator[Any, Any, Any]]
    limit: int


@dataclass(frozen=True)
class ReadStream:
    """Read the next piece of a streamed body (`Response.stream`); `b""` at its end.

    A `TransportError` is thrown in when the connection breaks mid-body. The driver closes every
    body a flow opened when the flow ends, whether it read it to the end or not.
    """

    stream: Any


@dataclass(frozen=True)
class Emit:
    """Hand these bytes to the consumer (a download's chunk)."""

    data: bytes


Effect: TypeAlias = Send | Sleep | GetToken | Offload | Parallel | ReadStream | Emit
Flow: TypeAlias = Generator[Effect, Any, T]


@dataclass
class Context:
    """What every flow needs: where to go, the policies, and injected time and randomness.

    Attributes:
        api_base_url: Integration API root, e.g. `https://api.anaplan.com/2/0`.
        auth_base_url: Authentication service root, e.g. `https://auth.anaplan.com`.
        workspace_id: The workspace of model-scoped calls.
        model_id: The model of model-scoped calls.
        retry: The retry policy.
        poll: The polling policy.
        budget: The client-wide retry budget.
        clock: Monotonic seconds (for intervals and deadlines).
        wall_clock: Epoch seconds (for token expiry and task creation times).
        rng: Randomness for jitter.
        new_key: Makes an idempotency key.
        locale: `localeName` sent when starting tasks.
        claimed_tasks: Task ids this client started or adopted (never adopt one twice).
        state: What the client and its copies learn together (`state.ClientState`): the
            server's clock, the pause after a 429, starts in flight, key support.
        cloudworks_base_url: CloudWorks API root, e.g. `https://api.cloudworks.anaplan.com/2/0`.
    """

    api_base_url: str
    auth_base_url: str
    workspace_id: str | None
    model_id: str | None
    retry: RetryPolicy
    poll: PollPolicy
    budget: RetryBudget
    clock: Callable[[], float]
    wall_clock: Callable[[], float]
    rng: random.Random
    new_key: Callable[[], str]
    locale: str = "en_US"
    claimed_tasks: set[str] = field(default_factory=set)
    state: ClientState = field(default_factory=ClientState)
    cloudworks_base_url: str = "https://api.cloudworks.anaplan.com/2/0"
