"""Run anaplan-sdk 0.5.22's CloudWorks client (`client.cw`, its 30 methods, flows included)
unchanged against the emulator; only its hosts are redirected (an httpx2 transport).

anaplan-sdk is never a dependency: build its environment first, then run this with it.

    sh benchmarks/client_venv.sh /tmp/cw-sdk-venv
    /tmp/cw-sdk-venv/bin/python tests/outside/anaplan_sdk_cloudworks.py \
        --emulator-python .venv/bin/python

The emulator gets a definition naming a bucket (a temporary directory) for the S3 connection;
the runs then move real rows: an import integration loads the bucket's CSV into the model (a
bad row lands in the dump), an export integration writes its file into the bucket.

Prints one line per SDK method (PASS, XFAIL with the SDK defect that makes it fail against
Anaplan too, or FAIL and why) and exits 1 when a method fails otherwise.
"""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks._client_common import arguments, emulator, sdk_client  # noqa: E402

Check = tuple[str, Callable[[], Any], Callable[[Any], bool]]

KEY, SECRET = "AKIAEMULATOR", "emulator-secret"
CSV = (
    '"Employee ID",Name,Region,"Start Date",Active,Salary,FTE\n'
    "E0000001,Ann Lee,NA,2024-01-02,true,100000,1\n"
    "E0000002,Bo Kim,EMEA,2024-02-03,true,90000,0.5\n"
    "E0000003,Cy Tan,MARS,2024-03-04,true,80000,1\n"  # no such region: rejected, dumped
)

SDK_DEFECTS: dict[str, str] = {}
"""Methods that fail because of anaplan-sdk itself (against Anaplan too), with the reason."""


def main() -> int:
    options = arguments(__doc__ or "").parse_args()
    results: list[tuple[str, bool, str]] = []
    bucket = Path(tempfile.mkdtemp(prefix="cw-sdk-bucket-"))
    (bucket / "in").mkdir()
    (bucket / "in" / "employees.csv").write_text(CSV, encoding="utf-8")
    definition = bucket.parent / f"{bucket.name}.toml"
    definition.write_text(
        f'[[buckets]]\nname = "landing"\npath = "{bucket}"\n'
        f'access_key_id = "{KEY}"\nsecret_access_key = "{SECRET}"\n',
        encoding="utf-8",
    )
    with emulator(options.emulator_python, definition=definition) as emu:
        client = sdk_client(emu, emu.dev_model_id)
        cw = client.cw
        base = f"{emu.base_url}/2/0/models/{emu.dev_model_id}"
        found: dict[str, Any] = {"workspace": emu.workspace_id, "model": emu.dev_model_id}
        ids = _catalogue(emu.base_url, base)  # plain requests: the ids the SDK is given

        def remember(key: str, value: Any) -> Any:
            found[key] = value
            return value

        def s3(name: str) -> dict[str, Any]:
            return {
                "type": "AmazonS3",
                "body": {
                    "name": name,
                    "bucket_name": "landing",
                    "access_key_id": KEY,
                    "secret_access_key": SECRET,
                    "workspace_id": emu.workspace_id,
                },
            }

        def import_integration(name: str) -> dict[str, Any]:
            return {
                "name": name,
                "workspace_id": emu.workspace_id,
                "model_id": emu.dev_model_id,
                "jobs": [
                    {
                        "type": "AmazonS3ToAnaplan",
                        "sources": [
                            {
                                "type": "AmazonS3",
                                "connection_id": found["connection"],
                                "file": "in/employees.csv",
                            }
                        ],
                        "targets": [
                            {
                                "type": "Anaplan",
                                "action_id": int(ids["Load Employees"]),
                                "file_id": int(ids["employees.csv"]),
                            }
                        ],
                    }
                ],
            }

        def export_integration() -> dict[str, Any]:
            return {
                "name": "Send headcount",
                "workspace_id": emu.workspace_id,
                "model_id": emu.dev_model_id,
                "jobs": [
                    {
                        "type": "AnaplanToAmazonS3",
                        "sources": [{"type": "Anaplan", "action_id": int(ids["Headcount Export"])}],
                        "targets": [
                            {
                                "type": "AmazonS3",
                                "connection_id": found["connection"],
                                "file": "out/",
                            }
                        ],
                    }
                ],
            }

        def process_integration() -> dict[str, Any]:
            return {
                "name": "Nightly",
                "workspace_id": emu.workspace_id,
                "model_id": emu.dev_model_id,
                "process_id": int(ids["Nightly Load"]),
            }

        def wait(run_id: str) -> Any:
            deadline = time.monotonic() + 60
            while (status := cw.get_run_status(run_id)).end_date is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"run {run_id} did not end")
                time.sleep(0.05)
            return status

        schedule = {
            "name": "Mornings",
            "type": "weekly",
            "timezone": "Europe/London",
            "time": "06:00",
            "days_of_week": [1, 2, 3, 4, 5],
            "start_date": time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86_400)),
        }
        me = _my_id(emu.base_url)
        notification = {
            "integration_ids": [],
            "channels": ["email"],
            "notifications": {"config": [{"type": "full_failure", "users": [me]}]},
        }

        def with_integration(config: dict[str, Any]) -> dict[str, Any]:
            return {**config, "integration_ids": [found["import"]]}

        checks: list[Check] = [
            (
                "create_connection",
                lambda: remember("connection", cw.create_connection(s3("landing zone"))),
                lambda r: len(r) == 32,
            ),
            (
                "get_connections",
                lambda: cw.get_connections(),
                lambda r: [c.body.name for c in r] == ["landing zone"],
            ),
            (
                "update_connection",
                lambda: cw.update_connection(
                    found["connection"],
                    {  # its dict form tells the type by camel-case keys (`secretAccessKey`)
                        "name": "landing",
                        "bucketName": "landing",
                        "accessKeyId": KEY,
                        "secretAccessKey": SECRET,
                        "workspaceId": emu.workspace_id,
                    },
                ),
                lambda r: r is None,
            ),
            (
                "patch_connection",
                lambda: cw.patch_connection(found["connection"], {"name": "patched"}),
                lambda r: r is None and cw.get_connections()[0].body.name == "patched",
            ),
            (
                "create_integration",
                lambda: remember("import", cw.create_integration(import_integration("Load"))),
                lambda r: len(r) == 32,
            ),
            (
                "create_integration(export)",
                lambda: remember("export", cw.create_integration(export_integration())),
                lambda r: len(r) == 32,
            ),
            (
                "create_integration(process)",
                lambda: remember("process", cw.create_integration(process_integration())),
                lambda r: len(r) == 32,
            ),
            (
                "get_integrations",
                lambda: cw.get_integrations("name"),
                lambda r: [i.integration_type for i in r] == ["Import", "Process", "Export"],
            ),
            (
                "get_integration",
                lambda: cw.get_integration(found["import"]),
                lambda r: r.jobs is not None and r.jobs[0].sources[0].connection_name == "patched",
            ),
            (
                "update_integration",
                lambda: cw.update_integration(found["import"], import_integration("Load rows")),
                lambda r: r is None and cw.get_integration(found["import"]).name == "Load rows",
            ),
            (
                "run_integration",
                lambda: remember("run", cw.run_integration(found["import"])),
                lambda r: len(r) == 32,
            ),
            (
                "get_run_status",
                lambda: wait(found["run"]),
                lambda r: r.success is False and r.execution_error_code == 38,
            ),
            (
                "get_run_history",
                lambda: cw.get_run_history(found["import"]),
                lambda r: [run.id for run in r] == [found["run"]],
            ),
            (
                "get_run_error",
                lambda: cw.get_run_error(found["run"]),
                lambda r: r is not None and r.error_messages[0].failure_dump_generated,
            ),
            (
                "get_import_error_dump",
                lambda: cw.get_import_error_dump(found["run"]),
                lambda r: b"E0000003" in r and b"E0000001" not in r,
            ),
            (
                "get_process_error_dump",
                lambda: _process_dump(cw, wait, found, ids),
                lambda r: b"E0000003" in r,
            ),
            (
                "run_integration(export)",
                lambda: wait(cw.run_integration(found["export"])),
                lambda r: r.success and b"E0000001" in _only_file(bucket / "out"),
            ),
            (
                "create_schedule",
                lambda: cw.create_schedule(found["import"], schedule),
                lambda r: cw.get_integration(found["import"]).schedule.status == "Active",
            ),
            (
                "update_schedule",
                lambda: cw.update_schedule(found["import"], {**schedule, "time": "07:30"}),
                lambda r: cw.get_integration(found["import"]).schedule.time == "07:30",
            ),
            (
                "set_schedule_status",
                lambda: cw.set_schedule_status(found["import"], "disabled"),
                lambda r: cw.get_integration(found["import"]).schedule.status == "Inactive",
            ),
            (
                "delete_schedule",
                lambda: cw.delete_schedule(found["import"]),
                lambda r: cw.get_integration(found["import"]).schedule is None,
            ),
            (
                "get_notification_config",
                lambda: cw.get_notification_config(integration_id=found["import"]),
                lambda r: r.integration_ids == [found["import"]],
            ),
            (
                "update_notification_config",
                lambda: cw.update_notification_config(
                    cw.get_integration(found["import"]).notification_id,
                    with_integration(notification),
                ),
                lambda r: (
                    cw.get_notification_config(integration_id=found["import"])
                    .notifications.config[0]
                    .users[0]
                    .first_name
                    == "Demo"
                ),
            ),
            (
                "delete_notification_config",
                lambda: cw.delete_notification_config(integration_id=found["import"]),
                lambda r: cw.get_integration(found["import"]).notification_id is None,
            ),
            (
                "create_notification_config",
                lambda: cw.create_notification_config(with_integration(notification)),
                lambda r: cw.get_integration(found["import"]).notification_id == r,
            ),
            (
                "flows.create_flow",
                lambda: remember(
                    "flow",
                    cw.flows.create_flow(
                        {
                            "name": "Load then send",
                            "steps": [
                                {"referrer": found["import"], "depends_on": []},
                                {"referrer": found["export"], "depends_on": [found["import"]]},
                            ],
                        }
                    ),
                ),
                lambda r: len(r) == 32,
            ),
            (
                "flows.get_flows",
                lambda: cw.flows.get_flows(),
                lambda r: [(f.id, f.steps_count) for f in r] == [(found["flow"], 2)],
            ),
            (
                "flows.get_flow",
                lambda: cw.flows.get_flow(found["flow"]),
                lambda r: [s.type for s in r.steps] == ["Import", "Export"],
            ),
            (
                "flows.update_flow",
                lambda: cw.flows.update_flow(
                    found["flow"],
                    {
                        "name": "Load, then send",
                        "steps": [
                            {"referrer": found["import"], "depends_on": []},
                            {"referrer": found["export"], "depends_on": [found["import"]]},
                        ],
                    },
                ),
                lambda r: cw.flows.get_flow(found["flow"]).name == "Load, then send",
            ),
            (
                "flows.run_flow",
                lambda: _run_flow(cw, found["flow"]),
                lambda r: r is not None and r.end_date is not None,
            ),
            ("flows.delete_flow", lambda: cw.flows.delete_flow(found["flow"]), lambda r: r is None),
            (
                "delete_integration",
                lambda: [cw.delete_integration(found[k]) for k in ("import", "export", "process")],
                lambda r: cw.get_integrations() == [],
            ),
            (
                "delete_connection",
                lambda: cw.delete_connection(found["connection"]),
                lambda r: cw.get_connections() == [],
            ),
        ]
        for name, call, accept in checks:
            try:
                value = call()
                ok = bool(accept(value))
                results.append((name, ok, "" if ok else f"unexpected result: {value!r}"[:300]))
            except Exception as error:  # every failure is reported, none stops the run
                last = traceback.extract_tb(error.__traceback__)[-1]
                where = f"{Path(last.filename).name}:{last.lineno}"
                results.append((name, False, f"{type(error).__name__}: {error} ({where})"[:300]))
    unexpected = 0
    for name, ok, why in results:
        if not ok and name in SDK_DEFECTS:
            print(f"XFAIL {name}  {SDK_DEFECTS[name]}")
            continue
        unexpected += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {name}{'  ' + why if why else ''}")
    passed = sum(ok for _, ok, _ in results)
    defects = len(results) - passed - unexpected
    print(
        f"{passed}/{len(results)} passed; {defects} fail because of the SDK, {unexpected} otherwise"
    )
    return 0 if unexpected == 0 else 1


def _headers(base_url: str) -> dict[str, str]:
    import httpx2

    token = httpx2.post(f"{base_url}/token/authenticate", auth=("demo@example.com", "demo")).json()[
        "tokenInfo"
    ]["tokenValue"]
    return {"Authorization": f"AnaplanAuthToken {token}"}


def _catalogue(base_url: str, model_base: str) -> dict[str, str]:
    """Ids of the demo model's actions and files by name (plain requests, not the SDK)."""
    import httpx2

    headers = _headers(base_url)
    ids: dict[str, str] = {}
    for kind in ("imports", "exports", "processes", "files"):
        for item in httpx2.get(f"{model_base}/{kind}", headers=headers).json().get(kind, []):
            ids[item["name"]] = item["id"]
    return ids


def _my_id(base_url: str) -> str:
    import httpx2

    user = httpx2.get(f"{base_url}/2/0/users/me", headers=_headers(base_url)).json()["user"]
    return str(user["id"])


def _process_dump(
    cw: Any, wait: Callable[[str], Any], found: dict[str, Any], ids: dict[str, str]
) -> bytes:
    """A process integration whose import job stages the bucket's file; its import's dump."""
    body = {
        "name": "Nightly with files",
        "workspace_id": found["workspace"],
        "model_id": found["model"],
        "process_id": int(ids["Nightly Load"]),
        "jobs": [
            {
                "type": "AmazonS3ToAnaplan",
                "sources": [
                    {
                        "type": "AmazonS3",
                        "connection_id": found["connection"],
                        "file": "in/employees.csv",
                    }
                ],
                "targets": [
                    {
                        "type": "Anaplan",
                        "action_id": int(ids["Load Employees"]),
                        "file_id": int(ids["employees.csv"]),
                    }
                ],
            }
        ],
    }
    integration_id = cw.create_integration(body)
    try:
        run_id = cw.run_integration(integration_id)
        wait(run_id)
        error = cw.get_run_error(run_id)
        action_id = next(m.action_id for m in error.error_messages if m.failure_dump_generated)
        dump: bytes = cw.get_process_error_dump(run_id, action_id)
        return dump
    finally:
        cw.delete_integration(integration_id)


def _only_file(folder: Path) -> bytes:
    (path,) = folder.iterdir()
    return path.read_bytes()


def _run_flow(cw: Any, flow_id: str) -> Any:
    cw.flows.run_flow(flow_id)
    deadline = time.monotonic() + 60
    while True:
        latest = cw.flows.get_flow(flow_id).latest_run
        if latest is not None and latest.end_date is not None:
            return latest
        if time.monotonic() > deadline:
            raise TimeoutError("the flow did not end")
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
