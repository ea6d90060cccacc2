"""`lists` and `items`: tables for people, wire models with --json, CSV with --out."""

from __future__ import annotations

import csv
from pathlib import Path

from anaplan_tasks.cli.exit_codes import ExitCode
from anaplan_tasks.models import ListInfo, ListItem

from .conftest import Cli


def test_lists_as_a_table_and_as_json(cli: Cli) -> None:
    listed = cli("lists", "--json")
    assert listed.code == ExitCode.OK, listed.err
    lists = [ListInfo.model_validate(item) for item in listed.json()]
    assert [info.name for info in lists][:2] == ["Regions", "Employees"]
    table = cli("lists")
    assert "Regions" in table.text
    assert lists[0].id in table.text


def test_items_by_name_or_id(cli: Cli) -> None:
    shown = cli("items", "Regions")
    assert shown.code == ExitCode.OK, shown.err
    assert "North America" in shown.text
    assert "Total Region" in shown.text
    items = [ListItem.model_validate(item) for item in cli("items", "Regions", "--json").json()]
    assert [item.code for item in items[1:]] == ["NA", "EMEA", "APAC", "LATAM"]
    list_id = cli("lists", "--json").json()[0]["id"]
    assert cli("items", list_id, "--json").json() == [item.to_wire() for item in items]


def test_items_table_is_limited_and_says_so(cli: Cli) -> None:
    shown = cli("items", "Regions", "--limit", "2")
    assert shown.code == ExitCode.OK, shown.err
    assert "North America" in shown.text
    assert "Asia Pacific" not in shown.text
    assert "3 more items not shown" in shown.error


def test_items_out_saves_csv(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "regions.csv"
    saved = cli("items", "Regions", "--out", path, "--all")
    assert saved.code == ExitCode.OK, saved.err
    rows = list(csv.reader(path.read_text().splitlines()))
    assert rows[0][:3] == ["id", "name", "code"]
    assert [row[2] for row in rows[2:]] == ["NA", "EMEA", "APAC", "LATAM"]
    assert "saved the items" in saved.text

    large = tmp_path / "regions-large.csv"
    saved = cli("items", "Regions", "--large", "--out", large)
    assert saved.code == ExitCode.OK, saved.err
    assert "large-volume read" in saved.text
    rows = list(csv.reader(large.read_text().splitlines()))
    assert rows[0][:5] == ["", "Parent", "Write", "Read", "Code"]
    assert [row[4] for row in rows[1:]] == ["NA", "EMEA", "APAC", "LATAM"]
    assert cli("items", "Regions", "--large").code == ExitCode.USAGE


def test_an_unknown_list_is_a_usage_error_with_a_hint(cli: Cli) -> None:
    failed = cli("items", "Regons")
    assert failed.code != ExitCode.OK
    assert "did you mean 'Regions'" in failed.error


def test_view_as_a_table_json_and_csv(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "employees.csv"
    path.write_text(
        '"Employee ID",Name,Region,"Start Date",Active,Salary,FTE\n'
        "E1,Ann,EMEA,2020-01-01,true,50000,1\nE2,Bo,NA,2021-02-01,true,60000,0.5\n"
    )
    assert cli("run", "import", "Load Employees", "--file", path).code == ExitCode.OK
    assert cli("run", "import", "Load Headcount", "--file", path).code == ExitCode.OK
    shown = cli("view", "Headcount")
    assert shown.code == ExitCode.OK, shown.err
    assert "Salary" in shown.text
    assert "60000" in shown.text
    data = cli("view", "Headcount", "--json").json()
    assert data["rows"][1] == {"rowCoordinates": ["Bo"], "cells": ["60000", "0.5", "2021-02-01"]}
    out = tmp_path / "view.csv"
    assert cli("view", "Headcount", "--out", out).code == ExitCode.OK
    assert out.read_text().splitlines()[1] == "Ann,50000,1,2020-01-01"
    assert cli("view", "Headcount", "--page", "nonsense").code == ExitCode.USAGE
    table = tmp_path / "table.csv"
    saved = cli("view", "Headcount", "--out", table, "--layout", "tabular_single_column")
    assert saved.code == ExitCode.OK, saved.err
    assert table.read_text().splitlines()[:2] == [
        "Employees,Line Items,Value",
        "Ann,Salary,50000",
    ]
    assert cli("view", "Headcount", "--layout", "GRID_ALL_PAGES").code == ExitCode.USAGE

    large = tmp_path / "large.csv"
    saved = cli("view", "Headcount", "--large", "--out", large, "--layout", "TABULAR_MULTI_COLUMN")
    assert saved.code == ExitCode.OK, saved.err
    assert "large-volume read" in saved.text
    lines = large.read_text().splitlines()
    assert lines[1:] == ["Ann,50000,1,2020-01-01", "Bo,60000,0.5,2021-02-01"]
    assert lines[0].startswith("Employees,")
    assert "read Headcount" in saved.error  # the pages bar (a line when not a terminal)
    report = cli("view", "Headcount", "--large", "--out", large, "--json").json()
    assert report["pages"] == 1
    assert report["bytes"] == large.stat().st_size
    assert cli("view", "Headcount", "--large").code == ExitCode.USAGE  # needs --out


def test_period_shows_and_sets(cli: Cli) -> None:
    assert "current period: (none)" in cli("period").text
    moved = cli("period", "2025-03-15")
    assert moved.code == ExitCode.OK, moved.err
    assert "Mar 25" in moved.text
    assert cli("period", "--json").json()["lastDay"] == "2025-03-31"
    assert cli("period", "15/03/2025").code != ExitCode.OK


def test_users(cli: Cli) -> None:
    listed = cli("users", "--json")
    assert listed.code == ExitCode.OK, listed.err
    assert {user["email"] for user in listed.json()} >= {"demo@example.com"}
    me = cli("users", "--me")
    assert "demo@example.com" in me.text
