"""The README and the docs work as written: every shell block and Python snippet, in order.

Each document's blocks (```bash/sh/console and ```python, extracted from the Markdown) run in a
fresh temporary directory with a fresh home (so `serve`'s default data directory is new), one
after the other, the way a reader would type them:

- shell blocks run with `set -euo pipefail`; in a `console` block the lines after `$ ` are the
  commands and the others are output. Variables exported by one block are there for the next
  blocks (and for the Python snippets). A command put in the background with `&` (a server) is
  waited for until its port answers, as a reader waits for the "listening" line, and the whole
  process group is stopped when the document is done;
- the emulator's port `8080` (also `serve`'s default) is replaced by a free port (other
  programs may hold 8080);
- `pip install` lines run in the clone with `--dry-run`, so they are resolved and built but do
  not change the test's environment;
- Python snippets run with `python -c`; names a snippet leaves to the reader (`WS`, `MODEL`,
  `prod_id`, `response_body`, …) are given real values from the running emulator first;
- a block after `<!-- walkthrough: pytest -->` is a test file, run with pytest;
- a block after `<!-- walkthrough: skip: REASON -->` is not run (the reason names what covers it).

A document none of whose blocks starts a server gets one started first (`anaplan-tasks serve`),
with the `ANAPLAN_*` variables the README tells a reader to set.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOCUMENTS = [
    "README.md",
    "docs/index.md",
    "docs/cli.md",
    "docs/client.md",
    "docs/alm.md",
    "docs/emulator.md",
    "docs/airflow.md",
    "docs/transactional.md",
    "docs/large-reads.md",
    "docs/cloudworks.md",
]
SHELLS = {"bash", "sh", "console", "shell"}
_FENCE = re.compile(
    r"(?:<!--\s*walkthrough:\s*(?P<marker>[^>]*?)\s*-->\s*\n)?"
    r"^```(?P<language>[\w-]*)[^\n]*\n(?P<body>.*?)^```\s*$",
    re.MULTILINE | re.DOTALL,
)

KNOWN_BROKEN: dict[tuple[str, int], str] = {}
"""Blocks (document, index among its runnable blocks) that fail until a change outside this
branch lands: strict, so the entry must go once the block works."""


@dataclass
class Block:
    """One fenced block of a document."""

    document: str
    index: int
    language: str
    body: str
    marker: str

    @property
    def name(self) -> str:
        return f"{self.document}#{self.index} ({self.language})"


def blocks(document: str) -> list[Block]:
    """The runnable blocks of a document, in order (other languages are left out)."""
    text = (ROOT / document).read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        language = match["language"].lower()
        if language in SHELLS or language == "python":
            found.append(
                Block(document, len(found), language, match["body"], match["marker"] or "")
            )
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _shell_script(block: Block, port: int) -> str:
    lines = block.body.splitlines()
    if block.language == "console":
        commands, continuing = [], False
        for line in lines:
            if line.startswith("$ ") or continuing:
                command = line[2:] if line.startswith("$ ") else line
                commands.append(command)
                continuing = command.rstrip().endswith("\\")
        lines = commands
    script = []
    for line in lines:
        line = line.replace("8080", str(port))
        if "anaplan-tasks serve" in line and "--port" not in line:  # serve's default is 8080
            line = line.replace("anaplan-tasks serve", f"anaplan-tasks serve --port {port}")
        if re.match(r"\s*pip install ", line):
            line = f"(cd {ROOT} && {line.split('#')[0].strip()} --dry-run --quiet)"
        script.append(line)
        if re.search(r"[^&]&\s*(#.*)?$", line):
            script.append(f"__await_server {port}")
    return "\n".join(script)


_SHELL_PRELUDE = """\
set -euo pipefail
__await_server() {
    for _ in $(seq 300); do
        if curl -s -o /dev/null "http://127.0.0.1:$1/_emulator/openapi.json"; then return 0; fi
        sleep 0.1
    done
    echo "nothing answered on port $1" >&2
    return 1
}
"""


_PYTHON_PRELUDE = {
    "ids": """\
import os as _os
from anaplan_tasks import Client as _Client
with _Client() as _c:
    WS = ws = next(w.id for w in _c.workspaces.list() if w.name == "Demo Workspace")
    _models = {m.name: m.id for m in _c.models.list(WS)}
MODEL = dev_id = _models["FP&A Dev"]
PROD_MODEL = prod_id = _models["FP&A Prod"]
EMAIL, PASSWORD = _os.environ["ANAPLAN_EMAIL"], _os.environ["ANAPLAN_PASSWORD"]
""",
    "response_body": """\
import json as _json
from anaplan_tasks.emulator.demo import generate_employees_csv as _sample
with _Client(workspace_id=WS, model_id=MODEL) as _c:
    _c.files.upload("employees.csv", b"".join(_sample(300, 4)))
    _ref = _c.imports.start("Load Employees")
    _c.tasks.wait(_ref)
    response_body = _json.dumps({"task": _c.tasks.status(_ref).to_wire()})
""",
}
_READER_NAMES = re.compile(r"\b(WS|ws|MODEL|PROD_MODEL|EMAIL|PASSWORD|dev_id|prod_id)\b")


def _python_code(block: Block, port: int) -> str:
    body = block.body.replace("8080", str(port))
    prelude = ""
    if _READER_NAMES.search(body) or "response_body" in body:
        prelude += _PYTHON_PRELUDE["ids"]
    if "response_body" in body:
        prelude += _PYTHON_PRELUDE["response_body"]
    return prelude + body


class Reader:
    """Runs a document's blocks as a reader would, in one directory and environment."""

    def __init__(self, workdir: Path, port: int):
        self.workdir = workdir
        self.port = port
        self.groups: list[int] = []
        home = workdir / "home"
        home.mkdir()
        self.environ = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("ANAPLAN_") and key not in ("XDG_CONFIG_HOME", "XDG_DATA_HOME")
        }
        self.environ.update(
            HOME=str(home),
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            COLUMNS="100",
            PYTHONUNBUFFERED="1",
        )
        self.log = workdir / "output.log"

    def _run(self, argv: list[str], what: str, **options: object) -> str:
        start = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            process = subprocess.Popen(
                argv,
                cwd=self.workdir,
                env=self.environ,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **options,  # type: ignore[call-overload]
            )
            self.groups.append(process.pid)
            try:
                code = process.wait(timeout=180)
            except subprocess.TimeoutExpired:
                code = -1
        output = self.log.read_bytes()[start:].decode("utf-8", "replace")
        assert code == 0, f"{what} exited {code}:\n{output}"
        return output

    def shell(self, script: str, what: str) -> None:
        saved = self.workdir / ".environment"
        full = f"{_SHELL_PRELUDE}{script}\nenv -0 > {saved}\n"
        self._run(["bash", "-c", full], what)
        pairs = saved.read_bytes().decode("utf-8").split("\0")
        self.environ = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
        for name in [name for name in self.environ if name.startswith(("BASH_FUNC", "_"))]:
            del self.environ[name]

    def python(self, code: str, what: str) -> None:
        self._run([sys.executable, "-c", code], what)

    def pytest(self, code: str, what: str) -> None:
        test_file = self.workdir / "test_from_the_docs.py"
        test_file.write_text(code, encoding="utf-8")
        self._run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file.name], what
        )

    def start_server(self) -> None:
        self.shell(
            f"anaplan-tasks serve --quiet --port {self.port} &\n__await_server {self.port}\n"
            f"export ANAPLAN_BASE_URL=http://127.0.0.1:{self.port}\n"
            "export ANAPLAN_EMAIL=demo@example.com ANAPLAN_PASSWORD=demo",
            "the harness's emulator",
        )

    def stop(self) -> None:
        for group in reversed(self.groups):
            try:
                os.killpg(group, signal.SIGINT)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 10
        for group in self.groups:
            while time.monotonic() < deadline:
                try:
                    os.killpg(group, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)


def _starts_a_server(block: Block) -> bool:
    return block.language in SHELLS and bool(
        re.search(r"(anaplan-tasks serve|anaplan_tasks\.emulator)[^\n]*&", block.body)
    )


@pytest.mark.slow
@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_block_of_the_document_works_as_written(document: str, tmp_path: Path) -> None:
    found = blocks(document)
    assert found, f"{document} has no block to run"
    reader = Reader(tmp_path, _free_port())
    broken: list[str] = []
    try:
        if not any(_starts_a_server(block) for block in found):
            reader.start_server()
        for block in found:
            if block.marker.startswith("skip:"):
                assert block.marker[len("skip:") :].strip(), f"{block.name}: skip needs a reason"
                continue
            known = KNOWN_BROKEN.get((document, block.index))
            try:
                if block.language in SHELLS:
                    reader.shell(_shell_script(block, reader.port), block.name)
                elif block.marker == "pytest":
                    reader.pytest(block.body, block.name)
                else:
                    reader.python(_python_code(block, reader.port), block.name)
            except AssertionError as failure:
                if known is None:
                    raise
                broken.append(f"{block.name}: {known}\n{failure}")
            else:
                assert known is None, f"{block.name} works now: drop it from KNOWN_BROKEN"
    finally:
        reader.stop()
    if broken:
        pytest.xfail("\n".join(broken))


def test_every_documented_block_is_found_and_known_failures_point_at_real_blocks() -> None:
    for (document, index), _reason in KNOWN_BROKEN.items():
        assert index < len(blocks(document)), (document, index)
    markdown = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for path in markdown:
        relative = path.relative_to(ROOT).as_posix()
        found = blocks(relative)
        if found and relative not in DOCUMENTS:
            pytest.fail(f"{relative} has shell or Python blocks: add it to DOCUMENTS")


def test_a_block_that_breaks_fails_the_walkthrough(tmp_path: Path) -> None:
    reader = Reader(tmp_path, _free_port())
    broken = Block("example.md", 0, "console", "$ echo fine\n$ anaplan-tasks no-such-command\n", "")
    with pytest.raises(AssertionError, match="exited 2"):
        reader.shell(_shell_script(broken, reader.port), broken.name)
    with pytest.raises(AssertionError, match="NameError"):
        reader.python("print(undefined_name)", "python")
