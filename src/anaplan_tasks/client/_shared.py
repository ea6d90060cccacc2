"""What `Client` and `AsyncClient` share that is not a flow: context, sources and sessions."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._core.auth import Credentials, TokenState
from .._core.chunks import line_chunks, plan_chunk_size, plan_ranges
from .._core.files import RangeSource, StreamSource
from .._core.flow import Context
from .._core.retry import RetryBudget
from .._core.scope import Scope
from .._core.state import ClientState
from ..errors import ConfigurationError
from .config import ClientConfig


@dataclass
class Hooks:
    """Injected time and randomness (tests pass fakes; the defaults are the real ones)."""

    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    rng: random.Random = field(default_factory=random.Random)
    new_key: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)


@dataclass
class SessionState:
    """Shared by a client and its `with_model()`/`with_options()` copies."""

    credentials: Credentials
    budget: RetryBudget = field(default_factory=RetryBudget)
    token: TokenState | None = None
    claimed_tasks: set[str] = field(default_factory=set)
    scopes: dict[Scope, Scope] = field(default_factory=dict)
    """Workspace and model names resolved to ids, for this client and its copies."""
    learned: ClientState = field(default_factory=ClientState)
    users: int = 1
    closed: bool = False


def new_session(config: ClientConfig) -> SessionState:
    """The state a client and its copies share, sized by the client's retry policy."""
    return SessionState(config.credentials, budget=RetryBudget(config.retry.budget))


def make_context(config: ClientConfig, session: SessionState, hooks: Hooks) -> Context:
    """The flow context of a client."""
    return Context(
        api_base_url=config.api_base_url,
        auth_base_url=config.auth_base_url,
        workspace_id=config.workspace_id,
        model_id=config.model_id,
        retry=config.retry,
        poll=config.poll,
        budget=session.budget,
        clock=hooks.clock,
        wall_clock=hooks.wall_clock,
        rng=hooks.rng,
        new_key=hooks.new_key,
        locale=config.locale,
        claimed_tasks=session.claimed_tasks,
        state=session.learned,
        cloudworks_base_url=config.cloudworks_base_url,
    )


def _read_range(path: Path) -> Callable[[int, int], bytes]:
    def read_at(offset: int, length: int) -> bytes:
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read(length)

    return read_at


def upload_source(source: Any, chunk_size: int) -> RangeSource | StreamSource:
    """Plan an upload: a path or bytes become line-aligned ranges, an iterable a stream."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise ConfigurationError(f"upload source {str(path)!r} is not a file")
        size = path.stat().st_size
        read_at = _read_range(path)
        return RangeSource(plan_ranges(size, plan_chunk_size(size, chunk_size), read_at), read_at)
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)

        def read_bytes(offset: int, length: int) -> bytes:
            return data[offset : offset + length]

        size = len(data)
        return RangeSource(
            plan_ranges(size, plan_chunk_size(size, chunk_size), read_bytes), read_bytes
        )
    if isinstance(source, Iterable):
        return StreamSource(iter(line_chunks(source, plan_chunk_size(None, chunk_size))))
    raise ConfigurationError(
        f"cannot upload a {type(source).__name__}: pass a path, bytes or an iterable of bytes"
    )
