"""ALM's rules end to end in the service: revisions, syncs, reports, access, retention."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from anaplan_tasks.emulator.alm import service as alm
from anaplan_tasks.emulator.alm.service import AlmService
from anaplan_tasks.emulator.alm.store import AlmStore
from anaplan_tasks.emulator.engine.contract import Page
from anaplan_tasks.emulator.errors import BadRequest, Forbidden, ModelOffline, NotFound
from anaplan_tasks.models import (
    CompletedReportTask,
    CompletedSyncTask,
    FailedReportTask,
    FailedSyncTask,
    PendingTask,
)
from anaplan_tasks.models.alm_report import parse_comparison_report

from .fake_host import ADMIN, MEMBER, FakeHost
from .structures import base_model

DEV, PROD, SOLO = "D" * 32, "E" * 32, "F" * 32
BASE = "http://127.0.0.1:9"


class Clock:
    """Seconds since the epoch, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_767_225_600.0  # 2026-01-01T00:00:00Z

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def host() -> FakeHost:
    host = FakeHost()
    host.add(DEV, base_model(name="FP&A Dev", origin=None))
    host.add(PROD, base_model(name="FP&A Prod", origin="FP&A Dev"))
    host.add(SOLO, base_model(name="Solo", origin=None))
    return host


@pytest.fixture
def service(host: FakeHost, clock: Clock) -> Iterator[AlmService]:
    store = AlmStore()
    yield AlmService(host, store, clock=clock)
    store.close()


def _add_list(service: AlmService, model_id: str, name: str) -> None:
    service.edit_structure(model_id, {"op": "addList", "list": {"name": name}})


def _body(service: AlmService, source_revision: str, target_revision: str) -> dict[str, str]:
    return {
        "sourceRevisionId": source_revision,
        "sourceModelId": DEV,
        "targetRevisionId": target_revision,
    }


def test_copies_share_their_origins_latest_revision(service: AlmService) -> None:
    dev = service.latest_revision(ADMIN, DEV)
    prod = service.latest_revision(ADMIN, PROD)
    assert dev is not None
    assert prod is not None
    assert dev.id == prod.id
    assert (dev.name, prod.creation_method) == ("Baseline", "Model copied")
    assert service.latest_revision(ADMIN, SOLO) is None


def test_a_revision_needs_a_structural_change(service: AlmService) -> None:
    with pytest.raises(BadRequest, match="no structural change"):
        service.create_revision(ADMIN, DEV, {"name": "Nothing"})
    _add_list(service, DEV, "Channels")
    revision = service.create_revision(ADMIN, DEV, {"name": "R1", "description": "Channels"})
    assert revision.to_wire() == {
        "id": revision.id,
        "name": "R1",
        "description": "Channels",
        "createdOn": "2026-01-01T00:00:00Z",
        "createdBy": ADMIN.user_id,
        "creationMethod": "User added revision via API",
        "appliedOn": "2026-01-01T00:00:00Z",
        "appliedBy": ADMIN.user_id,
    }
    assert service.latest_revision(ADMIN, DEV) == revision
    with pytest.raises(BadRequest, match="no structural change"):
        service.create_revision(ADMIN, DEV, {"name": "Again"})


def test_a_model_without_revision_may_create_its_first(service: AlmService) -> None:
    revision = service.create_revision(ADMIN, SOLO, {"name": "First"})
    assert "description" not in revision.to_wire()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x" * 61}, alm.NAME_TOO_LONG),
        ({"name": "ok", "description": "x" * 251}, alm.DESCRIPTION_TOO_LONG),
        ({"description": "no name"}, alm.NAME_MISSING),
        ({"name": "  "}, alm.NAME_MISSING),
        ({"name": "ok", "colour": "red"}, "Identified an unrecognized 'colour'."),
        (None, alm.NULL_BODY),
    ],
)
def test_revision_bodies_are_checked_with_anaplans_messages(
    service: AlmService, body: dict[str, object] | None, message: str
) -> None:
    _add_list(service, DEV, "Channels")
    with pytest.raises(BadRequest) as caught:
        service.create_revision(ADMIN, DEV, body)
    assert caught.value.message.startswith(message)


def test_sixty_and_two_hundred_fifty_characters_are_allowed(service: AlmService) -> None:
    _add_list(service, DEV, "Channels")
    revision = service.create_revision(ADMIN, DEV, {"name": "n" * 60, "description": "d" * 250})
    assert len(revision.name) == 60


def test_the_whole_flow_compare_summarise_sync(service: AlmService, host: FakeHost) -> None:
    _add_list(service, DEV, "Channels")
    service.edit_structure(
        DEV, {"op": "addLineItem", "module": "Revenue", "lineItem": {"name": "Margin"}}
    )
    release = service.create_revision(ADMIN, DEV, {"name": "Release 1"})
    target = service.latest_revision(ADMIN, PROD)
    assert target is not None
    assert [r.id for r in service.syncable_revisions(ADMIN, PROD, DEV)] == [release.id]

    started = service.start_task(
        ADMIN, "comparisonReportTasks", PROD, _body(service, release.id, target.id), base_url=BASE
    )
    assert started.task_state == "IN_PROGRESS"
    assert started.task_url == f"{BASE}/2/0/models/{PROD}/alm/comparisonReportTasks/{started.id}"
    status = service.task(ADMIN, "comparisonReportTasks", PROD, started.id, base_url=BASE)
    assert isinstance(status, CompletedReportTask)
    assert status.current_step == "Complete."
    report = parse_comparison_report(service.comparison_report(ADMIN, PROD, target.id, release.id))
    assert report.titles == ["LISTS ADDED", "LINE ITEMS ADDED"]
    assert report.source.model_name == "FP&A Dev"
    assert report.target.revision_name == "Baseline"

    summary_task = service.start_task(
        ADMIN, "summaryReportTasks", PROD, _body(service, release.id, target.id), base_url=BASE
    )
    service.task(ADMIN, "summaryReportTasks", PROD, summary_task.id, base_url=BASE)
    summary = service.summary_report(ADMIN, PROD, target.id, release.id)
    assert summary.to_wire()["totals"] == {"created": 2}
    assert summary.to_wire()["differences"] == {
        "lists": {"created": 1},
        "lineItems": {"created": 1},
    }

    sync = service.start_task(
        ADMIN, "syncTasks", PROD, _body(service, release.id, target.id), base_url=BASE
    )
    done = service.task(ADMIN, "syncTasks", PROD, sync.id, base_url=BASE)
    assert isinstance(done, CompletedSyncTask)
    assert not isinstance(done, FailedSyncTask)
    assert done.result.source_revision_id == release.id
    assert done.result.target_revision_id == target.id
    prod = host.structure(PROD)
    assert (prod.name, prod.origin) == ("FP&A Prod", "FP&A Dev")
    assert [single.name for single in prod.lists][-1] == "Channels"
    latest = service.latest_revision(ADMIN, PROD)
    assert latest is not None
    assert latest.id == release.id
    applied = service.applied_to_models(ADMIN, PROD, release.id)
    assert [(a.model_name, a.applied_method) for a in applied] == [
        ("FP&A Dev", "User added revision via API"),
        ("FP&A Prod", "Revision synchronized"),
    ]
    assert service.syncable_revisions(ADMIN, PROD, DEV) == []


def test_a_target_that_moved_on_by_itself_is_incompatible(service: AlmService) -> None:
    _add_list(service, PROD, "Local")
    prod_own = service.create_revision(ADMIN, PROD, {"name": "Prod fix"})
    _add_list(service, DEV, "Channels")
    release = service.create_revision(ADMIN, DEV, {"name": "Release 1"})
    assert service.syncable_revisions(ADMIN, PROD, DEV) == []
    for kind in ("syncTasks", "comparisonReportTasks", "summaryReportTasks"):
        task = service.start_task(
            ADMIN, kind, PROD, _body(service, release.id, prod_own.id), base_url=BASE
        )
        status = service.task(ADMIN, kind, PROD, task.id, base_url=BASE)
        assert isinstance(status, FailedSyncTask | FailedReportTask)
        assert status.current_step == "Failed."
        assert status.result.error.title == "The target and source revisions are incompatible"
        assert status.to_wire()["result"] == {
            "successful": False,
            "error": {
                "title": "The target and source revisions are incompatible",
                "messageText": "Please choose a target and source revision that's compatible.",
            },
        }


def test_a_target_revision_that_is_not_the_latest_is_incompatible(service: AlmService) -> None:
    baseline = service.latest_revision(ADMIN, PROD)
    assert baseline is not None
    _add_list(service, PROD, "Local")
    service.create_revision(ADMIN, PROD, {"name": "Prod fix"})
    _add_list(service, DEV, "Channels")
    release = service.create_revision(ADMIN, DEV, {"name": "Release 1"})
    task = service.start_task(
        ADMIN, "syncTasks", PROD, _body(service, release.id, baseline.id), base_url=BASE
    )
    status = service.task(ADMIN, "syncTasks", PROD, task.id, base_url=BASE)
    assert isinstance(status, FailedSyncTask)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, alm.NULL_BODY),
        ({"sourceRevisionId": "A", "sourceModelId": DEV}, alm.MISSING_TASK_FIELDS),
        ({"sourceRevisionId": "", "sourceModelId": DEV, "targetRevisionId": "B"}, "Expected"),
        ({"sourceRevisionId": 1, "sourceModelId": DEV, "targetRevisionId": "B"}, "Expected"),
        (
            {"sourceRevisionId": "A", "sourceModelId": DEV, "targetRevisionId": "B", "x": 1},
            "Identified an unrecognized 'x'. Amend the content so it only contains applicable "
            "fields.",
        ),
        ({"sourceRevisionId": "A", "sourceModelId": "0" * 32, "targetRevisionId": "B"}, "source"),
        ({"sourceRevisionId": "A", "sourceModelId": DEV, "targetRevisionId": "B"}, "revision 'A'"),
    ],
)
def test_task_bodies_are_strict(
    service: AlmService, body: dict[str, object] | None, message: str
) -> None:
    for kind in ("syncTasks", "comparisonReportTasks", "summaryReportTasks"):
        with pytest.raises(BadRequest) as caught:
            service.start_task(ADMIN, kind, PROD, body, base_url=BASE)
        assert message in caught.value.message


def test_an_unknown_target_revision_is_a_bad_request(service: AlmService) -> None:
    baseline = service.latest_revision(ADMIN, DEV)
    assert baseline is not None
    with pytest.raises(BadRequest, match="target revision"):
        service.start_task(
            ADMIN, "syncTasks", PROD, _body(service, baseline.id, "Z"), base_url=BASE
        )


def test_syncable_revisions_need_the_source_model(service: AlmService) -> None:
    with pytest.raises(BadRequest, match=r"^Missing 'sourceModelId' request parameter\.$"):
        service.syncable_revisions(ADMIN, PROD, None)
    with pytest.raises(NotFound):
        service.syncable_revisions(ADMIN, PROD, "0" * 32)


def test_non_admins_are_refused_403_and_424_for_reports(service: AlmService) -> None:
    with pytest.raises(Forbidden):
        service.revisions(MEMBER, DEV, Page())
    with pytest.raises(Forbidden):
        service.latest_revision(MEMBER, DEV)
    with pytest.raises(Forbidden):
        service.create_revision(MEMBER, DEV, {"name": "x"})
    with pytest.raises(Forbidden):
        service.start_task(MEMBER, "syncTasks", PROD, {}, base_url=BASE)
    with pytest.raises(Forbidden):
        service.set_online_status(MEMBER, PROD, {"status": "offline"})
    for kind in ("comparisonReportTasks", "summaryReportTasks"):
        with pytest.raises(ModelOffline) as caught:
            service.start_task(MEMBER, kind, PROD, {}, base_url=BASE)
        assert caught.value.message == ""
        with pytest.raises(ModelOffline):
            service.tasks(MEMBER, kind, PROD)
    with pytest.raises(ModelOffline):
        service.comparison_report(MEMBER, PROD, "A", "B")
    with pytest.raises(ModelOffline):
        service.summary_report(MEMBER, PROD, "A", "B")


def test_reports_not_generated_are_not_found(service: AlmService) -> None:
    with pytest.raises(NotFound):
        service.comparison_report(ADMIN, PROD, "A", "B")
    with pytest.raises(NotFound):
        service.summary_report(ADMIN, PROD, "A", "B")


def _compare_once(service: AlmService) -> tuple[str, str, str]:
    _add_list(service, DEV, "Channels")
    release = service.create_revision(ADMIN, DEV, {"name": "Release 1"})
    target = service.latest_revision(ADMIN, PROD)
    assert target is not None
    task = service.start_task(
        ADMIN, "comparisonReportTasks", PROD, _body(service, release.id, target.id), base_url=BASE
    )
    return task.id, target.id, release.id


def test_reports_are_kept_48_hours_after_their_last_download(
    service: AlmService, clock: Clock
) -> None:
    _, target, source = _compare_once(service)
    clock.now += 47 * 3600
    assert service.comparison_report(ADMIN, PROD, target, source)
    clock.now += 47 * 3600
    assert service.comparison_report(ADMIN, PROD, target, source)
    clock.now += 48 * 3600 + 1
    with pytest.raises(NotFound):
        service.comparison_report(ADMIN, PROD, target, source)


def test_task_lists_are_newest_first_and_forget_after_48_hours(
    service: AlmService, clock: Clock
) -> None:
    assert service.tasks(ADMIN, "comparisonReportTasks", PROD) == []
    first, target, source = _compare_once(service)
    clock.now += 60
    second = service.start_task(
        ADMIN,
        "comparisonReportTasks",
        PROD,
        {"sourceRevisionId": source, "sourceModelId": DEV, "targetRevisionId": target},
        base_url=BASE,
    ).id
    listed = service.tasks(ADMIN, "comparisonReportTasks", PROD)
    assert [task.id for task in listed] == [second, first]
    assert service.tasks(ADMIN, "syncTasks", PROD) == []
    clock.now += 48 * 3600 - 30
    assert [task.id for task in service.tasks(ADMIN, "comparisonReportTasks", PROD)] == [second]


def test_a_task_can_take_several_polls(host: FakeHost, clock: Clock) -> None:
    store = AlmStore()
    service = AlmService(host, store, clock=clock, polls_to_complete=2)
    try:
        _add_list(service, DEV, "Channels")
        release = service.create_revision(ADMIN, DEV, {"name": "Release 1"})
        target = service.latest_revision(ADMIN, PROD)
        assert target is not None
        task = service.start_task(
            ADMIN, "syncTasks", PROD, _body(service, release.id, target.id), base_url=BASE
        )
        assert "Channels" not in [single.name for single in host.structure(PROD).lists]
        first = service.task(ADMIN, "syncTasks", PROD, task.id, base_url=BASE)
        assert isinstance(first, PendingTask)
        assert first.to_wire()["currentStep"] == "Processing ..."
        second = service.task(ADMIN, "syncTasks", PROD, task.id, base_url=BASE)
        assert isinstance(second, CompletedSyncTask)
        assert "Channels" in [single.name for single in host.structure(PROD).lists]
    finally:
        store.close()


def test_unknown_tasks_and_tasks_of_another_kind_are_not_found(service: AlmService) -> None:
    task, _, _ = _compare_once(service)
    with pytest.raises(NotFound):
        service.task(ADMIN, "syncTasks", PROD, task, base_url=BASE)
    with pytest.raises(NotFound):
        service.task(ADMIN, "comparisonReportTasks", DEV, task, base_url=BASE)


def test_revision_listing_filters_sorts_and_pages(service: AlmService, clock: Clock) -> None:
    names = []
    for day, name in enumerate(["Beta", "Alpha", "Gamma"], start=1):
        clock.now += 24 * 3600
        _add_list(service, SOLO, f"List {day}")
        service.create_revision(ADMIN, SOLO, {"name": name})
        names.append(name)
    listed = service.revisions(ADMIN, SOLO, Page())
    assert [r.name for r in listed.items] == names
    assert listed.total_size == 3
    by_name = service.revisions(ADMIN, SOLO, Page(), sort="-name")
    assert [r.name for r in by_name.items] == ["Gamma", "Beta", "Alpha"]
    ignored = service.revisions(ADMIN, SOLO, Page(), sort="+colour")
    assert [r.name for r in ignored.items] == names
    page = service.revisions(ADMIN, SOLO, Page(limit=1, offset=1))
    assert ([r.name for r in page.items], page.total_size, page.offset) == (["Alpha"], 3, 1)
    after = service.revisions(ADMIN, SOLO, Page(), applied_after="2026-01-02")
    assert [r.name for r in after.items] == ["Alpha", "Gamma"]
    before = service.revisions(ADMIN, SOLO, Page(), applied_before="2026-01-03")
    assert [r.name for r in before.items] == ["Beta"]


@pytest.mark.parametrize(
    ("after", "before", "message"),
    [
        ("2026-1-2", None, alm.BAD_DATE),
        (None, "yesterday", alm.BAD_DATE),
        ("2026-01-05", "2026-01-05", alm.DATES_IN_WRONG_ORDER),
    ],
)
def test_bad_revision_dates_are_refused(
    service: AlmService, after: str | None, before: str | None, message: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        service.revisions(ADMIN, DEV, Page(), applied_after=after, applied_before=before)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Missing mandatory property 'status'"),
        ({"status": "asleep"}, "Invalid value for 'status', must be one of [online, offline]"),
        ({"status": "online", "why": 1}, "Unrecognised property detected"),
    ],
)
def test_online_status_bodies(service: AlmService, body: dict[str, object], message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        service.set_online_status(ADMIN, PROD, body)
    assert caught.value.message == message


def test_online_status_changes_the_models_state(service: AlmService, host: FakeHost) -> None:
    service.set_online_status(ADMIN, PROD, {"status": "offline"})
    assert host.models[PROD].state == "OFFLINE"
    service.set_online_status(ADMIN, PROD, {"status": "online"})
    assert host.models[PROD].state == "UNLOCKED"


def test_a_recreated_model_forgets_its_old_history(service: AlmService, host: FakeHost) -> None:
    _add_list(service, SOLO, "Channels")
    service.create_revision(ADMIN, SOLO, {"name": "Old"})
    host.add(SOLO, base_model(name="Solo", origin=None), created_ms=2)
    assert service.latest_revision(ADMIN, SOLO) is None


def test_structural_edits_refuse_bad_input(service: AlmService) -> None:
    with pytest.raises(BadRequest, match="no list named 'Nope'"):
        service.edit_structure(DEV, {"op": "removeList", "name": "Nope"})
    with pytest.raises(BadRequest, match="invalid structural edit"):
        service.edit_structure(DEV, {"op": "explode"})


def test_summary_report_is_stored_as_json(service: AlmService) -> None:
    _add_list(service, DEV, "Channels")
    release = service.create_revision(ADMIN, DEV, {"name": "Release 1"})
    target = service.latest_revision(ADMIN, PROD)
    assert target is not None
    service.start_task(
        ADMIN, "summaryReportTasks", PROD, _body(service, release.id, target.id), base_url=BASE
    )
    content = service.store.report(PROD, "summary", target.id, release.id)
    assert content is not None
    assert json.loads(content[1])["differences"] == {"lists": {"created": 1}}
