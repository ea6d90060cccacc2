"""Failure details of a real import: every rejected row's reason is found, by code and count."""

from __future__ import annotations

import pytest

from anaplan_tasks import Client, TaskFailedError
from anaplan_tasks.emulator.demo import bad_rows_of, generate_employees_csv


def test_every_kind_of_rejected_row_is_a_failure_detail_and_in_the_message(
    client: Client,
) -> None:
    rows, bad = 400, 4
    client.files.upload("employees.csv", b"".join(generate_employees_csv(rows, bad)))
    with pytest.raises(TaskFailedError) as caught:
        client.imports.run("Load Employees", fail_on_rejected_rows=True)
    failure = caught.value
    codes = {detail.type for detail in failure.failure_details}
    assert "hierarchyImportDuplicateKeyInSource" in codes
    rejected = [kind for kind in bad_rows_of(rows, bad).values() if kind != "malformed number"]
    reasons = [d for d in failure.failure_details if d.occurrences]
    assert (
        sum(d.occurrences for d in reasons) == len(rejected) == failure.task.result.failed_row_count
    )
    assert "Duplicate code in source (1 rows)" in str(failure)
    assert failure.task.describe().split(": ")[-1] in {d.text for d in reasons}
