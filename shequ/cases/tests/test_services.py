"""Service tests of every move: status, event row, audit row, notices, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from shequ.cases import policy, services
from shequ.cases.access import CODE_RE
from shequ.cases.models import Case, CaseEvent, CasePhoto, CaseTask
from shequ.cases.states import MOVES, Light, Status
from shequ.cases.testing import CaseWorld, photo
from shequ.core import testing
from shequ.core.errors import DomainError
from shequ.core.models import AuditEntry
from shequ.inbox.models import Notification

P = testing.persona


def report(cw: CaseWorld, *, by: str = "grid_worker_a", **kw: Any) -> Case:
    kw.setdefault("category", cw.category)
    kw.setdefault("description", "楼道口堆满了旧家具")
    kw.setdefault("source", "grid")
    kw.setdefault("area", testing.area("A"))
    return services.case_create(actor=P(by), **kw)


def move(case: Case, name: str, by: str, **kw: Any) -> Case:
    return services.case_move(actor=P(by), case=case, move=name, **kw)


def to_resolved(cw: CaseWorld, media: Any, **kw: Any) -> Case:
    case = report(cw, **kw)
    move(case, "accept", "community_worker")
    move(case, "dispatch", "community_worker")
    move(case, "start", "department")
    return move(case, "resolve", "department", answer="已清理", photos=[photo()])


def test_it_reports_a_case_with_code_deadline_event_and_audit(cw: CaseWorld, media: Any) -> None:
    case = report(cw, photos=[photo()])
    assert CODE_RE.match(case.code)
    assert case.status == Status.REPORTED and case.stage == "accept"
    assert case.due_at is not None and case.yellow_at is not None
    assert case.yellow_at <= case.due_at
    assert case.district == testing.area("D")
    assert case.events.get().kind == "reported"
    assert case.photos.get().kind == CasePhoto.Kind.REPORT
    assert AuditEntry.objects.filter(action="case.reported", object_id=str(case.pk)).exists()


def test_codes_count_up_within_a_day(cw: CaseWorld) -> None:
    a, b = report(cw), report(cw)
    assert int(b.code[-6:]) == int(a.code[-6:]) + 1


def test_the_whole_loop_records_every_step(
    cw: CaseWorld, media: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        case = report(cw, by="resident_a", source="resident")
    assert Notification.objects.filter(user=P("community_worker"), kind="case.reported").exists()
    move(case, "accept", "community_worker")
    case = move(case, "dispatch", "community_worker")
    assert case.lead_unit == cw.chengguan  # routed by the 市容环境 rule
    assert case.tasks.get().role == CaseTask.Role.LEAD
    move(case, "start", "department")
    case = move(case, "resolve", "department", answer="已清理", photos=[photo()])
    assert case.photos.filter(kind=CasePhoto.Kind.EVIDENCE).count() == 1
    move(case, "verify", "grid_worker_a")
    case = move(case, "rate", "resident_a", rating=5, note="很快")
    assert case.rating == 5
    case = move(case, "close", "community_worker")
    assert case.status == Status.CLOSED and case.stage == "" and case.due_at is None
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == [
        "reported",
        "accept",
        "dispatch",
        "start",
        "resolve",
        "verify",
        "rate",
        "close",
    ]
    assert (
        AuditEntry.objects.filter(object_id=str(case.pk), action__startswith="case.").count() == 8
    )


def test_a_move_not_allowed_from_the_status_is_invalid_transition(cw: CaseWorld) -> None:
    case = report(cw)
    with pytest.raises(DomainError) as exc:
        move(case, "verify", "grid_worker_a")
    assert exc.value.code == "invalid_transition"
    assert Case.objects.get(pk=case.pk).status == Status.REPORTED


def test_only_the_right_person_may_move(cw: CaseWorld) -> None:
    case = report(cw)
    with pytest.raises(DomainError) as exc:
        move(case, "accept", "grid_worker_a")
    assert exc.value.code == "case_not_your_move"
    move(case, "accept", "community_worker")
    move(case, "dispatch", "community_worker")
    with pytest.raises(DomainError):
        move(case, "start", "community_worker")  # 城管 handles it, not the community


def test_reasons_are_required_where_the_machine_says(cw: CaseWorld) -> None:
    case = report(cw)
    with pytest.raises(DomainError) as exc:
        move(case, "reject", "community_worker", note=" ")
    assert exc.value.code == "case_note_required"
    case = move(case, "reject", "community_worker", note="不属于受理范围")
    assert case.status == Status.REJECTED


def test_resolving_needs_an_answer_and_photo_evidence(cw: CaseWorld, media: Any) -> None:
    case = report(cw)
    move(case, "accept", "community_worker")
    move(case, "dispatch", "community_worker")
    with pytest.raises(DomainError) as exc:
        move(case, "resolve", "department", answer="已清理")
    assert exc.value.code == "case_evidence_required"
    with pytest.raises(DomainError) as exc:
        move(case, "resolve", "department", answer="", photos=[photo()])
    assert exc.value.code == "case_note_required"


def test_a_unit_returns_a_case_that_is_not_theirs(cw: CaseWorld) -> None:
    case = report(cw)
    move(case, "accept", "community_worker")
    move(case, "dispatch", "community_worker")
    case = move(case, "return", "department", note="应由物业处理")
    assert case.status == Status.ACCEPTED and case.lead_unit is None
    assert case.tasks.get().state == CaseTask.State.RETURNED
    case = move(case, "dispatch", "community_worker", unit=cw.community)
    assert case.lead_unit == cw.community


def test_dispatch_with_helpers_creates_a_task_each(cw: CaseWorld) -> None:
    case = report(cw)
    move(case, "accept", "community_worker")
    case = move(case, "dispatch", "community_worker", unit=cw.chengguan, helpers=[cw.community])
    tasks = {t.unit_id: t for t in case.tasks.all()}
    assert tasks[cw.community.pk].role == CaseTask.Role.HELPER
    services.case_task_answer(
        actor=P("community_worker"), task=tasks[cw.community.pk], answer="已配合"
    )
    assert CaseTask.objects.get(pk=tasks[cw.community.pk].pk).state == CaseTask.State.DONE
    with pytest.raises(DomainError):
        services.case_task_answer(
            actor=P("community_worker"), task=tasks[cw.chengguan.pk], answer="x"
        )


def test_redo_sends_it_back_to_handling(cw: CaseWorld, media: Any) -> None:
    case = to_resolved(cw, media)
    case = move(case, "redo", "grid_worker_a", note="还有一半没清")
    assert case.status == Status.IN_PROGRESS and case.stage == "handle"


def test_merge_needs_a_live_case_of_the_same_district(cw: CaseWorld) -> None:
    first, second = report(cw), report(cw)
    with pytest.raises(DomainError) as exc:
        move(second, "merge", "community_worker", target=second)
    assert exc.value.code == "case_bad_merge_target"
    second = move(second, "merge", "community_worker", target=first)
    assert second.status == Status.MERGED and second.merged_into == first


def test_extension_is_asked_then_approved(cw: CaseWorld) -> None:
    case = report(cw)
    move(case, "accept", "community_worker")
    case = move(case, "dispatch", "community_worker")
    before = case.due_at
    assert not policy.can_move(P("community_worker"), case, "extend_approve")
    case = move(case, "extend_request", "department", days=3, note="需要采购配件")
    assert case.extension_requested_days == 3
    case = move(case, "extend_approve", "community_worker")
    assert case.due_at is not None and before is not None
    assert case.due_at > before and case.extension_requested_days is None


def test_shelve_and_dispatch_again(cw: CaseWorld) -> None:
    case = report(cw)
    move(case, "accept", "community_worker")
    case = move(case, "shelve", "community_worker", note="需纳入明年改造计划")
    assert case.status == Status.SHELVED and case.due_at is None
    case = move(case, "dispatch", "community_worker")
    assert case.status == Status.DISPATCHED


def test_reporter_reopens_within_the_window(cw: CaseWorld, media: Any, settings: Any) -> None:
    case = to_resolved(cw, media, by="resident_a", source="resident")
    move(case, "verify", "grid_worker_a")
    move(case, "rate", "resident_a", rating=2)
    case = move(case, "close", "community_worker")
    with pytest.raises(DomainError):
        move(case, "reopen", "grid_worker_b", note="x")
    case = move(case, "reopen", "resident_a", note="又堆起来了")
    assert case.status == Status.DISPATCHED and case.rating is None


def test_supervise_and_escalate_by_a_supervisor(cw: CaseWorld) -> None:
    case = report(cw)
    with pytest.raises(DomainError):
        move(case, "supervise", "community_worker", note="x")
    case = move(case, "supervise", "street_supervisor", note="请尽快处理")
    assert case.supervised
    case = move(case, "escalate", "street_supervisor", note="多次投诉")
    assert case.level == 1
    assert not CaseEvent.objects.get(case=case, kind="supervise").public


def test_rating_must_be_one_to_five(cw: CaseWorld, media: Any) -> None:
    case = to_resolved(cw, media, by="resident_a", source="resident")
    move(case, "verify", "grid_worker_a")
    with pytest.raises(DomainError) as exc:
        move(case, "rate", "resident_a", rating=6)
    assert exc.value.code == "case_bad_rating"


def test_a_grid_worker_resolves_on_the_spot(cw: CaseWorld, media: Any) -> None:
    case = report(cw, on_spot_answer="已当场劝离", photos=[photo()])
    assert case.status == Status.RESOLVED and case.on_spot
    assert case.photos.filter(kind=CasePhoto.Kind.EVIDENCE).count() == 1
    with pytest.raises(DomainError) as exc:
        report(cw, category=cw.dispute, on_spot_answer="已调解", photos=[photo()])
    assert exc.value.code == "case_not_on_spot"


def test_a_file_that_is_not_an_image_is_refused(cw: CaseWorld, media: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("x.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")
    with pytest.raises(DomainError) as exc:
        report(cw, photos=[fake])
    assert exc.value.code == "case_bad_photo"
    assert not Case.objects.exists()


def test_a_photo_over_the_limit_is_refused(cw: CaseWorld, media: Any, settings: Any) -> None:
    settings.CASE_PHOTO_MAX_MB = 1
    big = photo()
    big.size = 2 * 1024 * 1024
    with pytest.raises(DomainError) as exc:
        report(cw, photos=[big])
    assert exc.value.code == "case_photo_too_large"


def test_location_finds_the_grid(cw: CaseWorld) -> None:
    case = report(cw, area=None, lat=39.005, lng=116.005)
    assert case.area == testing.area("A")
    with pytest.raises(DomainError) as exc:
        report(cw, area=None, lat=10.0, lng=10.0)
    assert exc.value.code == "case_bad_location"


def test_a_resident_cannot_report_in_another_district(cw: CaseWorld) -> None:
    with pytest.raises(DomainError) as exc:
        report(cw, by="resident_a", source="resident", area=testing.area("F"))
    assert exc.value.code == "case_bad_area"


def test_every_move_has_a_service_test_here() -> None:
    from pathlib import Path

    source = Path(__file__).read_text(encoding="utf-8")
    missing = [name for name in MOVES if f'"{name}"' not in source]
    assert missing == []


def test_the_same_move_twice_at_once_takes_effect_once(
    committed_db: Any, transactional_db: Any
) -> None:
    from shequ.cases.testing import build_case_world

    users = {p.username: testing.persona(p.username) for p in testing.PERSONAS}
    cw = build_case_world(users=users, areas={k: testing.area(k) for k in ("D", "S1", "C1")})
    case = report(cw)

    def accept() -> str:
        try:
            move(case, "accept", "community_worker")
        except DomainError as exc:
            return exc.code
        return "ok"

    results, errors = testing.at_once(accept)
    assert errors == []
    assert sorted(results) == ["invalid_transition", "ok"]
    assert CaseEvent.objects.filter(case=case, kind="accept").count() == 1
    assert Case.objects.get(pk=case.pk).light == Light.GREEN


def test_the_reporter_rates_through_the_private_link(cw: CaseWorld, media: Any) -> None:
    case = to_resolved(cw, media)
    with pytest.raises(DomainError) as exc:
        services.case_rate_by_link(token=case.public_token, rating=5)
    assert exc.value.code == "invalid_transition"  # not verified yet
    move(case, "verify", "grid_worker_a")
    case = services.case_rate_by_link(token=case.public_token, rating=4, note="满意")
    assert case.status == Status.RATED and case.rating == 4
    event = case.events.get(kind="rate")
    assert event.actor is None
    assert AuditEntry.objects.get(action="case.rate", object_id=str(case.pk)).actor_name == (
        "public-link"
    )


def test_the_link_allows_nothing_but_rating(cw: CaseWorld) -> None:
    case = report(cw)
    with pytest.raises(DomainError) as exc:
        services.case_move(actor="public-link", case=case, move="accept", by_link=True)
    assert exc.value.code == "case_not_your_move"
