"""The demo workspace keeps its names; the employees.csv generator is exact and deterministic."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from anaplan_tasks.emulator.demo import (
    BAD_ROW_KINDS,
    EMPLOYEES_HEADER,
    REGION_CODES,
    UNRELEASED_LIST,
    bad_rows_of,
    demo_definition,
    generate_employees_csv,
    write_employees_csv,
)


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_demo_names() -> None:
    definition = demo_definition()
    assert [u.email for u in definition.users] == ["demo@example.com", "viewer@example.com"]
    assert definition.users[0].password == "demo"
    (workspace,) = definition.workspaces
    assert workspace.name == "Demo Workspace"
    assert workspace.admins == ["demo@example.com"]
    assert workspace.users == ["viewer@example.com"]
    dev, prod = workspace.models
    assert (dev.name, prod.name, dev.origin) == ("FP&A Dev", "FP&A Prod", "FP&A Prod")
    assert [lst.name for lst in dev.lists][2:] == [UNRELEASED_LIST]  # untagged: no revision has it
    for model in (dev, prod):
        assert [lst.name for lst in model.lists][:2] == ["Regions", "Employees"]
        assert model.lists[0].top_level == "Total Region"
        assert [p.name for p in model.lists[1].properties] == ["Region", "Start Date", "Active"]
        (module,) = model.modules
        assert (module.name, module.dimensions) == ("Headcount", ["Employees"])
        assert [li.name for li in module.line_items] == ["Salary", "FTE", "Start Date"]
        assert [f.name for f in model.files] == ["employees.csv"]
        assert [(i.name, i.file) for i in model.imports] == [
            ("Load Employees", "employees.csv"),
            ("Load Headcount", "employees.csv"),
        ]
        assert model.imports[0].target_list == "Employees"
        assert model.imports[1].target_module == "Headcount"
        assert [e.name for e in model.exports] == ["Headcount Export"]
        assert [a.name for a in model.delete_actions] == ["Remove Inactive Employees"]
        (process,) = model.processes
        assert (process.name, process.actions) == (
            "Nightly Load",
            ["Load Employees", "Load Headcount", "Remove Inactive Employees", "Headcount Export"],
        )


def test_generator_streams_the_requested_rows() -> None:
    blocks = list(generate_employees_csv(25_000))
    assert len(blocks) > 1  # streamed, not built in one piece
    rows = rows_of(b"".join(blocks))
    assert tuple(rows[0]) == EMPLOYEES_HEADER
    assert len(rows) == 25_001
    ids = [row[0] for row in rows[1:]]
    assert len(set(ids)) == 25_000
    for row in rows[1:200]:
        assert row[2] in REGION_CODES
        date.fromisoformat(row[3])
        assert row[4] in ("true", "false")
        float(row[5])
        float(row[6])


def test_generator_is_deterministic_per_seed() -> None:
    assert b"".join(generate_employees_csv(500, seed=3)) == b"".join(
        generate_employees_csv(500, seed=3)
    )
    assert b"".join(generate_employees_csv(500, seed=3)) != b"".join(
        generate_employees_csv(500, seed=4)
    )


def test_bad_rows_are_where_bad_rows_of_says() -> None:
    rows = rows_of(b"".join(generate_employees_csv(100, bad_rows=4)))
    bad = bad_rows_of(100, 4)
    assert sorted(bad.values()) == sorted(BAD_ROW_KINDS)
    for number, kind in bad.items():
        row = rows[number]
        if kind == "unknown region":
            assert row[2] not in REGION_CODES
        elif kind == "malformed date":
            with pytest.raises(ValueError):
                date.fromisoformat(row[3])
        elif kind == "malformed number":
            with pytest.raises(ValueError):
                float(row[5])
        else:
            assert row[0] == rows[number - 1][0]
    good = [r for n, r in enumerate(rows[1:], 1) if n not in bad]
    assert all(r[2] in REGION_CODES for r in good)


def test_too_many_bad_rows_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 9 rows"):
        list(generate_employees_csv(5, bad_rows=4))


def test_write_employees_csv(tmp_path: Path) -> None:
    path = write_employees_csv(tmp_path / "employees.csv", 10, bad_rows=1, seed=2)
    assert path.read_bytes() == b"".join(generate_employees_csv(10, 1, 2))
