"""Eligibility pages and API: coverage per community, the outreach list with the grid worker's
buttons, the rule editor with its check, the results and rules APIs, and the scoping matrix."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from rest_framework.test import APIClient

from shequ.areas import services as areas
from shequ.areas.models import Level
from shequ.core import testing
from shequ.core.tests.scoping import ScopingMatrix
from shequ.registry import services as registry
from shequ.registry.models import Person
from shequ.registry.tags import tags_ensure_defaults
from shequ.servicedesk import eligibility
from shequ.servicedesk.eligibility_defaults import DEFAULT_RULES
from shequ.servicedesk.models import EligibilityRule, Entitlement, ServiceItem

P = testing.persona
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
STAFF = {
    "grid_worker_a",
    "grid_worker_b",
    "community_worker",
    "street_supervisor",
    "district_admin",
}


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def elder(key: str, name: str, area: Any = None) -> Person:
    return registry.person_create(
        actor="test",
        area=area or testing.area(key),
        name=name,
        gender="F",
        birth_date=dt.date(1940, 1, 1),
        residence_type="registered",
    )


def foreign_community() -> Any:
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


@pytest.fixture
def run(world: Any) -> dict[str, Entitlement]:
    """高龄津贴 run over one elder in each of A1, A, B, Z, C2 and a foreign district."""
    tags_ensure_defaults(actor="test")
    testing.superuser()
    people = {
        "A1": elder("A1", "张桂英"),
        "A": elder("A", "王秀珍"),
        "B": elder("B", "李根宝"),
        "Z": elder("Z", "赵凤英"),
        "C2": elder("C2", "钱玉兰"),
        "F": elder("F", "孙美英", area=foreign_community()),
    }
    rule = eligibility.rule_create(
        actor=P("district_admin"),
        code="gaoling",
        name="高龄津贴",
        expression='age >= 80 and residence_type == "registered"',
        item=ServiceItem.objects.get(code="gaoling-jintie"),
        outreach="上门告知",
    )
    eligibility.eligibility_run(rules=[rule], now=NOW)
    return {key: Entitlement.objects.get(rule=rule, person=p) for key, p in people.items()}


# ---------------------------------------------------------------------------------------------
# Scoping matrix

INSIDE = {
    "grid_worker_a": "A1",
    "grid_worker_b": "B",
    "community_worker": "B",
    "street_supervisor": "A",
    "district_admin": "C2",
}
OUTSIDE = {
    "grid_worker_a": "B",
    "grid_worker_b": "A",
    "community_worker": "Z",
    "street_supervisor": "Z",
    "district_admin": "F",
}


class TestEntitlementScoping(ScopingMatrix):
    page_roles = STAFF
    api_roles = STAFF

    @pytest.fixture(autouse=True)
    def _run(self, run: dict[str, Entitlement]) -> None:
        self.rows = run

    def inside_object(self, persona: testing.Persona) -> Any:
        return self.rows[INSIDE.get(persona.username, "A")]

    def outside_object(self, persona: testing.Persona) -> Any:
        key = OUTSIDE.get(persona.username)
        return self.rows[key] if key else None

    def page_url(self, obj: Any) -> str:
        return f"/eligibility/people/{obj.pk}/"

    def api_url(self, obj: Any) -> str:
        return f"/api/v1/eligibility/{obj.pk}/"


# ---------------------------------------------------------------------------------------------
# Pages


def test_the_community_sees_coverage_of_its_grids_only(
    run: dict[str, Entitlement], login: Any
) -> None:
    client = login("community_worker")
    page = client.get("/eligibility/").content.decode()
    assert 'data-rule="gaoling"' in page
    assert '<a href="/eligibility/people/?rule=gaoling" data-count="entitled">3</a>' in page
    assert 'data-count="open">3</a>' in page


def test_a_district_sees_each_community_of_a_rule(run: dict[str, Entitlement], login: Any) -> None:
    page = login("district_admin").get("/eligibility/?rule=gaoling").content.decode()
    assert f'data-area="{testing.CODES["C1"]}"' in page
    assert f'data-area="{testing.CODES["C2"]}"' in page
    assert "外区" not in page


def test_the_area_picker_swaps_only_the_coverage_for_htmx(
    run: dict[str, Entitlement], login: Any
) -> None:
    client = login("community_worker")
    response = client.get(f"/eligibility/?area={testing.CODES['A']}", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="coverage">')
    assert 'data-count="entitled">2</a>' in body
    assert "<html" not in body


def test_a_grid_worker_finds_their_tasks_first_with_buttons(
    run: dict[str, Entitlement], login: Any
) -> None:
    page = login("grid_worker_a").get("/eligibility/").content.decode()
    assert 'id="my-tasks"' in page
    assert page.count('data-move="contacted"') == 2
    assert "张**" in page and "张桂英" not in page  # masked


def test_roles_without_outreach_are_refused(run: dict[str, Entitlement], login: Any) -> None:
    for who in ("resident_a", "department", "auditor"):
        assert login(who).get("/eligibility/").status_code == 403


def test_outreach_is_scoped_by_its_own_permission_not_the_desks(
    run: dict[str, Entitlement], login: Any
) -> None:
    # The system administrator works the desk (desk.view) but not outreach (eligibility.view).
    assert not Entitlement.objects.visible_to(P("sysadmin")).exists()
    assert set(Entitlement.objects.visible_to(P("district_admin"))) == {
        e for key, e in run.items() if key != "F"
    }
    person = run["B"].person
    url = f"/desk/?person={person.pk}"
    staff = login("community_worker").get(url)
    assert staff.status_code == 200 and staff.context["panel"].entitlements == [run["B"]]
    admin = login("sysadmin").get(url)
    assert admin.status_code == 200 and admin.context["panel"].entitlements == []
    assert login("sysadmin").get(f"/eligibility/people/{run['B'].pk}/").status_code == 403
    assert login("sysadmin").get("/eligibility/").status_code == 403


def test_the_outreach_list_filters_by_rule_state_and_area(
    run: dict[str, Entitlement], login: Any, django_assert_max_num_queries: Any
) -> None:
    client = login("district_admin")
    with django_assert_max_num_queries(15):
        page = client.get("/eligibility/people/?rule=gaoling&state=open").content.decode()
    assert page.count('class="list-group-item outreach-row"') == 5  # not the foreign district
    page = client.get(f"/eligibility/people/?area={testing.CODES['B']}").content.decode()
    assert page.count('class="list-group-item outreach-row"') == 1
    page = client.get("/eligibility/people/?state=declined").content.decode()
    assert "outreach-row" not in page


def test_the_link_in_a_grid_workers_notice_lists_their_tasks(
    run: dict[str, Entitlement], login: Any
) -> None:
    client = login("community_worker")
    assert (
        client.get("/eligibility/people/?rule=gaoling").content.decode().count("outreach-row") == 3
    )
    # The community worker is nobody's assignee: "mine" leaves nothing.
    assert (
        "outreach-row"
        not in client.get("/eligibility/people/?rule=gaoling&mine=true").content.decode()
    )
    mine = login("grid_worker_b").get("/eligibility/people/?rule=gaoling&mine=true")
    assert mine.content.decode().count('class="list-group-item outreach-row"') == 1


def test_the_grid_worker_marks_a_task_and_the_row_is_swapped(
    run: dict[str, Entitlement], login: Any
) -> None:
    task = run["A1"]
    response = login("grid_worker_a").post(
        f"/eligibility/people/{task.pk}/contacted/", {"note": "已上门"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(
        f'<div class="list-group-item outreach-row" id="outreach-{task.pk}"'
    )
    assert 'data-state="contacted"' in body and "已上门" in body
    task.refresh_from_db()
    assert task.state == "contacted"


def test_a_refused_mark_says_why_in_the_row(run: dict[str, Entitlement], login: Any) -> None:
    task = run["A1"]
    response = login("street_supervisor").post(
        f"/eligibility/people/{task.pk}/contacted/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409
    assert "只有该居民所在网格的网格员" in response.content.decode()
    task.refresh_from_db()
    assert task.state == "open"


def test_another_grids_worker_gets_404(run: dict[str, Entitlement], login: Any) -> None:
    response = login("grid_worker_b").post(f"/eligibility/people/{run['A1'].pk}/contacted/")
    assert response.status_code == 404


def test_without_htmx_the_mark_returns_to_the_task(run: dict[str, Entitlement], login: Any) -> None:
    task = run["B"]
    response = login("grid_worker_b").post(f"/eligibility/people/{task.pk}/declined/")
    assert response.status_code == 302
    assert response["Location"] == f"/eligibility/people/{task.pk}/"


def test_the_task_page_offers_to_apply_at_the_desk(run: dict[str, Entitlement], login: Any) -> None:
    task = run["B"]
    page = login("community_worker").get(f"/eligibility/people/{task.pk}/").content.decode()
    assert f"/desk/people/{task.person_id}/apply/gaoling-jintie/" in page
    assert "上门告知" in page


# ---------------------------------------------------------------------------------------------
# The rule editor


def test_staff_read_the_rules_but_only_the_district_edits_them(
    run: dict[str, Entitlement], login: Any
) -> None:
    page = login("community_worker").get("/eligibility/rules/").content.decode()
    assert 'data-rule="gaoling"' in page and "/eligibility/rules/gaoling/" not in page
    assert login("community_worker").get("/eligibility/rules/new/").status_code == 403
    page = login("district_admin").get("/eligibility/rules/").content.decode()
    assert "/eligibility/rules/gaoling/" in page


def test_a_district_admin_adds_a_rule(world: Any, login: Any) -> None:
    tags_ensure_defaults(actor="test")
    response = login("district_admin").post(
        "/eligibility/rules/new/",
        {
            "code": "canji",
            "name": "重度残疾人护理补贴",
            "expression": 'has_tag("disabled") and tag_level("disabled") <= 2',
            "receiving": "",
            "item": "canji-liangxiang-butie",
            "outreach": "上门了解照护情况",
            "notice": "",
            "active": "on",
        },
    )
    assert response.status_code == 302
    rule = EligibilityRule.objects.get(code="canji")
    assert rule.item is not None and rule.item.code == "canji-liangxiang-butie"


def test_a_malformed_rule_is_shown_with_its_position_and_not_saved(world: Any, login: Any) -> None:
    response = login("district_admin").post(
        "/eligibility/rules/new/",
        {"code": "bad", "name": "坏", "expression": "age >= 80 and x.y", "outreach": "x"},
    )
    assert response.status_code == 200
    assert "第 1 行第 15 列：规则中不能访问属性（a.b）。" in response.content.decode()
    assert not EligibilityRule.objects.filter(code="bad").exists()


def test_the_check_button_shows_the_error_or_how_many_match(
    run: dict[str, Entitlement], login: Any
) -> None:
    client = login("district_admin")
    bad = client.post(
        "/eligibility/rules/check/",
        {"expression": "age >= 80", "receiving": 'has_tag("nope")'},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "哪些居民已在享受" in bad and "第 1 行第 1 列" in bad and "nope" in bad
    good = client.post(
        "/eligibility/rules/check/",
        {"expression": "age >= 80", "item": "gaoling-jintie"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert good.lstrip().startswith('<div id="rule-check"')
    assert "目前有 5 名在住居民符合条件，其中 0 人已在享受" in good  # the district's five


def test_editing_a_rule_keeps_its_code(run: dict[str, Entitlement], login: Any) -> None:
    rule = EligibilityRule.objects.get(code="gaoling")
    response = login("district_admin").post(
        "/eligibility/rules/gaoling/",
        {
            "code": "other",
            "name": "高龄津贴（新）",
            "expression": "age >= 90",
            "item": "gaoling-jintie",
            "outreach": "上门",
            "active": "on",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.code, rule.name, rule.expression) == ("gaoling", "高龄津贴（新）", "age >= 90")


def test_run_now_runs_the_rule(run: dict[str, Entitlement], login: Any) -> None:
    EligibilityRule.objects.filter(code="gaoling").update(expression="age >= 90")
    response = login("district_admin").post("/eligibility/rules/gaoling/run/")
    assert response.status_code == 302
    assert not Entitlement.objects.filter(still_entitled=True).exists()


def test_the_navigation_shows_entitlements_to_outreach_roles(
    run: dict[str, Entitlement], login: Any
) -> None:
    assert 'href="/eligibility/"' in login("grid_worker_a").get("/inbox/").content.decode()
    assert 'href="/eligibility/"' not in login("resident_a").get("/inbox/").content.decode()


# ---------------------------------------------------------------------------------------------
# API


def results(client: APIClient, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/eligibility/{query}")
    assert response.status_code == 200, response.content
    return list(response.json()["results"])


def test_the_results_api_lists_the_callers_areas_masked(
    run: dict[str, Entitlement], api: Any
) -> None:
    rows = results(api("community_worker"))
    assert sorted(r["area"] for r in rows) == sorted(
        [testing.CODES["A1"], testing.CODES["A"], testing.CODES["B"]]
    )
    row = next(r for r in rows if r["area"] == testing.CODES["B"])
    assert row["person_name"] == "李**"
    assert (row["rule"], row["item"], row["state"], row["assignee"]) == (
        "gaoling",
        "gaoling-jintie",
        "open",
        "grid_worker_b",
    )
    assert row["allowed_states"] == ["contacted", "declined", "applied"]
    assert row["age"] == 86


def test_the_results_api_filters_like_the_page(run: dict[str, Entitlement], api: Any) -> None:
    client = api("grid_worker_a")
    assert len(results(client, "?mine=true")) == 2
    assert results(client, "?rule=other") == []
    assert results(client, "?state=receiving") == []
    bad = client.get("/api/v1/eligibility/?state=nonsense")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_the_api_records_outreach_through_the_service(
    run: dict[str, Entitlement], api: Any
) -> None:
    task = run["A"]
    client = api("grid_worker_a")
    response = client.post(
        f"/api/v1/eligibility/{task.pk}/state/",
        {"state": "applied", "note": "已代办"},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["note"]) == ("applied", "已代办")
    again = client.post(
        f"/api/v1/eligibility/{task.pk}/state/", {"state": "applied"}, format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    refused = api("street_supervisor").post(
        f"/api/v1/eligibility/{run['B'].pk}/state/", {"state": "contacted"}, format="json"
    )
    assert refused.status_code == 409 and refused.json()["code"] == "eligibility_not_yours"


def test_the_rules_api_lists_for_staff_and_writes_for_the_district(
    run: dict[str, Entitlement], api: Any
) -> None:
    listed = api("grid_worker_a").get("/api/v1/eligibility-rules/").json()["results"]
    # the defaults the migration installed, and the fixture's own rule
    assert [r["code"] for r in listed] == sorted([r[0] for r in DEFAULT_RULES] + ["gaoling"])
    body = {"code": "r2", "name": "规则二", "expression": "age >= 90", "outreach": "看望"}
    assert api("community_worker").post("/api/v1/eligibility-rules/", body).status_code == 403
    created = api("district_admin").post("/api/v1/eligibility-rules/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["item"] is None and created.json()["active"] is True
    patched = api("district_admin").patch(
        "/api/v1/eligibility-rules/r2/", {"active": False}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["active"] is False
    taken = api("district_admin").post("/api/v1/eligibility-rules/", body, format="json")
    assert taken.status_code == 409 and taken.json()["code"] == "eligibility_code_taken"


def test_a_malformed_rule_is_a_400_naming_the_field_and_position(
    run: dict[str, Entitlement], api: Any
) -> None:
    client = api("district_admin")
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        "/api/v1/eligibility-rules/",
        {"code": "r3", "name": "坏", "expression": "age > 8 or x.y", "outreach": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["fields"] == {
        "expression": ["Attribute access (a.b) is not allowed in a rule. at line 1, column 12"]
    }


def test_the_rules_api_checks_without_saving(run: dict[str, Entitlement], api: Any) -> None:
    client = api("district_admin")
    ok = client.post("/api/v1/eligibility-rules/check/", {"expression": "age >= 80"}, format="json")
    assert ok.json() == {"entitled": 5, "receiving": 0}
    bad = client.post("/api/v1/eligibility-rules/check/", {"expression": "age >="}, format="json")
    assert bad.status_code == 400 and "expression" in bad.json()["fields"]


def test_an_unknown_entitlement_is_404_not_500(run: dict[str, Entitlement], api: Any) -> None:
    client = api("district_admin")
    for ref in ("999999", "abc", "9" * 30):
        assert client.get(f"/api/v1/eligibility/{ref}/").status_code == 404


def test_pages_work_for_anonymous_only_through_sign_in(client: Client, world: Any) -> None:
    response = client.get("/eligibility/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
