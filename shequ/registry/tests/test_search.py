"""Person search: addresses, pinyin, capped counts, scoping, and the indexes behind them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from shequ.core import testing
from shequ.registry import selectors, services
from shequ.registry.filters import PersonFilter
from shequ.registry.models import Building, Dwelling, Person


def names(people: Any) -> list[str]:
    return [p.name for p in people]


def found(username: str, q: str) -> list[str]:
    return names(selectors.person_list(visible_to=testing.persona(username), q=q))


@dataclass
class Street:
    building: Building  # 幸福路12号翠苑1区3栋, in estate A1 (grid A, community C1)
    room: Dwelling  # its 2单元301室
    rural: Dwelling  # 乙村王家坞12号1室 in grid Z (another street)
    zhang: Person  # in 3栋2单元301室
    li: Person  # in 3栋1单元101室
    wang: Person  # in 王家坞12号, grid Z
    waiting: Person  # grid A, no dwelling: reported 幸福路12号翠苑一区5栋


@pytest.fixture
def street(world: Any) -> Street:
    actor = testing.persona("community_worker")
    admin = testing.persona("district_admin")
    building = services.building_create(
        actor=actor,
        area=testing.area("A1"),
        code="B-A1-3",
        name="3栋",
        road="幸福路",
        road_number="12",
    )
    room = services.dwelling_create(actor=actor, building=building, unit="2", room="301")
    ground = services.dwelling_create(actor=actor, building=building, unit="1", room="101")
    farm = services.building_create(
        actor=admin, area=testing.area("Z"), code="B-Z-12", name="12号", road="乙村王家坞"
    )
    rural = services.dwelling_create(actor=admin, building=farm, room="1")

    def person(area: str, name: str, dwelling: Dwelling | None, **more: Any) -> Person:
        return services.person_create(
            actor=admin, area=testing.area(area), name=name, dwelling=dwelling, **more
        )

    return Street(
        building=building,
        room=room,
        rural=rural,
        zhang=person("A1", "张三", room),
        li=person("A1", "李四", ground),
        wang=person("Z", "王五", rural),
        waiting=person("A", "赵六", None, address_raw="幸福路12号翠苑一区5栋"),
    )


# --- addresses -------------------------------------------------------------------------------


def test_an_address_fragment_finds_the_people_living_there(street: Street) -> None:
    assert street.room.standard_address == "幸福路12号翠苑1区3栋2单元301室"
    assert found("community_worker", "3栋2单元") == ["张三"]
    assert found("community_worker", "翠苑1区3栋") == ["张三", "李四"]  # room by room
    # As the address grammar writes it: 一区 is 1区, 幢 and 号楼 are 栋.
    assert found("community_worker", "翠苑一区3幢") == ["张三", "李四"]
    assert found("community_worker", "3号楼2单元") == ["张三"]
    # 赵六 reported an address on it: with both readings finding people, by registration.
    assert found("community_worker", "幸福路") == ["张三", "李四", "赵六"]


def test_an_address_search_never_crosses_the_users_area(street: Street) -> None:
    assert street.rural.standard_address == "乙村王家坞12号1室"
    assert found("community_worker", "12号") == ["张三", "李四", "赵六"]
    assert sorted(found("district_admin", "12号")) == ["张三", "李四", "王五", "赵六"]
    assert found("community_worker", "王家坞") == []
    assert found("grid_worker_b", "幸福路") == []


def test_an_address_as_reported_counts_only_for_people_without_a_dwelling(
    street: Street,
) -> None:
    assert found("community_worker", "5栋") == ["赵六"]  # two characters: no trigram
    assert found("community_worker", "一区5栋") == ["赵六"]
    Person.objects.filter(pk=street.waiting.pk).update(dwelling=street.room)
    # Now the room's standard address is theirs (the list shows it), not what they reported.
    assert found("community_worker", "一区5栋") == []
    assert found("community_worker", "5栋") == []
    assert found("community_worker", "3栋2单元") == ["张三", "赵六"]


def test_the_address_indexes_follow_every_change(street: Street) -> None:
    Dwelling.objects.filter(pk=street.room.pk).update(standard_address="幸福路12号翠苑一区3栋9单元")
    assert found("community_worker", "3栋9单元") == ["张三"]
    assert found("community_worker", "3栋2单元") == []
    Person.objects.filter(pk=street.waiting.pk).update(address_raw="幸福路14号")
    assert found("community_worker", "幸福路14号") == ["赵六"]
    assert found("community_worker", "翠苑一区5栋") == []
    Person.objects.filter(pk=street.waiting.pk).delete()
    assert found("community_worker", "幸福路14号") == []
    Person.objects.filter(dwelling=street.room).update(dwelling=None)  # its room is gone
    Dwelling.objects.filter(pk=street.room.pk).delete()
    assert found("community_worker", "3栋9单元") == []
    assert found("community_worker", "翠苑一区3栋") == ["李四"]


def test_the_address_indexes_are_in_place(db: Any) -> None:
    """On SQLite a migration that rebuilds registry_person or registry_dwelling (Django copies
    the table) drops the triggers of migration 0005 with the old table: make them again there."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            expected = {
                f"{table}_{event}"
                for table in ("registry_dwelling_address_fts", "registry_person_unresolved_fts")
                for event in ("insert", "delete", "update")
            }
        else:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%trgm"])
            expected = {"registry_dwelling_address_trgm", "registry_person_unresolved_trgm"}
        assert expected <= {row[0] for row in cursor.fetchall()}


# --- names and pinyin ------------------------------------------------------------------------


@pytest.fixture
def namesakes(world: Any) -> None:
    actor = testing.persona("district_admin")
    for area, name in [
        ("A", "张三"),
        ("A", "张华"),  # initials zh, pinyin zhanghua
        ("A", "邹辉"),  # initials zh, pinyin zouhui
        ("B", "赵四"),  # initials zs, pinyin zhaosi
        ("B", "周山"),  # initials zs, pinyin zhoushan
        ("A", "张三丰"),
        ("Z", "郑爽"),  # initials zs, another street
    ]:
        services.person_create(actor=actor, area=testing.area(area), name=name)


def test_pinyin_initials_find_people_closest_first(namesakes: None) -> None:
    assert found("community_worker", "zs") == ["周山", "张三", "赵四", "张三丰"]
    assert found("community_worker", "ZSF") == ["张三丰"]
    assert found("grid_worker_b", "zs") == ["周山", "赵四"]
    assert sorted(found("district_admin", "zs")) == ["周山", "张三", "张三丰", "赵四", "郑爽"]


def test_letters_read_as_initials_or_pinyin_give_the_same_people_on_either_plan(
    namesakes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # zh: initials of 张华 and 邹辉, the start of zhang…, zhao…, zhou…
    everyone = ["张三", "张三丰", "张华", "周山", "赵四", "邹辉"]
    assert sorted(found("community_worker", "zh")) == sorted(everyone)
    monkeypatch.setattr(selectors, "_PROBE", 1)  # as if there were thousands: walk the index
    assert sorted(found("community_worker", "zh")) == sorted(everyone)
    assert found("community_worker", "zh")[:2] == ["张华", "邹辉"]  # initials zh first
    assert found("community_worker", "zhou") == ["周山"]
    assert found("community_worker", "z") == ["张华", "邹辉", "周山", "张三", "赵四", "张三丰"]


def test_the_plain_filter_means_the_same_as_the_search(namesakes: None, street: Street) -> None:
    user = testing.persona("community_worker")
    visible = Person.objects.visible_to(user)
    for q in ["zs", "zh", "张", "张三", "3栋2单元", "幸福路", "5栋", "一区5栋", "xyz"]:
        plain = set(visible.filter(selectors.search_q(q)).values_list("pk", flat=True))
        assert {p.pk for p in selectors.person_list(visible_to=user, q=q)} == plain, q


# --- counts ----------------------------------------------------------------------------------


def test_a_search_count_stops_past_the_cap(
    namesakes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 2)
    user = testing.persona("district_admin")
    people = selectors.person_list(visible_to=user, q="z")
    assert people.count() == 3  # "more than 2"
    assert len(list(people)) == 7  # the list itself is whole
    assert selectors.person_list(visible_to=user, q="zs").count() == 3
    assert selectors.person_list(visible_to=user, q="周山").count() == 1
    assert selectors.person_list(visible_to=user).count() == Person.objects.count()


def test_the_filter_set_caps_the_count_and_keeps_narrowing(
    namesakes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 2)
    user = testing.persona("district_admin")
    Person.objects.filter(name="张三丰").update(residence_type="floating")
    base = selectors.person_list(visible_to=user)
    assert PersonFilter({"q": "zs"}, queryset=base).qs.count() == 3
    narrowed = PersonFilter({"q": "zs", "residence_type": "floating"}, queryset=base).qs
    assert (narrowed.count(), names(narrowed)) == (1, ["张三丰"])


def test_a_page_of_a_search_is_the_same_people_in_the_same_order(namesakes: None) -> None:
    user = testing.persona("district_admin")
    people = selectors.person_list(visible_to=user, q="z")
    everyone = list(people)  # evaluated: slices come from the cache
    assert names(everyone) == ["张华", "邹辉", "周山", "张三", "赵四", "郑爽", "张三丰"]
    fresh = selectors.person_list(visible_to=user, q="z")  # not evaluated: ids first
    assert names(fresh[2:5]) == names(everyone[2:5]) == names(people[2:5])
    assert [p.area.code for p in fresh[:3]] == [p.area.code for p in everyone[:3]]
    assert fresh[4].name == "赵四"


def test_the_people_page_pages_a_capped_search(
    namesakes: None, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 2)
    response = login("district_admin").get(reverse("registry:people"), {"q": "z"})
    page = response.context["page"]
    assert response.status_code == 200 and page.paginator.count == 3
    assert len(page.object_list) == 3  # the pages reach as far as the count does


def test_the_people_page_says_more_than_the_cap_not_a_number(
    namesakes: None, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 2)
    client = login("district_admin")
    capped = client.get(reverse("registry:people"), {"q": "z"}).content.decode()
    footer = re.search(r'id="people-count">([^<]*)<', capped)
    assert footer and footer.group(1) == "第 1 页 · 共 2+ 人，请缩小搜索范围以查看全部"
    exact = client.get(reverse("registry:people"), {"q": "张三"}, headers={"HX-Request": "true"})
    assert exact.status_code == 200 and "people-count" not in exact.content.decode()
    assert names(exact.context["page"].object_list) == ["张三", "张三丰"]  # 2, not more


def test_the_api_flags_a_count_that_stopped_at_the_cap(
    namesakes: None, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 2)
    client = api("district_admin")
    capped = client.get("/api/v1/people/", {"q": "z"}).json()
    assert (capped["count"], capped["count_capped"], len(capped["results"])) == (3, True, 3)
    exact = client.get("/api/v1/people/", {"q": "周山"}).json()
    assert (exact["count"], exact["count_capped"]) == (1, False)
    unsearched = client.get("/api/v1/people/").json()
    assert unsearched["count_capped"] is False
    assert unsearched["count"] == Person.objects.count() > 2  # no search: counted in full


def test_the_api_schema_documents_the_capped_count(db: Any) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paged = schema["components"]["schemas"]["PaginatedPersonList"]
    assert "count_capped" in paged["required"]
    assert paged["properties"]["count_capped"]["type"] == "boolean"


@pytest.mark.parametrize("q", ["张三", "zs", "zh", "1234", "幸福路", "3栋2单元"])
def test_the_people_page_reads_a_fixed_number_of_queries(
    q: str, namesakes: None, street: Street, login: Any, django_assert_max_num_queries: Any
) -> None:
    # Whatever the search means and however many it finds: the session and the user's
    # memberships, at most two probes of an ambiguous text's readings, the capped count, the
    # page's rows (with area and dwelling) and their tags, and the session's save.
    client = login("district_admin")
    client.get(reverse("registry:people"), {"q": "warm-up"})
    with django_assert_max_num_queries(11):
        assert client.get(reverse("registry:people"), {"q": q}).status_code == 200


# --- pages of an address search, room by room -------------------------------------------------


@dataclass
class Road:
    rooms: list[Dwelling]  # 长寿路8号 1室 … 12室, registered in that order (ids ascending)
    people: list[Person]  # in the order a search lists them: room by room, by name, by id


@pytest.fixture
def road(world: Any) -> Road:
    """Twelve rooms on one road, five of the first six empty, with names not in room order
    (and two namesakes in one room, which only their ids put in order)."""
    actor = testing.persona("community_worker")
    building = services.building_create(
        actor=actor, area=testing.area("A1"), code="B-A1-8", name="8号", road="长寿路"
    )
    rooms = [
        services.dwelling_create(actor=actor, building=building, room=str(n)) for n in range(1, 13)
    ]
    living = ["周一", "", "", "", "", "", "陈二 吴三", "郑四 王五 王五", "", "钱六 孙七", "李八"]
    people = [
        services.person_create(actor=actor, area=testing.area("A1"), name=name, dwelling=room)
        for room, names in zip(rooms, [*living, "赵九 冯十"], strict=True)
        for name in names.split()
    ]
    people.sort(key=lambda p: (p.dwelling_id, p.name, p.pk))
    return Road(rooms, people)


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Pages walk as many rooms as people they need, as many again, then the rest (on this
    database too); what each walk found."""
    monkeypatch.setattr(selectors, "_WALKED_ON", frozenset({connection.vendor}))
    monkeypatch.setattr(selectors, "WALK_ROOMS", 1)
    monkeypatch.setattr(selectors, "_WALK_GROWTH", 1)
    found: list[list[int]] = []
    walk = selectors.PersonResults._walk_rooms

    def spy(self: selectors.PersonResults, start: int, stop: int | None) -> list[int] | None:
        ids = walk(self, start, stop)
        if ids is not None:
            found.append(ids)
        return ids

    monkeypatch.setattr(selectors.PersonResults, "_walk_rooms", spy)
    return found


def test_every_page_of_an_address_search_walked_room_by_room_is_the_plain_order(
    road: Road, walks: list[list[int]]
) -> None:
    user = testing.persona("community_worker")
    everyone = list(selectors.person_list(visible_to=user, q="长寿路"))  # one plain query
    assert [p.pk for p in everyone] == [p.pk for p in road.people]
    n = len(everyone)
    for start in range(n + 1):
        for stop in range(start, n + 2):
            page = selectors.person_list(visible_to=user, q="长寿路")[start:stop]
            assert [p.pk for p in page] == [p.pk for p in everyone[start:stop]], (start, stop)
    # Every slice was walked: within the first rooms, the next ones, and past them.
    assert len(walks) == (n + 1) * (n + 2) // 2 + n + 1


def test_a_walked_page_keeps_the_other_filters_and_the_capped_count(
    road: Road, walks: list[list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 3)
    user = testing.persona("community_worker")
    Person.objects.filter(name__in=["王五", "孙七", "冯十"]).update(residence_type="floating")
    base = selectors.person_list(visible_to=user)
    floating = PersonFilter({"q": "长寿路", "residence_type": "floating"}, queryset=base).qs
    assert floating.count() == 4  # "3+"
    # In rooms 8, 10 and 12: past the first three rooms and the next three, then past four
    # and four.
    assert names(floating[:3]) == ["王五", "王五", "孙七"]
    assert names(floating[1:4]) == ["王五", "孙七", "冯十"]
    assert len(walks) == 2
    assert PersonFilter({"q": "长寿路"}, queryset=base).qs.count() == 4


def test_a_page_of_a_search_counted_within_the_cap_is_not_walked(
    road: Road, walks: list[list[int]]
) -> None:
    people = selectors.person_list(visible_to=testing.persona("community_worker"), q="长寿路")
    assert people.count() == 11  # the search itself reads no more than these
    assert names(people[:3]) == ["周一", "吴三", "陈二"]
    assert walks == []


def test_a_page_of_an_address_search_reads_only_its_first_rooms(
    road: Road, walks: list[list[int]], django_assert_num_queries: Any
) -> None:
    user = testing.persona("community_worker")
    people = selectors.person_list(visible_to=user, q="长寿路")
    with django_assert_num_queries(2):  # the people of room 1, their rows
        assert names(people[:1]) == ["周一"]
    assert walks == [[road.people[0].pk]]


def test_a_search_combined_with_another_is_not_walked(road: Road, walks: list[list[int]]) -> None:
    user = testing.persona("community_worker")
    either = selectors.person_list(visible_to=user, q="长寿路") | selectors.person_list(
        visible_to=user, q="李八"
    )
    assert sorted(names(either[:20])) == sorted(p.name for p in road.people)
    assert walks == []
