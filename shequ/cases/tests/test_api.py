"""The cases API: reports, the list with the shared filters, a case's detail, every move of the
loop by name, helping units' answers, categories and units."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from shequ.cases import services
from shequ.cases.models import Case, CasePhoto, CaseTask, Category, Unit, UnitKind
from shequ.cases.states import MOVES, Status
from shequ.cases.testing import CaseWorld, photo
from shequ.core import testing
from shequ.core.models import AuditEntry

P = testing.persona
CASES = "/api/v1/cases/"


def report(cw: CaseWorld, *, by: str = "grid_worker_a", **kw: Any) -> Case:
    """A case reported through the service (grid patrol in grid A unless told otherwise)."""
    kw.setdefault("category", cw.category)
    kw.setdefault("description", "楼道口堆满了旧家具")
    kw.setdefault("source", "grid")
    kw.setdefault("area", testing.area("A"))
    return services.case_create(actor=P(by), **kw)


def move(case: Case, name: str, by: str, **kw: Any) -> Case:
    return services.case_move(actor=P(by), case=case, move=name, **kw)


def foreign_community() -> Any:
    """A community in the district none of the personas works in."""
    from shequ.areas import services as areas
    from shequ.areas.models import Level

    street = areas.area_create(
        actor="test-setup",
        code="120199001000",
        name="外区一街道",
        level=Level.STREET,
        parent=testing.area("F"),
    )
    return areas.area_create(
        actor="test-setup",
        code="120199001001",
        name="外区甲社区",
        level=Level.COMMUNITY,
        parent=street,
    )


def detail_url(case: Case | str) -> str:
    return f"{CASES}{case.code if isinstance(case, Case) else case}/"


def act_url(case: Case, name: str) -> str:
    return f"{CASES}{case.code}/actions/{name}/"


def act(api: Any, who: str, case: Case, name: str, fmt: str = "json", **body: Any) -> Any:
    return api(who).post(act_url(case, name), body, format=fmt)


def not_an_image() -> SimpleUploadedFile:
    return SimpleUploadedFile("scan.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")


# Reporting


def test_a_resident_reports_a_case_as_json(cw: CaseWorld, api: Any) -> None:
    body = {"category": "0102", "description": "楼下垃圾堆了三天", "area": testing.CODES["A"]}
    response = api("resident_a").post(CASES, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    case = Case.objects.get(code=data["code"])
    assert case.reporter == P("resident_a") and case.source == "resident"
    assert data["status"] == Status.REPORTED and data["source"] == "resident"
    assert data["reported_by_me"] is True
    assert data["area"] == testing.CODES["A"] and data["category"] == "0102"
    assert data["due_at"] and data["stage"] == "accept" and data["light"] == "green"
    assert [e["kind"] for e in data["timeline"]] == ["reported"]
    assert data["allowed_actions"] == []  # nothing is the resident's move yet


def test_a_grid_worker_reports_with_photos_as_multipart(
    cw: CaseWorld, api: Any, media: Any
) -> None:
    body = {
        "category": "0102",
        "description": "占道堆放建材",
        "area": testing.CODES["A"],
        "photos": [photo("a.png"), photo("b.png")],
    }
    response = api("grid_worker_a").post(CASES, body, format="multipart")
    assert response.status_code == 201, response.json()
    data = response.json()
    case = Case.objects.get(code=data["code"])
    assert case.source == "grid" and case.photos.filter(kind=CasePhoto.Kind.REPORT).count() == 2
    urls = [p["url"] for p in data["photos"]]
    expected = [reverse("cases:photo", args=[case.code, p.pk]) for p in case.photos.all()]
    assert [u.removeprefix("http://testserver") for u in urls] == expected


def test_a_grid_worker_resolves_on_the_spot_through_the_api(
    cw: CaseWorld, api: Any, media: Any
) -> None:
    body = {
        "category": "0102",
        "description": "占道堆放建材",
        "area": testing.CODES["A"],
        "on_spot_answer": "已当场清理",
        "photos": [photo()],
    }
    response = api("grid_worker_a").post(CASES, body, format="multipart")
    assert response.status_code == 201
    assert response.json()["status"] == Status.RESOLVED and response.json()["on_spot"] is True


def test_the_desk_records_a_callers_report_and_the_api_masks_the_caller(
    cw: CaseWorld, api: Any
) -> None:
    body = {
        "category": "0501",
        "description": "楼上噪声",
        "area": testing.CODES["B"],
        "source": "desk",
        "reporter_name": "张三丰",
        "reporter_phone": "13812345678",
    }
    response = api("community_worker").post(CASES, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    case = Case.objects.get(code=data["code"])
    assert case.source == "desk" and case.reporter is None
    assert case.recorded_by == P("community_worker")
    assert case.reporter_phone == "13812345678"  # stored (encrypted), never shown in full
    assert data["reporter_name"] == "张**" and data["reporter_phone"] == "138****5678"
    again = api("community_worker").get(detail_url(case))
    assert "13812345678" not in again.content.decode()
    assert "张三丰" not in again.content.decode()


def test_only_staff_record_a_caller_or_choose_the_source(cw: CaseWorld, api: Any) -> None:
    base = {"category": "0102", "description": "x", "area": testing.CODES["A"]}
    resident = api("resident_a")
    response = resident.post(CASES, {**base, "reporter_phone": "13812345678"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["reporter_phone"]
    response = resident.post(CASES, {**base, "source": "hotline"}, format="json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["source"]
    response = api("grid_worker_a").post(CASES, {**base, "source": "resident"}, format="json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["source"]
    assert not Case.objects.exists()


def test_an_unknown_area_is_refused_like_one_the_reporter_may_not_use(
    cw: CaseWorld, api: Any
) -> None:
    base = {"category": "0102", "description": "x"}
    client = api("resident_a")
    unknown = client.post(CASES, {**base, "area": "999999999999"}, format="json")
    foreign = client.post(CASES, {**base, "area": foreign_community().code}, format="json")
    assert unknown.status_code == foreign.status_code == 409
    assert unknown.json() == foreign.json()
    assert unknown.json()["code"] == "case_bad_area"
    assert unknown.json()["extra"] == {"field": "area"}
    assert not Case.objects.exists()


def test_a_location_files_the_case_under_its_grid(cw: CaseWorld, api: Any) -> None:
    body = {"category": "0102", "description": "x", "lat": 39.005, "lng": 116.005}
    response = api("grid_worker_a").post(CASES, body, format="json")
    assert response.status_code == 201
    assert response.json()["area"] == testing.CODES["A"]


def test_an_unknown_category_is_a_400_on_the_field(cw: CaseWorld, api: Any) -> None:
    body = {"category": "9999", "description": "x", "area": testing.CODES["A"]}
    response = api("grid_worker_a").post(CASES, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["category"]


def test_a_file_that_is_not_a_photo_is_refused_with_a_clear_message(
    cw: CaseWorld, api: Any, media: Any
) -> None:
    body = {
        "category": "0102",
        "description": "x",
        "area": testing.CODES["A"],
        "photos": [not_an_image()],
    }
    response = api("grid_worker_a").post(CASES, body, format="multipart")
    assert response.status_code == 409
    assert response.json()["code"] == "case_bad_photo"
    assert "scan.jpg" in response.json()["message"]
    assert response.json()["extra"] == {"field": "photos"}
    assert not Case.objects.exists()


def test_signing_in_is_required_and_a_role_too(cw: CaseWorld, api: Any) -> None:
    assert api().get(CASES).status_code == 401
    assert api("nobody").get(CASES).status_code == 403


# The list


def _codes(response: Any) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["code"] for row in response.json()["results"]}


def test_the_list_filters_with_the_shared_filter_set(cw: CaseWorld, api: Any) -> None:
    in_a = report(cw)
    in_b = report(cw, by="grid_worker_b", area=testing.area("B"), category=cw.dispute)
    accepted = report(cw)
    move(accepted, "accept", "community_worker")
    client = api("community_worker")
    assert _codes(client.get(CASES)) == {in_a.code, in_b.code, accepted.code}
    assert _codes(client.get(CASES, {"status": "reported"})) == {in_a.code, in_b.code}
    assert _codes(client.get(CASES, {"status": ["reported", "accepted"]})) == {
        in_a.code,
        in_b.code,
        accepted.code,
    }
    assert _codes(client.get(CASES, {"category": "05"})) == {in_b.code}  # the parent's cases
    assert _codes(client.get(CASES, {"area": testing.CODES["B"]})) == {in_b.code}
    assert _codes(client.get(CASES, {"q": in_a.code})) == {in_a.code}
    assert _codes(client.get(CASES, {"source": "desk"})) == set()
    response = client.get(CASES, {"status": "lost"})
    assert response.status_code == 400 and "status" in response.json()["fields"]


def test_staff_list_only_the_cases_of_their_areas(cw: CaseWorld, api: Any) -> None:
    in_a = report(cw)
    in_b = report(cw, by="grid_worker_b", area=testing.area("B"))
    assert _codes(api("grid_worker_a").get(CASES)) == {in_a.code}
    assert _codes(api("grid_worker_b").get(CASES)) == {in_b.code}
    assert _codes(api("street_supervisor").get(CASES)) == {in_a.code, in_b.code}


def test_a_resident_lists_only_the_cases_they_reported(cw: CaseWorld, api: Any) -> None:
    mine = report(cw, by="resident_a", source="resident")
    report(cw)  # the grid worker's, in the resident's own grid
    assert _codes(api("resident_a").get(CASES)) == {mine.code}


def test_the_list_and_a_case_stay_within_a_query_ceiling(
    cw: CaseWorld, api: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(12):
        case = report(cw, description=f"第{i}处")
        if i % 2:
            move(case, "accept", "community_worker", note="收到")
            move(case, "dispatch", "community_worker", helpers=[cw.community])
    client = api("community_worker")
    with django_assert_max_num_queries(5):
        response = client.get(CASES)
    assert response.json()["count"] == 12
    with django_assert_max_num_queries(10):
        response = client.get(detail_url(case))
    assert response.status_code == 200


# The detail


def test_the_detail_is_found_by_number_and_by_id(cw: CaseWorld, api: Any, media: Any) -> None:
    case = report(cw, photos=[photo()])
    move(case, "accept", "community_worker", note="已受理")
    client = api("community_worker")
    by_code = client.get(detail_url(case))
    by_id = client.get(f"{CASES}{case.pk}/")
    assert by_code.status_code == by_id.status_code == 200
    assert by_code.json() == by_id.json()
    data = by_code.json()
    assert data["status"] == "accepted" and data["stage"] == "dispatch"
    assert {"due_at", "yellow_at", "light", "stage_started_at", "escalation_level"} <= set(data)
    assert [e["kind"] for e in data["timeline"]] == ["reported", "accept"]
    assert data["timeline"][1]["note"] == "已受理"
    assert data["timeline"][1]["actor"] == P("community_worker").display_name
    assert data["allowed_actions"] == ["merge", "dispatch", "shelve"]
    assert len(data["photos"]) == 1 and data["tasks"] == []
    assert data["track_url"].endswith(f"/track/{case.public_token}/")


def test_a_case_that_does_not_exist_and_one_not_visible_answer_alike(
    cw: CaseWorld, api: Any
) -> None:
    case = report(cw)
    client = api("grid_worker_b")
    hidden = client.get(detail_url(case))
    missing = client.get(detail_url("SJ20000101-999999"))
    nonsense = client.get(f"{CASES}drop%20table/")
    assert hidden.status_code == missing.status_code == nonsense.status_code == 404
    assert hidden.json() == missing.json() == nonsense.json()
    assert hidden.json()["code"] == "not_found"


def test_a_reporter_does_not_see_internal_steps(cw: CaseWorld, api: Any) -> None:
    case = report(cw, by="resident_a", source="resident")
    move(case, "supervise", "street_supervisor", note="内部：责任人已约谈")
    resident = api("resident_a").get(detail_url(case)).json()
    staff = api("community_worker").get(detail_url(case)).json()
    assert [e["kind"] for e in resident["timeline"]] == ["reported"]
    assert [e["kind"] for e in staff["timeline"]] == ["reported", "supervise"]


# Moves


def test_the_loop_runs_through_the_api(cw: CaseWorld, api: Any, media: Any) -> None:
    case = report(cw, by="resident_a", source="resident")

    def step(who: str, name: str, expect: str, fmt: str = "json", **body: Any) -> dict[str, Any]:
        before = api(who).get(detail_url(case)).json()
        assert name in before["allowed_actions"], (who, name, before["allowed_actions"])
        response = act(api, who, case, name, fmt, version=before["version"], **body)
        assert response.status_code == 200, response.json()
        data: dict[str, Any] = response.json()
        assert data["status"] == expect and data["version"] == before["version"] + 1
        return data

    step("community_worker", "accept", "accepted", note="收到")
    data = step("community_worker", "dispatch", "dispatched", unit="d-chengguan")
    assert data["lead_unit"] == "d-chengguan"
    assert [t["unit"] for t in data["tasks"]] == ["d-chengguan"]
    step("department", "start", "in_progress")
    data = step(
        "department", "resolve", "resolved", fmt="multipart", answer="已清理", photos=[photo()]
    )
    assert [p["kind"] for p in data["photos"]] == ["evidence"]
    assert data["answer"] == "已清理"
    step("grid_worker_a", "verify", "verified")
    data = step("resident_a", "rate", "rated", rating=5, note="很快")
    assert data["rating"] == 5
    data = step("community_worker", "close", "closed")
    assert data["stage"] == "" and data["due_at"] is None
    assert [e["kind"] for e in data["timeline"]] == [
        "reported",
        "accept",
        "dispatch",
        "start",
        "resolve",
        "verify",
        "rate",
        "close",
    ]
    assert AuditEntry.objects.filter(object_id=str(case.pk), action="case.close").exists()


def _dispatched(cw: CaseWorld, **kw: Any) -> Case:
    case = report(cw, **kw)
    move(case, "accept", "community_worker")
    return move(case, "dispatch", "community_worker")


def _resolved(cw: CaseWorld, **kw: Any) -> Case:
    case = _dispatched(cw, **kw)
    return move(case, "resolve", "department", answer="已清理", photos=[photo()])


def test_reject_through_the_api_needs_a_reason(cw: CaseWorld, api: Any) -> None:
    case = report(cw)
    response = act(api, "community_worker", case, "reject")
    assert response.status_code == 409 and response.json()["code"] == "case_note_required"
    response = act(api, "community_worker", case, "reject", note="不属于受理范围")
    assert response.status_code == 200 and response.json()["status"] == "rejected"


def test_merge_through_the_api_names_the_target_by_number(cw: CaseWorld, api: Any) -> None:
    first, second = report(cw), report(cw)
    response = act(api, "community_worker", second, "merge", target="not-a-number")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["target"]
    response = act(api, "community_worker", second, "merge", target=first.code.lower())
    assert response.status_code == 200
    assert response.json()["status"] == "merged" and response.json()["merged_into"] == first.code


def test_merge_into_a_case_the_actor_cannot_see_is_refused_like_a_missing_one(
    cw: CaseWorld, api: Any
) -> None:
    elsewhere = report(cw, by="district_admin", area=testing.area("Z"), source="desk")
    case = report(cw)
    response = act(api, "community_worker", case, "merge", target=elsewhere.code)
    assert response.status_code == 400 and list(response.json()["fields"]) == ["target"]
    assert Case.objects.get(pk=case.pk).status == Status.REPORTED


def test_dispatch_through_the_api_with_helping_units(cw: CaseWorld, api: Any) -> None:
    case = report(cw)
    move(case, "accept", "community_worker")
    response = act(
        api, "community_worker", case, "dispatch", unit="d-chengguan", helpers=["c1-committee"]
    )
    assert response.status_code == 200
    roles = {(t["unit"], t["role"]) for t in response.json()["tasks"]}
    assert roles == {("d-chengguan", "lead"), ("c1-committee", "helper")}


def test_dispatch_to_an_unknown_unit_is_a_400_on_the_field(cw: CaseWorld, api: Any) -> None:
    case = report(cw)
    move(case, "accept", "community_worker")
    response = act(api, "community_worker", case, "dispatch", unit="nowhere")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["unit"]


def test_return_through_the_api_gives_the_case_back(cw: CaseWorld, api: Any) -> None:
    case = _dispatched(cw)
    response = act(api, "department", case, "return", note="应由物业处理")
    assert response.status_code == 200
    assert response.json()["status"] == "accepted" and response.json()["lead_unit"] is None


def test_redo_through_the_api_sends_it_back(cw: CaseWorld, api: Any, media: Any) -> None:
    case = _resolved(cw)
    response = act(api, "grid_worker_a", case, "redo", note="还有一半没清")
    assert response.status_code == 200 and response.json()["status"] == "in_progress"


def test_more_time_is_asked_and_approved_through_the_api(cw: CaseWorld, api: Any) -> None:
    case = _dispatched(cw)
    before = Case.objects.get(pk=case.pk).due_at
    response = act(api, "department", case, "extend_request", days=3, note="需要采购配件")
    assert response.status_code == 200
    assert response.json()["extension_requested_days"] == 3
    allowed = api("community_worker").get(detail_url(case)).json()["allowed_actions"]
    assert "extend_approve" in allowed
    response = act(api, "community_worker", case, "extend_approve")
    assert response.status_code == 200
    assert response.json()["extension_requested_days"] is None
    after = Case.objects.get(pk=case.pk).due_at
    assert before is not None and after is not None and after > before


def test_days_outside_1_to_60_are_a_400(cw: CaseWorld, api: Any) -> None:
    case = _dispatched(cw)
    response = act(api, "department", case, "extend_request", days=61, note="x")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["days"]


def test_shelve_through_the_api(cw: CaseWorld, api: Any) -> None:
    case = report(cw)
    move(case, "accept", "community_worker")
    response = act(api, "community_worker", case, "shelve", note="纳入明年改造计划")
    assert response.status_code == 200
    assert response.json()["status"] == "shelved" and response.json()["due_at"] is None


def test_the_reporter_reopens_through_the_api(cw: CaseWorld, api: Any, media: Any) -> None:
    case = _resolved(cw, by="resident_a", source="resident")
    move(case, "verify", "grid_worker_a")
    response = act(api, "resident_a", case, "reopen", note="又堆起来了")
    assert response.status_code == 200 and response.json()["status"] == "dispatched"


def test_supervise_and_escalate_through_the_api(cw: CaseWorld, api: Any) -> None:
    case = report(cw)
    response = act(api, "street_supervisor", case, "supervise", note="请尽快处理")
    assert response.status_code == 200 and response.json()["supervised"] is True
    response = act(api, "street_supervisor", case, "escalate", note="多次投诉")
    assert response.status_code == 200 and response.json()["escalation_level"] == 1


def test_every_move_name_is_reachable_through_the_api() -> None:
    from pathlib import Path

    source = Path(__file__).read_text(encoding="utf-8")
    missing = [name for name in MOVES if f'"{name}"' not in source]
    assert missing == []


def test_a_move_not_allowed_from_the_status_is_409_invalid_transition(
    cw: CaseWorld, api: Any
) -> None:
    case = report(cw)
    response = act(api, "grid_worker_a", case, "verify")
    assert response.status_code == 409
    body = response.json()
    assert set(body) == {"code", "message", "extra"}
    assert body["code"] == "invalid_transition"
    assert body["extra"] == {"status": "reported", "move": "verify"}
    assert body["message"]


def test_a_move_that_is_not_yours_is_409_case_not_your_move(cw: CaseWorld, api: Any) -> None:
    case = report(cw)
    response = act(api, "grid_worker_a", case, "accept")
    assert response.status_code == 409
    assert response.json()["code"] == "case_not_your_move"
    assert Case.objects.get(pk=case.pk).status == Status.REPORTED


def test_who_cannot_see_the_case_gets_404_before_anything_else(cw: CaseWorld, api: Any) -> None:
    case = report(cw)
    for name in ("accept", "verify", "no_such_move"):
        response = act(api, "grid_worker_b", case, name)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert Case.objects.get(pk=case.pk).status == Status.REPORTED


def test_an_unknown_action_is_404_with_the_uniform_body(cw: CaseWorld, api: Any) -> None:
    case = report(cw)
    response = act(api, "community_worker", case, "approve_everything")
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message"} and response.json()["code"] == "not_found"


def test_a_stale_version_is_refused(cw: CaseWorld, api: Any) -> None:
    case = report(cw)
    response = act(api, "community_worker", case, "accept", version=case.version + 1)
    assert response.status_code == 409 and response.json()["code"] == "case_stale"
    assert Case.objects.get(pk=case.pk).status == Status.REPORTED


def test_resolving_with_a_file_that_is_not_a_photo_is_refused(
    cw: CaseWorld, api: Any, media: Any
) -> None:
    case = _dispatched(cw)
    response = act(
        api, "department", case, "resolve", "multipart", answer="已清理", photos=[not_an_image()]
    )
    assert response.status_code == 409 and response.json()["code"] == "case_bad_photo"
    assert "scan.jpg" in response.json()["message"]
    assert Case.objects.get(pk=case.pk).status == Status.DISPATCHED


def test_a_helping_unit_answers_its_task_through_the_api(cw: CaseWorld, api: Any) -> None:
    case = report(cw)
    move(case, "accept", "community_worker")
    move(case, "dispatch", "community_worker", unit=cw.chengguan, helpers=[cw.community])
    task = case.tasks.get(role=CaseTask.Role.HELPER)
    url = f"{CASES}{case.code}/tasks/{task.pk}/answer/"
    assert api("department").post(url, {"answer": "x"}, format="json").status_code == 409
    response = api("community_worker").post(url, {"answer": "已配合清理"}, format="json")
    assert response.status_code == 200
    helper = next(t for t in response.json()["tasks"] if t["role"] == "helper")
    assert helper["state"] == "done" and helper["answer"] == "已配合清理"
    missing = api("community_worker").post(
        f"{CASES}{case.code}/tasks/999999/answer/", {"answer": "x"}, format="json"
    )
    assert missing.status_code == 404


# Categories and units


def test_anyone_signed_in_reads_the_category_tree_with_deadlines(cw: CaseWorld, api: Any) -> None:
    response = api("resident_a").get("/api/v1/case-categories/")
    assert response.status_code == 200
    tree = {c["code"]: c for c in response.json()}
    assert "01" in tree and tree["01"]["parent"] is None
    child = next(c for c in tree["01"]["children"] if c["code"] == "0102")
    assert child["parent"] == "01" and child["handle_sla"] == 24 and child["sla_unit"] == "hours"
    assert child["on_spot"] is True
    one = api("resident_a").get("/api/v1/case-categories/0102/")
    assert one.status_code == 200 and one.json()["name"] == child["name"]


def test_a_configurer_adds_and_changes_categories_audited(cw: CaseWorld, api: Any) -> None:
    client = api("district_admin")
    body = {"code": "0199", "name": "其他市容问题", "parent": "01", "handle_sla": 48}
    response = client.post("/api/v1/case-categories/", body, format="json")
    assert response.status_code == 201, response.json()
    category = Category.objects.get(code="0199")
    assert category.parent is not None and category.parent.code == "01"
    assert category.handle_sla == 48 and category.accept_sla == 2  # the default
    assert AuditEntry.objects.filter(
        action="case.category_created", object_id=str(category.pk)
    ).exists()
    response = client.patch(
        "/api/v1/case-categories/0199/", {"handle_sla": 72, "active": False}, format="json"
    )
    assert response.status_code == 200, response.json()
    entry = AuditEntry.objects.get(action="case.category_updated", object_id=str(category.pk))
    assert entry.changes["handle_sla"] == [48, 72]
    # Inactive now: gone for everyone but configurers.
    assert api("resident_a").get("/api/v1/case-categories/0199/").status_code == 404

    def children(who: str) -> set[str]:
        parent = api(who).get("/api/v1/case-categories/01/").json()
        return {c["code"] for c in parent["children"]}

    assert "0199" not in children("resident_a") and "0102" in children("resident_a")
    assert "0199" in children("district_admin")


def test_category_refusals(cw: CaseWorld, api: Any) -> None:
    url = "/api/v1/case-categories/"
    body = {"code": "0198", "name": "测试"}
    assert api("community_worker").post(url, body, format="json").status_code == 403
    client = api("district_admin")
    response = client.post(url, {**body, "code": "0102"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    response = client.post(url, {**body, "parent": "0102"}, format="json")  # not top-level
    assert response.status_code == 409 and response.json()["extra"] == {"field": "parent"}
    response = client.post(url, {**body, "yellow_percent": 100}, format="json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["yellow_percent"]
    response = client.post(url, {"name": "无编码"}, format="json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["code"]
    response = client.patch(f"{url}0102/", {"code": "0999"}, format="json")
    assert response.status_code == 400
    assert not Category.objects.filter(code__in=["0198", "0999"]).exists()


def test_staff_read_the_units_of_their_district(cw: CaseWorld, api: Any) -> None:
    foreign = Unit.objects.create(
        code="f-office", name="外区办", kind=UnitKind.STREET, area=testing.area("F")
    )
    response = api("grid_worker_a").get("/api/v1/case-units/")
    assert response.status_code == 200
    codes = {u["code"] for u in response.json()["results"]}
    assert codes == {"c1-committee", "s1-office", "d-chengguan"}
    one = api("grid_worker_a").get("/api/v1/case-units/d-chengguan/")
    assert one.status_code == 200 and one.json()["area"] == testing.CODES["D"]
    assert api("grid_worker_a").get(f"/api/v1/case-units/{foreign.code}/").status_code == 404
    assert api("resident_a").get("/api/v1/case-units/").status_code == 403


@pytest.mark.django_db
def test_the_schema_documents_the_cases_api() -> None:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    paths = yaml.safe_load(out.getvalue())["paths"]
    assert {
        "/api/v1/cases/",
        "/api/v1/cases/{id}/",
        "/api/v1/cases/{id}/actions/{name}/",
        "/api/v1/cases/{id}/tasks/{task_id}/answer/",
        "/api/v1/case-categories/",
        "/api/v1/case-units/",
    } <= set(paths)
    names = paths["/api/v1/cases/{id}/actions/{name}/"]["post"]["parameters"]
    assert next(p for p in names if p["name"] == "name")["schema"]["enum"] == sorted(MOVES)
