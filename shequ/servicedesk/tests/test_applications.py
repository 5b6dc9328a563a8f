"""Service tests of applications: the register's pre-fill, the channel rules, materials, every
move of the loop with its event, audit row and notice, and the paused clock of 补正."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from shequ.core import testing
from shequ.core.errors import DomainError
from shequ.core.models import AuditEntry
from shequ.inbox.models import Notification
from shequ.registry import pii
from shequ.registry.models import Person
from shequ.servicedesk import policy, services
from shequ.servicedesk.access import CODE_RE
from shequ.servicedesk.models import Application, ApplicationMaterial, ServiceItem
from shequ.servicedesk.states import MOVES, Status
from shequ.servicedesk.tests.conftest import (
    GAOLING_FORM,
    Desk,
    apply_at_desk,
    apply_online,
    move,
    scan,
)

P = testing.persona
SH = ZoneInfo("Asia/Shanghai")


def refusal(exc: Any) -> DomainError:
    assert isinstance(exc.value, DomainError)
    return exc.value


# Pre-filled from the register (最多录一次)


def test_an_online_application_is_prefilled_from_the_register(desk: Desk) -> None:
    application = apply_online(desk, form={**GAOLING_FORM, "name": "冒名", "id_number": "1"})
    assert CODE_RE.match(application.code)
    register = application.form["register"]
    assert register["name"] == "张三"
    assert register["gender"] == "M" and register["birth_date"] == "1940-03-02"
    assert register["age"] >= 80
    assert register["id_masked"] == pii.mask_id(desk.zhang.id_number)
    assert desk.zhang.id_number[4:-4] not in str(application.form)
    assert register["phone_masked"] == "138****5678"
    assert "13812345678" not in str(application.form)
    assert desk.zhang.dwelling is not None
    assert register["address"] == desk.zhang.dwelling.standard_address
    assert "翠苑路" in register["address"]
    assert register["household"] == "330106-0001"
    assert register["residence_type"] == "registered"
    assert [t["code"] for t in register["tags"]] == ["elderly-80"]
    # The applicant adds only the item's extra fields; what the register holds is never taken.
    assert application.form["extra"] == GAOLING_FORM


def test_the_form_shows_only_the_tags_the_item_needs(desk: Desk) -> None:
    item = ServiceItem.objects.get(code="canji-liangxiang-butie")
    form = services.register_form(item, desk.zhang)
    assert [(t["code"], t["sensitive"], t["details"]) for t in form["tags"]] == [
        ("disabled", True, {"category": "肢体", "level": "二级"})
    ]


def test_an_expired_tag_is_not_shown(desk: Desk) -> None:
    tag = desk.zhang.tags.get(tag__code="elderly-80")
    tag.valid_to = dt.date(2000, 1, 1)
    tag.save()
    assert services.register_form(desk.gaoling, desk.zhang)["tags"] == []


def test_it_records_the_application_with_deadline_event_audit_and_materials(desk: Desk) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH), tick=False):
        application = apply_online(desk)
    assert application.status == Status.SUBMITTED
    assert application.area == testing.area("A") and application.district == testing.area("D")
    assert application.applicant_user == P("resident_a")
    assert application.recorded_by == P("resident_a")
    # 20 working days after Monday 2 March 2026 (the day itself does not count).
    assert application.due_at == dt.datetime(2026, 3, 30, 17, 30, tzinfo=SH)
    assert application.events.get().kind == "submitted"
    rows = {m.code: m for m in ApplicationMaterial.objects.filter(application=application)}
    assert set(rows) == {"idcard", "hukou"} and all(r.file.name for r in rows.values())
    entry = AuditEntry.objects.get(action="application.submitted", object_id=str(application.pk))
    assert entry.changes["channel"] == "online"


def test_an_on_the_spot_item_is_due_the_same_working_day(desk: Desk) -> None:
    item = ServiceItem.objects.get(code="laonian-zhucan")
    with time_machine.travel(dt.datetime(2026, 3, 7, 10, 0, tzinfo=SH), tick=False):  # Saturday
        application = services.application_create(
            actor=P("resident_a"),
            item=item,
            person=desk.zhang,
            channel="online",
            form={"delivery": "送餐上门"},
            files={"idcard": scan()},
        )
    assert application.due_at == dt.datetime(2026, 3, 9, 17, 30, tzinfo=SH)


def test_codes_count_up_within_a_day(desk: Desk) -> None:
    a, b = apply_online(desk), apply_at_desk(desk)
    assert int(b.code[-6:]) == int(a.code[-6:]) + 1


def test_the_applicant_and_the_desk_are_told_of_a_new_application(
    desk: Desk, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        application = apply_online(desk)
    mine = Notification.objects.get(user=P("resident_a"))
    assert mine.kind == "application.submitted" and application.code in mine.title
    assert mine.url == f"/services/my/{application.code}/"
    desk_notice = Notification.objects.get(user=P("community_worker"))
    assert desk_notice.url == f"/desk/applications/{application.code}/"
    assert not Notification.objects.filter(user=P("grid_worker_a")).exists()  # no desk.handle


# Materials


def test_missing_required_materials_are_listed_exactly(desk: Desk) -> None:
    with pytest.raises(DomainError) as exc:
        apply_online(desk, files={"idcard": scan()})
    error = refusal(exc)
    assert error.code == "materials_missing"
    assert error.extra["missing"] == ["居民户口簿"]
    assert "居民户口簿" in error.message and "居民身份证" not in error.message
    assert not Application.objects.exists()


def test_with_nothing_handed_in_every_required_material_is_missing(desk: Desk) -> None:
    with pytest.raises(DomainError) as exc:
        apply_online(desk, files={})
    assert refusal(exc).extra["missing"] == ["居民身份证", "居民户口簿"]


def test_an_optional_material_is_not_required(desk: Desk) -> None:
    application = apply_online(desk)  # the bank card is optional for 高龄津贴
    assert services.missing_materials(application) == []


def test_desk_staff_may_mark_originals_as_seen(desk: Desk) -> None:
    application = apply_at_desk(desk)
    rows = ApplicationMaterial.objects.filter(application=application)
    assert {(r.code, r.seen_by_id) for r in rows} == {
        ("idcard", P("community_worker").pk),
        ("hukou", P("community_worker").pk),
    }


def test_a_resident_cannot_mark_an_original_as_seen(desk: Desk) -> None:
    with pytest.raises(DomainError) as exc:
        apply_online(desk, files={"idcard": scan()}, seen=["hukou"])
    assert refusal(exc).code == "desk_only_staff_see_originals"


def test_an_unknown_material_or_file_type_is_refused(desk: Desk) -> None:
    with pytest.raises(DomainError) as exc:
        apply_online(desk, files={"idcard": scan(), "hukou": scan(), "passport": scan()})
    assert refusal(exc).extra["material"] == "passport"
    with pytest.raises(DomainError) as exc:
        apply_online(desk, files={"idcard": scan("virus.exe"), "hukou": scan()})
    assert refusal(exc).code == "desk_bad_file"
    with pytest.raises(DomainError) as exc:
        apply_online(desk, files={"idcard": scan(size=11 * 1024 * 1024), "hukou": scan()})
    assert refusal(exc).code == "desk_bad_file"
    # A text file renamed to look like a photo is not a scan; nothing is recorded.
    fake = SimpleUploadedFile("idcard.png", b"not an image at all", content_type="image/png")
    before = Application.objects.count()
    with pytest.raises(DomainError) as exc:
        apply_online(desk, files={"idcard": fake, "hukou": scan()})
    assert refusal(exc).code == "desk_bad_file"
    assert "PDF" in refusal(exc).message
    assert Application.objects.count() == before


# The extra fields


def test_a_required_extra_field_must_be_filled(desk: Desk) -> None:
    with pytest.raises(DomainError) as exc:
        apply_online(desk, form={})
    error = refusal(exc)
    assert error.code == "desk_bad_form"
    assert list(error.extra["fields"]) == ["bank_account"]


def test_choices_numbers_and_dates_are_checked(desk: Desk) -> None:
    item = ServiceItem.objects.get(code="dibao")
    base = {"household_size": "3", "monthly_income": "1200.5", "reason": "失业"}
    files = {"idcard": scan(), "hukou": scan(), "income": scan(), "consent": scan()}
    with pytest.raises(DomainError) as exc:
        services.application_create(
            actor=P("resident_a"),
            item=item,
            person=desk.zhang,
            channel="online",
            form={**base, "household_size": "三"},
            files=files,
        )
    assert list(refusal(exc).extra["fields"]) == ["household_size"]
    application = services.application_create(
        actor=P("resident_a"),
        item=item,
        person=desk.zhang,
        channel="online",
        form=base,
        files=files,
    )
    assert application.form["extra"] == {
        "household_size": 3,
        "monthly_income": 1200.5,
        "reason": "失业",
    }
    care = ServiceItem.objects.get(code="jujia-yanglao")
    with pytest.raises(DomainError) as exc:
        services.application_create(
            actor=P("resident_a"),
            item=care,
            person=desk.zhang,
            channel="online",
            form={"services": "洗车"},
            files={"idcard": scan()},
        )
    assert list(refusal(exc).extra["fields"]) == ["services"]


# Channels


def test_only_the_linked_resident_applies_online_for_a_person(desk: Desk) -> None:
    for actor, person in (
        (P("resident_a"), desk.li),  # someone else
        (P("grid_worker_a"), desk.zhang),  # staff without a link
    ):
        with pytest.raises(DomainError) as exc:
            services.application_create(
                actor=actor,
                item=desk.gaoling,
                person=person,
                channel="online",
                form=GAOLING_FORM,
                files={"idcard": scan(), "hukou": scan()},
            )
        assert refusal(exc).code == "desk_channel_not_allowed"


def test_a_resident_cannot_record_a_desk_application(desk: Desk) -> None:
    with pytest.raises(DomainError) as exc:
        apply_at_desk(desk, by="resident_a")
    assert refusal(exc).code == "desk_channel_not_allowed"


def test_desk_staff_apply_only_for_residents_of_their_areas(desk: Desk) -> None:
    assert apply_at_desk(desk, by="grid_worker_a").channel == "desk"
    with pytest.raises(DomainError) as exc:
        apply_at_desk(desk, by="grid_worker_b")  # 张三 lives in grid A
    assert refusal(exc).code == "desk_channel_not_allowed"
    with pytest.raises(DomainError):
        apply_at_desk(desk, desk.wang)  # another street


def test_proxy_needs_the_authorisation_recorded(desk: Desk) -> None:
    with pytest.raises(DomainError) as exc:
        apply_at_desk(desk, channel="proxy", proxy_authorisation="  ")
    error = refusal(exc)
    assert error.code == "desk_authorisation_required"
    assert error.extra["field"] == "proxy_authorisation"
    application = apply_at_desk(desk, channel="proxy", proxy_authorisation="子女张小三持授权委托书")
    assert application.proxy_authorisation == "子女张小三持授权委托书"
    entry = AuditEntry.objects.get(action="application.submitted", object_id=str(application.pk))
    assert entry.changes["authorisation"] == "子女张小三持授权委托书"


def test_proxy_is_refused_for_an_item_that_does_not_offer_it(desk: Desk) -> None:
    with pytest.raises(DomainError) as exc:
        services.application_create(
            actor=P("community_worker"),
            item=desk.tiaojie,
            person=desk.zhang,
            channel="proxy",
            proxy_authorisation="委托书",
            form={"summary": "楼上漏水", "other_party": "王某"},
        )
    assert refusal(exc).code == "desk_channel_not_allowed"


def test_an_item_not_offered_online_is_refused_online(desk: Desk) -> None:
    item = ServiceItem.objects.get(code="canjirenzheng-daiban")
    assert not item.online
    with pytest.raises(DomainError) as exc:
        services.application_create(
            actor=P("resident_a"),
            item=item,
            person=desk.zhang,
            channel="online",
            form={"disability_type": "肢体", "home_visit": "否"},
            files={"idcard": scan(), "hukou": scan(), "photo": scan("p.jpg")},
        )
    assert refusal(exc).code == "desk_channel_not_allowed"


def test_a_desk_application_belongs_to_the_residents_linked_account(desk: Desk) -> None:
    assert apply_at_desk(desk).applicant_user == P("resident_a")
    assert apply_at_desk(desk, desk.li).applicant_user is None


def test_nobody_applies_for_a_person_who_has_moved_out(desk: Desk) -> None:
    # The register has no service for moving out yet (imports set it); set it directly.
    Person.objects.filter(pk=desk.li.pk).update(status="moved_out")
    person = Person.objects.get(pk=desk.li.pk)
    with pytest.raises(DomainError) as exc:
        apply_at_desk(desk, person)
    assert refusal(exc).code == "desk_person_not_living_here"


# Every move


def test_the_whole_loop_with_events_audit_and_a_notice_at_every_step(
    desk: Desk, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        application = apply_online(desk)
        steps: list[tuple[str, str, dict[str, Any], str]] = [
            ("accept", "community_worker", {}, Status.ACCEPTED),
            ("forward", "community_worker", {}, Status.UNDER_REVIEW),
            ("approve", "street_supervisor", {"note": "自下月起发放"}, Status.APPROVED),
            ("rate", "resident_a", {"rating": 5, "note": "很方便"}, Status.RATED),
        ]
        for name, by, kw, status in steps:
            application = move(application, name, by, **kw)
            assert application.status == status
    assert application.forwarded_to == desk.gaoling.department
    assert application.answer == "自下月起发放" and application.finished_at is not None
    assert application.rating == 5 and application.rating_comment == "很方便"
    assert application.accepted_at is not None
    assert application.version == 5
    kinds = list(application.events.values_list("kind", flat=True))
    assert kinds == ["submitted", "accept", "forward", "approve", "rate"]
    actions = set(
        AuditEntry.objects.filter(
            object_id=str(application.pk), action__startswith="application."
        ).values_list("action", flat=True)
    )
    assert actions == {f"application.{k}" for k in kinds}
    notices = Notification.objects.filter(user=P("resident_a")).values_list("kind", flat=True)
    assert sorted(notices) == sorted(f"application.{k}" for k in kinds)


def test_refuse_and_deny_need_a_reason(desk: Desk) -> None:
    application = apply_online(desk)
    with pytest.raises(DomainError) as exc:
        move(application, "refuse", note=" ")
    assert refusal(exc).code == "desk_note_required"
    refused = move(application, "refuse", note="不在本社区居住")
    assert refused.status == Status.REFUSED and refused.answer == "不在本社区居住"
    other = move(apply_at_desk(desk), "accept")
    with pytest.raises(DomainError):
        move(other, "deny")
    denied = move(other, "deny", note="未满80周岁")
    assert denied.status == Status.DENIED and denied.finished_at is not None


def test_a_move_from_the_wrong_status_is_an_invalid_transition(desk: Desk) -> None:
    application = apply_online(desk)
    with pytest.raises(DomainError) as exc:
        move(application, "approve")
    error = refusal(exc)
    assert error.code == "invalid_transition"
    assert error.extra == {"status": "submitted", "move": "approve"}
    with pytest.raises(DomainError) as exc:
        move(application, "no_such_move")
    assert refusal(exc).code == "invalid_transition"


def test_staff_moves_need_desk_handle_in_the_area(desk: Desk) -> None:
    application = apply_online(desk)
    for who in ("grid_worker_a", "resident_a", "department"):
        with pytest.raises(DomainError) as exc:
            move(application, "accept", who)
        assert refusal(exc).code == "desk_not_your_move"
    testing.superuser()
    far = apply_at_desk(desk, desk.wang, by="root")
    with pytest.raises(DomainError):
        move(far, "accept", "community_worker")  # another street
    assert move(far, "accept", "district_admin").status == Status.ACCEPTED


def test_only_the_applicant_rates_and_only_from_one_to_five(desk: Desk) -> None:
    application = move(move(apply_online(desk), "accept"), "approve")
    with pytest.raises(DomainError) as exc:
        move(application, "rate", "community_worker", rating=5)
    assert refusal(exc).code == "desk_not_your_move"
    for bad in (None, 0, 6):
        with pytest.raises(DomainError) as exc:
            move(application, "rate", "resident_a", rating=bad)
        assert refusal(exc).code == "desk_bad_rating"
    assert move(application, "rate", "resident_a", rating=4).rating == 4


def test_the_desk_records_the_rating_of_a_resident_without_an_account(desk: Desk) -> None:
    application = move(move(apply_at_desk(desk, desk.li), "accept"), "approve")
    assert policy.allowed(P("community_worker"), application) == ["rate"]
    assert move(application, "rate", rating=3).rating == 3


def test_a_stale_version_is_refused(desk: Desk) -> None:
    application = apply_online(desk)
    move(application, "accept")
    with pytest.raises(DomainError) as exc:
        move(application, "forward", expected_version=1)
    assert refusal(exc).code == "desk_stale"


def test_accepting_needs_every_required_material(desk: Desk) -> None:
    application = apply_online(desk)
    ApplicationMaterial.objects.filter(application=application, code="hukou").delete()
    with pytest.raises(DomainError) as exc:
        move(application, "accept")
    assert refusal(exc).extra["missing"] == ["居民户口簿"]


def test_allowed_moves_follow_status_and_person(desk: Desk) -> None:
    application = apply_online(desk)
    assert policy.allowed(P("community_worker"), application) == [
        "accept",
        "request_materials",
        "refuse",
    ]
    assert policy.allowed(P("resident_a"), application) == []
    assert policy.allowed(P("grid_worker_b"), application) == []
    application = move(application, "request_materials", note="请补充户口簿首页")
    assert policy.allowed(P("resident_a"), application) == ["supplement"]
    assert policy.allowed(P("grid_worker_a"), application) == ["supplement"]
    assert set(MOVES) == set(services._APPLY)


# 补正: the clock stops while the resident fetches the papers


def test_asking_for_materials_pauses_the_clock_and_handing_them_in_resumes_it(
    desk: Desk, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH), tick=False):
        application = apply_online(desk)
    due = application.due_at
    tuesday = dt.datetime(2026, 3, 3, 10, 0, tzinfo=SH)
    with (
        time_machine.travel(tuesday, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        application = move(application, "request_materials", note="请补充银行卡复印件")
    assert application.status == Status.NEEDS_MATERIALS
    assert application.paused_at == dt.datetime(2026, 3, 3, 10, 0, tzinfo=SH)
    notice = Notification.objects.get(user=P("resident_a"), kind="application.request_materials")
    assert application.code in notice.title
    with time_machine.travel(dt.datetime(2026, 3, 5, 10, 0, tzinfo=SH), tick=False):
        with pytest.raises(DomainError) as exc:
            move(application, "supplement", "resident_a")
        assert refusal(exc).code == "desk_nothing_handed_in"
        application = move(application, "supplement", "resident_a", files={"bankcard": scan()})
    assert application.status == Status.SUBMITTED and application.paused_at is None
    # Paused for 15 office hours (Tue 10:00 → Thu 10:00); the deadline moves by as much.
    assert due == dt.datetime(2026, 3, 30, 17, 30, tzinfo=SH)
    assert application.due_at == dt.datetime(2026, 4, 1, 17, 30, tzinfo=SH)
    event = application.events.get(kind="supplement")
    assert event.data == {"paused_seconds": 15 * 3600, "materials": ["bankcard"]}


def test_the_desk_records_materials_brought_in_person(desk: Desk) -> None:
    application = move(apply_online(desk), "request_materials", note="请带户口簿原件")
    application = move(application, "supplement", "grid_worker_a", seen=["hukou"])
    assert application.status == Status.SUBMITTED
    row = ApplicationMaterial.objects.get(application=application, code="hukou")
    assert row.seen_by == P("grid_worker_a") and row.file.name  # the upload is kept too


def test_refusing_while_waiting_for_materials_stops_the_clock(desk: Desk) -> None:
    application = move(apply_online(desk), "request_materials", note="请补充")
    application = move(application, "refuse", note="逾期未补正")
    assert application.status == Status.REFUSED
    assert application.paused_at is None and application.finished_at is not None
