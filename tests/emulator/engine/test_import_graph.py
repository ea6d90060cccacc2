"""The engine's modules import each other without a circle (type-only imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import anaplan_tasks.emulator.engine as engine_package

ENGINE = Path(engine_package.__file__).parent


def engine_imports(path: Path) -> set[str]:
    """Sibling engine modules that a module imports (`from .x import …`, `from . import x`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return {name for name in found if (ENGINE / f"{name}.py").exists()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_engine_has_no_import_circle() -> None:
    graph = {
        path.stem: engine_imports(path) for path in ENGINE.glob("*.py") if path.stem != "__init__"
    }
    assert len(graph) > 10
    assert "base" in graph["tasks"]  # the walk sees real edges
    assert find_cycle(graph) is None, " → ".join(find_cycle(graph) or [])


def test_the_cycle_finder_finds_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
