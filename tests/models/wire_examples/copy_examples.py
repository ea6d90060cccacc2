"""Copy the JSON task examples of the API reference (§6.5 and §9) into this folder, verbatim.

Run from the repository root when the reference changes:

    python tests/models/wire_examples/copy_examples.py ../shared/anaplan-api.md          # write
    python tests/models/wire_examples/copy_examples.py ../shared/anaplan-api.md --check  # compare

A task example is a ```json fence of those sections with a `taskId`. Each is named by its
(taskId, taskState) in `NAMES`; an example not named there stops the copy, so a new example in
the reference cannot go unnoticed (name it here, then add it to the test's expected-class table).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent

# (taskId, taskState) of each documented example -> file name (without .json).
NAMES: dict[tuple[str, str], str] = {
    ("3F9A1C7E5B2D4E8F9A0B1C2D3E4F5A6B", "COMPLETE"): "import_success",
    ("5A6B7C8D9E0F41A2B3C4D5E6F7A8B9C0", "COMPLETE"): "export_complete",
    ("7E6D5C4B3A2948F1A0B9C8D7E6F5A4B3", "COMPLETE"): "process_complete_nested_results",
    ("1A2B3C4D5E6F47089A1B2C3D4E5F6071", "COMPLETE"): "action_failed",
    ("9C8B7A6F5E4D43C2B1A0998877665544", "CANCELLED"): "task_cancelled",
    ("6D5C4B3A29184F7E8D9C0B1A2F3E4D5C", "IN_PROGRESS"): "sync_task_started",
    ("6D5C4B3A29184F7E8D9C0B1A2F3E4D5C", "COMPLETE"): "sync_task_complete",
    ("2B3C4D5E6F7081920A1B2C3D4E5F6A7B", "COMPLETE"): "sync_task_failed",
    ("8F7E6D5C4B3A42918070F1E2D3C4B5A6", "COMPLETE"): "comparison_report_complete",
}

_FENCE = re.compile(r"^```json\n(.*?)^```", re.MULTILINE | re.DOTALL)


def sections(reference: str) -> list[str]:
    """The text of §6.5 (up to §6.6) and §9 (up to §10)."""
    bulk = reference.split("### 6.5 ", 1)[1].split("### 6.6 ", 1)[0]
    alm = reference.split("## 9. ", 1)[1].split("## 10. ", 1)[0]
    return [bulk, alm]


def task_examples(reference: str) -> dict[str, str]:
    """Every task example of the sections, by file name, as the exact fence text."""
    found: dict[str, str] = {}
    for section in sections(reference):
        for match in _FENCE.finditer(section):
            text = match.group(1)
            data = json.loads(text)
            task = data.get("task", data)
            if "taskId" not in task:
                continue  # a request body, a revision or a report: not a task
            key = (task["taskId"], task["taskState"])
            if key not in NAMES:
                raise SystemExit(f"unnamed task example {key}: add it to NAMES in {__file__}")
            found[NAMES[key]] = text
    missing = set(NAMES.values()) - set(found)
    if missing:
        raise SystemExit(f"examples no longer in the reference: {sorted(missing)}")
    return found


def main(argv: list[str]) -> int:
    """Write (or with --check, compare) the copies; returns the process exit code."""
    reference = Path(argv[0]).read_text(encoding="utf-8")
    check = "--check" in argv[1:]
    stale = []
    for name, text in task_examples(reference).items():
        path = HERE / f"{name}.json"
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"copies differ from the reference: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
