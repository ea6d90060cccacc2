"""Two model structures and the exact changes between them, shared by the ALM tests."""

from __future__ import annotations

from typing import Any

from anaplan_tasks.emulator.definitions import ModelDef


def base_model(**overrides: Any) -> ModelDef:
    """A small planning model: the target before a sync."""
    data: dict[str, Any] = {
        "name": "FP&A Prod",
        "origin": "FP&A Dev",
        "lists": [
            {
                "name": "Regions",
                "top_level": "Total Region",
                "properties": [{"name": "Manager", "format": "text"}],
                "items": [{"code": "EU", "name": "Europe"}],
            },
            {"name": "Products", "properties": [{"name": "Discontinued", "format": "boolean"}]},
            {"name": "Cost Centers"},
        ],
        "modules": [
            {
                "name": "Revenue",
                "dimensions": ["Regions", "Products"],
                "line_items": [
                    {"name": "Units"},
                    {"name": "Price"},
                    {"name": "Revenue"},
                ],
            },
            {"name": "Headcount", "dimensions": ["Regions"], "line_items": [{"name": "FTE"}]},
        ],
        "files": [{"name": "Sales.csv"}],
        "imports": [
            {
                "name": "Load Sales",
                "file": "Sales.csv",
                "target_module": "Revenue",
                "mapping": {"Regions": "Region", "Units": "Units"},
            }
        ],
        "exports": [{"name": "Revenue Export", "source_module": "Revenue"}],
        "delete_actions": [
            {"name": "Clear Products", "list": "Products", "selector": "Discontinued"}
        ],
        "processes": [{"name": "Nightly", "actions": ["Load Sales", "Revenue Export"]}],
    }
    data.update(overrides)
    return ModelDef.model_validate(data)


def changed_model() -> ModelDef:
    """The source revision's structure: `base_model` with the changes of `EXPECTED` made."""
    base = base_model()
    return ModelDef.model_validate(
        {
            "name": "FP&A Dev",
            "lists": [
                {
                    "name": "Regions",
                    "top_level": "All Regions",
                    "properties": [
                        {"name": "Manager", "format": "list", "list": "Employees"},
                        {"name": "Currency", "format": "text"},
                    ],
                    "items": [{"code": "US", "name": "United States"}],
                },
                {"name": "Products", "properties": [{"name": "Discontinued", "format": "boolean"}]},
                {"name": "Channels", "properties": [{"name": "Owner"}]},
            ],
            "modules": [
                {
                    "name": "Revenue",
                    "dimensions": ["Regions", "Products", "Channels"],
                    "line_items": [
                        {"name": "Price", "format": "text"},
                        {"name": "Revenue"},
                        {"name": "Margin"},
                    ],
                },
                {
                    "name": "Pricing",
                    "dimensions": ["Products", "Channels"],
                    "line_items": [{"name": "List Price"}, {"name": "Discount"}],
                },
            ],
            "files": [{"name": "Sales.csv", "separator": ";"}, {"name": "Prices.csv"}],
            "imports": [
                {
                    "name": "Load Sales",
                    "file": "Sales.csv",
                    "target_module": "Revenue",
                    "mapping": {"Regions": "Region", "Units": "Quantity"},
                }
            ],
            "exports": [
                base.exports[0].model_dump(),
                {"name": "Pricing Export", "source_module": "Pricing", "format": "tsv"},
            ],
            "processes": [
                {"name": "Nightly", "actions": ["Load Sales"]},
                {"name": "Weekly", "actions": ["Pricing Export"]},
            ],
        }
    )


EXPECTED: dict[str, dict[str, set[str]]] = {
    "lists": {"created": {"Channels"}, "modified": {"Regions"}, "deleted": {"Cost Centers"}},
    "modules": {"created": {"Pricing"}, "modified": {"Revenue"}, "deleted": {"Headcount"}},
    "lineItems": {
        "created": {"Pricing/List Price", "Pricing/Discount", "Revenue/Margin"},
        "modified": {"Revenue/Price"},
        "deleted": {"Revenue/Units", "Headcount/FTE"},
    },
    "actions": {
        "created": {"Export/Pricing Export"},
        "modified": {"Import/Load Sales"},
        "deleted": {"Delete/Clear Products"},
    },
    "processes": {"created": {"Weekly"}, "modified": {"Nightly"}},
    "importDataSources": {"created": {"Prices.csv"}, "modified": {"Sales.csv"}},
}
"""Every change from `base_model()` to `changed_model()`, by category and kind."""
