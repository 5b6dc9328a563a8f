"""Addresses an import could not resolve: the list by address text, resolving one by picking a
standard address or registering the room, the service behind both, and the API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from shequ.core import testing
from shequ.core.errors import DomainError, NotFound
from shequ.core.models import AuditEntry
from shequ.registry import selectors, services
from shequ.registry.imports import import_people
from shequ.registry.models import Building, Dwelling, Person
from shequ.registry.tests.test_imports import roster

RAW = "文一西路9号翠苑一区9幢1单元102"  # building 9栋 is registered, room 1-102 is not
RURAL = "乙村王家坞12号"


@dataclass
class Waiting:
    building: Building
    dwelling: Dwelling  # 1-101 of the building
    first: Person
    second: Person
    elsewhere: Person  # same text, in grid Z of another street
    other: Person  # another text, in grid B


@pytest.fixture
def waiting(world: Any) -> Waiting:
    actor = testing.persona("community_worker")
    building = services.building_create(
        actor=actor,
        area=testing.area("A1"),
        code="B-A1-9",
        name="9栋",
        road="文一西路",
        road_number="9",
    )
    dwelling = services.dwelling_create(actor=actor, building=building, unit="1", room="101")
    first = services.person_create(actor=actor, area=testing.area("A"), name="甲", address_raw=RAW)
    second = services.person_create(actor=actor, area=testing.area("A"), name="乙", address_raw=RAW)
    elsewhere = services.person_create(
        actor=testing.persona("district_admin"), area=testing.area("Z"), name="丙", address_raw=RAW
    )
    other = services.person_create(
        actor=actor, area=testing.area("B"), name="丁", address_raw="幸福小区3幢"
    )
    return Waiting(building, dwelling, first, second, elsewhere, other)


def resolve_url(raw: str, **more: Any) -> str:
    return reverse("registry:address_resolve") + "?" + urlencode({"raw": raw, **more})


# --- selectors and service ------------------------------------------------------------------


def test_the_list_groups_people_by_the_text_they_reported(waiting: Waiting) -> None:
    people = selectors.unresolved_people(visible_to=testing.persona("community_worker"))
    rows = list(selectors.unresolved_addresses(people))
    assert [(r["address_raw"], r["waiting"]) for r in rows] == [(RAW, 2), ("幸福小区3幢", 1)]
    everyone = selectors.unresolved_people(visible_to=testing.persona("district_admin"))
    assert [r["waiting"] for r in selectors.unresolved_addresses(everyone)] == [3, 1]


def test_the_reader_points_at_the_registered_building_and_room(waiting: Waiting) -> None:
    hint = selectors.address_suggestion(visible_to=testing.persona("community_worker"), raw=RAW)
    assert hint.building == waiting.building and hint.dwelling is None
    assert (hint.unit, hint.room) == ("1", "102")
    registered = selectors.address_suggestion(
        visible_to=testing.persona("community_worker"), raw="文一西路9号翠苑一区9号楼1-101"
    )
    assert registered.dwelling == waiting.dwelling


def test_resolving_links_everybody_waiting_in_the_actors_areas_and_audits_each(
    waiting: Waiting,
) -> None:
    actor = testing.persona("community_worker")
    result = services.address_resolve(actor=actor, raw=RAW, dwelling=waiting.dwelling)
    assert {p.pk for p in result.people} == {waiting.first.pk, waiting.second.pk}
    assert not result.created
    first = Person.objects.get(pk=waiting.first.pk)
    assert first.dwelling == waiting.dwelling and first.area == testing.area("A1")
    assert first.version == 2 and first.provenance["dwelling"]["source"] == "manual"
    assert Person.objects.get(pk=waiting.elsewhere.pk).dwelling is None  # not this worker's
    logged = AuditEntry.objects.filter(action="person.address_resolved")
    assert {e.object_id for e in logged} == {str(waiting.first.pk), str(waiting.second.pk)}
    summary = AuditEntry.objects.get(action="address.resolved")
    assert summary.changes == {"raw": RAW, "people": 2, "created": False}
    assert summary.area_path == testing.area("A1").path


def test_a_second_resolution_of_the_same_text_is_refused(waiting: Waiting) -> None:
    actor = testing.persona("community_worker")
    services.address_resolve(actor=actor, raw=RAW, dwelling=waiting.dwelling)
    with pytest.raises(DomainError) as exc:
        services.address_resolve(actor=actor, raw=RAW, dwelling=waiting.dwelling)
    assert exc.value.code == "address_nothing_waiting"


def test_resolving_to_a_new_room_registers_it_once(waiting: Waiting) -> None:
    actor = testing.persona("community_worker")
    result = services.address_resolve(
        actor=actor, raw=RAW, building=waiting.building, unit="1单元", room="１０２室"
    )
    assert result.created
    assert result.dwelling.standard_address == "文一西路9号翠苑1区9栋1单元102室"
    assert (result.dwelling.unit, result.dwelling.room) == ("1", "102")
    assert AuditEntry.objects.filter(action="dwelling.created").count() == 2  # 101 and 102
    again = services.address_resolve(
        actor=actor, raw="幸福小区3幢", building=waiting.building, unit="1", room="102"
    )
    assert not again.created and again.dwelling == result.dwelling


def test_it_refuses_both_or_neither_target_and_a_room_left_empty(waiting: Waiting) -> None:
    actor = testing.persona("community_worker")
    with pytest.raises(DomainError):
        services.address_resolve(actor=actor, raw=RAW)
    with pytest.raises(DomainError):
        services.address_resolve(
            actor=actor, raw=RAW, dwelling=waiting.dwelling, building=waiting.building
        )
    with pytest.raises(DomainError) as exc:
        services.address_resolve(actor=actor, raw=RAW, building=waiting.building, room=" ")
    assert exc.value.extra == {"field": "room"}
    assert Person.objects.get(pk=waiting.first.pk).dwelling is None


def test_a_worker_cannot_resolve_to_a_standard_address_outside_their_area(
    waiting: Waiting,
) -> None:
    with pytest.raises(NotFound):
        services.address_resolve(
            actor=testing.persona("grid_worker_b"), raw="幸福小区3幢", dwelling=waiting.dwelling
        )
    with pytest.raises(NotFound):
        services.address_resolve(
            actor=testing.persona("grid_worker_b"),
            raw="幸福小区3幢",
            building=waiting.building,
            room="999",
        )
    assert not Dwelling.objects.filter(room="999").exists()


def test_an_unresolved_address_from_an_import_waits_here_until_resolved(
    tmp_path: Path, waiting: Waiting
) -> None:
    actor = testing.persona("community_worker")
    path = roster(tmp_path / "list.xlsx", [[1, "钱七", "女", "", "1950-05-05", "", RURAL]])
    report = import_people(
        actor=actor, path=path, source_name="民政局", area=testing.area("C1"), commit=True
    )
    assert report.warnings == 1
    people = selectors.unresolved_people(visible_to=actor)
    assert RURAL in {r["address_raw"] for r in selectors.unresolved_addresses(people)}
    result = services.address_resolve(
        actor=actor, raw=RURAL, building=waiting.building, unit="2", room="201"
    )
    assert [p.name for p in result.people] == ["钱七"]


# --- pages ----------------------------------------------------------------------------------


def test_the_list_page_shows_each_text_with_the_number_waiting(
    login: Any, waiting: Waiting
) -> None:
    page = login("community_worker").get(reverse("registry:addresses_unresolved"))
    body = page.content.decode()
    assert page.status_code == 200
    assert RAW in body and "幸福小区3幢" in body and "2 人待关联" in body
    assert resolve_url(RAW).replace("&", "&amp;") in body or resolve_url(RAW) in body
    only_b = login("grid_worker_b").get(reverse("registry:addresses_unresolved")).content.decode()
    assert "幸福小区3幢" in only_b and RAW not in only_b


def test_the_list_filters_and_answers_htmx_with_the_results_only(
    login: Any, waiting: Waiting
) -> None:
    client = login("community_worker")
    url = reverse("registry:addresses_unresolved")
    partial = client.get(url, {"q": "幸福"}, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div class="card" id="address-results">')
    assert "幸福小区3幢" in partial and RAW not in partial and "<html" not in partial
    by_area = client.get(url, {"area": testing.CODES["A"]}).content.decode()
    assert RAW in by_area and "幸福小区3幢" not in by_area


def test_the_list_is_bounded_in_queries(
    login: Any, waiting: Waiting, django_assert_max_num_queries: Any
) -> None:
    actor = testing.persona("community_worker")
    for n in range(30):
        services.person_create(
            actor=actor, area=testing.area("B"), name=f"人{n}", address_raw=f"某路{n}号"
        )
    client = login("community_worker")
    with django_assert_max_num_queries(10):
        assert client.get(reverse("registry:addresses_unresolved")).status_code == 200


def test_the_resolve_page_lists_who_waits_and_what_matches(login: Any, waiting: Waiting) -> None:
    client = login("community_worker")
    page = client.get(resolve_url(RAW))
    body = page.content.decode()
    assert page.status_code == 200
    assert "甲" in body and "乙" in body and "丙" not in body
    assert "文一西路9号翠苑1区9栋1单元101室" in body  # the registered room of the same building
    assert f'<option value="{waiting.building.pk}" selected>' in body  # the building it read
    assert 'value="102"' in body  # the room it read


def test_the_candidate_search_answers_htmx_with_the_list_only(login: Any, waiting: Waiting) -> None:
    response = login("community_worker").get(resolve_url(RAW, q="9号楼"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div class="list-group list-group-flush" id="candidates">')
    assert "文一西路9号翠苑1区9栋1单元101室" in body and "<html" not in body


def test_picking_a_candidate_asks_first_then_links(login: Any, waiting: Waiting) -> None:
    client = login("community_worker")
    confirm = client.get(resolve_url(RAW, dwelling=waiting.dwelling.pk)).content.decode()
    assert "2 人将关联到该地址" in confirm
    assert Person.objects.get(pk=waiting.first.pk).dwelling is None
    done = client.post(
        reverse("registry:address_resolve"),
        {"raw": RAW, "action": "pick", "dwelling": waiting.dwelling.pk},
    )
    assert done.status_code == 302 and done["Location"] == reverse("registry:addresses_unresolved")
    assert Person.objects.get(pk=waiting.second.pk).dwelling == waiting.dwelling
    listed = client.get(done["Location"]).content.decode()
    assert "2 人已关联到" in listed and "幸福小区3幢" in listed
    assert client.get(resolve_url(RAW)).status_code == 404  # nobody waits any more


def test_registering_the_room_links_and_an_htmx_post_gets_a_location(
    login: Any, waiting: Waiting
) -> None:
    client = login("community_worker")
    form = {"raw": RAW, "action": "new", "building": waiting.building.pk, "unit": "1"}
    missing = client.post(reverse("registry:address_resolve"), form)
    assert missing.status_code == 200 and "invalid-feedback" in missing.content.decode()
    done = client.post(
        reverse("registry:address_resolve"), {**form, "room": "102"}, HTTP_HX_REQUEST="true"
    )
    assert done.status_code == 204
    assert done["HX-Location"] == reverse("registry:addresses_unresolved")
    dwelling = Person.objects.get(pk=waiting.first.pk).dwelling
    assert dwelling is not None and dwelling.standard_address == "文一西路9号翠苑1区9栋1单元102室"


def test_a_text_resolved_meanwhile_sends_the_worker_back_with_a_message(
    login: Any, waiting: Waiting
) -> None:
    client = login("community_worker")
    services.address_resolve(
        actor=testing.persona("community_worker"), raw=RAW, dwelling=waiting.dwelling
    )
    late = client.post(
        reverse("registry:address_resolve"),
        {"raw": RAW, "action": "pick", "dwelling": waiting.dwelling.pk},
        follow=True,
    )
    assert late.status_code == 200 and "可能已被他人处理" in late.content.decode()


def test_outsiders_get_404_and_readers_403(login: Any, waiting: Waiting) -> None:
    assert login("grid_worker_b").get(resolve_url(RAW)).status_code == 404
    assert login("grid_worker_b").get(resolve_url("幸福小区3幢")).status_code == 200
    other_room = resolve_url("幸福小区3幢", dwelling=waiting.dwelling.pk)
    assert login("grid_worker_b").get(other_room).status_code == 404
    posted = login("grid_worker_b").post(
        reverse("registry:address_resolve"),
        {"raw": "幸福小区3幢", "action": "pick", "dwelling": waiting.dwelling.pk},
    )
    assert posted.status_code == 404
    assert Person.objects.get(pk=waiting.other.pk).dwelling is None
    assert login("street_supervisor").get(resolve_url(RAW)).status_code == 403
    unresolved = reverse("registry:addresses_unresolved")
    assert login("street_supervisor").get(unresolved).status_code == 403
    assert login("auditor").get(unresolved).status_code == 403


def test_the_navigation_offers_the_list_to_editors_only(login: Any, world: Any) -> None:
    url = reverse("registry:addresses_unresolved")
    assert f'href="{url}"' in login("grid_worker_a").get(reverse("home")).content.decode()
    assert f'href="{url}"' not in login("street_supervisor").get(reverse("home")).content.decode()


# --- API ------------------------------------------------------------------------------------


def test_the_api_lists_unresolved_addresses_through_the_same_filter(
    api: Any, waiting: Waiting
) -> None:
    client = api("community_worker")
    body = client.get("/api/v1/addresses/unresolved/").json()
    assert body["count"] == 2
    assert body["results"][0] == {
        "address_raw": RAW,
        "waiting": 2,
        "areas": 1,
        "area_name": "甲社区第1网格",
    }
    found = client.get("/api/v1/addresses/unresolved/", {"q": "幸福"}).json()["results"]
    assert [r["address_raw"] for r in found] == ["幸福小区3幢"]
    assert api("street_supervisor").get("/api/v1/addresses/unresolved/").status_code == 403


def test_the_address_api_searches_standard_addresses(api: Any, waiting: Waiting) -> None:
    client = api("community_worker")
    hits = client.get("/api/v1/addresses/", {"q": "9号楼1单元"}).json()["results"]
    assert [h["standard_address"] for h in hits] == ["文一西路9号翠苑1区9栋1单元101室"]
    by_building = client.get("/api/v1/addresses/", {"building": waiting.building.pk}).json()
    assert by_building["count"] == 1


def test_the_api_resolves_with_the_same_service(api: Any, waiting: Waiting) -> None:
    client = api("community_worker")
    neither = client.post("/api/v1/addresses/resolve/", {"raw": RAW}, format="json")
    assert neither.status_code == 400 and "dwelling" in neither.json()["fields"]
    created = client.post(
        "/api/v1/addresses/resolve/",
        {"raw": RAW, "building": waiting.building.pk, "unit": "1", "room": "102"},
        format="json",
    )
    assert created.status_code == 200, created.json()
    body = created.json()
    assert (
        body["created"]
        and body["dwelling"]["standard_address"] == "文一西路9号翠苑1区9栋1单元102室"
    )
    assert sorted(body["people"]) == sorted([waiting.first.pk, waiting.second.pk])
    assert Person.objects.get(pk=waiting.first.pk).provenance["dwelling"]["source"] == "api"
    again = client.post(
        "/api/v1/addresses/resolve/",
        {"raw": RAW, "dwelling": waiting.dwelling.pk},
        format="json",
    )
    assert again.status_code == 409 and again.json()["code"] == "address_nothing_waiting"


def test_the_resolve_api_404s_outside_and_403s_readers(api: Any, waiting: Waiting) -> None:
    outside = api("grid_worker_b").post(
        "/api/v1/addresses/resolve/",
        {"raw": "幸福小区3幢", "dwelling": waiting.dwelling.pk},
        format="json",
    )
    assert outside.status_code == 404
    reader = api("street_supervisor").post(
        "/api/v1/addresses/resolve/",
        {"raw": RAW, "dwelling": waiting.dwelling.pk},
        format="json",
    )
    assert reader.status_code == 403
    assert Person.objects.filter(dwelling=waiting.dwelling).count() == 0
