"""The demo workspace (`--demo`) and a generator of its `employees.csv`.

Names here are relied on by the demo script and by outside checks: keep them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from .definitions import Definition, parse_definition

DEMO_USER = "demo@example.com"
DEMO_PASSWORD = "demo"
VIEWER_USER = "viewer@example.com"
VIEWER_PASSWORD = "viewer"
DEMO_DEVICE_CLIENT_ID = "de71ce00c11e4700a000000000000001"
"""The demo's device-grant OAuth client (rotating refresh tokens; no secret)."""
DEMO_WEB_CLIENT_ID = "c0de0000c11e4700a000000000000002"
"""The demo's authorization-code OAuth client (non-rotating refresh tokens)."""
DEMO_WEB_CLIENT_SECRET = "demo-secret"
DEMO_REDIRECT_URIS = ("http://127.0.0.1:8765/callback", "http://localhost:8765/callback")
DEMO_WORKSPACE = "Demo Workspace"
DEV_MODEL = "FP&A Dev"
PROD_MODEL = "FP&A Prod"
REGION_CODES = ("NA", "EMEA", "APAC", "LATAM")
EMPLOYEES_HEADER = ("Employee ID", "Name", "Region", "Start Date", "Active", "Salary", "FTE")
UNRELEASED_LIST = "Scenarios"
"""A list the dev model has and no revision holds yet: dev starts with an untagged structural
change, so `alm create-revision` -> `alm compare` -> `alm sync` works on a fresh emulator."""

_MODEL_BODY = """
[[workspaces.models.lists]]
name = "Regions"
top_level = "Total Region"
items = [
    { code = "NA", name = "North America", parent = "Total Region" },
    { code = "EMEA", name = "Europe, Middle East and Africa", parent = "Total Region" },
    { code = "APAC", name = "Asia Pacific", parent = "Total Region" },
    { code = "LATAM", name = "Latin America", parent = "Total Region" },
]

[[workspaces.models.lists]]
name = "Employees"
properties = [
    { name = "Region", format = "list", list = "Regions" },
    { name = "Start Date", format = "date" },
    { name = "Active", format = "boolean" },
]

[[workspaces.models.modules]]
name = "Headcount"
dimensions = ["Employees"]
line_items = [
    { name = "Salary", format = "number" },
    { name = "FTE", format = "number" },
    { name = "Start Date", format = "date" },
]

[[workspaces.models.files]]
name = "employees.csv"

[[workspaces.models.imports]]
name = "Load Employees"
file = "employees.csv"
target_list = "Employees"
[workspaces.models.imports.mapping]
code = "Employee ID"
name = "Name"
Region = "Region"
"Start Date" = "Start Date"
Active = "Active"

[[workspaces.models.imports]]
name = "Load Headcount"
file = "employees.csv"
target_module = "Headcount"
[workspaces.models.imports.mapping]
Employees = "Employee ID"
Salary = "Salary"
FTE = "FTE"
"Start Date" = "Start Date"

[[workspaces.models.exports]]
name = "Headcount Export"
source_module = "Headcount"

[[workspaces.models.delete_actions]]
name = "Remove Inactive Employees"
list = "Employees"
selector = "Active"
select_when = false

[[workspaces.models.processes]]
name = "Nightly Load"
actions = ["Load Employees", "Load Headcount", "Remove Inactive Employees", "Headcount Export"]

[[workspaces.models.roles]]
name = "Viewer"

[workspaces.models.members]
"{viewer}" = "Viewer"
"""

DEMO_DEFINITION_TOML = (
    f"""
[[users]]
email = "{DEMO_USER}"
password = "{DEMO_PASSWORD}"
first_name = "Demo"
last_name = "User"

[[users]]
email = "{VIEWER_USER}"
password = "{VIEWER_PASSWORD}"
first_name = "View"
last_name = "Only"

[[oauth_clients]]
name = "Demo Device"
client_id = "{DEMO_DEVICE_CLIENT_ID}"
grant = "device_code"
rotating = true

[[oauth_clients]]
name = "Demo Web"
client_id = "{DEMO_WEB_CLIENT_ID}"
grant = "authorization_code"
client_secret = "{DEMO_WEB_CLIENT_SECRET}"
redirect_uris = {list(DEMO_REDIRECT_URIS)!r}
rotating = false

[[workspaces]]
name = "{DEMO_WORKSPACE}"
admins = ["{DEMO_USER}"]
users = ["{VIEWER_USER}"]

[[workspaces.models]]
name = "{DEV_MODEL}"
origin = "{PROD_MODEL}"
"""
    + _MODEL_BODY.replace("{viewer}", VIEWER_USER)
    + f"""
[[workspaces.models.lists]]
name = "{UNRELEASED_LIST}"

[[workspaces.models]]
name = "{PROD_MODEL}"
"""
    + _MODEL_BODY.replace("{viewer}", VIEWER_USER)
)
"""The demo workspace as a definition file (TOML): also an example of the format.

"FP&A Dev" is a copy of "FP&A Prod" (they share prod's first revision) plus the list
`UNRELEASED_LIST`, a structural change no revision holds yet."""


def demo_definition() -> Definition:
    """The demo workspace: users, workspace "Demo Workspace", models "FP&A Dev" and "FP&A Prod"."""
    return parse_definition(DEMO_DEFINITION_TOML, source="<demo>")


BadRowKind = Literal["unknown region", "malformed date", "malformed number", "duplicate id"]
BAD_ROW_KINDS: tuple[BadRowKind, ...] = (
    "unknown region",
    "malformed date",
    "malformed number",
    "duplicate id",
)

_FIRST = ("Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas")
_LAST = ("Ng", "Okafor", "Smith", "Tanaka", "Varga", "Weber", "Xu", "Young", "Zhou", "Silva")
_EPOCH = date(2010, 1, 1)
_BATCH = 10_000


def bad_rows_of(rows: int, bad_rows: int) -> dict[int, BadRowKind]:
    """Which data rows (1-based) `generate_employees_csv` makes bad, and how.

    Bad rows are spread evenly and cycle through the four kinds. The file line of data row `n`
    is `n + 1` (line 1 is the header).
    """
    if bad_rows < 0 or rows < 0:
        raise ValueError("rows and bad_rows must not be negative")
    if bad_rows and rows < 2 * bad_rows + 1:
        raise ValueError(f"{bad_rows} bad rows need at least {2 * bad_rows + 1} rows")
    step = rows // (bad_rows + 1) if bad_rows else 0
    return {(index + 1) * step: BAD_ROW_KINDS[index % 4] for index in range(bad_rows)}


def _row(number: int, rng: random.Random) -> list[str]:
    start = _EPOCH + timedelta(days=rng.randrange(5800))
    return [
        f"E{number:07d}",
        f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        rng.choice(REGION_CODES),
        start.isoformat(),
        "true" if rng.random() < 0.9 else "false",
        str(rng.randrange(40_000, 200_000, 500)),
        rng.choice(("1", "1", "1", "0.5", "0.8")),
    ]


def generate_employees_csv(rows: int, bad_rows: int = 0, seed: int = 0) -> Iterator[bytes]:
    """Stream an `employees.csv` of `rows` data rows (UTF-8, header first).

    With `bad_rows`, that many rows (spread evenly, see `bad_rows_of`) are deliberately wrong:
    an unknown region, a malformed date, a malformed salary, or an employee id repeated from the
    row before. Output is deterministic for a seed.
    """
    bad = bad_rows_of(rows, bad_rows)
    rng = random.Random(seed)
    lines = [",".join(f'"{h}"' if " " in h else h for h in EMPLOYEES_HEADER)]
    for number in range(1, rows + 1):
        row = _row(number, rng)
        kind = bad.get(number)
        if kind == "unknown region":
            row[2] = "ATLANTIS"
        elif kind == "malformed date":
            row[3] = "31/02/2024"
        elif kind == "malformed number":
            row[5] = "12O00"
        elif kind == "duplicate id":
            row[0] = f"E{number - 1:07d}"
        lines.append(",".join(row))
        if len(lines) >= _BATCH:
            yield ("\n".join(lines) + "\n").encode("utf-8")
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode("utf-8")


def write_employees_csv(path: str | Path, rows: int, bad_rows: int = 0, seed: int = 0) -> Path:
    """Write `generate_employees_csv(...)` to a file; returns its path."""
    target = Path(path)
    with target.open("wb") as out:
        for block in generate_employees_csv(rows, bad_rows, seed):
            out.write(block)
    return target
