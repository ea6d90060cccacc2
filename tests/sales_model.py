"""A small model for the transactional API tests: a two-level hierarchy, properties of every
format, a module by the lower level, and imports and exports over both."""

from __future__ import annotations

from pathlib import Path

EMAIL = "ann@example.com"
PASSWORD = "pw"
WORKSPACE = "Sales WS"
MODEL = "Sales"

SALES_TOML = """
[[users]]
email = "ann@example.com"
password = "pw"
first_name = "Ann"
last_name = "Lee"

[[users]]
email = "bo@example.com"
password = "pw"
first_name = "Bo"
last_name = "Chen"

[[workspaces]]
name = "Sales WS"
admins = ["ann@example.com"]
users = ["bo@example.com"]

[[workspaces.models]]
name = "Sales"

[[workspaces.models.lists]]
name = "Region Groups"
top_level = "Total Regions"
items = [
    { code = "G1", name = "North Group", parent = "Total Regions" },
    { code = "G2", name = "South Group", parent = "Total Regions" },
]

[[workspaces.models.lists]]
name = "Regions"
parent_list = "Region Groups"
properties = [
    { name = "Headcount", format = "number" },
    { name = "Owner", format = "text" },
    { name = "Active", format = "boolean" },
    { name = "Opened", format = "date" },
    { name = "Group", format = "list", list = "Region Groups" },
]
items = [
    { code = "N", name = "North", parent = "G1", Headcount = 12, Owner = "Kim", Active = true },
    { code = "S", name = "South", parent = "G2", Headcount = 7, Owner = "Raj", Active = false },
]

[[workspaces.models.modules]]
name = "Targets"
dimensions = ["Regions"]
line_items = [
    { name = "Target", format = "number" },
    { name = "Note", format = "text" },
]

[[workspaces.models.modules]]
name = "Plan"
dimensions = ["Regions", "Region Groups"]
line_items = [
    { name = "Units", format = "number" },
    { name = "Comment", format = "text" },
    { name = "Approved", format = "boolean" },
    { name = "Due", format = "date" },
    { name = "Lead", format = "list", list = "Region Groups" },
]
views = [
    { name = "By Group", rows = ["Line Items"], columns = ["Regions"], pages = ["Region Groups"] },
    { name = "P&L", rows = ["Regions", "Region Groups"], columns = ["Line Items"] },
]

[[workspaces.models.versions]]
name = "Actual"
actual = true
current = true

[[workspaces.models.versions]]
name = "Forecast"
switchover = "2025-07-01"

[[workspaces.models.versions]]
name = "Budget"

[workspaces.models.calendar]
fiscal_year_start = "2025-04-01"
past_years = 1
future_years = 2
current_period = "2025-05-10"

[[workspaces.models.files]]
name = "regions.csv"
default_content = "Code,Name,Parent,Headcount\\nE,East,G1,3\\nN,North,G1,13\\n"

[[workspaces.models.files]]
name = "targets.csv"
default_content = "Region,Target\\nN,100\\nS,50\\n"

[[workspaces.models.imports]]
name = "Load Regions"
file = "regions.csv"
target_list = "Regions"
mapping = { code = "Code", name = "Name", parent = "Parent", Headcount = "Headcount" }

[[workspaces.models.imports]]
name = "Load Targets"
file = "targets.csv"
target_module = "Targets"
mapping = { Regions = "Region", Target = "Target" }

[[workspaces.models.exports]]
name = "Regions Export"
source_list = "Regions"

[[workspaces.models.exports]]
name = "Targets Export"
source_module = "Targets"
"""


def write_sales_definition(directory: Path) -> Path:
    """Write the definition to `directory/sales.toml` and return its path."""
    path = directory / "sales.toml"
    path.write_text(SALES_TOML, encoding="utf-8")
    return path
