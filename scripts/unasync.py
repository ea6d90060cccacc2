"""Generate the sync client from the async one: `client/_async/*.py` → `client/_sync/*.py`.

Every public method of the clients is written once, as async code. The sync twin is this
translation, word for word: `async`/`await` dropped, `AsyncX` names become `X`, a few async-only
names replaced by their sync counterparts (the table below). What cannot be translated word for
word goes through `client/_backends.py`. The output is formatted and import-sorted by ruff.

    python scripts/unasync.py          # write the generated files
    python scripts/unasync.py --check  # exit 1 when one is stale (scripts/test runs this)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "anaplan_tasks" / "client" / "_async"
TARGET = ROOT / "src" / "anaplan_tasks" / "client" / "_sync"

# Applied in order. The specific names come before the general `AsyncX` → `X` rule, which also
# renames private ones (`_AsyncActions` → `_Actions`).
SUBSTITUTIONS: list[tuple[str, str]] = [
    (r"\bAsyncTransport\b", "SyncTransport"),
    (r"\bAsyncBackend\b", "SyncBackend"),
    (r"\bAsyncIterator\b", "Iterator"),
    (r"\bAsyncIterable\b", "Iterable"),
    (r"\bAsyncGenerator\b", "Generator"),
    (r"\bThe asyncio Anaplan client\b", "The synchronous Anaplan client"),
    (r"\basync (with|for|def)\b", r"\1"),
    (r"\bawait\s+", ""),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\baclose\b", "close"),
    (r"(?<![A-Za-z0-9])Async([A-Z]\w*)", r"\1"),
]
_COMPILED = [(re.compile(pattern), replacement) for pattern, replacement in SUBSTITUTIONS]


PACKAGE_DOCSTRING = (
    '"""The sync client, generated from `client/_async/` by `scripts/unasync.py`: do not edit."""\n'
)


def _header(source: Path) -> str:
    relative = source.relative_to(ROOT).as_posix()
    return (
        f"# Generated from {relative} by scripts/unasync.py: do not edit.\n"
        "# Change the async source and run `python scripts/unasync.py`.\n"
    )


def translate(text: str) -> str:
    """The sync twin of an async module's text (before formatting)."""
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)
    return text


def _ruff(arguments: list[str], text: str, filename: Path) -> str:
    command = [sys.executable, "-m", "ruff", *arguments, "--stdin-filename", str(filename), "-"]
    done = subprocess.run(command, input=text, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"ruff {' '.join(arguments)} failed on {filename}:\n{done.stderr}")
    return done.stdout


def generate(source: Path) -> str:
    """The generated file's full text: header, translation, import-sorted and formatted."""
    target = TARGET / source.name
    text = _header(source) + translate(source.read_text())
    text = _ruff(["check", "--fix", "--unsafe-fixes", "--quiet", "--exit-zero"], text, target)
    return _ruff(["format", "--quiet"], text, target)


def main() -> int:
    """Write the sync files, or with `--check` report the stale ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a file is stale")
    check = parser.parse_args().check
    sources = sorted(path for path in SOURCE.glob("*.py") if path.name != "__init__.py")
    expected = {TARGET / source.name: generate(source) for source in sources}
    expected[TARGET / "__init__.py"] = PACKAGE_DOCSTRING
    stale = [
        path for path, text in expected.items() if not path.exists() or path.read_text() != text
    ]
    extra = [path for path in TARGET.glob("*.py") if path not in expected]
    if check:
        for path in [*stale, *extra]:
            print(f"stale generated file: {path.relative_to(ROOT)}", file=sys.stderr)
        if stale or extra:
            print("run `python scripts/unasync.py` and commit the result", file=sys.stderr)
            return 1
        return 0
    TARGET.mkdir(exist_ok=True)
    for path in stale:
        path.write_text(expected[path])
        print(f"wrote {path.relative_to(ROOT)}")
    for path in extra:
        path.unlink()
        print(f"removed {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
