"""ALM objects other than tasks: revisions, the models a revision went to, summary reports."""

from __future__ import annotations

from pydantic import Field

from ._base import WireModel


class Revision(WireModel):
    """A named snapshot of a model's structure."""

    id: str = Field(description="32 upper-case hex characters.")
    name: str = Field(description="The revision's name (at most 60 characters).")
    description: str | None = Field(default=None, description="At most 250 characters.")
    created_on: str | None = Field(default=None, description="ISO-8601 UTC, seconds, 'Z'.")
    created_by: str | None = Field(default=None, description="Creator's user guid.")
    creation_method: str | None = Field(default=None, description="How it was created.")
    applied_on: str | None = Field(default=None, description="When applied, ISO-8601 UTC.")
    applied_by: str | None = Field(default=None, description="Who applied it (user guid).")


class AppliedToModel(WireModel):
    """A model a revision was applied to."""

    model_id: str = Field(description="The model's id.")
    model_name: str = Field(default="", description="'' when the caller cannot see the model.")
    workspace_id: str | None = Field(default=None, description="The model's workspace.")
    applied_by: str | None = Field(default=None, description="Who applied it.")
    applied_on: str | None = Field(default=None, description="When, ISO-8601 UTC.")
    applied_method: str | None = Field(default=None, description="How it was applied.")
    model_deleted: bool | None = Field(default=None, description="True for a deleted model.")


class ChangeCounts(WireModel):
    """Counts of created, modified and deleted objects; zero counters are omitted on the wire."""

    created: int = Field(default=0, description="Objects created.")
    modified: int = Field(default=0, description="Objects modified.")
    deleted: int = Field(default=0, description="Objects deleted.")


class SummaryReport(WireModel):
    """The summary of what a sync from the source revision would change in the target."""

    target_revision_id: str = Field(description="The target model's revision.")
    source_revision_id: str = Field(description="The source model's revision.")
    totals: ChangeCounts = Field(default_factory=ChangeCounts, description="All categories.")
    differences: dict[str, ChangeCounts] = Field(
        default_factory=dict,
        description="Per category (lists, modules, lineItems, rolesContents, …).",
    )
