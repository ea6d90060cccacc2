"""Which revisions may be synced into which model, and Anaplan's words when not."""

from __future__ import annotations

import pytest

from anaplan_tasks.emulator.alm.compat import (
    INCOMPATIBLE,
    history_of,
    incompatibility,
    syncable,
)

# Dev: R0 → R1 → R2. Prod was copied at R0, then made its own P1 on top of it.
PARENTS: dict[str, str | None] = {"R0": None, "R1": "R0", "R2": "R1", "P1": "R0"}


def test_history_is_the_revision_and_its_ancestors_newest_first() -> None:
    assert history_of("R2", PARENTS) == ["R2", "R1", "R0"]
    assert history_of("R0", PARENTS) == ["R0"]


def test_a_looping_history_is_reported() -> None:
    with pytest.raises(ValueError, match="loops at A"):
        history_of("A", {"A": "B", "B": "A"})


def test_a_descendant_of_the_targets_latest_revision_is_compatible() -> None:
    assert (
        incompatibility(
            source_revision_id="R2",
            source_history=history_of("R2", PARENTS),
            target_revision_id="R0",
            target_latest_revision_id="R0",
        )
        is None
    )


@pytest.mark.parametrize(
    ("source", "target", "latest"),
    [
        ("R2", "P1", "P1"),  # the target moved on by itself: not in the source's history
        ("R2", "R0", "P1"),  # the caller named a target revision that is not the latest
        ("R0", "R0", "R0"),  # the same revision: nothing to sync
        ("R2", "R0", None),  # the target has no revision at all
    ],
)
def test_incompatible_pairs_fail_with_anaplans_error(
    source: str, target: str, latest: str | None
) -> None:
    failure = incompatibility(
        source_revision_id=source,
        source_history=history_of(source, PARENTS),
        target_revision_id=target,
        target_latest_revision_id=latest,
    )
    assert failure == INCOMPATIBLE
    assert failure.to_error().to_wire() == {
        "title": "The target and source revisions are incompatible",
        "messageText": "Please choose a target and source revision that's compatible.",
    }


def test_syncable_revisions_are_the_newer_descendants_newest_first() -> None:
    assert syncable(["R2", "R1", "R0"], PARENTS, "R0") == ["R2", "R1"]
    assert syncable(["R2", "R1", "R0"], PARENTS, "R1") == ["R2"]
    assert syncable(["R2", "R1", "R0"], PARENTS, "P1") == []
    assert syncable(["R2", "R1", "R0"], PARENTS, None) == []
