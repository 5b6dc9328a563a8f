"""People in the register: services, search, masking, unmasking, pages and API."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from shequ.core import testing
from shequ.core.errors import DomainError
from shequ.core.models import AuditEntry
from shequ.core.tests.scoping import ScopingMatrix
from shequ.registry import selectors, services
from shequ.registry.models import Person, UnmaskLog
from shequ.registry.tests.conftest import Residents, make_id

REGISTRY_STAFF = {
    "grid_worker_a",
    "grid_worker_b",
    "community_worker",
    "street_supervisor",
    "district_admin",
    "sysadmin",
}


class TestPersonScoping(ScopingMatrix):
    page_roles = REGISTRY_STAFF
    api_roles = REGISTRY_STAFF

    @pytest.fixture(autouse=True)
    def _people(self, residents: Residents) -> None:
        self.people = residents

    def inside_object(self, persona: testing.Persona) -> Person:
        by_area = {"A": self.people.zhang, "B": self.people.li, "Z": self.people.wang}
        inside = {"A1": "A", "C1": "A", "S1": "A", "D": "A", "S2": "Z", "C2": "Z"}
        return by_area.get(persona.inside, by_area[inside.get(persona.inside, "A")])

    def outside_object(self, persona: testing.Persona) -> Person | None:
        outside = {
            "grid_worker_a": "li",
            "grid_worker_b": "zhang",
            "community_worker": "wang",
            "street_supervisor": "wang",
        }
        name = outside.get(persona.username)
        return getattr(self.people, name) if name else None

    def page_url(self, obj: Any) -> str:
        return reverse("registry:person", args=[obj.pk])

    def api_url(self, obj: Any) -> str:
        return f"/api/v1/people/{obj.pk}/"


def test_the_id_number_fills_birth_date_and_gender(residents: Residents) -> None:
    assert str(residents.zhang.birth_date) == "1940-03-02"
    assert residents.zhang.gender == "M"  # 17th digit 3 is odd


def test_id_numbers_and_phones_are_never_stored_in_plain_text(residents: Residents) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, phone FROM registry_person WHERE id = %s", [residents.zhang.pk]
        )
        raw_id, raw_phone = cursor.fetchone()
    assert raw_id.startswith("v1:") and residents.zhang.id_number not in raw_id
    assert raw_phone.startswith("v1:") and "13812345678" not in raw_phone
    entries = AuditEntry.objects.filter(object_type="registry.person").values_list(
        "changes", flat=True
    )
    assert all(
        "13812345678" not in str(c) and residents.zhang.id_number not in str(c) for c in entries
    )


def test_a_bad_check_digit_is_refused_with_the_field(world: Any) -> None:
    bad = make_id()[:-1] + ("0" if make_id()[-1] != "0" else "1")
    with pytest.raises(DomainError) as exc:
        services.person_create(actor="t", area=testing.area("A"), name="错号", id_number=bad)
    assert exc.value.code == "person_bad_id"
    assert exc.value.extra["field"] == "id_number"


def test_the_same_id_number_cannot_be_registered_twice(residents: Residents) -> None:
    with pytest.raises(DomainError) as exc:
        services.person_create(
            actor="t", area=testing.area("B"), name="张三", id_number=residents.zhang.id_number
        )
    assert exc.value.code == "person_duplicate_id"


def test_people_live_in_a_grid_or_estate_not_a_street(world: Any) -> None:
    with pytest.raises(DomainError) as exc:
        services.person_create(actor="t", area=testing.area("S1"), name="某人")
    assert exc.value.code == "registry_bad_area"


def test_an_update_from_a_stale_form_is_refused(residents: Residents) -> None:
    person = residents.li
    services.person_update(actor="t", person=person, expected_version=1, work="社区医院")
    with pytest.raises(DomainError) as exc:
        services.person_update(actor="t", person=person, expected_version=1, work="学校")
    assert exc.value.code == "person_stale"
    assert Person.objects.get(pk=person.pk).work == "社区医院"


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("张三", True),
        ("张", True),
        ("zs", True),
        ("zhang", True),
        ("5678", True),
        ("ls", False),
        ("9999", False),
    ],
)
def test_search_finds_by_name_initials_and_last_four(
    residents: Residents, q: str, found: bool
) -> None:
    user = testing.persona("community_worker")
    names = {p.name for p in selectors.person_list(visible_to=user, q=q)}
    assert ("张三" in names) is found


def test_search_by_the_full_id_number(residents: Residents) -> None:
    user = testing.persona("community_worker")
    found = selectors.person_list(visible_to=user, q=residents.zhang.id_number)
    assert [p.pk for p in found] == [residents.zhang.pk]
    last4 = selectors.person_list(visible_to=user, q=residents.zhang.id_number[-4:])
    assert residents.zhang.pk in [p.pk for p in last4]


def test_unmasking_needs_a_reason_and_is_audited(residents: Residents) -> None:
    actor = testing.persona("community_worker")
    with pytest.raises(DomainError) as exc:
        services.person_unmask(actor=actor, person=residents.zhang, field="phone", reason=" ")
    assert exc.value.code == "unmask_reason_required"
    value = services.person_unmask(
        actor=actor, person=residents.zhang, field="phone", reason="代办高龄津贴"
    )
    assert value == "13812345678"
    entry = AuditEntry.objects.filter(action="person.unmasked").order_by("-seq").first()
    assert entry is not None and entry.changes == {"field": "phone", "reason": "代办高龄津贴"}
    assert UnmaskLog.objects.filter(person=residents.zhang, actor=actor).count() == 1


def test_the_page_shows_masked_numbers_and_unmasks_on_request(
    login: Any, residents: Residents
) -> None:
    client = login("community_worker")
    page = client.get(reverse("registry:person", args=[residents.zhang.pk])).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    assert residents.zhang.id_number not in page
    shown = client.post(
        reverse("registry:person_unmask", args=[residents.zhang.pk]),
        {"field": "id_number", "reason": "核对身份"},
    ).content.decode()
    assert residents.zhang.id_number in shown


def test_a_role_without_unmask_cannot_unmask(login: Any, residents: Residents) -> None:
    client = login("street_supervisor")
    url = reverse("registry:person_unmask", args=[residents.zhang.pk])
    assert client.post(url, {"field": "phone", "reason": "想看"}).status_code == 403


def test_sensitive_tags_show_only_to_roles_allowed(login: Any, residents: Residents) -> None:
    url = reverse("registry:person", args=[residents.zhang.pk])
    assert "严重精神障碍患者" in login("community_worker").get(url).content.decode()
    grid_page = login("grid_worker_a").get(url).content.decode()
    assert "高龄老人" in grid_page and "严重精神障碍患者" not in grid_page


def test_the_people_list_is_bounded_in_queries(
    login: Any, residents: Residents, django_assert_max_num_queries: Any
) -> None:
    client = login("community_worker")
    with django_assert_max_num_queries(12):
        assert client.get(reverse("registry:people"), {"q": "张"}).status_code == 200


def test_the_api_creates_lists_and_updates_with_masking(api: Any, residents: Residents) -> None:
    client = api("community_worker")
    created = client.post(
        "/api/v1/people/",
        {
            "area": testing.CODES["A"],
            "name": "赵六",
            "id_number": make_id(birth="20000101", seq="464"),
            "phone": "13700001111",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["phone"] == "137****1111" and body["id_number"].startswith("3301")
    assert "*" in body["id_number"]
    listed = client.get("/api/v1/people/", {"q": "zl"}).json()
    assert [p["name"] for p in listed["results"]] == ["赵六"]
    stale = client.patch(
        f"/api/v1/people/{body['id']}/", {"work": "x", "version": 99}, format="json"
    )
    assert stale.status_code == 409 and stale.json()["code"] == "person_stale"
    ok = client.patch(
        f"/api/v1/people/{body['id']}/", {"work": "社区", "version": 1}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["version"] == 2


def test_the_api_reports_a_bad_id_number_as_a_409_with_the_field(api: Any, world: Any) -> None:
    response = api("community_worker").post(
        "/api/v1/people/",
        {"area": testing.CODES["A"], "name": "某", "id_number": "123"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "person_bad_id"
    assert response.json()["extra"] == {"field": "id_number"}


def test_the_api_unmask_needs_the_permission_and_a_reason(api: Any, residents: Residents) -> None:
    url = f"/api/v1/people/{residents.zhang.pk}/unmask/"
    assert api("street_supervisor").post(url, {"field": "phone", "reason": "x"}).status_code == 403
    client = api("community_worker")
    assert client.post(url, {"field": "phone"}, format="json").status_code == 400
    shown = client.post(url, {"field": "phone", "reason": "联系家属"}, format="json")
    assert shown.json() == {"field": "phone", "value": "13812345678"}


def test_a_name_with_address_like_characters_is_still_a_name(residents: Residents) -> None:
    user = testing.persona("community_worker")
    services.person_create(actor="t", area=testing.area("A"), name="王小园")
    assert [p.name for p in selectors.person_list(visible_to=user, q="王小")] == ["王小园"]


def test_the_people_api_list_reads_a_fixed_number_of_queries(
    api: Any, residents: Residents, django_assert_max_num_queries: Any
) -> None:
    # Each person's household, dwelling, area and tags come with the page, not one by one.
    actor = testing.persona("district_admin")
    area = testing.area("A")
    for n in range(12):
        household = services.household_create(actor=actor, area=area, number=f"HH-{n}")
        services.person_create(actor=actor, area=area, name=f"张{n}号", household=household)
    client = api("community_worker")
    with django_assert_max_num_queries(10):
        body = client.get("/api/v1/people/", {"q": "张"}).json()
    assert len(body["results"]) >= 12 and body["count_capped"] is False
    assert {p["household"] for p in body["results"]} >= {f"HH-{n}" for n in range(12)}


def test_the_people_list_links_each_person_and_shows_their_age(
    login: Any, residents: Residents
) -> None:
    zhang = residents.zhang
    assert zhang.age is not None and zhang.age >= 80
    page = login("community_worker").get(reverse("registry:people"), {"q": zhang.name})
    html = page.content.decode()
    assert f'href="{reverse("registry:person", args=[zhang.pk])}"' in html
    assert f"{zhang.age} 岁" in html
