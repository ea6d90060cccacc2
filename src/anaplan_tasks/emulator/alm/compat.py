"""When a source revision may be synced into a target model, and what Anaplan says when not.

Anaplan's rule: the models must share an origin and "the target model version must be in the
revision history of the source". The emulator keeps, for every revision, the revision it was made
on top of (its parent): a model's first revision has none, a revision created in a model has that
model's latest revision as parent, and a model created from another (`origin`) starts at the
origin's latest revision. The history of a revision is itself and its ancestors.

A source revision is compatible with a target when, and only when:

1. the `targetRevisionId` asked for is the target model's latest revision,
2. the source revision is not that same revision (there would be nothing to sync), and
3. the target's latest revision is in the source revision's history.

Otherwise a sync, comparison or summary task ends `COMPLETE` with `currentStep: "Failed."` and
Anaplan's error below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ...models import AlmTaskError

INCOMPATIBLE_TITLE = "The target and source revisions are incompatible"
"""Anaplan's `result.error.title` for revisions that cannot be compared or synced."""

INCOMPATIBLE_MESSAGE = "Please choose a target and source revision that's compatible."
"""Anaplan's `result.error.messageText` that goes with it."""


@dataclass(frozen=True)
class AlmFailure:
    """Why an ALM task failed, as its `result.error` says it."""

    title: str
    message_text: str
    subtitle: str | None = None

    def to_error(self) -> AlmTaskError:
        """The wire model of this failure."""
        wire = {"title": self.title, "messageText": self.message_text}
        if self.subtitle is not None:
            wire["subtitle"] = self.subtitle
        return AlmTaskError.model_validate(wire)


INCOMPATIBLE = AlmFailure(INCOMPATIBLE_TITLE, INCOMPATIBLE_MESSAGE)
"""The failure of an incompatible pair of revisions."""


def history_of(revision_id: str, parent_of: Mapping[str, str | None]) -> list[str]:
    """The revision and its ancestors, newest first.

    Args:
        revision_id: Where to start.
        parent_of: Each known revision's parent (None for a first revision).

    Raises:
        ValueError: The parent links loop (a broken store).
    """
    history: list[str] = []
    current: str | None = revision_id
    while current is not None:
        if current in history:
            raise ValueError(f"revision history loops at {current}")
        history.append(current)
        current = parent_of.get(current)
    return history


def incompatibility(
    *,
    source_revision_id: str,
    source_history: Sequence[str],
    target_revision_id: str,
    target_latest_revision_id: str | None,
) -> AlmFailure | None:
    """Why the source revision cannot go into the target, or None when it can.

    Args:
        source_revision_id: The revision to sync (or compare).
        source_history: That revision's history (`history_of`), itself included.
        target_revision_id: The target revision the caller named.
        target_latest_revision_id: The target model's actual latest revision (None if it has none).
    """
    if target_latest_revision_id is None or target_revision_id != target_latest_revision_id:
        return INCOMPATIBLE
    if source_revision_id == target_revision_id:
        return INCOMPATIBLE
    if target_revision_id not in source_history:
        return INCOMPATIBLE
    return None


def syncable(
    source_revisions_newest_first: Sequence[str],
    parent_of: Mapping[str, str | None],
    target_latest_revision_id: str | None,
) -> list[str]:
    """The source revisions that could be synced into the target, newest first."""
    if target_latest_revision_id is None:
        return []
    return [
        revision_id
        for revision_id in source_revisions_newest_first
        if revision_id != target_latest_revision_id
        and target_latest_revision_id in history_of(revision_id, parent_of)
    ]
