"""Run the emulator: in-process for tests (`run_emulator`), or in the foreground (`serve`).

```python
from anaplan_tasks.emulator.server import run_emulator

with run_emulator(demo=True) as emulator:  # a free port on 127.0.0.1, data in memory
    print(emulator.base_url)  # http://127.0.0.1:53127 serves /token/… and /2/0/…
    emulator.control.set_progression(Progression(mode="polls", polls=3))
```
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from .api import ControlGate, EmulatorApp, EmulatorControl
from .api.auth import DEFAULT_TOKEN_LIFETIME
from .api.control import is_loopback_address
from .engine.contract import Engine, Progression

DEFAULT_HOST = "127.0.0.1"
STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class RunningEmulator:
    """A running emulator: where it listens and how to steer it."""

    base_url: str
    """`http://host:port`: one origin for `/token/…` and `/2/0/…`."""
    host: str
    port: int
    engine: Engine
    control: EmulatorControl
    app: EmulatorApp


def default_data_dir() -> Path:
    """The per-user directory the emulator keeps its data in by default."""
    import platformdirs

    return Path(platformdirs.user_data_dir("anaplan-tasks", appauthor=False)) / "emulator"


class DataDirectoryInUse(ValueError):
    """Another emulator serves this data directory: two on one store would corrupt it."""


LOCK_FILE = "emulator.lock"
"""The file in a data directory that an emulator holds locked while it uses the directory."""


@contextmanager
def data_directory_lock(directory: Path) -> Iterator[None]:
    """Hold the data directory for this process (an exclusive, non-blocking `flock`).

    The lock is the kernel's, so it goes with the process however it ends (even `kill -9`);
    the file keeps the holder's pid for the message.

    Raises:
        DataDirectoryInUse: another process holds it (names the pid).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_FILE
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise DataDirectoryInUse(
                f"the data directory {directory} is in use by another emulator (pid {holder}): "
                "stop it, or give this one another --data DIR (or --memory)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


def build_engine(
    *,
    data_dir: Path | None,
    memory: bool,
    demo: bool,
    definitions: Sequence[Path],
    progression: Progression,
) -> Engine:
    """Create the engine the server will serve; definition files are validated first.

    Files load in order, and a file may grant workspaces to users declared by the demo (with
    `demo`) or by an earlier file, as it may when loaded later through `/_emulator/definitions`.

    Raises:
        DefinitionError: a definition file that does not load (names the file and the path).
    """
    from .definitions import Definition, load_definition
    from .engine import create_engine

    known_users: list[str] = []
    if demo:
        from .demo import demo_definition

        known_users.extend(user.email for user in demo_definition().users)
    loaded: list[Definition] = []
    for path in definitions:
        definition = load_definition(path, known_users=known_users)
        known_users.extend(user.email for user in definition.users)
        loaded.append(definition)
    return create_engine(
        data_dir=data_dir,
        memory=memory,
        demo=demo,
        definitions=tuple(loaded),
        progression=progression,
    )


CONTROL_TOKEN_VARIABLE = "ANAPLAN_EMULATOR_CONTROL_TOKEN"
"""Environment variable `serve` reads the control token from when none is passed."""


def _is_loopback(host: str) -> bool:
    return is_loopback_address(host)


def control_gate(host: str, token: str | None) -> ControlGate:
    """Who may use the control routes of a server bound to `host`.

    With a token, whoever presents it. Without one: loopback peers, and only when the server
    binds a loopback interface; on any other interface the routes are disabled.
    """
    if token:
        return ControlGate(enabled=True, token=token)
    return ControlGate(enabled=_is_loopback(host))


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP matters: asyncio only turns Nagle off (TCP_NODELAY) on sockets that say TCP,
    # and with Nagle on every answer written in two parts waits 40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


LOG_LEVELS = ("debug", "info", "warning", "error")
"""`serve`'s log levels: `info` logs every request (the access log), `warning` only problems."""


def _config(app: EmulatorApp, *, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        lifespan="off",
        log_level=log_level,
        access_log=log_level in ("debug", "info"),
        http="h11",
        ws="none",
        timeout_graceful_shutdown=5,
    )


@contextmanager
def run_emulator(
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    data_dir: Path | None = None,
    demo: bool = False,
    definitions: Sequence[Path] = (),
    progression: Progression | None = None,
    token_lifetime: float = DEFAULT_TOKEN_LIFETIME,
    clock: Callable[[], float] = time.time,
    engine: Engine | None = None,
    control_token: str | None = None,
) -> Iterator[RunningEmulator]:
    """Run the emulator in a background thread for the duration of a `with` block.

    Args:
        host: interface to bind (keep 127.0.0.1 unless you mean it).
        port: port to bind; 0 picks a free one.
        data_dir: keep data in this directory; None keeps it in memory.
        demo: load the demo workspace.
        definitions: definition files to load.
        progression: how tasks progress (default: as fast as the work goes).
        token_lifetime: seconds a token lives.
        clock: epoch-seconds clock for token expiry (tests pass a fake one).
        engine: serve this engine instead of creating one (it is not closed on exit).
        control_token: require this token (`Authorization: Bearer …`) on the control routes;
            without one they answer loopback peers only.

    Yields:
        The running emulator; it stops (and closes the engine it created) on exit.
    """
    chosen_progression = progression or Progression()
    owned = engine is None
    with ExitStack() as held:
        if owned and data_dir is not None:
            held.enter_context(data_directory_lock(data_dir))
        with _serving(
            host=host,
            port=port,
            data_dir=data_dir,
            demo=demo,
            definitions=definitions,
            progression=chosen_progression,
            token_lifetime=token_lifetime,
            clock=clock,
            engine=engine,
            control_token=control_token,
        ) as running:
            yield running


@contextmanager
def _serving(
    *,
    host: str,
    port: int,
    data_dir: Path | None,
    demo: bool,
    definitions: Sequence[Path],
    progression: Progression,
    token_lifetime: float,
    clock: Callable[[], float],
    engine: Engine | None,
    control_token: str | None,
) -> Iterator[RunningEmulator]:
    chosen_progression = progression
    owned = engine is None
    if engine is None:
        engine = build_engine(
            data_dir=data_dir,
            memory=data_dir is None,
            demo=demo,
            definitions=definitions,
            progression=chosen_progression,
        )
    try:
        app = EmulatorApp(
            engine,
            token_lifetime=token_lifetime,
            clock=clock,
            progression=chosen_progression,
            control=ControlGate(token=control_token),
        )
        sock = _listening_socket(host, port)
        bound_port: int = sock.getsockname()[1]
        server = uvicorn.Server(_config(app, log_level="warning"))
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="anaplan-emulator", daemon=True
        )
        thread.start()
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("the emulator's HTTP server did not start")
                time.sleep(0.005)
            url_host = f"[{host}]" if ":" in host else host
            yield RunningEmulator(
                base_url=f"http://{url_host}:{bound_port}",
                host=host,
                port=bound_port,
                engine=engine,
                control=app.control,
                app=app,
            )
        finally:
            server.should_exit = True
            thread.join(timeout=STARTUP_TIMEOUT)
            sock.close()
    finally:
        if owned:
            engine.close()


def serve(
    *,
    host: str = DEFAULT_HOST,
    port: int = 8080,
    data_dir: Path | None = None,
    memory: bool = False,
    demo: bool = False,
    definitions: Sequence[Path] = (),
    token_lifetime: float = DEFAULT_TOKEN_LIFETIME,
    announce: Callable[[str], None] = print,
    log_level: str = "info",
    control_token: str | None = None,
) -> None:
    """Serve in the foreground until interrupted (Ctrl-C or SIGTERM); used by the CLI.

    Args:
        host: interface to bind.
        port: port to bind; 0 picks a free one (the announcement says which).
        data_dir: the data directory (SQLite database and chunks); default: a per-user one.
        memory: keep everything in memory instead (lost on exit).
        demo: load the demo workspace.
        definitions: definition files to load.
        token_lifetime: seconds a token lives.
        announce: where to write the line that says where the emulator listens.
        log_level: one of `LOG_LEVELS`; `info` (the default) logs every request.
        control_token: require this token on the `/_emulator/…` control routes (default: the
            `ANAPLAN_EMULATOR_CONTROL_TOKEN` environment variable). Without one, the routes
            answer loopback peers only, and are disabled when `host` is not a loopback address.
    """
    if log_level not in LOG_LEVELS:
        raise ValueError(f"log level {log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    directory = None if memory else (data_dir or default_data_dir())
    with ExitStack() as held:
        if directory is not None:
            held.enter_context(data_directory_lock(directory))
        _serve_engine(
            host=host,
            port=port,
            directory=directory,
            memory=memory,
            demo=demo,
            definitions=definitions,
            token_lifetime=token_lifetime,
            announce=announce,
            log_level=log_level,
            control_token=control_token,
        )


def _serve_engine(
    *,
    host: str,
    port: int,
    directory: Path | None,
    memory: bool,
    demo: bool,
    definitions: Sequence[Path],
    token_lifetime: float,
    announce: Callable[[str], None],
    log_level: str,
    control_token: str | None,
) -> None:
    engine = build_engine(
        data_dir=directory,
        memory=memory,
        demo=demo,
        definitions=definitions,
        progression=Progression(),
    )
    try:
        gate = control_gate(host, control_token or os.environ.get(CONTROL_TOKEN_VARIABLE))
        app = EmulatorApp(engine, token_lifetime=token_lifetime, control=gate)
        sock = _listening_socket(host, port)
        bound_port = sock.getsockname()[1]
        url_host = f"[{host}]" if ":" in host else host
        where = "in memory" if directory is None else f"data in {directory}"
        announce(f"Anaplan emulator listening on http://{url_host}:{bound_port} ({where})")
        if not gate.enabled:
            announce(
                "note: this interface is reachable from other machines, so the /_emulator/ "
                "control routes are disabled (give a control token to enable them)"
            )
        try:
            uvicorn.Server(_config(app, log_level=log_level)).run(sockets=[sock])
        finally:
            sock.close()
    finally:
        engine.close()
