"""Cheap checks of the documentation's structure (the strict build itself runs in scripts/test).

Every page is reachable from the navigation, and the task model reference renders the twelve
models of the specification, in its order, from objects that exist.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

SEED_MODELS = [
    "TaskResultDetail",
    "TaskResult",
    "TaskSummary",
    "Task",
    "CompletedTask",
    "SyncTaskResult",
    "PendingTask",
    "CompletedSyncTask",
    "ReportTaskResult",
    "ReportTaskError",
    "ReportTaskFailureResult",
    "CompletedReportTask",
]

_DIRECTIVE = re.compile(r"^::: ([\w.]+)\s*$", re.MULTILINE)
_NAV_PAGE = re.compile(r"^\s*- (?:[^:\n]+: )?([\w./-]+\.md)\s*$", re.MULTILINE)


def nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text.split("\nnav:\n", 1)[1]
    nav = re.split(r"\n(?=\S)", nav, maxsplit=1)[0]  # up to the next top-level key
    return _NAV_PAGE.findall(nav)


def directives(page: str) -> list[str]:
    return _DIRECTIVE.findall((DOCS / page).read_text(encoding="utf-8"))


def resolve(dotted: str) -> object:
    """The object a mkdocstrings directive names: a module, or an attribute of one."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for name in parts[split:]:
            target = getattr(target, name)
        return target
    raise ModuleNotFoundError(dotted)


def test_every_page_is_in_the_navigation_and_every_entry_is_a_page() -> None:
    pages = sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md"))
    listed = nav_pages()
    assert sorted(listed) == pages
    assert len(listed) == len(set(listed))


def test_the_model_reference_lists_the_twelve_models_first_in_the_seeds_order() -> None:
    names = directives("reference/models.md")
    assert names[:12] == [f"anaplan_tasks.models.{model}" for model in SEED_MODELS]


def test_every_reference_directive_names_an_existing_object() -> None:
    for page in sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")):
        for dotted in directives(page):
            assert resolve(dotted) is not None, f"{page}: {dotted}"


def test_every_public_task_model_is_in_the_reference() -> None:
    import anaplan_tasks.models as models
    from anaplan_tasks.models import tasks

    documented = set(directives("reference/models.md"))
    for name in models.__all__:
        value = getattr(models, name)
        if isinstance(value, type) and value.__module__ == tasks.__name__:
            assert f"anaplan_tasks.models.{name}" in documented, name
