"""Queries per request of the hot API paths (report, list, a move), through token auth as
clients send it. The ceilings pin today's counts: a change that adds a query per request (or
per row) fails here instead of slowing every request under load."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from shequ.accounts import services as accounts
from shequ.cases import services
from shequ.cases.models import Case
from shequ.cases.testing import CaseWorld
from shequ.core import testing

CASES = "/api/v1/cases/"


def _client(username: str) -> APIClient:
    token = accounts.token_issue(user=testing.persona(username))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _count(call: Any) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    return response, [q["sql"] for q in ctx.captured_queries]


def _report(cw: CaseWorld, i: int) -> Case:
    return services.case_create(
        actor=testing.persona("community_worker"),
        category=cw.category,
        description=f"第{i}处楼道堆物",
        source="grid",
        area=testing.area("A"),
    )


def test_queries_per_request_of_report_list_and_accept(cw: CaseWorld) -> None:
    for i in range(30):
        case = _report(cw, i)
        if i % 2:
            services.case_move(actor=testing.persona("community_worker"), case=case, move="accept")
    client = _client("community_worker")
    body = {"category": "0102", "description": "楼道堆放杂物", "area": testing.CODES["A"]}
    response, create = _count(lambda: client.post(CASES, body, format="json"))
    assert response.status_code == 201, response.content
    code = response.json()["code"]
    response, listing = _count(lambda: client.get(CASES))
    assert response.status_code == 200
    assert response.json()["count"] == 31
    response, accept = _count(
        lambda: client.post(f"{CASES}{code}/actions/accept/", {}, format="json")
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    # Today's counts in a test transaction (savepoints included). Report: token, roles, the
    # category and area, the day's counter, the case, its event, the audit entry, who to tell,
    # then the answer's timeline (a new report has no tasks or photos to read). Accept: the
    # case for the caller, then locked, the routing rules, the update, event, audit, and the
    # answer's timeline, tasks and photos.
    assert len(create) <= 19, "\n".join(create)
    # The list reads its page in one query whatever the number of rows (no query per row).
    assert len(listing) <= 4, "\n".join(listing)
    assert len(accept) <= 17, "\n".join(accept)
