"""Nightly Anaplan load: upload, import, process, export, then promote dev's structure to prod.

Copy into your DAGs folder. It needs an `anaplan` connection named `anaplan_default` (workspace
and model in its extra; for the emulator, its URL as the host) and `pip install
'anaplan-tasks[airflow]'` on the scheduler, workers and triggerer.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, ObjectStoragePath

from anaplan_tasks.airflow.operators import (
    AnaplanAlmSyncOperator,
    AnaplanExportOperator,
    AnaplanImportOperator,
    AnaplanProcessOperator,
)
from anaplan_tasks.airflow.sensors import AnaplanTaskSensor

# Where the warehouse lands its extracts: file://…, or s3://…, gs://… with their providers.
LANDING = ObjectStoragePath(os.environ.get("ANAPLAN_LANDING", "file:///data/anaplan"))

with DAG(
    dag_id="anaplan_nightly",
    schedule="0 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["anaplan"],
) as dag:
    # Upload the warehouse's extract to the import's file, then run the import. Waiting happens
    # in the triggerer (deferrable); a retry re-attaches to the same Anaplan task (durable).
    employees = AnaplanImportOperator(
        task_id="load_employees",
        action="Load Employees",
        source=LANDING / "{{ ds }}" / "employees.csv",
        dump_dir=LANDING / "{{ ds }}" / "rejected",
        deferrable=True,
    )
    nightly = AnaplanProcessOperator(task_id="nightly_load", action="Nightly Load", deferrable=True)
    export = AnaplanExportOperator(
        task_id="export_headcount",
        action="Headcount Export",
        dest=LANDING / "{{ ds }}" / "headcount.csv",
        deferrable=True,
    )
    # Someone else's task, by id (here the import's, from its XCom).
    watch = AnaplanTaskSensor(
        task_id="import_ended",
        kind="imports",
        action="Load Employees",
        task_id_to_watch="{{ ti.xcom_pull(task_ids='load_employees', key='anaplan_task_id') }}",
        deferrable=True,
    )
    promote = AnaplanAlmSyncOperator(
        task_id="promote_structure",
        model="FP&A Prod",  # the target
        source_model="{{ var.value.anaplan_dev_model_id }}",
        deferrable=True,
    )

    employees >> [nightly, watch]
    nightly >> export >> promote
