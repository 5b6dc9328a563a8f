"""The front desk (全科受理): find the resident, their panel, start a service in two clicks,
the queues, an application with the moves one may make, and the desk's figures."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client
from django.urls import reverse

from shequ.cases import services as cases
from shequ.cases.models import Category
from shequ.core import testing
from shequ.servicedesk import selectors
from shequ.servicedesk.models import Application, EligibilityRule, Entitlement, ServiceItem
from shequ.servicedesk.states import Status
from shequ.servicedesk.tests.conftest import Desk, apply_at_desk, apply_online, move, scan

P = testing.persona
SH = ZoneInfo("Asia/Shanghai")
DESK = reverse("desk:index")
QUEUE = reverse("desk:queue")


def panel_url(person: Any) -> str:
    return reverse("desk:person", args=[person.pk])


def apply_url(person: Any, item: ServiceItem | str) -> str:
    code = item.code if isinstance(item, ServiceItem) else item
    return reverse("desk:apply", args=[person.pk, code])


def page(application: Application) -> str:
    return reverse("desk:application", args=[application.code])


# Who may use the desk


def test_the_desk_is_for_desk_staff(desk: Desk, login: Any, client: Client) -> None:
    response = client.get(DESK)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert login("resident_a").get(DESK).status_code == 403
    assert login("department").get(DESK).status_code == 403
    assert login("grid_worker_a").get(DESK).status_code == 200


def test_the_navigation_offers_the_desk_to_staff_and_the_guide_to_everyone(
    desk: Desk, login: Any
) -> None:
    staff = login("community_worker").get(DESK).content.decode()
    assert 'href="/desk/"' in staff and 'href="/services/"' in staff
    resident = login("resident_a").get(reverse("services:catalogue")).content.decode()
    assert 'href="/desk/"' not in resident and 'href="/services/"' in resident


# Finding the resident


def test_the_search_swaps_the_people_list_for_htmx(desk: Desk, login: Any) -> None:
    response = login("community_worker").get(DESK, {"q": "张"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="desk-people"')
    assert "张三" in body and "<html" not in body
    assert desk.zhang.id_number not in body


def test_the_search_finds_only_people_the_worker_may_see(desk: Desk, login: Any) -> None:
    body = login("grid_worker_b").get(DESK, {"q": "张"}).content.decode()
    assert 'data-person="' not in body
    body = login("grid_worker_b").get(DESK, {"q": "李"}).content.decode()
    assert f'data-person="{desk.li.pk}"' in body


def test_the_panel_shows_the_resident_masked_with_applications_cases_and_entitlements(
    desk: Desk, login: Any
) -> None:
    application = apply_online(desk)
    done = move(move(apply_at_desk(desk), "accept"), "approve")
    case = cases.case_create(
        actor=P("resident_a"),
        category=Category.objects.get(code="0102"),
        description="楼道堆物",
        source="resident",
        area=testing.area("A"),
    )
    rule = EligibilityRule.objects.create(
        code="gaoling",
        name="高龄津贴（80岁以上户籍老人）",
        expression="age >= 80",
        item=desk.gaoling,
    )
    Entitlement.objects.create(
        rule=rule, person=desk.zhang, area=desk.zhang.area, district=desk.zhang.district
    )
    response = login("community_worker").get(panel_url(desk.zhang), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="desk-panel">') and "<html" not in body
    assert "张三" in body and "138****5678" in body and "13812345678" not in body
    assert desk.zhang.id_number not in body
    assert application.code in body and done.code in body
    assert case.code in body and "由居民本人账号上报的事件" in body
    assert "高龄津贴（80岁以上户籍老人）" in body
    assert 'data-tag="disabled"' in body  # a community worker may see sensitive tags


def test_a_grid_worker_does_not_see_sensitive_tags_on_the_panel(desk: Desk, login: Any) -> None:
    body = login("grid_worker_a").get(panel_url(desk.zhang), HTTP_HX_REQUEST="true")
    text = body.content.decode()
    assert 'data-tag="elderly-80"' in text and 'data-tag="disabled"' not in text


def test_the_panel_without_htmx_is_the_desk_page_with_the_resident(desk: Desk, login: Any) -> None:
    client = login("community_worker")
    response = client.get(panel_url(desk.zhang))
    assert response.status_code == 302
    assert response["Location"] == f"{DESK}?person={desk.zhang.pk}"
    body = client.get(response["Location"]).content.decode()
    assert "<html" in body and 'id="desk-panel"' in body and "张三" in body


def test_a_resident_outside_the_workers_areas_is_404(desk: Desk, login: Any) -> None:
    client = login("grid_worker_b")
    assert client.get(panel_url(desk.zhang), HTTP_HX_REQUEST="true").status_code == 404
    assert client.get(DESK, {"person": desk.zhang.pk}).status_code == 404
    assert client.get(apply_url(desk.zhang, desk.gaoling)).status_code == 404


def test_every_active_service_starts_from_the_panel(desk: Desk, login: Any) -> None:
    body = login("community_worker").get(panel_url(desk.zhang), HTTP_HX_REQUEST="true")
    text = body.content.decode()
    for item in ServiceItem.objects.filter(active=True):
        assert apply_url(desk.zhang, item) in text


def test_a_street_supervisor_sees_the_panel_but_cannot_start_a_service(
    desk: Desk, login: Any
) -> None:
    text = login("street_supervisor").get(panel_url(desk.zhang), HTTP_HX_REQUEST="true")
    assert 'id="desk-start"' not in text.content.decode()


# Two clicks: the item, then the submit button


def test_the_desk_form_is_prefilled_and_asks_only_the_rest(desk: Desk, login: Any) -> None:
    body = login("community_worker").get(apply_url(desk.zhang, desk.gaoling)).content.decode()
    assert "张三" in body and "138****5678" in body
    assert 'name="extra_bank_account"' in body and 'name="seen_idcard"' in body
    assert 'value="desk"' in body and 'value="proxy"' in body
    assert 'name="name"' not in body and 'name="id_number"' not in body


def test_the_desk_records_an_application_with_originals_seen(desk: Desk, login: Any) -> None:
    client = login("community_worker")
    response = client.post(
        apply_url(desk.zhang, desk.gaoling),
        {
            "channel": "desk",
            "extra_bank_account": "6217000000001234",
            "seen_idcard": "on",
            "material_hukou": scan(),
        },
    )
    application = Application.objects.get()
    assert response.status_code == 302 and response["Location"] == page(application)
    assert application.channel == "desk" and application.recorded_by == P("community_worker")
    assert application.applicant_user == P("resident_a")
    assert {m.code for m in application.material_rows.all()} == {"idcard", "hukou"}


def test_proxy_at_the_desk_without_authorisation_shows_the_error(desk: Desk, login: Any) -> None:
    response = login("community_worker").post(
        apply_url(desk.zhang, desk.gaoling),
        {
            "channel": "proxy",
            "extra_bank_account": "6217000000001234",
            "seen_idcard": "on",
            "seen_hukou": "on",
        },
    )
    assert response.status_code == 200
    assert "请登记居民的代办授权" in response.content.decode()
    assert not Application.objects.exists()


def test_missing_materials_at_the_desk_are_listed(desk: Desk, login: Any) -> None:
    response = login("community_worker").post(
        apply_url(desk.zhang, desk.gaoling),
        {"channel": "desk", "extra_bank_account": "6217000000001234", "seen_idcard": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<form method="post"')
    assert "缺少材料：居民户口簿" in body


def test_a_successful_htmx_post_sends_the_application_page(desk: Desk, login: Any) -> None:
    response = login("grid_worker_a").post(
        apply_url(desk.zhang, desk.tiaojie),
        {"channel": "desk", "extra_summary": "楼上漏水", "extra_other_party": "王某"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert response["HX-Location"] == page(Application.objects.get())


# The queue and an application


def test_the_queue_puts_overdue_applications_first(
    desk: Desk, login: Any, django_assert_max_num_queries: Any
) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH), tick=False):
        old = apply_at_desk(desk)
    with time_machine.travel(dt.datetime(2026, 4, 20, 9, 0, tzinfo=SH), tick=False):
        fresh = apply_online(desk)
        client = login("community_worker")
        with django_assert_max_num_queries(12):
            response = client.get(QUEUE, {"queue": "to_accept"})
        counts = selectors.queue_counts(P("community_worker"))
    body = response.content.decode()
    assert body.index(old.code) < body.index(fresh.code)
    assert counts["overdue"] == 1 and counts["to_accept"] == 2


def test_a_queue_tab_swaps_only_the_queue_for_htmx(desk: Desk, login: Any) -> None:
    application = move(apply_online(desk), "request_materials", note="请补充")
    response = login("community_worker").get(
        QUEUE, {"queue": "needs_materials"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div class="card" id="desk-queue">')
    assert application.code in body and "<html" not in body


def test_the_queue_shows_only_the_workers_areas(desk: Desk, login: Any) -> None:
    a = apply_online(desk)
    b = apply_at_desk(desk, desk.li, by="grid_worker_b")
    body = login("grid_worker_b").get(QUEUE, {"queue": "all"}).content.decode()
    assert b.code in body and a.code not in body


def test_the_application_page_offers_only_the_moves_one_may_make(desk: Desk, login: Any) -> None:
    application = apply_online(desk)
    worker = login("community_worker").get(page(application)).content.decode()
    assert 'data-move="accept"' in worker and 'data-move="refuse"' in worker
    assert 'data-move="approve"' not in worker
    assert "6217000000001234" in worker and "居民户口簿" in worker
    grid = login("grid_worker_a").get(page(application)).content.decode()
    assert 'data-move="' not in grid


def test_the_desk_moves_an_application_through_the_page(desk: Desk, login: Any) -> None:
    application = apply_online(desk)
    client = login("community_worker")
    url = reverse("desk:act", args=[application.code, "accept"])
    response = client.post(url, {"version": 1}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Location"] == page(application)
    url = reverse("desk:act", args=[application.code, "deny"])
    client.post(url, {"note": ""})
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED  # a denial needs a reason
    client.post(url, {"note": "未满80周岁"})
    application.refresh_from_db()
    assert application.status == Status.DENIED


def test_a_stale_page_does_not_move_the_application(desk: Desk, login: Any) -> None:
    application = move(apply_online(desk), "accept")
    url = reverse("desk:act", args=[application.code, "forward"])
    response = login("community_worker").post(url, {"version": 1}, follow=True)
    assert "刚刚有其他人修改了此办件" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED


# Figures


def test_the_desk_counts_received_finished_time_and_satisfaction(desk: Desk) -> None:
    monday = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH)
    with time_machine.travel(monday, tick=False):
        a = apply_online(desk)
        b = apply_at_desk(desk)
    with time_machine.travel(monday + dt.timedelta(days=1), tick=False):  # Tue 09:00
        a = move(move(a, "accept"), "approve")  # 7.5 working hours
        move(a, "rate", "resident_a", rating=4)
    with time_machine.travel(dt.datetime(2026, 3, 10, 10, 0, tzinfo=SH), tick=False):
        apply_at_desk(desk, desk.li)
        today, month = selectors.desk_stats(P("community_worker"))
    assert (today.received, today.finished, today.finish_rate) == (1, 0, 0.0)
    assert month.received == 3 and month.finished == 1
    assert month.finish_rate == 33.3 and month.avg_hours == 7.5
    assert month.satisfaction == 4.0 and month.rated == 1
    assert b.status == Status.SUBMITTED


def test_the_desk_page_shows_the_figures(desk: Desk, login: Any) -> None:
    apply_online(desk)
    body = login("community_worker").get(DESK).content.decode()
    assert "受理量" in body and "办结率" in body and "平均时长" in body and "满意度" in body
    assert 'data-stat="received">1<' in body
