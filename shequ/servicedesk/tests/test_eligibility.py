"""Eligibility runs (主动推送): who becomes an outreach task, for whom, what later runs keep and
change, the notices they send; outreach and rule services; the compiled query against the
rule language's own interpreter; notice channels."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from hypothesis import HealthCheck, given, settings

from shequ.core import testing
from shequ.core.errors import DomainError
from shequ.core.models import AuditEntry
from shequ.inbox import channels
from shequ.inbox.models import Notification
from shequ.inbox.services import notify
from shequ.registry import services as registry
from shequ.registry.models import Household, Person, PersonTag, TagType
from shequ.registry.tags import tags_ensure_defaults
from shequ.servicedesk import apps, eligibility, rules, services
from shequ.servicedesk.eligibility_defaults import DEFAULT_RULES, install_rules
from shequ.servicedesk.models import (
    EligibilityRule,
    Entitlement,
    ResidentLink,
    ServiceItem,
)
from shequ.servicedesk.tests.test_rules import rule_texts

P = testing.persona
TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=TZ)
GAOLING = 'age >= 80 and residence_type == "registered"'


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@dataclass
class Town:
    people: dict[str, Person]
    gaoling: EligibilityRule

    def __getitem__(self, name: str) -> Person:
        return self.people[name]


def register(
    key: str,
    name: str,
    born: str,
    *,
    residence: str = "registered",
    gender: str = "F",
    household: Household | None = None,
) -> Person:
    return registry.person_create(
        actor="test",
        area=testing.area(key),
        name=name,
        gender=gender,
        birth_date=dt.date.fromisoformat(born),
        residence_type=residence,
        household=household,
    )


def household(key: str, number: str) -> Household:
    return registry.household_create(actor="test", area=testing.area(key), number=number)


def make_rule(code: str, expression: str, **kw: Any) -> EligibilityRule:
    kw.setdefault("name", code)
    kw.setdefault("outreach", "上门告知")
    return eligibility.rule_create(
        actor=P("district_admin"), code=code, expression=expression, **kw
    )


@pytest.fixture
def town(world: Any, media: Any, clock: Any) -> Town:
    """Grid A (worker grid_worker_a) with estate A1, grid B (grid_worker_b), grid Z (no grid
    worker); on 15 June 2026. Only the rules a test makes: the defaults the migration installed
    are removed (rolled back with the test)."""
    tags_ensure_defaults(actor="test")
    EligibilityRule.objects.all().delete()
    wangs = household("A", "H-2")
    people = {
        "zhang": register("A1", "张桂英", "1940-05-01", household=household("A1", "H-1")),
        "wang": register("A", "王建国", "1944-01-10", gender="M", household=wangs),
        "wang_wife": register("A", "李秀英", "1946-03-03", household=wangs),
        "zhou": register("A", "周德明", "1946-06-16", gender="M"),  # 80 tomorrow
        "li": register("B", "李根宝", "1938-02-02", gender="M"),
        "zhao": register("Z", "赵凤英", "1941-09-09"),
        "young": register("A", "陈浩然", "1990-01-01", gender="M"),
        "liu": register("A", "刘春生", "1936-07-07", residence="floating", gender="M"),
        "sun": register("A", "孙福根", "1935-01-01", gender="M"),
    }
    Person.objects.filter(pk=people["sun"].pk).update(status="deceased")  # no service for it
    ResidentLink.objects.create(user=P("resident_a"), person=people["zhang"])
    gaoling = make_rule(
        "gaoling",
        GAOLING,
        name="高龄津贴",
        item=ServiceItem.objects.get(code="gaoling-jintie"),
        notice="您可以申请高龄津贴。",
    )
    return Town(people=people, gaoling=gaoling)


def tasks(rule: EligibilityRule) -> dict[str, tuple[str, str | None, bool]]:
    """Person name → (state, grid worker, still entitled) of the rule's rows."""
    return {
        e.person.name: (e.state, e.assignee.username if e.assignee else None, e.still_entitled)
        for e in Entitlement.objects.filter(rule=rule).select_related("person", "assignee")
    }


def approve_gaoling(person: Person) -> None:
    """Through the desk: applied, accepted, approved."""
    application = services.application_create(
        actor=P("community_worker"),
        item=ServiceItem.objects.get(code="gaoling-jintie"),
        person=person,
        channel="desk",
        form={"bank_account": "6217000000001234"},
        seen=["idcard", "hukou"],
    )
    for move in ("accept", "approve"):
        application = services.application_move(
            actor=P("community_worker"), application=application, move=move
        )


# ---------------------------------------------------------------------------------------------
# The run


def test_the_entitled_become_open_tasks_for_the_grid_worker_of_their_grid(town: Town) -> None:
    summary = eligibility.eligibility_run(rules=[town.gaoling], now=NOW)

    assert tasks(town.gaoling) == {
        "张桂英": ("open", "grid_worker_a", True),  # estate A1 is in grid A
        "王建国": ("open", "grid_worker_a", True),
        "李秀英": ("open", "grid_worker_a", True),  # 80 since March
        "李根宝": ("open", "grid_worker_b", True),
        "赵凤英": ("open", None, True),  # grid Z has no grid worker
    }  # not: 周德明 (79), 陈浩然, 刘春生 (floating), 孙福根 (deceased)
    [run] = summary.rules
    assert (run.entitled, run.receiving, run.new, run.unassigned) == (5, 0, 5, 1)
    row = Entitlement.objects.get(rule=town.gaoling, person=town["zhang"])
    assert (row.area_id, row.district_id) == (town["zhang"].area_id, town["zhang"].district_id)
    town.gaoling.refresh_from_db()
    assert town.gaoling.last_run_at == NOW


def test_residents_with_an_approved_application_count_as_receiving(town: Town) -> None:
    approve_gaoling(town["li"])

    summary = eligibility.eligibility_run(rules=[town.gaoling], now=NOW)

    assert tasks(town.gaoling)["李根宝"] == ("receiving", "grid_worker_b", True)
    [run] = summary.rules
    assert (run.entitled, run.receiving, run.new) == (5, 1, 4)


def test_residents_receiving_by_a_tag_count_as_receiving(town: Town) -> None:
    rule = make_rule("gaoling-tag", GAOLING, receiving='has_tag("elderly-80")')
    registry.tag_assign(
        actor="test",
        person=town["wang"],
        tag=TagType.objects.get(code="elderly-80"),
        source="民政局",
        valid_from=dt.date(2024, 1, 10),
    )

    eligibility.eligibility_run(rules=[rule], now=NOW)

    assert tasks(rule)["王建国"][0] == "receiving"
    assert tasks(rule)["张桂英"][0] == "open"


def test_a_second_run_changes_nothing_and_announces_nothing(
    town: Town, django_capture_on_commit_callbacks: Any
) -> None:
    eligibility.eligibility_run(rules=[town.gaoling], now=NOW)
    before = list(Entitlement.objects.order_by("pk").values())
    later = NOW + dt.timedelta(hours=1)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        summary = eligibility.eligibility_run(rules=[town.gaoling], now=later)

    assert list(Entitlement.objects.order_by("pk").values()) == before  # not even updated_at
    [run] = summary.rules
    assert (run.entitled, run.new, run.reopened, run.lapsed) == (5, 0, 0, 0)
    assert callbacks == []


def test_later_runs_keep_what_outreach_recorded(town: Town) -> None:
    eligibility.eligibility_run(rules=[town.gaoling], now=NOW)
    zhang = Entitlement.objects.get(rule=town.gaoling, person=town["zhang"])
    eligibility.entitlement_update(
        actor=P("grid_worker_a"), entitlement=zhang, state="declined", note="子女代领"
    )

    eligibility.eligibility_run(rules=[town.gaoling], now=NOW + dt.timedelta(hours=1))

    zhang.refresh_from_db()
    assert (zhang.state, zhang.note) == ("declined", "子女代领")


def test_a_resident_who_no_longer_matches_is_flagged_and_kept(town: Town) -> None:
    eligibility.eligibility_run(rules=[town.gaoling], now=NOW)
    Person.objects.filter(pk=town["wang"].pk).update(status="moved_out")

    summary = eligibility.eligibility_run(rules=[town.gaoling], now=NOW + dt.timedelta(hours=1))

    assert tasks(town.gaoling)["王建国"] == ("open", "grid_worker_a", False)
    assert summary.rules[0].lapsed == 1
    assert summary.rules[0].entitled == 4

    Person.objects.filter(pk=town["wang"].pk).update(status="active")  # came back
    summary = eligibility.eligibility_run(rules=[town.gaoling], now=NOW + dt.timedelta(hours=2))

    assert tasks(town.gaoling)["王建国"] == ("open", "grid_worker_a", True)
    assert summary.rules[0].new == 0


def test_deleting_a_resident_deletes_their_tasks(town: Town) -> None:
    eligibility.eligibility_run(rules=[town.gaoling], now=NOW)
    assert Entitlement.objects.filter(person=town["li"]).exists()

    Person.objects.filter(pk=town["li"].pk).delete()  # the ORM cascades (no database key)

    assert not Entitlement.objects.filter(person_id=town["li"].pk).exists()
    assert len(tasks(town.gaoling)) == 4


def test_a_task_left_by_a_resident_deleted_during_a_run_goes_at_the_next(
    town: Town, login: Any
) -> None:
    eligibility.eligibility_run(rules=[town.gaoling], now=NOW)
    left = Entitlement.objects.get(rule=town.gaoling, person=town["li"])
    with connection.cursor() as cursor:  # as a delete racing the run would leave it
        cursor.execute(
            f"DELETE FROM {Person._meta.db_table} WHERE id = %s",  # noqa: S608
            [town["li"].pk],
        )

    listed = login("grid_worker_b").get("/eligibility/people/")
    assert listed.status_code == 200 and left not in listed.context["page"].object_list
    assert login("grid_worker_b").get(f"/eligibility/people/{left.pk}/").status_code == 404

    summary = eligibility.eligibility_run(rules=[town.gaoling], now=NOW + dt.timedelta(hours=1))

    assert summary.rules[0].lapsed == 1 and summary.rules[0].new == 0
    assert not Entitlement.objects.filter(pk=left.pk).exists()
    assert len(tasks(town.gaoling)) == 4


def test_a_resident_whose_support_ended_is_a_task_again(
    town: Town, django_capture_on_commit_callbacks: Any
) -> None:
    rule = make_rule("tekun-80", GAOLING, receiving='has_tag("tekun")')
    tekun = registry.tag_assign(
        actor="test",
        person=town["li"],
        tag=TagType.objects.get(code="tekun"),
        source="民政局",
        valid_from=dt.date(2020, 1, 1),
    )
    eligibility.eligibility_run(rules=[rule], now=NOW)
    assert tasks(rule)["李根宝"][0] == "receiving"
    registry.tag_end(actor="test", person_tag=tekun, valid_to=dt.date(2026, 6, 14))

    with django_capture_on_commit_callbacks(execute=True):
        summary = eligibility.eligibility_run(rules=[rule], now=NOW)

    assert tasks(rule)["李根宝"][0] == "open"
    assert summary.rules[0].reopened == 1
    [notice] = Notification.objects.filter(user=P("grid_worker_b"))
    assert "1" in notice.title


def test_a_task_follows_its_resident_to_another_grid(town: Town) -> None:
    eligibility.eligibility_run(rules=[town.gaoling], now=NOW)
    eligibility.entitlement_update(
        actor=P("grid_worker_a"),
        entitlement=Entitlement.objects.get(rule=town.gaoling, person=town["wang"]),
        state="contacted",
    )
    Person.objects.filter(pk=town["wang"].pk).update(area=testing.area("B"))  # moved house

    eligibility.eligibility_run(rules=[town.gaoling], now=NOW + dt.timedelta(hours=1))

    row = Entitlement.objects.get(rule=town.gaoling, person=town["wang"])
    assert (row.area, row.assignee, row.state) == (
        testing.area("B"),
        P("grid_worker_b"),
        "contacted",
    )


def test_each_grid_worker_gets_one_notice_per_rule_with_the_count(
    town: Town, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        summary = eligibility.eligibility_run(rules=[town.gaoling], now=NOW)

    [notice_a] = Notification.objects.filter(user=P("grid_worker_a"))
    [notice_b] = Notification.objects.filter(user=P("grid_worker_b"))
    assert notice_a.kind == "eligibility.outreach"
    assert "高龄津贴" in notice_a.title and "3" in notice_a.title
    assert "1" in notice_b.title
    assert notice_a.url == "/eligibility/people/?rule=gaoling&mine=true"
    assert notice_a.body == "上门告知"
    assert summary.rules[0].worker_notices == 2


def test_a_resident_with_an_account_is_told_in_their_inbox(
    town: Town, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        summary = eligibility.eligibility_run(rules=[town.gaoling], now=NOW)

    [notice] = Notification.objects.filter(user=P("resident_a"))
    assert notice.kind == "eligibility.notice"
    assert "高龄津贴" in notice.title
    assert notice.body == "您可以申请高龄津贴。"
    assert notice.url == "/services/gaoling-jintie/"
    assert summary.rules[0].resident_notices == 1


def test_no_notice_when_the_run_is_rolled_back(
    town: Town, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        eligibility.eligibility_run(rules=[town.gaoling], now=NOW)
    assert len(callbacks) == 3  # two grid workers and the resident, all after commit
    assert not Notification.objects.exists()


def test_a_resident_becomes_entitled_on_their_birthday(town: Town) -> None:
    eligibility.eligibility_run(rules=[town.gaoling], now=NOW)
    assert "周德明" not in tasks(town.gaoling)

    tomorrow = NOW + dt.timedelta(days=1)
    with time_machine.travel(tomorrow, tick=False):
        summary = eligibility.eligibility_run(rules=[town.gaoling])

    assert tasks(town.gaoling)["周德明"] == ("open", "grid_worker_a", True)
    assert summary.rules[0].new == 1


@pytest.mark.parametrize(
    ("today", "entitled"),
    [("2025-02-28", False), ("2025-03-01", True), ("2028-02-28", False), ("2028-02-29", True)],
)
def test_someone_born_on_29_february_has_their_birthday_as_their_age_says(
    town: Town, today: str, entitled: bool
) -> None:
    leap = register("A", "闰日生", "1944-02-29")
    years = dt.date.fromisoformat(today).year - 1944
    rule = make_rule(f"age-{years}", f"age >= {years}")
    when = dt.datetime.combine(dt.date.fromisoformat(today), dt.time(9), tzinfo=TZ)
    with time_machine.travel(when, tick=False):
        eligibility.eligibility_run(rules=[rule])
        assert leap.age is not None and (leap.age >= years) is entitled
    assert ("闰日生" in tasks(rule)) is entitled


def test_a_rule_that_does_not_parse_is_reported_and_the_others_still_run(town: Town) -> None:
    # Saved around the services (the admin site, an old import): the run must cope.
    EligibilityRule.objects.create(code="broken", name="坏规则", expression="age >= 80 and x.y")

    summary = eligibility.eligibility_run(rules=["broken", "gaoling"], now=NOW)

    broken, good = summary.rules
    assert "Attribute access" in broken.error and "column 15" in broken.error
    assert good.new == 5
    assert AuditEntry.objects.filter(action="eligibility.run").exists()


def test_rules_that_match_nobody_or_everybody_run_alongside_the_others(town: Town) -> None:
    make_rule("nobody", 'False or tag_level("disabled") < 1')
    make_rule("everybody", "True")

    summary = eligibility.eligibility_run(rules=["nobody", "everybody", "gaoling"], now=NOW)

    by_code = {r.code: r.entitled for r in summary.rules}
    active = Person.objects.filter(status="active").count()
    assert by_code == {"everybody": active, "gaoling": 5, "nobody": 0}
    in_district = Person.objects.filter(status="active").exclude(area__code="F").count()
    assert eligibility.matching_count(
        actor=P("district_admin"), expression="True", receiving="False"
    ) == (in_district, 0)
    assert eligibility.matching_count(
        actor=P("district_admin"), expression="False", receiving="True"
    ) == (0, 0)


def test_an_inactive_rule_does_not_run_even_when_named(town: Town) -> None:
    eligibility.rule_update(actor=P("district_admin"), rule=town.gaoling, active=False)
    assert eligibility.eligibility_run(now=NOW).rules == []
    summary = eligibility.eligibility_run(rules=["gaoling"], now=NOW)
    assert summary.rules[0].skipped


def test_the_nightly_job_runs_each_rule_once_a_night(town: Town) -> None:
    night = dt.datetime(2026, 6, 16, 2, 0, tzinfo=TZ)
    assert eligibility.nightly(now=dt.datetime(2026, 6, 16, 10, 0, tzinfo=TZ)) is None  # day

    first = eligibility.nightly(now=night)
    again = eligibility.nightly(now=night + dt.timedelta(minutes=30))

    assert first is not None and [r.code for r in first.rules] == ["gaoling"]
    assert again is None
    town.gaoling.refresh_from_db()
    assert town.gaoling.last_run_at == night


def test_a_rule_run_since_midnight_is_skipped_by_the_nightly_compare_and_set(town: Town) -> None:
    midnight = dt.datetime(2026, 6, 16, 0, 0, tzinfo=TZ)
    eligibility.eligibility_run(rules=[town.gaoling], now=midnight + dt.timedelta(hours=1))

    summary = eligibility.eligibility_run(
        rules=[town.gaoling], now=midnight + dt.timedelta(hours=2), due_before=midnight
    )

    assert summary.rules[0].skipped


def test_the_worker_runs_the_nightly_job_once_a_night(town: Town, clock: Any) -> None:
    from shequ.cases import worker

    registered = [(name, job) for name, job, _every in worker.PERIODIC if name == "eligibility"]
    assert registered == [("eligibility", eligibility.nightly)]  # once, however often imported
    worker._last_run.pop("eligibility", None)
    night = dt.datetime(2026, 6, 16, 2, 0, tzinfo=TZ)
    runs = AuditEntry.objects.filter(action="eligibility.run")
    before = runs.count()

    clock.move_to(night)
    assert worker.run_once(now=night)["eligibility"] == 1
    later = night + dt.timedelta(seconds=apps.NIGHTLY_CHECK_SECONDS + 1)
    clock.move_to(later)
    worker.run_once(now=later)  # checked again, already done tonight

    town.gaoling.refresh_from_db()
    assert town.gaoling.last_run_at == night
    assert runs.count() == before + 1
    assert set(tasks(town.gaoling)) == {"张桂英", "王建国", "李秀英", "周德明", "李根宝", "赵凤英"}

    next_night = night + dt.timedelta(days=1, minutes=-30)
    clock.move_to(next_night)
    worker.run_once(now=next_night)
    town.gaoling.refresh_from_db()
    assert town.gaoling.last_run_at == next_night and runs.count() == before + 2


def test_two_workers_at_night_run_each_rule_once(committed_db: Any, transactional_db: Any) -> None:
    tags_ensure_defaults(actor="test")
    elders = [register("A", f"老人{i}", f"19{30 + i}-01-01") for i in range(3)]
    night = dt.datetime(2026, 6, 16, 2, 0, tzinfo=TZ)
    results, errors = testing.at_once(lambda: eligibility.nightly(now=night))

    assert errors == []
    ran = Counter(
        r.code for s in results if s is not None for r in s.rules if not r.skipped and not r.error
    )
    assert ran == Counter(code for code, *_rest in DEFAULT_RULES)  # each once, all of them
    gaoling = EligibilityRule.objects.get(code="gaoling-jintie")
    assert Entitlement.objects.filter(rule=gaoling).count() == len(elders)
    assert set(EligibilityRule.objects.values_list("last_run_at", flat=True)) == {night}


def test_the_command_installs_the_defaults_and_runs_them(town: Town, capsys: Any) -> None:
    call_command("eligibility_run", "--install-defaults", "--quiet-notices")
    out = capsys.readouterr().out
    assert f"default rules: {len(DEFAULT_RULES)} created" in out
    assert "gaoling-jintie: 5 entitled" in out
    assert f"{len(DEFAULT_RULES) + 1} rules in" in out

    with pytest.raises(CommandError, match="no such rule: nope"):
        call_command("eligibility_run", "--rule", "nope", stdout=io.StringIO())


def test_a_fresh_database_has_the_default_rules_and_installing_again_keeps_edits(
    world: Any,
) -> None:
    codes = set(EligibilityRule.objects.values_list("code", flat=True))
    assert codes == {r[0] for r in DEFAULT_RULES} and len(DEFAULT_RULES) == 10
    names = set(EligibilityRule.objects.values_list("name", flat=True))
    assert {"高龄津贴", "困难残疾人生活补贴", "重度残疾人护理补贴", "独居老人定期探访"} <= names
    assert install_rules(EligibilityRule, ServiceItem) == 0
    edited = EligibilityRule.objects.get(code="gaoling-jintie")
    eligibility.rule_update(actor=P("district_admin"), rule=edited, expression="age >= 90")
    EligibilityRule.objects.filter(code="duju-tanfang").delete()

    assert install_rules(EligibilityRule, ServiceItem) == 1  # the missing one, nothing else
    assert EligibilityRule.objects.get(code="gaoling-jintie").expression == "age >= 90"
    assert EligibilityRule.objects.filter(code="duju-tanfang").exists()


def test_the_default_rules_install_once_and_all_compile(world: Any) -> None:
    tags_ensure_defaults(actor="test")
    EligibilityRule.objects.all().delete()
    assert install_rules(EligibilityRule, ServiceItem) == len(DEFAULT_RULES) == 10
    assert install_rules(EligibilityRule, ServiceItem) == 0
    for rule in EligibilityRule.objects.all():
        eligibility.compile_pair(
            expression=rule.expression,
            receiving=rule.receiving,
            item_id=rule.item_id,
            today=dt.date(2026, 6, 15),
        )
        assert rule.item is not None or rule.code == "duju-tanfang", rule.code


def test_lives_alone_means_the_only_member_of_a_household_living_here(town: Town) -> None:
    rule = make_rule("alone", "age >= 70 and lives_alone")
    widow = register("B", "吴阿婆", "1945-01-01", household=household("B", "H-3"))
    late = register("B", "吴阿公", "1943-01-01", household=widow.household, gender="M")
    Person.objects.filter(pk=late.pk).update(status="deceased")

    eligibility.eligibility_run(rules=[rule], now=NOW)

    assert set(tasks(rule)) == {"张桂英", "吴阿婆"}  # not the 王 couple, not 李 (no household)


# ---------------------------------------------------------------------------------------------
# Outreach


@pytest.fixture
def found(town: Town) -> Town:
    eligibility.eligibility_run(rules=[town.gaoling], now=NOW)
    return town


def task_of(town: Town, name: str) -> Entitlement:
    return Entitlement.objects.select_related("area").get(rule=town.gaoling, person=town[name])


def test_the_grid_worker_records_contact_and_it_is_audited(found: Town) -> None:
    task = eligibility.entitlement_update(
        actor=P("grid_worker_a"),
        entitlement=task_of(found, "zhang"),
        state="contacted",
        note="已电话",
    )

    assert (task.state, task.note, task.contacted_at) == ("contacted", "已电话", NOW)
    entry = AuditEntry.objects.filter(action="entitlement.contacted").latest("seq")
    assert entry.changes["state"] == ["open", "contacted"]
    assert entry.area_path == testing.area("A1").path


def test_community_staff_may_record_outreach_in_their_community(found: Town) -> None:
    task = eligibility.entitlement_update(
        actor=P("community_worker"), entitlement=task_of(found, "li"), state="applied"
    )
    assert task.state == "applied"


@pytest.mark.parametrize("who", ["grid_worker_b", "street_supervisor", "district_admin"])
def test_others_may_not_record_outreach(found: Town, who: str) -> None:
    with pytest.raises(DomainError) as refused:
        eligibility.entitlement_update(
            actor=P(who), entitlement=task_of(found, "zhang"), state="contacted"
        )
    assert refused.value.code == "eligibility_not_yours"


@pytest.mark.parametrize(
    ("path", "target"),
    [(["contacted"], "contacted"), (["applied"], "declined"), ([], "receiving"), ([], "open")],
)
def test_outreach_moves_only_along_its_states(found: Town, path: list[str], target: str) -> None:
    task = task_of(found, "zhang")
    for state in path:
        task = eligibility.entitlement_update(
            actor=P("grid_worker_a"), entitlement=task, state=state
        )
    with pytest.raises(DomainError) as refused:
        eligibility.entitlement_update(actor=P("grid_worker_a"), entitlement=task, state=target)
    assert refused.value.code == "invalid_transition"


def test_the_buttons_are_the_moves_the_policy_allows(found: Town) -> None:
    task = task_of(found, "zhang")
    assert eligibility.outreach_moves(P("grid_worker_a"), task) == [
        "contacted",
        "declined",
        "applied",
    ]
    assert eligibility.outreach_moves(P("grid_worker_b"), task) == []
    assert eligibility.outreach_moves(P("street_supervisor"), task) == []


def test_coverage_counts_each_state_of_the_still_entitled(found: Town) -> None:
    approve_gaoling(found["wang_wife"])
    eligibility.eligibility_run(rules=[found.gaoling], now=NOW)
    eligibility.entitlement_update(
        actor=P("grid_worker_a"), entitlement=task_of(found, "zhang"), state="declined"
    )
    Person.objects.filter(pk=found["wang"].pk).update(status="deceased")
    eligibility.eligibility_run(rules=[found.gaoling], now=NOW)

    [row] = [c for c in eligibility.coverage(P("community_worker")) if c.rule == found.gaoling]
    assert (row.entitled, row.receiving, row.declined, row.open, row.rate) == (3, 1, 1, 1, 33)
    [district] = [c for c in eligibility.coverage(P("district_admin")) if c.rule == found.gaoling]
    assert (district.entitled, district.unassigned) == (4, 1)  # 赵凤英 in Z
    by_grid = eligibility.coverage_by_area(P("community_worker"), found.gaoling, level="grid")
    assert [(c.area.code, c.entitled) for c in by_grid if c.area] == [
        (testing.CODES["A"], 2),
        (testing.CODES["B"], 1),
    ]


# ---------------------------------------------------------------------------------------------
# Rules as data


def test_a_district_admin_creates_a_rule_and_it_is_audited(world: Any) -> None:
    rule = eligibility.rule_create(
        actor=P("district_admin"), code="r1", name="规则", expression="age >= 60"
    )
    entry = AuditEntry.objects.filter(action="eligibility_rule.created").latest("seq")
    assert (entry.object_id, entry.changes["expression"]) == (str(rule.pk), "age >= 60")


def test_a_malformed_expression_is_refused_with_its_position(world: Any) -> None:
    before = EligibilityRule.objects.count()
    with pytest.raises(DomainError) as refused:
        eligibility.rule_create(
            actor=P("district_admin"), code="r1", name="规则", expression="age >= 80 and x.y == 1"
        )
    assert refused.value.code == "eligibility_invalid_rule"
    assert refused.value.extra == {"field": "expression"}
    assert "第 1 行第 15 列" in refused.value.message  # in the user's language
    assert EligibilityRule.objects.count() == before
    assert not EligibilityRule.objects.filter(code="r1").exists()


def test_an_unknown_tag_or_area_is_refused_with_its_position(world: Any) -> None:
    tags_ensure_defaults(actor="test")
    for text, column in (('age > 1 and has_tag("nope")', 13), ('in_area("999")', 1)):
        error = eligibility.expression_error(text)
        assert error is not None and f"第 1 行第 {column} 列" in error


def test_the_receiving_expression_is_checked_too(world: Any) -> None:
    with pytest.raises(DomainError) as refused:
        eligibility.rule_create(
            actor=P("district_admin"),
            code="r1",
            name="规则",
            expression="age >= 60",
            receiving="lambda: 1",
        )
    assert refused.value.extra == {"field": "receiving"}


def test_codes_the_editor_uses_for_its_pages_are_reserved(world: Any) -> None:
    for code in ("new", "check"):
        with pytest.raises(DomainError) as refused:
            eligibility.rule_create(
                actor=P("district_admin"), code=code, name="规则", expression="age >= 60"
            )
        assert refused.value.extra == {"field": "code"}


def test_only_district_civil_affairs_edit_rules(world: Any) -> None:
    with pytest.raises(DomainError):
        eligibility.rule_create(
            actor=P("community_worker"), code="r1", name="规则", expression="age >= 60"
        )


def test_a_rule_update_records_what_changed(world: Any) -> None:
    rule = eligibility.rule_create(
        actor=P("district_admin"), code="r1", name="规则", expression="age >= 60"
    )
    eligibility.rule_update(actor=P("district_admin"), rule=rule, expression="age >= 65 ")
    entry = AuditEntry.objects.filter(action="eligibility_rule.updated").latest("seq")
    assert entry.changes == {"expression": ["age >= 60", "age >= 65"]}
    with pytest.raises(DomainError):
        eligibility.rule_update(actor=P("district_admin"), rule=rule, expression="age >=")


# ---------------------------------------------------------------------------------------------
# The compiled query agrees with the language's interpreter


@pytest.fixture
def oracle(world: Any, clock: Any) -> tuple[list[Person], dict[int, rules.Facts]]:
    """People with every attribute the language reads, and their facts as the interpreter
    sees them (built from what the database holds)."""
    tags_ensure_defaults(actor="test")
    tag = {t.code: t for t in TagType.objects.all()}
    h1, h2 = household("A", "O-1"), household("B", "O-2")
    spec = [
        ("A", "1940-06-15", "F", "registered", h1),  # 86 today
        ("A1", "1946-06-15", "M", "registered", None),  # 80 today
        ("A1", "1946-06-16", "F", "floating", None),  # 80 tomorrow
        ("B", "1960-12-31", "M", "foreign", h2),
        ("B", "1945-03-01", "F", "registered", h2),
        ("Z", "2020-01-01", "U", "floating", None),
        ("Z", "1926-01-01", "F", "registered", None),
        ("A", "1944-02-29", "M", "registered", None),
    ]
    people = [
        registry.person_create(
            actor="test",
            area=testing.area(key),
            name=f"甲{i}",
            gender=gender,
            birth_date=dt.date.fromisoformat(born),
            residence_type=residence,
            household=home,
        )
        for i, (key, born, gender, residence, home) in enumerate(spec)
    ]
    Person.objects.filter(pk=people[4].pk).update(status="moved_out")
    Person.objects.create(  # no birth date known
        area=testing.area("A"), district=testing.area("D"), name="无生日", gender="M"
    )

    def give(i: int, code: str, details: dict[str, Any] | None = None, **period: Any) -> None:
        registry.tag_assign(
            actor="test", person=people[i], tag=tag[code], source="t", details=details, **period
        )

    give(0, "disabled", {"category": "肢体", "level": "二级"})
    give(0, "dibao")
    give(1, "disabled", {"category": "视力", "level": 2})  # a number, as some imports write
    give(2, "disabled", {"category": "肢体"})  # no level recorded
    give(3, "tekun", valid_to=dt.date(2026, 6, 14))  # ended yesterday
    give(3, "dibao", valid_from=dt.date(2026, 6, 16))  # starts tomorrow
    give(5, "elderly-alone", {"kind": "x"})
    give(6, "disabled", {"category": "精神", "level": "四级"})
    give(6, "disabled", {"category": "肢体", "level": "一级"})  # held twice
    give(7, "dibao", valid_from=dt.date(2026, 6, 15), valid_to=dt.date(2026, 6, 15))

    today = dt.date(2026, 6, 15)
    everyone = list(Person.objects.select_related("area"))
    living_here: dict[int, set[int]] = {}
    for p in everyone:
        if p.household_id and p.status == "active":
            living_here.setdefault(p.household_id, set()).add(p.pk)
    facts = {}
    for p in everyone:
        held: dict[str, list[dict[str, Any]]] = {}
        for t in PersonTag.objects.filter(person=p).select_related("tag"):
            if (t.valid_from is None or t.valid_from <= today) and (
                t.valid_to is None or t.valid_to >= today
            ):
                held.setdefault(t.tag.code, []).append(t.details)
        area = p.area
        codes = {area.code} | {
            a.code for a in type(area).objects.filter(path__in=area.ancestor_paths)
        }
        facts[p.pk] = rules.Facts(
            age=p.age,
            gender=p.gender,
            residence_type=p.residence_type,
            status=p.status,
            # Nobody else of their household lives here.
            lives_alone=bool(p.household_id)
            and not (living_here.get(p.household_id or 0, set()) - {p.pk}),
            tags=held,
            areas=frozenset(codes),
        )
    return everyone, facts


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=rule_texts())
def test_the_query_finds_exactly_whom_the_interpreter_finds(
    oracle: tuple[list[Person], dict[int, rules.Facts]], text: str
) -> None:
    people, facts = oracle
    tree = rules.parse(text)
    q = eligibility.compile_rule(tree, today=dt.date(2026, 6, 15))
    found = set(Person.objects.filter(q).values_list("pk", flat=True))
    expected = {p.pk for p in people if rules.evaluate(tree, facts[p.pk])}
    assert found == expected, text


# ---------------------------------------------------------------------------------------------
# Notice channels


def test_the_log_channel_writes_each_notice_to_the_log(
    world: Any, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    settings.NOTICE_CHANNELS = ["log"]
    with caplog.at_level(logging.INFO, logger="shequ.notices"):
        notify(users=[P("grid_worker_a")], kind="test", title="标题", url="/x/")
    assert f"notice to user {P('grid_worker_a').pk}: [test] 标题 /x/" in caplog.text


def test_the_file_channel_appends_json_lines(world: Any, settings: Any, tmp_path: Any) -> None:
    settings.NOTICE_CHANNELS = ["file"]
    settings.VAR_DIR = tmp_path
    notify(users=[P("grid_worker_a"), P("grid_worker_b")], kind="test", title="一", body="正文")
    notify(users=[P("grid_worker_a")], kind="test", title="二")

    lines = [json.loads(x) for x in (tmp_path / "notices.jsonl").read_text().splitlines()]
    assert [(x["user_id"], x["title"]) for x in lines] == [
        (P("grid_worker_a").pk, "一"),
        (P("grid_worker_b").pk, "一"),
        (P("grid_worker_a").pk, "二"),
    ]
    assert lines[0]["body"] == "正文" and lines[0]["kind"] == "test" and lines[0]["at"]


@pytest.mark.parametrize("name", ["sms", "wechat", "carrier-pigeon"])
def test_channels_without_a_gateway_or_unknown_refuse_to_be_enabled(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        channels.check_names(["log", name])


def test_a_failing_channel_does_not_lose_the_inbox_notice(
    world: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings.NOTICE_CHANNELS = ["log"]

    def broken(self: Any, notices: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(channels.LogChannel, "deliver", broken)
    assert notify(users=[P("grid_worker_a")], kind="test", title="仍在收件箱") == 1
    assert Notification.objects.filter(title="仍在收件箱").exists()
    assert "notice channel log failed" in caplog.text


@pytest.mark.parametrize(("value", "started"), [("log,file", True), ("log,sms", False)])
def test_the_setting_names_channels_and_refuses_stubs_at_start(
    tmp_path: Any, value: str, started: bool
) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SHEQU_", "DJANGO_")) and k != "DATABASE_URL"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="shequ.settings",
        SHEQU_DEBUG="1",
        SHEQU_VAR_DIR=str(tmp_path),
        SHEQU_NOTICE_CHANNELS=value,
    )
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=Path(__file__).resolve().parents[3],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ("started" in done.stdout) is started
    if not started:
        assert "SHEQU_NOTICE_CHANNELS: the sms channel cannot be enabled" in done.stderr
