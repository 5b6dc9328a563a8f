"""The API's direct rendering of cases (`api.render`) shows exactly what the documented
serializers show, for cases in every kind of state, to staff and to the reporter, and through
the API after each kind of request."""

from __future__ import annotations

import json
from typing import Any

from django.test import RequestFactory
from django.utils import translation

from shequ.cases import policy, selectors, services
from shequ.cases.api import render
from shequ.cases.api.serializers import CaseDetailSerializer, CaseSerializer
from shequ.cases.models import Case
from shequ.cases.testing import CaseWorld, photo
from shequ.core import testing

P = testing.persona
CASES = "/api/v1/cases/"


def _report(cw: CaseWorld, by: str = "grid_worker_a", **kw: Any) -> Case:
    kw.setdefault("category", cw.category)
    kw.setdefault("description", "楼道口堆满了旧家具")
    kw.setdefault("source", "grid")
    kw.setdefault("area", testing.area("A"))
    return services.case_create(actor=P(by), **kw)


def _move(case: Case, name: str, by: str, **kw: Any) -> Case:
    return services.case_move(actor=P(by), case=case, move=name, **kw)


def _cases_in_every_kind_of_state(cw: CaseWorld) -> list[Case]:
    reported = _report(cw, photos=[photo()])
    desk = _report(
        cw,
        by="community_worker",
        source="desk",
        reporter_name="欧阳娜娜",
        reporter_phone="13812345678",
        address="3号楼西侧",
    )
    located = _report(cw, by="resident_a", source="resident", lat=39.91234, lng=116.40321)
    _move(located, "supervise", "street_supervisor", note="内部：责任人已约谈")
    _move(located, "escalate", "street_supervisor", note="超时")
    dispatched = _report(cw)
    _move(dispatched, "accept", "community_worker", note="收到")
    _move(dispatched, "dispatch", "community_worker", unit=cw.chengguan, helpers=[cw.community])
    _move(dispatched, "extend_request", "department", days=3, note="需要采购配件")
    rated = _report(cw, by="resident_a", source="resident")
    _move(rated, "accept", "community_worker")
    _move(rated, "dispatch", "community_worker")
    _move(rated, "start", "department")
    _move(rated, "resolve", "department", answer="已清理", photos=[photo(), photo("b.png")])
    _move(rated, "verify", "grid_worker_a")
    _move(rated, "rate", "resident_a", rating=4, note="还行")
    merged = _report(cw)
    _move(merged, "merge", "community_worker", target=reported)
    return [reported, desk, located, dispatched, rated, merged]


def _fresh(case: Case) -> Case:
    return Case.objects.select_related(
        "category__parent", "area", "district", "lead_unit", "reporter", "merged_into"
    ).get(pk=case.pk)


def test_rows_and_details_are_the_serializers_own(cw: CaseWorld, media: Any) -> None:
    cases = _cases_in_every_kind_of_state(cw)
    factory = RequestFactory()
    translation.activate("zh-hans")
    for username in ("community_worker", "resident_a", "street_supervisor"):
        request = factory.get("/api/v1/cases/")
        request.user = P(username)
        for case in cases:
            case = _fresh(case)
            assert render.case_row(case) == CaseSerializer(case).data
            staff = policy.in_scope(request.user, "cases.view", case.area.path)
            expected = CaseDetailSerializer(case, context={"request": request}).data
            shown = render.case_detail(
                case,
                request=request,
                events=selectors.timeline(case, public=not staff),
                tasks=case.tasks.select_related("unit"),
                photos=case.photos.order_by("id"),
            )
            # Compared as JSON too: the same types, not only equal values.
            assert shown == expected, (username, case.code)
            assert json.dumps(shown, sort_keys=True) == json.dumps(expected, sort_keys=True)
    assert any(case.photos.exists() for case in cases)
    assert any(case.tasks.count() > 1 for case in cases)


def test_the_api_answers_as_the_serializers_would(cw: CaseWorld, media: Any) -> None:
    from rest_framework.test import APIClient

    _cases_in_every_kind_of_state(cw)
    client = APIClient()
    worker = P("community_worker")
    client.force_authenticate(worker)
    listing = client.get(CASES, {"page_size": 100}).json()["results"]
    request = RequestFactory().get(CASES)
    request.user = worker
    visible = selectors.case_list(worker)
    assert listing == [CaseSerializer(c).data for c in visible]
    created = client.post(
        CASES,
        {"category": "0102", "description": "新的堆物", "area": testing.CODES["A"]},
        format="json",
    )
    assert created.status_code == 201
    case = _fresh(Case.objects.get(code=created.json()["code"]))
    assert created.json() == json.loads(
        json.dumps(CaseDetailSerializer(case, context={"request": request}).data)
    )
    accepted = client.post(f"{CASES}{case.code}/actions/accept/", {}, format="json")
    assert accepted.status_code == 200
    case = _fresh(case)
    assert accepted.json() == json.loads(
        json.dumps(CaseDetailSerializer(case, context={"request": request}).data)
    )
    assert client.get(f"{CASES}{case.code}/").json() == accepted.json()
