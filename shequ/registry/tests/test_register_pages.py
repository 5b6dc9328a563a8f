"""The desk's own writes (register, correct) and the housing pages and APIs, with scoping."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from shequ.core import testing
from shequ.registry import queues, services
from shequ.registry.imports import source_for
from shequ.registry.models import ImportBatch, MatchReview, Organisation, Person
from shequ.registry.tests.conftest import Residents, make_id


@pytest.fixture
def housing(world: Any) -> dict[str, Any]:
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
    household = services.household_create(
        actor=actor, area=testing.area("A1"), number="H-001", dwelling=dwelling
    )
    head = services.person_create(
        actor=actor,
        area=testing.area("A1"),
        name="户主甲",
        dwelling=dwelling,
        household=household,
    )
    services.household_set_head(actor=actor, household=household, person=head)
    org = Organisation.objects.create(
        area=testing.area("A"),
        district=testing.area("D"),
        kind="shop",
        name="便民超市",
        phone="13600001111",
    )
    return {
        "building": building,
        "dwelling": dwelling,
        "household": household,
        "head": head,
        "org": org,
    }


def test_the_desk_registers_a_person_and_bad_input_comes_back_in_chinese(
    login: Any, world: Any
) -> None:
    client = login("community_worker")
    url = reverse("registry:person_new")
    bad = client.post(
        url,
        {
            "name": "新人",
            "id_number": "12345",
            "gender": "U",
            "residence_type": "registered",
            "area": testing.area("A").pk,
        },
    )
    assert bad.status_code == 200
    assert "身份证" in bad.content.decode()
    assert not Person.objects.filter(name="新人").exists()
    good = client.post(
        url,
        {
            "name": "新人",
            "id_number": make_id(birth="19900101", seq="717"),
            "gender": "U",
            "residence_type": "registered",
            "area": testing.area("A").pk,
        },
    )
    assert good.status_code == 302
    person = Person.objects.get(name="新人")
    assert person.gender == "M" and str(person.birth_date) == "1990-01-01"


def test_the_desk_cannot_register_into_an_area_it_does_not_serve(login: Any, world: Any) -> None:
    client = login("community_worker")
    response = client.post(
        reverse("registry:person_new"),
        {
            "name": "越界",
            "gender": "U",
            "residence_type": "registered",
            "area": testing.area("Z").pk,
        },
    )
    assert response.status_code == 200  # the area is not a valid choice for this worker
    assert not Person.objects.filter(name="越界").exists()


def test_a_correction_keeps_the_hidden_numbers_and_refuses_a_stale_form(
    login: Any, residents: Residents
) -> None:
    client = login("community_worker")
    url = reverse("registry:person_edit", args=[residents.zhang.pk])
    form = {
        "name": "张三",
        "gender": "M",
        "residence_type": "registered",
        "work": "退休",
        "area": testing.area("A").pk,
        "version": 1,
    }
    assert client.post(url, form).status_code == 302
    person = Person.objects.get(pk=residents.zhang.pk)
    assert person.work == "退休" and person.phone == "13812345678"  # empty boxes kept numbers
    stale = client.post(url, {**form, "work": "别的"})  # still version 1
    assert stale.status_code == 200 and "他人修改" in stale.content.decode()
    assert Person.objects.get(pk=residents.zhang.pk).work == "退休"


def test_a_grid_worker_of_another_grid_cannot_open_the_edit_page(
    login: Any, residents: Residents
) -> None:
    url = reverse("registry:person_edit", args=[residents.zhang.pk])
    assert login("grid_worker_b").get(url).status_code == 404
    assert login("street_supervisor").get(url).status_code == 403  # may read, not edit


def test_the_household_page_lists_its_members_for_insiders_only(
    login: Any, housing: dict[str, Any]
) -> None:
    url = reverse("registry:household", args=[housing["household"].pk])
    page = login("grid_worker_a").get(url).content.decode()
    assert "户主甲" in page and "户主" in page
    assert login("grid_worker_b").get(url).status_code == 404
    assert (
        login("grid_worker_a").get(reverse("registry:household", args=["abc"])).status_code == 404
    )


@pytest.mark.parametrize("endpoint", ["addresses", "buildings", "households", "organisations"])
def test_the_housing_apis_are_scoped(api: Any, housing: dict[str, Any], endpoint: str) -> None:
    inside = api("grid_worker_a").get(f"/api/v1/{endpoint}/").json()
    assert inside["count"] == 1
    pk = inside["results"][0]["id"]
    assert api("grid_worker_a").get(f"/api/v1/{endpoint}/{pk}/").status_code == 200
    assert api("grid_worker_b").get(f"/api/v1/{endpoint}/").json()["count"] == 0
    assert api("grid_worker_b").get(f"/api/v1/{endpoint}/{pk}/").status_code == 404
    assert api("auditor").get(f"/api/v1/{endpoint}/").status_code == 403


def test_the_organisation_api_masks_the_phone(api: Any, housing: dict[str, Any]) -> None:
    body = api("grid_worker_a").get("/api/v1/organisations/").json()["results"][0]
    assert body["phone"] == "136****1111"


def test_same_person_fills_the_candidates_empty_fields(residents: Residents) -> None:
    actor = testing.persona("community_worker")
    batch = ImportBatch.objects.create(
        source=source_for("民政局"), area=testing.area("C1"), file_name="x.xlsx", sha256="0" * 64
    )
    review = MatchReview.objects.create(
        batch=batch,
        area=testing.area("A"),
        row_number=3,
        candidate=residents.wang,
        score=10.0,
        incoming='{"name": "王五", "work": "社区医院", "phone": "13511112222"}',
    )
    person = queues.review_decide(actor=actor, review=review, same=True)
    assert person.pk == residents.wang.pk
    assert person.work == "社区医院" and person.phone == "13511112222"
    review.refresh_from_db()
    assert review.decision == "same" and review.decided_by == actor
