"""Organisations (实有单位): services, list and detail pages, register and correct, API."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from shequ.core import testing
from shequ.core.errors import DomainError
from shequ.core.models import AuditEntry
from shequ.core.tests.scoping import ScopingMatrix
from shequ.registry import pii, services
from shequ.registry.models import Organisation

REGISTRY_STAFF = {
    "grid_worker_a",
    "grid_worker_b",
    "community_worker",
    "street_supervisor",
    "district_admin",
    "sysadmin",
}
CREDIT_CODE = "91350100M000100Y43"  # the example of GB 32100-2015


@pytest.fixture
def orgs(world: Any) -> dict[str, Organisation]:
    actor = testing.persona("community_worker")
    shop = services.organisation_create(
        actor=actor,
        area=testing.area("A"),
        kind="shop",
        name="便民超市",
        contact_name="周老板",
        phone="13600001111",
        address="文一西路9号底商",
    )
    social = services.organisation_create(
        actor=actor, area=testing.area("B"), kind="social", name="阳光志愿者协会"
    )
    rural = services.organisation_create(
        actor=testing.persona("district_admin"),
        area=testing.area("Z"),
        kind="property",
        name="乙村物业服务公司",
        credit_code=CREDIT_CODE,
    )
    return {"A": shop, "B": social, "Z": rural}


class TestOrganisationScoping(ScopingMatrix):
    page_roles = REGISTRY_STAFF
    api_roles = REGISTRY_STAFF

    @pytest.fixture(autouse=True)
    def _orgs(self, orgs: dict[str, Organisation]) -> None:
        self.orgs = orgs

    def inside_object(self, persona: testing.Persona) -> Organisation:
        return self.orgs["B" if persona.area == "B" else "A"]

    def outside_object(self, persona: testing.Persona) -> Organisation | None:
        outside = {
            "grid_worker_a": "B",
            "grid_worker_b": "A",
            "community_worker": "Z",
            "street_supervisor": "Z",
        }
        key = outside.get(persona.username)
        return self.orgs[key] if key else None

    def page_url(self, obj: Any) -> str:
        return reverse("registry:organisation", args=[obj.pk])

    def api_url(self, obj: Any) -> str:
        return f"/api/v1/organisations/{obj.pk}/"


# --- services -------------------------------------------------------------------------------


def test_it_registers_an_organisation_with_its_phone_sealed_and_audited(
    orgs: dict[str, Organisation],
) -> None:
    shop = Organisation.objects.get(pk=orgs["A"].pk)
    assert shop.phone == "13600001111" and shop.district == testing.area("D")
    assert shop.phone_blind == pii.phone_indexes("13600001111")[0]
    entry = AuditEntry.objects.get(action="organisation.created", object_id=str(shop.pk))
    assert entry.changes["phone"] == "(changed)" and entry.changes["name"] == "便民超市"
    assert entry.area_path == testing.area("A").path


def test_it_normalises_the_credit_code_and_rejects_a_wrong_check_character(world: Any) -> None:
    actor = testing.persona("community_worker")
    org = services.organisation_create(
        actor=actor,
        area=testing.area("A"),
        kind="unit",
        name="区图书馆",
        credit_code=" 91350100ｍ000100y43 ",
    )
    assert org.credit_code == CREDIT_CODE
    with pytest.raises(DomainError) as exc:
        services.organisation_create(
            actor=actor,
            area=testing.area("A"),
            kind="unit",
            name="错码单位",
            credit_code=CREDIT_CODE[:-1] + "4",
        )
    assert exc.value.code == "organisation_bad_credit_code"
    assert exc.value.extra["field"] == "credit_code"


def test_it_registers_an_organisation_once_per_district(orgs: dict[str, Organisation]) -> None:
    with pytest.raises(DomainError) as exc:
        services.organisation_create(
            actor=testing.persona("district_admin"),
            area=testing.area("A"),
            kind="property",
            name="同一家物业",
            credit_code=CREDIT_CODE,
        )
    assert exc.value.code == "organisation_duplicate"


def test_it_refuses_to_file_an_organisation_under_a_street(world: Any) -> None:
    with pytest.raises(DomainError) as exc:
        services.organisation_create(
            actor=testing.persona("community_worker"),
            area=testing.area("S1"),
            kind="shop",
            name="街道商户",
        )
    assert exc.value.code == "registry_bad_area"


def test_an_update_logs_only_what_changed_and_never_the_phone(
    orgs: dict[str, Organisation],
) -> None:
    actor = testing.persona("community_worker")
    shop = services.organisation_update(
        actor=actor,
        organisation=orgs["A"],
        area=testing.area("A1"),
        name="便民超市（翠苑店）",
        phone="13600002222",
        contact_name="周老板",
    )
    assert shop.area == testing.area("A1") and shop.phone == "13600002222"
    assert shop.phone_blind == pii.phone_indexes("13600002222")[0]
    entry = AuditEntry.objects.filter(action="organisation.updated").get()
    assert set(entry.changes) == {"name", "phone", "area"}
    assert entry.changes["phone"] == "(changed)"
    unchanged = services.organisation_update(actor=actor, organisation=shop, name=shop.name)
    assert unchanged.pk == shop.pk
    assert AuditEntry.objects.filter(action="organisation.updated").count() == 1


_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@given(st.text(alphabet=_ALPHABET, min_size=17, max_size=17))
def test_exactly_one_check_character_completes_any_credit_code(body: str) -> None:
    valid = [c for c in _ALPHABET if services.credit_code_valid(body + c)]
    assert len(valid) == 1


@given(st.text(max_size=25))
def test_the_credit_code_check_never_raises(text: str) -> None:
    assert services.credit_code_valid(text) in (True, False)


# --- pages ----------------------------------------------------------------------------------


def test_the_list_filters_by_kind_name_and_area(login: Any, orgs: dict[str, Organisation]) -> None:
    client = login("community_worker")
    url = reverse("registry:organisations")
    page = client.get(url).content.decode()
    assert "便民超市" in page and "阳光志愿者协会" in page and "乙村物业" not in page
    assert "136****1111" in page and "13600001111" not in page
    by_kind = client.get(url, {"kind": "social"}).content.decode()
    assert "阳光志愿者协会" in by_kind and "便民超市" not in by_kind
    by_name = client.get(url, {"q": "超市"}).content.decode()
    assert "便民超市" in by_name and "阳光志愿者协会" not in by_name
    by_area = client.get(url, {"area": testing.CODES["B"]}).content.decode()
    assert "阳光志愿者协会" in by_area and "便民超市" not in by_area
    # an area outside the worker's own filters nothing in: the list stays scoped
    outside = client.get(url, {"area": testing.CODES["Z"]}).content.decode()
    assert "乙村物业" not in outside


def test_an_htmx_search_gets_only_the_results(login: Any, orgs: dict[str, Organisation]) -> None:
    response = login("community_worker").get(
        reverse("registry:organisations"), {"q": "超市"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert body.lstrip().startswith('<div class="card" id="organisation-results">')
    assert "<html" not in body and "便民超市" in body


def test_the_list_is_bounded_in_queries(
    login: Any, orgs: dict[str, Organisation], django_assert_max_num_queries: Any
) -> None:
    actor = testing.persona("community_worker")
    for n in range(30):
        services.organisation_create(
            actor=actor, area=testing.area("B"), kind="shop", name=f"商户{n:02d}"
        )
    client = login("community_worker")
    with django_assert_max_num_queries(10):
        assert client.get(reverse("registry:organisations")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("registry:organisations"), {"page": 2}).status_code == 200


def test_the_detail_shows_the_profile_masked_and_its_history(
    login: Any, orgs: dict[str, Organisation]
) -> None:
    page = login("grid_worker_a").get(reverse("registry:organisation", args=[orgs["A"].pk]))
    body = page.content.decode()
    assert "便民超市" in body and "136****1111" in body and "13600001111" not in body
    assert "organisation.created" in body
    assert reverse("registry:organisation_edit", args=[orgs["A"].pk]) in body
    street = login("street_supervisor").get(reverse("registry:organisation", args=[orgs["A"].pk]))
    assert reverse("registry:organisation_edit", args=[orgs["A"].pk]) not in street.content.decode()
    assert (
        login("grid_worker_a").get(reverse("registry:organisation", args=["x1"])).status_code == 404
    )


def test_the_desk_registers_an_organisation_and_bad_input_comes_back_in_chinese(
    login: Any, world: Any
) -> None:
    client = login("community_worker")
    url = reverse("registry:organisation_new")
    form = {"kind": "shop", "name": "新开水果店", "area": testing.area("A").pk}
    bad = client.post(url, {**form, "credit_code": "123"})
    assert bad.status_code == 200 and "统一社会信用代码" in bad.content.decode()
    assert not Organisation.objects.filter(name="新开水果店").exists()
    good = client.post(url, {**form, "phone": "137 0000 3333"})
    org = Organisation.objects.get(name="新开水果店")
    assert good.status_code == 302 and good["Location"] == reverse(
        "registry:organisation", args=[org.pk]
    )
    assert org.phone == "13700003333" and org.area == testing.area("A")


def test_the_desk_cannot_register_into_an_area_it_does_not_serve(login: Any, world: Any) -> None:
    response = login("community_worker").post(
        reverse("registry:organisation_new"),
        {"kind": "shop", "name": "越界商户", "area": testing.area("Z").pk},
    )
    assert response.status_code == 200
    assert not Organisation.objects.filter(name="越界商户").exists()


def test_a_correction_keeps_the_hidden_phone(login: Any, orgs: dict[str, Organisation]) -> None:
    client = login("grid_worker_a")
    url = reverse("registry:organisation_edit", args=[orgs["A"].pk])
    page = client.get(url).content.decode()
    assert "136****1111" in page and "13600001111" not in page
    form = {
        "kind": "shop",
        "name": "便民超市",
        "contact_name": "吴店长",
        "area": testing.area("A").pk,
    }
    assert client.post(url, form).status_code == 302
    shop = Organisation.objects.get(pk=orgs["A"].pk)
    assert shop.contact_name == "吴店长" and shop.phone == "13600001111"


def test_only_editors_of_the_area_open_the_forms(login: Any, orgs: dict[str, Organisation]) -> None:
    edit = reverse("registry:organisation_edit", args=[orgs["A"].pk])
    assert login("grid_worker_b").get(edit).status_code == 404
    assert login("street_supervisor").get(edit).status_code == 403
    assert login("street_supervisor").get(reverse("registry:organisation_new")).status_code == 403
    assert login("auditor").get(reverse("registry:organisations")).status_code == 403


def test_the_navigation_offers_organisations_to_registry_staff(login: Any, world: Any) -> None:
    url = reverse("registry:organisations")
    assert f'href="{url}"' in login("grid_worker_a").get(reverse("home")).content.decode()
    assert f'href="{url}"' not in login("auditor").get(reverse("home")).content.decode()


# --- API ------------------------------------------------------------------------------------


def test_the_api_lists_through_the_same_filters(api: Any, orgs: dict[str, Organisation]) -> None:
    client = api("community_worker")
    names = {o["name"] for o in client.get("/api/v1/organisations/").json()["results"]}
    assert names == {"便民超市", "阳光志愿者协会"}
    social = client.get("/api/v1/organisations/", {"kind": "social"}).json()["results"]
    assert [o["name"] for o in social] == ["阳光志愿者协会"]
    found = client.get("/api/v1/organisations/", {"q": "超市"}).json()["results"]
    assert [o["name"] for o in found] == ["便民超市"]
    coded = api("district_admin").get("/api/v1/organisations/", {"q": CREDIT_CODE.lower()})
    assert [o["name"] for o in coded.json()["results"]] == ["乙村物业服务公司"]


def test_the_api_registers_and_corrects_through_the_services(
    api: Any, orgs: dict[str, Organisation]
) -> None:
    client = api("community_worker")
    created = client.post(
        "/api/v1/organisations/",
        {
            "area": testing.CODES["B"],
            "kind": "unit",
            "name": "甲社区卫生站",
            "phone": "13500001234",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["phone"] == "135****1234" and body["area"] == testing.CODES["B"]
    assert AuditEntry.objects.filter(action="organisation.created", object_id=str(body["id"]))
    patched = client.patch(
        f"/api/v1/organisations/{body['id']}/", {"contact_name": "刘医生"}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["name"] == "甲社区卫生站"
    assert Organisation.objects.get(pk=body["id"]).contact_name == "刘医生"
    bad = client.patch(
        f"/api/v1/organisations/{body['id']}/", {"credit_code": "123"}, format="json"
    )
    assert bad.status_code == 409 and bad.json()["code"] == "organisation_bad_credit_code"
    missing = client.post("/api/v1/organisations/", {"name": "无区域"}, format="json")
    assert missing.status_code == 400 and set(missing.json()["fields"]) == {"area", "kind"}


def test_the_api_refuses_writes_to_readers_and_outsiders(
    api: Any, orgs: dict[str, Organisation]
) -> None:
    form = {"area": testing.CODES["A"], "kind": "shop", "name": "只读"}
    assert api("street_supervisor").post("/api/v1/organisations/", form).status_code == 403
    outside = api("grid_worker_b").patch(
        f"/api/v1/organisations/{orgs['A'].pk}/", {"name": "改名"}, format="json"
    )
    assert outside.status_code == 404
    foreign = api("community_worker").post(
        "/api/v1/organisations/", {**form, "area": testing.CODES["Z"]}, format="json"
    )
    assert foreign.status_code == 400
    assert api("community_worker").put(f"/api/v1/organisations/{orgs['A'].pk}/").status_code == 405
