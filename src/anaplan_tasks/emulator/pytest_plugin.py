"""A pytest plugin: a running Anaplan emulator for your own test suite.

With anaplan-tasks installed (extra `emulator`) the plugin is active; use the fixture:

```python
def test_nightly_load(anaplan_emulator):
    client = MyPipeline(base_url=anaplan_emulator.base_url,
                        user=anaplan_emulator.email, password=anaplan_emulator.password)
    anaplan_emulator.fail("PUT", "*/chunks/*", status=503, times=2)  # the next two uploads fail
    client.run()
    assert anaplan_emulator.request_counts()["PUT /2/0/workspaces/{workspaceId}/models/"
                                             "{modelId}/files/{fileId}/chunks/{chunkId}"] >= 3
```

One emulator (demo workspace loaded, data in memory) serves the whole session; every use of
`anaplan_emulator` starts from a reset: demo data only, no tokens, no faults, zero counts.
Override the `anaplan_emulator_options` fixture (session scope) to pass other `run_emulator`
arguments, e.g. `{"definitions": [Path("model.toml")], "demo": False}`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

if TYPE_CHECKING:
    from .engine.contract import ProgressionMode, TaskTimes
    from .server import RunningEmulator

# The plugin is registered in every pytest run where anaplan-tasks is installed, with or without
# the `emulator` extra: it imports nothing of the emulator (nor the client) until a test uses a
# fixture, so a suite that does not use it pays only for this module.

FaultKind = Literal["status", "reset_before", "reset_after", "late_commit", "latency"]

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo"


@dataclass
class EmulatorHandle:
    """A running emulator for one test: its address, the demo login and the control knobs."""

    running: RunningEmulator
    email: str = DEMO_EMAIL
    password: str = DEMO_PASSWORD

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`: one origin for `/token/…` and `/2/0/…`."""
        return self.running.base_url

    def token(self, email: str | None = None, password: str | None = None) -> str:
        """A fresh token for a user (default: the demo user), without an HTTP round trip."""
        principal = self.running.engine.authenticate_basic(
            email or self.email, password if password is not None else self.password
        )
        if principal is None:
            raise ValueError(f"no user {email or self.email} with that password")
        return self.running.control.tokens.issue(principal).value

    def auth_header(self, email: str | None = None, password: str | None = None) -> dict[str, str]:
        """`{"Authorization": "AnaplanAuthToken …"}` for a user (default: the demo user)."""
        return {"Authorization": f"AnaplanAuthToken {self.token(email, password)}"}

    def reset(self) -> None:
        """Back to the configured definitions: no data changes, tokens, faults or counts."""
        self.running.control.reset()

    def load_definition(self, text: str) -> None:
        """Add users, workspaces and models from a definition (JSON or TOML text)."""
        self.running.control.load_definition(text)

    def add_bucket(
        self, name: str, path: str | os.PathLike[str], *, type: str = "AmazonS3", **fields: str
    ) -> Path:
        """Name a local directory as a CloudWorks bucket until the next reset (each test's).

        Args:
            name: The S3 bucket, Azure container or BigQuery dataset a connection names.
            path: The directory (created when missing).
            type: `AmazonS3`, `AzureBlob` or `GoogleBigQuery`.
            **fields: More bucket fields: `account` (AzureBlob), pinned credentials
                (`access_key_id`, `secret_access_key`, `role_arn`, `sas_token`, `client_email`).

        Returns:
            The directory, as a `Path`.
        """
        bucket = {"name": name, "path": str(path), "type": type, **fields}
        self.load_definition(json.dumps({"buckets": [bucket]}))
        return Path(path)

    def fire_schedules(self) -> list[str]:
        """Start a run of every CloudWorks schedule due now on the emulator's clock (the
        emulator also looks once a second); the ids of the runs started."""
        from .api.cloudworks import service_of

        service = service_of(self.running.engine)
        if service is None:
            return []  # CloudWorks not used yet: no schedule exists
        with self.running.engine.use():
            return service.fire_due()

    def set_progression(
        self, mode: ProgressionMode = "real", *, seconds: float = 0.0, polls: int = 0
    ) -> None:
        """How tasks progress: `real`, `fixed` (seconds), `polls` (status reads) or `manual`."""
        from .engine.contract import Progression

        self.running.control.set_progression(Progression(mode=mode, seconds=seconds, polls=polls))

    def advance(self, task_id: str | None = None) -> None:
        """In manual mode, let one task (or all queued tasks) run."""
        self.running.control.advance(task_id)

    def fail(
        self,
        method: str = "*",
        path: str = "*",
        *,
        status: int = 503,
        times: int | None = 1,
        retry_after: int | None = None,
        fault: FaultKind = "status",
        probability: float = 1.0,
        latency: float = 0.0,
        seed: int | None = None,
        delay: float = 1.0,
        hold: bool = False,
    ) -> None:
        """Add a fault rule (see `anaplan_tasks.emulator.api.faults`).

        By default the next matching request answers 503. `fault="late_commit"` resets the
        connection (or, with `hold`, keeps it silent) and runs the request `delay` seconds
        later. Passing `seed` first removes the rules in force and reseeds the generator, so a
        run can be repeated exactly.
        """
        from .api.faults import FaultRule

        rule = FaultRule(
            fault=fault,
            method=method.upper(),
            path=path,
            probability=probability,
            times=times,
            status=status,
            retry_after=retry_after,
            latency=latency,
            delay=delay,
            hold=hold,
        )
        if seed is not None:
            self.running.control.set_faults([], seed)
        self.running.control.faults.add(rule)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.running.control.clear_faults()

    def faults(self) -> dict[str, Any]:
        """The fault rules with how often each fired."""
        return self.running.control.faults.snapshot()

    def request_counts(self) -> dict[str, int]:
        """Requests per `METHOD route-template` since the last reset."""
        return self.running.control.request_counts()

    def poll_counts(self) -> dict[str, int]:
        """Status reads per task id."""
        return self.running.control.poll_counts()

    def task_times(self) -> list[TaskTimes]:
        """When every bulk task was created, started and finished (ms), oldest first."""
        return self.running.control.task_times()

    def expire_tokens(self) -> None:
        """Make every token invalid now."""
        self.running.control.expire_tokens()

    def set_rate_limit(self, per_minute: int | None, *, retry_after: bool = True) -> None:
        """Answer 429 beyond `per_minute` requests a minute (None: no limit)."""
        from .api.ratelimit import RateLimit

        limit = None if per_minute is None else RateLimit(per_minute, retry_after)
        self.running.control.set_rate_limit(limit)

    def set_token_lifetime(self, seconds: float) -> None:
        """Lifetime of tokens issued or refreshed from now on."""
        self.running.control.token_lifetime = seconds


@pytest.fixture(scope="session")
def anaplan_emulator_options() -> dict[str, Any]:
    """Keyword arguments for `run_emulator`; override to load your own definitions."""
    return {"demo": True}


@pytest.fixture(scope="session")
def anaplan_emulator_server(anaplan_emulator_options: dict[str, Any]) -> Iterator[RunningEmulator]:
    """One emulator for the whole session."""
    from .server import run_emulator

    with run_emulator(**anaplan_emulator_options) as running:
        yield running


@pytest.fixture
def anaplan_emulator(anaplan_emulator_server: RunningEmulator) -> EmulatorHandle:
    """The session's emulator, reset for this test."""
    handle = EmulatorHandle(anaplan_emulator_server)
    handle.reset()
    return handle
