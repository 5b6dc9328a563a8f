"""The SLA worker on the working calendar: lights, escalation, reminders, auto-close, races."""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import signal
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError
from django.test import TestCase
from django.urls import reverse

from shequ.cases import services, worker
from shequ.cases.management.commands.worker import Stop, loop
from shequ.cases.models import Case, CaseEvent
from shequ.cases.states import Light, Status
from shequ.cases.testing import CaseWorld, photo
from shequ.core import testing
from shequ.core.models import AuditEntry
from shequ.inbox.models import Notification

P = testing.persona
SH = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SH)


def report(cw: CaseWorld, when: dt.datetime, **kw: Any) -> Case:
    kw.setdefault("category", cw.category)  # 乱堆乱放: accept in 2 working hours, warn at 75 %
    with time_machine.travel(when, tick=False):
        return services.case_create(
            actor=P(kw.pop("by", "grid_worker_a")),
            description="楼道口堆满了旧家具",
            source=kw.pop("source", "grid"),
            area=kw.pop("area", testing.area("A")),
            **kw,
        )


def move(case: Case, name: str, by: str, when: dt.datetime, **kw: Any) -> Case:
    with time_machine.travel(when, tick=False):
        return services.case_move(actor=P(by), case=case, move=name, **kw)


def run(when: dt.datetime, job: Any = worker.run_once) -> Any:
    """What a worker does at `when`; its notices go out as they do once a batch commits."""
    with time_machine.travel(when, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        return job()


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def kinds(case: Case) -> list[str]:
    return list(case.events.filter(kind__startswith="sla_").values_list("kind", flat=True))


def test_a_case_turns_yellow_at_its_warning_time_and_red_at_its_deadline(cw: CaseWorld) -> None:
    # Friday 17:00: half an hour of office time left that day, the rest on Monday morning.
    case = report(cw, at(2026, 10, 16, 17, 0))
    assert case.due_at == at(2026, 10, 19, 10, 0)
    assert case.yellow_at == at(2026, 10, 19, 9, 30)  # 75 % of the two working hours
    assert run(at(2026, 10, 19, 9, 29))["yellow"] == 0
    assert fresh(case).light == Light.GREEN
    assert run(at(2026, 10, 19, 9, 30))["yellow"] == 1
    assert fresh(case).light == Light.YELLOW
    assert run(at(2026, 10, 19, 9, 59))["red"] == 0
    assert run(at(2026, 10, 19, 10, 0))["red"] == 1
    case = fresh(case)
    assert case.light == Light.RED and case.overdue_ever
    # Escalation 8 working hours after the deadline: Monday 10:00–17:30 gives 6, Tuesday 2.
    assert case.next_escalation_at == at(2026, 10, 20, 10, 30)
    assert kinds(case) == ["sla_yellow", "sla_red"]
    event = case.events.get(kind="sla_red")
    assert event.actor is None and not event.public
    assert event.at == at(2026, 10, 19, 10, 0)
    assert event.from_status == event.to_status == Status.REPORTED


def test_the_national_day_holiday_does_not_count(cw: CaseWorld) -> None:
    # Wednesday 30 September 2026, 17:00; 1–7 October are holidays.
    case = report(cw, at(2026, 9, 30, 17, 0))
    assert case.due_at == at(2026, 10, 8, 10, 0)
    run(at(2026, 10, 7, 17, 0))
    assert fresh(case).light == Light.GREEN
    run(at(2026, 10, 8, 9, 30))
    assert fresh(case).light == Light.YELLOW
    run(at(2026, 10, 8, 10, 0))
    assert fresh(case).light == Light.RED


def test_the_make_up_saturday_after_national_day_is_a_working_day(cw: CaseWorld) -> None:
    # Friday 9 October 2026, 17:00: Saturday 10 October is a 调休 working day.
    case = report(cw, at(2026, 10, 9, 17, 0))
    assert case.due_at == at(2026, 10, 10, 10, 0)
    run(at(2026, 10, 10, 10, 0))
    assert fresh(case).light == Light.RED


def test_a_case_past_its_deadline_goes_straight_to_red(cw: CaseWorld) -> None:
    case = report(cw, at(2026, 10, 16, 17, 0))
    counts = run(at(2026, 10, 19, 11, 0))
    assert (counts["yellow"], counts["red"]) == (0, 1)
    assert kinds(fresh(case)) == ["sla_red"]


def test_running_twice_at_the_same_moment_records_each_flip_once(cw: CaseWorld) -> None:
    first, second = report(cw, at(2026, 10, 16, 17, 0)), report(cw, at(2026, 10, 16, 16, 0))
    run(at(2026, 10, 19, 9, 45))
    again = run(at(2026, 10, 19, 9, 45))
    assert (again["yellow"], again["red"]) == (0, 0)
    assert kinds(first) == ["sla_yellow"]
    assert kinds(second) == ["sla_red"]  # due 09:00 Monday
    assert CaseEvent.objects.filter(kind__startswith="sla_").count() == 2


def test_a_move_restarts_the_light_for_the_next_stage(cw: CaseWorld) -> None:
    case = report(cw, at(2026, 10, 16, 17, 0))
    run(at(2026, 10, 19, 10, 0))
    case = move(case, "accept", "community_worker", at(2026, 10, 19, 10, 5))
    assert case.light == Light.GREEN and case.next_escalation_at is None
    assert case.overdue_ever  # the record of having been late stays
    assert run(at(2026, 10, 19, 10, 6))["red"] == 0


def test_escalation_goes_up_one_level_at_a_time_exactly_once(cw: CaseWorld) -> None:
    case = report(cw, at(2026, 10, 16, 17, 0))
    run(at(2026, 10, 19, 10, 0))
    expected = [(1, "community_worker"), (2, "street_supervisor"), (3, "district_admin")]
    for level, supervisor in expected:
        when = fresh(case).next_escalation_at
        assert when is not None
        assert run(when - dt.timedelta(seconds=1), worker.escalate_due) == 0
        assert run(when, worker.escalate_due) == 1
        assert run(when, worker.escalate_due) == 0  # a second worker at the same moment
        assert fresh(case).level == level
        notice = Notification.objects.get(user=P(supervisor), kind="case.auto_escalate")
        assert notice.url.endswith(f"/{case.code}/")
    case = fresh(case)
    assert case.next_escalation_at is None
    assert run(at(2026, 12, 31, 12, 0), worker.escalate_due) == 0
    events = case.events.filter(kind="auto_escalate").order_by("id")
    assert [e.data["level"] for e in events] == [1, 2, 3]
    assert all(e.actor is None and not e.public for e in events)
    audits = AuditEntry.objects.filter(action="case.auto_escalated", object_id=str(case.pk))
    assert list(audits.order_by("seq").values_list("actor_name", "changes")) == [
        ("worker", {"level": [0, 1]}),
        ("worker", {"level": [1, 2]}),
        ("worker", {"level": [2, 3]}),
    ]
    # Each level's supervisors hear once, and only about their level.
    assert Notification.objects.filter(kind="case.auto_escalate").count() == 3


def test_the_second_escalation_follows_the_first_by_the_categorys_interval(
    cw: CaseWorld,
) -> None:
    case = report(cw, at(2026, 10, 16, 17, 0))
    run(at(2026, 10, 19, 10, 0))
    run(at(2026, 10, 20, 10, 30), worker.escalate_due)
    # 8 working hours after Tuesday 10:30: 5.5 on Tuesday, 2.5 on Wednesday.
    assert fresh(case).next_escalation_at == at(2026, 10, 21, 11, 0)


def test_a_worker_killed_mid_batch_loses_no_escalation_and_doubles_none(
    cw: CaseWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [report(cw, at(2026, 10, 16, 17, 0)) for _ in range(3)]
    run(at(2026, 10, 19, 10, 0))
    record_many = worker.audit.record_many
    audited = AuditEntry.objects.count()

    def dies_after_the_first(**kw: Any) -> Any:
        # The batch's flips, events and first audit entry are written, then the worker dies.
        record_many(**{**kw, "items": list(kw["items"])[:1]})
        assert AuditEntry.objects.count() == audited + 1
        raise DatabaseError("worker killed")

    monkeypatch.setattr(worker.audit, "record_many", dies_after_the_first)
    with pytest.raises(DatabaseError):
        run(at(2026, 10, 20, 10, 30), worker.escalate_due)
    assert [fresh(c).level for c in cases] == [0, 0, 0]
    assert not CaseEvent.objects.filter(kind="auto_escalate").exists()
    assert AuditEntry.objects.count() == audited
    monkeypatch.setattr(worker.audit, "record_many", record_many)
    assert run(at(2026, 10, 20, 10, 31), worker.escalate_due) == 3
    assert run(at(2026, 10, 20, 10, 31), worker.escalate_due) == 0
    assert [fresh(c).level for c in cases] == [1, 1, 1]
    assert CaseEvent.objects.filter(kind="auto_escalate").count() == 3


def test_reminders_reach_the_lead_units_members(cw: CaseWorld) -> None:
    case = report(cw, at(2026, 10, 19, 9, 0))
    move(case, "accept", "community_worker", at(2026, 10, 19, 9, 10))
    case = move(case, "dispatch", "community_worker", at(2026, 10, 19, 9, 20))
    assert case.lead_unit == cw.chengguan
    assert case.yellow_at is not None
    Notification.objects.all().delete()
    run(case.yellow_at)
    assert set(
        Notification.objects.filter(kind="case.sla_yellow").values_list("user__username", flat=True)
    ) == {"department"}
    notice = Notification.objects.get(kind="case.sla_yellow")
    assert case.code in notice.title and notice.url.endswith(f"/{case.code}/")


def test_without_a_lead_unit_the_staff_answerable_for_the_stage_are_reminded(cw: CaseWorld) -> None:
    case = report(cw, at(2026, 10, 16, 17, 0))
    Notification.objects.all().delete()
    run(at(2026, 10, 19, 10, 0))
    reminded = set(Notification.objects.filter(kind="case.sla_red").values_list("user", flat=True))
    answerable = {u.pk for u in services.staff_for(case.area, "cases.manage")}
    assert reminded == answerable
    assert P("community_worker").pk in reminded and P("grid_worker_a").pk not in reminded


def test_many_cases_at_once_come_to_each_handler_as_one_digest(cw: CaseWorld) -> None:
    assert worker.DIGEST_FROM == 3
    ours = [report(cw, at(2026, 10, 16, 17, 0)) for _ in range(2)]
    elsewhere = report(cw, at(2026, 10, 16, 17, 0), by="district_admin", area=testing.area("Z"))
    Notification.objects.all().delete()
    run(at(2026, 10, 19, 9, 30))
    # The district's admin answers for all three: one digest listing them.
    digest = Notification.objects.get(user=P("district_admin"), kind="case.sla_yellow")
    assert digest.url.endswith("?light=yellow")
    assert all(c.code in digest.body for c in [*ours, elsewhere])
    # The community worker answers for two: a notice each.
    mine = Notification.objects.filter(user=P("community_worker"), kind="case.sla_yellow")
    assert sorted(n.url for n in mine) == sorted(
        reverse("cases:detail", args=[c.code]) for c in ours
    )


def test_an_unrated_verified_case_closes_itself_after_the_set_days(
    cw: CaseWorld, media: Any, settings: Any
) -> None:
    settings.CASE_AUTOCLOSE_DAYS = 5
    case = report(cw, at(2026, 10, 19, 9, 0), by="resident_a", source="resident")
    move(case, "accept", "community_worker", at(2026, 10, 19, 9, 10))
    move(case, "dispatch", "community_worker", at(2026, 10, 19, 9, 20))
    resolved = at(2026, 10, 19, 15, 0)
    move(case, "resolve", "department", resolved, answer="已清理", photos=[photo()])
    case = move(case, "verify", "grid_worker_a", at(2026, 10, 20, 9, 0))
    rated = report(cw, at(2026, 10, 19, 9, 0), by="resident_a", source="resident")
    move(rated, "accept", "community_worker", at(2026, 10, 19, 9, 10))
    move(rated, "dispatch", "community_worker", at(2026, 10, 19, 9, 20))
    move(rated, "resolve", "department", resolved, answer="已清理", photos=[photo()])
    move(rated, "verify", "grid_worker_a", at(2026, 10, 20, 9, 0))
    move(rated, "rate", "resident_a", at(2026, 10, 20, 10, 0), rating=4)
    version = case.version

    assert run(resolved + dt.timedelta(days=5, seconds=-1), worker.autoclose) == 0
    assert run(resolved + dt.timedelta(days=5), worker.autoclose) == 1
    assert run(resolved + dt.timedelta(days=5), worker.autoclose) == 0
    case = fresh(case)
    assert case.status == Status.CLOSED and case.closed_at == resolved + dt.timedelta(days=5)
    assert case.stage == "" and case.due_at is None and case.version == version + 1
    event = case.events.get(kind="auto_close")
    assert (event.from_status, event.to_status, event.public) == ("verified", "closed", True)
    assert AuditEntry.objects.filter(action="case.auto_closed", object_id=str(case.pk)).exists()
    assert Notification.objects.filter(user=P("resident_a"), kind="case.auto_close").count() == 1
    assert fresh(rated).status == Status.RATED


def test_periodic_jobs_run_at_their_interval(
    cw: CaseWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[dt.datetime] = []

    def refresh() -> int:
        ran.append(dt.datetime.now(tz=SH))
        return 7

    monkeypatch.setattr(worker, "PERIODIC", [("stats", refresh, 600)])
    monkeypatch.setattr(worker, "_last_run", {})
    start = at(2026, 10, 19, 9, 0)
    assert run(start)["stats"] == 7
    assert "stats" not in run(start + dt.timedelta(seconds=599))
    assert run(start + dt.timedelta(seconds=600))["stats"] == 7
    assert ran == [start, start + dt.timedelta(seconds=600)]


def test_a_failing_periodic_job_does_not_stop_the_deadlines(
    cw: CaseWorld, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("stats table missing")

    monkeypatch.setattr(worker, "PERIODIC", [("stats", broken, 60)])
    monkeypatch.setattr(worker, "_last_run", {})
    report(cw, at(2026, 10, 16, 17, 0))
    counts = run(at(2026, 10, 19, 10, 0))
    assert counts["red"] == 1 and counts["stats"] == -1
    assert "periodic job stats failed" in caplog.text


def test_the_command_runs_due_work_once(cw: CaseWorld) -> None:
    case = report(cw, at(2026, 10, 16, 17, 0))
    out = io.StringIO()
    with time_machine.travel(at(2026, 10, 19, 10, 0), tick=False):
        call_command("worker", "--once", stdout=out)
    assert "red 1" in out.getvalue()
    assert fresh(case).light == Light.RED


def test_the_loop_survives_a_database_error_in_one_cycle(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = Stop()
    calls: list[int] = []

    def cycle() -> dict[str, int]:
        calls.append(1)
        if len(calls) == 1:
            raise DatabaseError("server closed the connection unexpectedly")
        stop.set()
        return {"red": 2}

    with caplog.at_level(logging.INFO, logger="shequ.cases.worker"):
        assert loop(interval=0, stop=stop, cycle=cycle) == 2
    assert "worker cycle failed" in caplog.text
    assert "red 2" in caplog.text


def test_the_command_stops_cleanly_on_sigterm(db: Any) -> None:
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    started = time.monotonic()
    timer.start()
    try:
        call_command("worker", "--interval", "60")
    finally:
        timer.cancel()
    assert time.monotonic() - started < 5
    assert signal.getsignal(signal.SIGTERM) is before


def test_two_workers_racing_record_every_flip_and_escalation_once(
    committed_db: Any, transactional_db: Any
) -> None:
    from shequ.cases.testing import build_case_world

    users = {p.username: testing.persona(p.username) for p in testing.PERSONAS}
    cw = build_case_world(users=users, areas={k: testing.area(k) for k in ("D", "S1", "C1")})
    overdue = [report(cw, at(2026, 10, 16, 16, 0)) for _ in range(6)]  # due 09:00 Monday
    warned = [report(cw, at(2026, 10, 16, 17, 0)) for _ in range(6)]  # warned from 09:30
    run(at(2026, 10, 19, 9, 0))  # the overdue ones turn red and wait for their escalation
    Case.objects.filter(pk__in=[c.pk for c in overdue]).update(
        next_escalation_at=at(2026, 10, 19, 9, 40)
    )
    now = at(2026, 10, 19, 9, 45)
    results, errors = testing.at_once(lambda: worker.run_once(now=now))
    assert errors == []
    assert sum(r["yellow"] for r in results) == len(warned)
    assert sum(r["escalated"] for r in results) == len(overdue)
    assert CaseEvent.objects.filter(kind="sla_yellow").count() == len(warned)
    assert CaseEvent.objects.filter(kind="sla_red").count() == len(overdue)
    assert CaseEvent.objects.filter(kind="auto_escalate").count() == len(overdue)
    assert AuditEntry.objects.filter(action="case.auto_escalated").count() == len(overdue)
    assert sorted(
        Case.objects.filter(pk__in=[c.pk for c in overdue]).values_list("level", flat=True)
    ) == [1] * len(overdue)


def test_the_worker_refreshes_the_case_statistics(cw: Any) -> None:
    from shequ.cases import worker as worker_module

    names = [name for name, _job, _every in worker_module.PERIODIC]
    assert names.count("case_stats") == 1
    worker_module._last_run.pop("case_stats", None)
    counts = worker_module.run_once()
    assert counts["case_stats"] >= 0
