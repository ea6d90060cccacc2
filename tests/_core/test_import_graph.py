"""The core's modules import each other without a circle (type-checking imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import anaplan_tasks._core

CORE = Path(anaplan_tasks._core.__file__).parent


def core_imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in CORE.glob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    names.add(node.module.split(".")[0])
                else:
                    names.update(alias.name for alias in node.names)
        graph[path.stem] = names & {p.stem for p in CORE.glob("*.py")}
    return graph


def test_the_core_has_no_import_circle() -> None:
    graph = core_imports()
    assert "retry" in graph["flow"]  # the graph is read: flow uses retry's policy types
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for imported in sorted(graph[module]):
            visit(imported, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())
