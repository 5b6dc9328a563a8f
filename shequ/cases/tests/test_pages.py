"""The case pages: queues, the list, reporting, a case with the moves one may make, photos,
and the public page where a reporter follows a case without signing in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from shequ.cases.models import Case, CasePhoto
from shequ.cases.states import Status
from shequ.cases.testing import CaseWorld, photo
from shequ.cases.tests.test_api import move, not_an_image, report
from shequ.core import testing

INDEX = reverse("cases:index")
LIST = reverse("cases:list")
REPORT = reverse("cases:report")


def page(case: Case) -> str:
    return reverse("cases:detail", args=[case.code])


def act(case: Case, name: str) -> str:
    return reverse("cases:act", args=[case.code, name])


def status_of(case: Case) -> str:
    return Case.objects.get(pk=case.pk).status


# My cases (queues)


def test_a_community_worker_finds_a_reported_case_under_to_accept(
    cw: CaseWorld, login: Any
) -> None:
    case = report(cw)
    response = login("community_worker").get(INDEX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "待受理" in body and case.code in body
    assert 'id="case-queue"' in body and "<html" in body


def test_a_queue_tab_swaps_only_the_queue_for_htmx(cw: CaseWorld, login: Any) -> None:
    case = report(cw)
    client = login("community_worker")
    response = client.get(INDEX, {"queue": "to_accept"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div class="card" id="case-queue">')
    assert case.code in body and "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_a_grid_worker_has_no_queue_to_accept(cw: CaseWorld, login: Any) -> None:
    case = report(cw)
    response = login("grid_worker_a").get(INDEX, {"queue": "to_accept"})
    assert response.status_code == 200
    assert case.code not in response.content.decode()


def test_the_queue_names_follow_the_language_of_the_request(cw: CaseWorld, login: Any) -> None:
    report(cw)
    client = login("community_worker")
    assert "待受理" in client.get(INDEX).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get(INDEX).content.decode()
    assert "To accept" in body and "待受理" not in body


# All cases


def test_the_case_list_filters(cw: CaseWorld, login: Any) -> None:
    reported = report(cw)
    accepted = report(cw, by="grid_worker_b", area=testing.area("B"))
    move(accepted, "accept", "community_worker")
    client = login("community_worker")
    body = client.get(LIST).content.decode()
    assert reported.code in body and accepted.code in body
    body = client.get(LIST, {"status": "reported"}).content.decode()
    assert reported.code in body and accepted.code not in body
    body = client.get(LIST, {"area": testing.CODES["B"]}).content.decode()
    assert reported.code not in body and accepted.code in body
    response = client.get(LIST, {"status": "lost"})
    assert response.status_code == 200
    assert reported.code not in response.content.decode()
    assert "alert-danger" in response.content.decode()


def test_the_case_list_returns_only_the_results_for_htmx(cw: CaseWorld, login: Any) -> None:
    case = report(cw)
    response = login("community_worker").get(LIST, {"q": case.code}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="case-results"' in body and case.code in body and "<html" not in body


def test_a_resident_has_no_case_list(cw: CaseWorld, login: Any) -> None:
    assert login("resident_a").get(LIST).status_code == 403


def test_the_case_list_stays_within_a_query_ceiling(
    cw: CaseWorld, login: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(15):
        case = report(cw, description=f"第{i}处")
        if i % 3 == 0:
            move(case, "accept", "community_worker")
            move(case, "dispatch", "community_worker")
    client = login("community_worker")
    client.get(LIST)  # the session and the user are loaded the same way on every page
    with django_assert_max_num_queries(10):
        response = client.get(LIST)
    assert response.status_code == 200
    assert response.content.decode().count('class="list-group-item list-group-item-action') == 15


# Reporting


def _form(**kw: Any) -> dict[str, Any]:
    from shequ.cases.models import Category

    data = {
        "category": Category.objects.get(code="0102").pk,
        "description": "单元门口堆满纸箱",
        "area": testing.area("A").pk,
        "address": "翠苑一区3号楼",
    }
    data.update(kw)
    return data


def test_the_report_page_opens_for_residents_and_grid_workers(cw: CaseWorld, login: Any) -> None:
    for who in ("resident_a", "grid_worker_a"):
        response = login(who).get(REPORT)
        assert response.status_code == 200
        body = response.content.decode()
        assert 'name="description"' in body
        # Only staff record a caller or resolve on the spot.
        assert ('name="reporter_phone"' in body) is (who == "grid_worker_a")


def test_reporting_creates_the_case_and_opens_its_page(
    cw: CaseWorld, login: Any, media: Any
) -> None:
    response = login("grid_worker_a").post(REPORT, _form(photos=[photo()], source="grid"))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == page(case)
    assert case.source == "grid" and case.reporter == testing.persona("grid_worker_a")
    assert case.photos.count() == 1


def test_a_resident_reports_from_the_page(cw: CaseWorld, login: Any) -> None:
    response = login("resident_a").post(REPORT, _form())
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == page(case)
    assert case.source == "resident" and case.reporter == testing.persona("resident_a")


def test_a_file_that_is_not_a_photo_shows_the_error_on_the_form(
    cw: CaseWorld, login: Any, media: Any
) -> None:
    response = login("grid_worker_a").post(REPORT, _form(photos=[not_an_image()]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "文件 scan.jpg 不是照片" in body
    assert not Case.objects.exists()


# A case


def test_a_case_page_shows_only_the_moves_one_may_make(cw: CaseWorld, login: Any) -> None:
    case = report(cw)
    response = login("grid_worker_a").get(page(case))
    assert response.status_code == 200
    assert 'data-move="accept"' not in response.content.decode()
    body = login("community_worker").get(page(case)).content.decode()
    assert 'data-move="accept">受理</button>' in body
    assert 'data-move="reject"' in body and 'data-move="verify"' not in body


def test_the_loop_runs_through_the_pages(cw: CaseWorld, login: Any, media: Any) -> None:
    case = report(cw)

    def post(who: str, name: str, expect: str, **data: Any) -> None:
        response = login(who).post(act(case, name), {"version": case.version, **data})
        assert response.status_code == 302 and response["Location"] == page(case)
        case.refresh_from_db()
        assert case.status == expect, (name, case.status)

    post("community_worker", "accept", Status.ACCEPTED)
    post("community_worker", "dispatch", Status.DISPATCHED, unit="d-chengguan")
    post("department", "start", Status.IN_PROGRESS)
    post("department", "resolve", Status.RESOLVED, answer="已清理", photos=[photo()])
    assert case.photos.filter(kind=CasePhoto.Kind.EVIDENCE).count() == 1
    post("grid_worker_a", "verify", Status.VERIFIED)
    post("grid_worker_a", "rate", Status.RATED, rating=4)  # the grid worker reported it
    post("community_worker", "close", Status.CLOSED)


def test_a_refused_move_shows_why_and_changes_nothing(cw: CaseWorld, login: Any) -> None:
    case = report(cw)
    client = login("grid_worker_a")
    response = client.post(act(case, "accept"), follow=True)
    assert response.status_code == 200
    assert "您无权对该事件执行此操作。" in response.content.decode()
    response = login("community_worker").post(act(case, "verify"), follow=True)
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    assert status_of(case) == Status.REPORTED


def test_a_move_posted_by_htmx_answers_with_the_next_location(cw: CaseWorld, login: Any) -> None:
    case = report(cw)
    response = login("community_worker").post(act(case, "accept"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Location"] == page(case)
    assert status_of(case) == Status.ACCEPTED


def test_an_unknown_move_and_a_case_out_of_sight_are_404(cw: CaseWorld, login: Any) -> None:
    case = report(cw)
    assert login("community_worker").post(act(case, "approve_everything")).status_code == 404
    assert login("grid_worker_b").post(act(case, "accept")).status_code == 404
    assert login("grid_worker_b").get(page(case)).status_code == 404
    assert status_of(case) == Status.REPORTED


def test_a_reporter_does_not_see_internal_notes_on_the_page(cw: CaseWorld, login: Any) -> None:
    case = report(cw, by="resident_a", source="resident")
    move(case, "supervise", "street_supervisor", note="内部：责任人已约谈")
    assert "责任人已约谈" not in login("resident_a").get(page(case)).content.decode()
    assert "责任人已约谈" in login("community_worker").get(page(case)).content.decode()


def test_photos_are_served_only_to_who_may_see_the_case(
    cw: CaseWorld, login: Any, media: Any
) -> None:
    case = report(cw, photos=[photo()])
    other = report(cw, by="grid_worker_b", area=testing.area("B"))
    shot = case.photos.get()
    url = reverse("cases:photo", args=[case.code, shot.pk])
    response = login("grid_worker_a").get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    assert login("grid_worker_b").get(url).status_code == 404
    # A photo asked for under another case's number is not found either.
    wrong = reverse("cases:photo", args=[other.code, shot.pk])
    assert login("community_worker").get(wrong).status_code == 404
    assert login("grid_worker_a").get(url.replace(str(shot.pk), "x1")).status_code == 404


# The public page


def test_the_public_page_shows_the_status_but_no_personal_data(cw: CaseWorld, client: Any) -> None:
    case = report(
        cw,
        by="community_worker",
        source="hotline",
        area=testing.area("B"),
        description="邻居家漏水到楼下",
        reporter_name="王小明",
        reporter_phone="13912345678",
    )
    move(case, "accept", "community_worker", note="内部：先联系物业")
    response = client.get(reverse("track"), {"code": case.code.lower()})
    assert response.status_code == 302
    assert response["Location"] == reverse("track_case", args=[case.public_token])
    response = client.get(response["Location"])
    assert response.status_code == 200
    body = response.content.decode()
    assert case.code in body and 'data-status="accepted"' in body
    for secret in ("邻居家漏水", "王小明", "13912345678", "先联系物业", "Community Worker"):
        assert secret not in body, secret


def test_the_public_lookup_of_an_unknown_number_says_so(db: Any, client: Any) -> None:
    response = client.get(reverse("track"), {"code": "SJ20000101-000001"})
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
