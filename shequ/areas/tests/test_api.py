"""The area API: scoped lists, filters, detail with counts, children and boundary."""

from __future__ import annotations

from typing import Any

import pytest

from shequ.core import testing

AREAS = "/api/v1/areas/"


def _codes(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {a["code"] for a in response.json()["results"]}


def _keys(*keys: str) -> set[str]:
    return {testing.CODES[k] for k in keys}


# --- lists ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("grid_worker_a", {"A", "A1"}),
        ("grid_worker_b", {"B"}),
        ("community_worker", {"C1", "A", "B", "A1"}),
        ("street_supervisor", {"S1", "C1", "A", "B", "A1"}),
        ("district_admin", {"D", "S1", "S2", "C1", "C2", "A", "B", "Z", "A1"}),
    ],
)
def test_a_list_holds_exactly_the_areas_in_scope(
    api: Any, username: str, visible: set[str]
) -> None:
    assert _codes(api(username).get(AREAS)) == _keys(*visible)


def test_a_grid_worker_sees_exactly_their_grid_and_its_estate(api: Any) -> None:
    response = api("grid_worker_a").get(AREAS)
    assert _codes(response) == _keys("A", "A1")
    assert response.json()["count"] == 2


def test_a_user_without_a_role_is_refused_the_area_api(api: Any) -> None:
    response = api("nobody").get(AREAS)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_superuser_sees_the_foreign_district(api: Any) -> None:
    client = api()
    client.force_authenticate(testing.superuser())
    assert testing.FOREIGN_DISTRICT in _codes(client.get(AREAS))
    assert client.get(f"{AREAS}{testing.FOREIGN_DISTRICT}/").status_code == 200


def test_a_system_administrator_role_does_not_see_the_foreign_district(api: Any) -> None:
    client = api("sysadmin")
    assert testing.FOREIGN_DISTRICT not in _codes(client.get(AREAS))
    assert client.get(f"{AREAS}{testing.FOREIGN_DISTRICT}/").status_code == 404


def test_a_district_admin_does_not_see_the_foreign_district(api: Any) -> None:
    client = api("district_admin")
    assert testing.FOREIGN_DISTRICT not in _codes(client.get(AREAS))
    assert client.get(f"{AREAS}{testing.FOREIGN_DISTRICT}/").status_code == 404


def test_a_list_is_in_tree_order(api: Any) -> None:
    results = api("community_worker").get(AREAS).json()["results"]
    assert [a["code"] for a in results] == [testing.CODES[k] for k in ("C1", "A", "A1", "B")]


def test_a_list_item_has_the_documented_fields(api: Any) -> None:
    results = api("grid_worker_a").get(AREAS).json()["results"]
    grid = next(a for a in results if a["code"] == testing.CODES["A"])
    assert grid == {
        "code": testing.CODES["A"],
        "name": "甲社区第1网格",
        "level": "grid",
        "level_label": grid["level_label"],
        "kind": "urban",
        "kind_label": grid["kind_label"],
        "parent": testing.CODES["C1"],
        "depth": 4,
        "centroid": [pytest.approx(116.005), pytest.approx(39.005)],
    }
    assert grid["level_label"] and grid["kind_label"]
    estate = next(a for a in results if a["code"] == testing.CODES["A1"])
    assert estate["centroid"] is None


# --- filters --------------------------------------------------------------------------------


def test_the_level_filter(api: Any) -> None:
    assert _codes(api("community_worker").get(AREAS, {"level": "grid"})) == _keys("A", "B")
    assert _codes(api("district_admin").get(AREAS, {"level": "street"})) == _keys("S1", "S2")


def test_the_parent_filter(api: Any) -> None:
    client = api("community_worker")
    assert _codes(client.get(AREAS, {"parent": testing.CODES["C1"]})) == _keys("A", "B")
    assert _codes(client.get(AREAS, {"parent": testing.CODES["A"]})) == _keys("A1")


def test_the_parent_filter_never_reveals_children_outside_the_scope(api: Any) -> None:
    assert _codes(api("community_worker").get(AREAS, {"parent": testing.CODES["C2"]})) == set()


def test_the_kind_filter(api: Any) -> None:
    assert _codes(api("district_admin").get(AREAS, {"kind": "rural"})) == _keys("C2", "Z")


def test_the_q_filter_matches_names_and_code_prefixes(api: Any) -> None:
    client = api("community_worker")
    assert _codes(client.get(AREAS, {"q": "翠苑"})) == _keys("A1")
    assert _codes(client.get(AREAS, {"q": "第2"})) == _keys("B")
    assert _codes(client.get(AREAS, {"q": testing.CODES["A"]})) == _keys("A", "A1")
    assert _codes(client.get(AREAS, {"q": "乙村"})) == set()


def test_filters_combine(api: Any) -> None:
    query = {"level": "grid", "q": "甲社区", "parent": testing.CODES["C1"]}
    assert _codes(api("district_admin").get(AREAS, query)) == _keys("A", "B")


# --- detail ---------------------------------------------------------------------------------


def test_the_detail_includes_counts_children_and_geometry(api: Any) -> None:
    response = api("community_worker").get(f"{AREAS}{testing.CODES['C1']}/")
    assert response.status_code == 200
    data = response.json()
    assert data["code"] == testing.CODES["C1"]
    assert data["name"] == "甲社区"
    assert data["parent"] == testing.CODES["S1"]
    assert data["counts"] == {
        "district": 0,
        "street": 0,
        "community": 1,
        "grid": 2,
        "estate": 1,
        "building": 0,
        "grid_workers": 2,
        "grid_coverage_percent": 100,
    }
    assert data["children"] == [
        {"code": testing.CODES["A"], "name": "甲社区第1网格", "level": "grid"},
        {"code": testing.CODES["B"], "name": "甲社区第2网格", "level": "grid"},
    ]
    assert data["geometry"]["type"] == "Polygon"
    assert data["geometry"]["coordinates"][0][0] == data["geometry"]["coordinates"][0][-1]


def test_the_detail_of_an_area_without_a_boundary_has_null_geometry(api: Any) -> None:
    data = api("district_admin").get(f"{AREAS}{testing.CODES['Z']}/").json()
    assert data["geometry"] is None
    assert data["centroid"] is None
    assert data["kind"] == "rural"
    assert data["counts"]["grid_workers"] == 0


def test_the_detail_of_a_root_has_no_parent(api: Any) -> None:
    data = api("district_admin").get(f"{AREAS}{testing.CODES['D']}/").json()
    assert data["parent"] is None
    assert data["counts"]["grid_coverage_percent"] == 67


def test_the_detail_outside_the_scope_is_404_like_a_missing_code(api: Any) -> None:
    client = api("grid_worker_a")
    outside = client.get(f"{AREAS}{testing.CODES['B']}/")
    missing = client.get(f"{AREAS}000000000000/")
    assert outside.status_code == missing.status_code == 404
    assert outside.json() == missing.json()


def test_the_area_api_is_for_staff_like_the_area_pages(api: Any) -> None:
    # Residents see their grid and grid worker on their home page; the tree is a staff tool.
    assert api("resident_a").get(f"{AREAS}{testing.CODES['A']}/").status_code == 403
    assert api("resident_a").get(AREAS).status_code == 403
