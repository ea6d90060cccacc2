"""Base class shared by every wire model: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """A model of a JSON object that Anaplan sends or accepts.

    Input is lenient: both the wire (camelCase) and the Python (snake_case) names are accepted and
    unknown fields are ignored, because Anaplan adds fields without notice. Output is exact:
    [`to_wire`][anaplan_tasks.models.WireModel.to_wire] writes Anaplan's names.
    """

    model_config = ConfigDict(
        extra="ignore",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """Serialise to Anaplan's JSON shape: camelCase keys, only the fields that were set."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)
