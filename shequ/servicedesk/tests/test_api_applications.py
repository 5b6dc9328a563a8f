"""The service desk API: the public catalogue, applying (JSON and multipart), the scoped list,
an application's detail, every move by name, and the error format."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from shequ.core import testing
from shequ.servicedesk.models import Application, ServiceItem
from shequ.servicedesk.states import MOVES, Status
from shequ.servicedesk.tests.conftest import Desk, apply_at_desk, apply_online, move, scan

P = testing.persona
ITEMS = "/api/v1/service-items/"
APPS = "/api/v1/applications/"


def act(api: Any, who: str, application: Application, name: str, **body: Any) -> Any:
    fmt = "multipart" if any(k.startswith("material_") for k in body) else "json"
    return api(who).post(f"{APPS}{application.code}/actions/{name}/", body, format=fmt)


# The catalogue


def test_anyone_reads_the_catalogue_without_a_token(api: Any, db: Any) -> None:
    response = api().get(ITEMS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == ServiceItem.objects.filter(active=True).count() >= 30
    one = api().get(f"{ITEMS}gaoling-jintie/").json()
    assert one["name"] == "高龄津贴" and one["category"] == "elderly"
    assert {"code": "hukou", "name": "居民户口簿", "required": True} in one["materials"]
    assert one["time_limit_days"] == 20 and one["fee"] == "免费"
    assert one["extra_fields"][0]["code"] == "bank_account"
    assert api().get(f"{ITEMS}no-such/").status_code == 404


def test_the_catalogue_api_searches_and_filters(api: Any, db: Any) -> None:
    codes = {i["code"] for i in api().get(ITEMS, {"category": "legal"}).json()["results"]}
    assert codes == {"falv-yuanzhu", "renmin-tiaojie"}
    codes = {i["code"] for i in api().get(ITEMS, {"q": "低保"}).json()["results"]}
    assert "dibao" in codes and "falv-yuanzhu" not in codes


# Applying


def test_a_resident_applies_with_multipart_uploads(desk: Desk, api: Any) -> None:
    response = api("resident_a").post(
        APPS,
        {
            "item": "gaoling-jintie",
            "form.bank_account": "6217000000001234",
            "material_idcard": scan(),
            "material_hukou": scan("h.jpg"),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["channel"] == "online" and body["status"] == "submitted"
    assert body["person"] == desk.zhang.pk and body["register"]["name"] == "张三"
    assert body["register"]["phone_masked"] == "138****5678"
    assert desk.zhang.id_number not in str(body)
    assert [m["uploaded"] for m in body["materials"]] == [True, True, False]
    assert body["missing_materials"] == [] and body["allowed_actions"] == []
    token = Application.objects.get(code=body["code"]).public_token
    assert body["progress_url"] == f"http://testserver/services/progress/{token}/"


def test_a_resident_applies_as_json_when_no_material_is_needed(desk: Desk, api: Any) -> None:
    response = api("resident_a").post(
        APPS,
        {"item": "renmin-tiaojie", "form": {"summary": "楼上漏水", "other_party": "王某"}},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["item"] == "renmin-tiaojie"


def test_missing_materials_answer_409_with_the_exact_list(desk: Desk, api: Any) -> None:
    response = api("resident_a").post(
        APPS,
        {"item": "gaoling-jintie", "form.bank_account": "1", "material_idcard": scan()},
        format="multipart",
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "materials_missing"
    assert body["extra"]["missing"] == ["居民户口簿"]
    assert body["message"] == "缺少材料：居民户口簿。"


def test_desk_staff_apply_for_a_resident_present_or_on_their_behalf(desk: Desk, api: Any) -> None:
    body = {
        "item": "gaoling-jintie",
        "person": desk.zhang.pk,
        "channel": "proxy",
        "form": {"bank_account": "6217000000001234"},
        "seen": ["idcard", "hukou"],
    }
    response = api("community_worker").post(APPS, body, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "desk_authorisation_required"
    body["proxy_authorisation"] = "子女持授权委托书"
    response = api("community_worker").post(APPS, body, format="json")
    assert response.status_code == 201
    assert response.json()["proxy_authorisation"] == "子女持授权委托书"
    assert [m["seen"] for m in response.json()["materials"]] == [True, True, False]


def test_applying_for_someone_one_may_not_see_is_a_field_error(desk: Desk, api: Any) -> None:
    body = {
        "item": "renmin-tiaojie",
        "person": desk.li.pk,
        "form": {"summary": "x", "other_party": "y"},
    }
    response = api("resident_a").post(APPS, body, format="json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["person"]
    response = api("grid_worker_a").post(APPS, {**body, "channel": "desk"}, format="json")
    assert response.status_code == 400
    response = api("resident_a").post(APPS, {**body, "item": "no-such"}, format="json")
    assert list(response.json()["fields"]) == ["item"]


def test_an_account_without_a_link_must_name_the_person(desk: Desk, api: Any) -> None:
    response = api("grid_worker_a").post(APPS, {"item": "renmin-tiaojie"}, format="json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["person"]


def test_roles_without_the_desk_get_403(desk: Desk, api: Any) -> None:
    assert api("department").get(APPS).status_code == 403
    assert api("auditor").post(APPS, {"item": "dibao"}, format="json").status_code == 403
    assert api().get(APPS).status_code in (401, 403)


# Reading


def test_the_list_is_scoped_and_filtered(
    desk: Desk, api: Any, django_assert_max_num_queries: Any
) -> None:
    mine = apply_online(desk)
    b = apply_at_desk(desk, desk.li, by="grid_worker_b")
    with django_assert_max_num_queries(6):
        response = api("community_worker").get(APPS)
    assert {r["code"] for r in response.json()["results"]} == {mine.code, b.code}
    codes = {r["code"] for r in api("grid_worker_b").get(APPS).json()["results"]}
    assert codes == {b.code}
    codes = {r["code"] for r in api("resident_a").get(APPS).json()["results"]}
    assert codes == {mine.code}
    move(mine, "accept")
    response = api("community_worker").get(APPS, {"status": "accepted"})
    assert [r["code"] for r in response.json()["results"]] == [mine.code]
    response = api("community_worker").get(APPS, {"q": "李"})
    assert [r["code"] for r in response.json()["results"]] == [b.code]


def test_sensitive_tags_on_the_form_are_for_those_allowed_to_see_them(desk: Desk, api: Any) -> None:
    item = ServiceItem.objects.get(code="fuzhu-qiju")
    from shequ.servicedesk import services

    application = services.application_create(
        actor=P("community_worker"),
        item=item,
        person=desk.zhang,
        channel="desk",
        form={"device": "轮椅"},
        seen=["idcard", "disability_card"],
    )
    url = f"{APPS}{application.code}/"
    tags = api("community_worker").get(url).json()["register"]["tags"]
    assert [t["code"] for t in tags] == ["disabled"]
    assert api("grid_worker_a").get(url).json()["register"]["tags"] == []
    assert [t["code"] for t in api("resident_a").get(url).json()["register"]["tags"]] == [
        "disabled"
    ]


# Moving


def test_every_move_by_name_through_the_api(desk: Desk, api: Any) -> None:
    application = apply_online(desk)
    response = act(api, "community_worker", application, "request_materials")
    assert response.status_code == 409 and response.json()["code"] == "desk_note_required"
    response = act(api, "community_worker", application, "request_materials", note="请补充银行卡")
    assert response.json()["status"] == "needs_materials"
    assert response.json()["paused_at"] is not None
    response = act(api, "resident_a", application, "supplement", material_bankcard=scan())
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert response.json()["materials"][2]["uploaded"] is True
    for name, who, body, status in (
        ("accept", "community_worker", {}, "accepted"),
        ("forward", "community_worker", {"forwarded_to": "区民政局"}, "under_review"),
        ("approve", "street_supervisor", {"note": "准予"}, "approved"),
        ("rate", "resident_a", {"rating": 5}, "rated"),
    ):
        response = act(api, who, application, name, **body)
        assert response.status_code == 200, (name, response.json())
        assert response.json()["status"] == status
    assert response.json()["forwarded_to"] == "区民政局" and response.json()["rating"] == 5
    kinds = [e["kind"] for e in response.json()["timeline"]]
    assert kinds == [
        "submitted",
        "request_materials",
        "supplement",
        "accept",
        "forward",
        "approve",
        "rate",
    ]


def test_refuse_and_deny_through_the_api(desk: Desk, api: Any) -> None:
    application = apply_online(desk)
    response = act(api, "community_worker", application, "refuse", note="非本社区居民")
    assert response.json()["status"] == "refused" and response.json()["answer"] == "非本社区居民"
    other = move(apply_at_desk(desk), "accept")
    response = act(api, "community_worker", other, "deny", note="不符合条件")
    assert response.json()["status"] == "denied"


def test_a_move_not_allowed_now_is_409_invalid_transition(desk: Desk, api: Any) -> None:
    application = apply_online(desk)
    response = act(api, "community_worker", application, "approve")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invalid_transition"
    assert body["extra"] == {"status": "submitted", "move": "approve"}


def test_a_move_that_is_not_the_callers_is_409(desk: Desk, api: Any) -> None:
    application = apply_online(desk)
    response = act(api, "grid_worker_a", application, "accept")
    assert response.status_code == 409 and response.json()["code"] == "desk_not_your_move"
    response = act(api, "community_worker", application, "accept", version=7)
    assert response.status_code == 409 and response.json()["code"] == "desk_stale"


def test_an_unknown_action_or_application_is_404(desk: Desk, api: Any) -> None:
    application = apply_online(desk)
    assert act(api, "community_worker", application, "explode").status_code == 404
    assert api("community_worker").get(f"{APPS}BJ20000101-000001/").status_code == 404
    assert api("community_worker").get(f"{APPS}not-a-code/").status_code == 404
    assert api("grid_worker_b").get(f"{APPS}{application.code}/").status_code == 404
    assert api("community_worker").get(f"{APPS}{application.pk}/").status_code == 200


def test_a_rating_out_of_range_is_400(desk: Desk, api: Any) -> None:
    application = move(move(apply_online(desk), "accept"), "approve")
    response = act(api, "resident_a", application, "rate", rating=9)
    assert response.status_code == 400 and list(response.json()["fields"]) == ["rating"]
    assert Application.objects.get(pk=application.pk).status == Status.APPROVED


@pytest.mark.django_db
def test_the_schema_documents_the_service_desk_api() -> None:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    paths = yaml.safe_load(out.getvalue())["paths"]
    assert {
        "/api/v1/service-items/",
        "/api/v1/service-items/{code}/",
        "/api/v1/applications/",
        "/api/v1/applications/{id}/",
        "/api/v1/applications/{id}/actions/{name}/",
    } <= set(paths)
    names = paths["/api/v1/applications/{id}/actions/{name}/"]["post"]["parameters"]
    assert next(p for p in names if p["name"] == "name")["schema"]["enum"] == sorted(MOVES)
