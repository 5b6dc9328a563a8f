"""The area pages: tree browser and search, children partial, detail with counts, GeoJSON."""

from __future__ import annotations

import re
from typing import Any

from django.urls import reverse

from shequ.core import testing

INDEX = reverse("areas:index")


def _detail(key: str) -> str:
    return reverse("areas:detail", args=[testing.CODES[key]])


def _children(key: str) -> str:
    return reverse("areas:children", args=[testing.CODES[key]])


def _geojson(key: str) -> str:
    return reverse("areas:geojson", args=[testing.CODES[key]])


# --- the tree and the search ----------------------------------------------------------------


def test_the_tree_starts_at_the_community_of_a_community_worker(login: Any) -> None:
    response = login("community_worker").get(INDEX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "甲社区" in body
    assert 'class="area-tree' in body
    assert reverse("areas:children", args=[testing.CODES["C1"]]) in body
    assert "测试区" not in body.split('class="area-tree', 1)[1]  # the district is above the root


def test_the_tree_starts_at_every_district_for_a_superuser(client: Any, world: Any) -> None:
    client.force_login(testing.superuser())
    body = client.get(INDEX).content.decode()
    assert "测试区" in body
    assert "外区" in body


def test_the_tree_page_is_forbidden_to_a_resident(login: Any) -> None:
    assert login("resident_a").get(INDEX).status_code == 403


def test_the_tree_page_sends_anonymous_visitors_to_sign_in(client: Any, db: Any) -> None:
    response = client.get(INDEX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_search_lists_the_matching_grids_within_scope_only(login: Any) -> None:
    response = login("community_worker").get(INDEX, {"q": "网格"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "甲社区第1网格" in body
    assert "甲社区第2网格" in body
    assert "乙村第1网格" not in body
    assert testing.CODES["Z"] not in body


def test_a_search_by_code_prefix_finds_the_area(login: Any) -> None:
    body = login("community_worker").get(INDEX, {"q": testing.CODES["A1"]}).content.decode()
    assert "翠苑一区" in body


def test_a_search_by_level_lists_only_that_level(login: Any) -> None:
    body = login("street_supervisor").get(INDEX, {"level": "grid"}).content.decode()
    results = body.split('id="area-results"', 1)[1]
    assert "甲社区第1网格" in results
    assert "甲社区第2网格" in results
    assert "翠苑一区" not in results
    assert "乙村第1网格" not in results


def test_a_search_with_no_match_says_so(login: Any) -> None:
    response = login("community_worker").get(INDEX, {"q": "乙村"})
    assert response.status_code == 200
    results = response.content.decode().split('id="area-results"', 1)[1]
    assert "乙村第1网格" not in results
    assert '<td colspan="4"' in results  # the empty-result row


def test_a_malformed_level_shows_an_error_not_a_500(login: Any) -> None:
    response = login("community_worker").get(INDEX, {"level": "bogus"})
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()


def test_a_malformed_page_number_still_shows_the_results(login: Any) -> None:
    response = login("community_worker").get(INDEX, {"q": "网格", "page": "abc"})
    assert response.status_code == 200
    assert "甲社区第1网格" in response.content.decode()


def test_an_htmx_search_gets_only_the_results_partial(login: Any) -> None:
    response = login("community_worker").get(INDEX, {"q": "网格"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert 'id="area-results"' in body
    assert "甲社区第1网格" in body


def test_a_boosted_htmx_request_gets_the_whole_page(login: Any) -> None:
    response = login("community_worker").get(
        INDEX, {"q": "网格"}, HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true"
    )
    assert "<html" in response.content.decode()


# --- the children partial -------------------------------------------------------------------


def test_the_children_partial_lists_the_child_nodes(login: Any) -> None:
    response = login("community_worker").get(_children("C1"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert body.count('class="area-node"') == 2
    assert "甲社区第1网格" in body
    assert "甲社区第2网格" in body
    assert "翠苑一区" not in body  # a grandchild loads when its grid is opened


def test_the_children_partial_of_a_leaf_is_empty(login: Any) -> None:
    response = login("community_worker").get(_children("B"))
    assert response.status_code == 200
    assert "area-node" not in response.content.decode()


def test_the_children_partial_outside_the_scope_is_404(login: Any) -> None:
    assert login("community_worker").get(_children("C2")).status_code == 404


# --- the detail page ------------------------------------------------------------------------


def _stat_values(body: str) -> list[str]:
    return re.findall(r'<div class="stat-value">(\d+)', body)


def test_the_detail_page_shows_the_counts_of_the_subtree(login: Any) -> None:
    response = login("community_worker").get(_detail("C1"))
    assert response.status_code == 200
    body = response.content.decode()
    # Community level: grids, estates, grid workers.
    assert _stat_values(body) == ["2", "1", "2"]
    assert "甲社区第1网格" in body
    assert "Grid Worker A" in body
    assert "Grid Worker B" in body


def test_the_district_detail_counts_every_level(login: Any) -> None:
    body = login("district_admin").get(_detail("D")).content.decode()
    # Streets, communities, grids, estates, grid workers.
    assert _stat_values(body) == ["2", "2", "3", "1", "2"]


def test_the_detail_page_shows_the_breadcrumbs_from_the_root(login: Any) -> None:
    body = login("district_admin").get(_detail("A1")).content.decode()
    crumbs = body.split('class="breadcrumb', 1)[1].split("</ol>", 1)[0]
    for name in ("测试区", "一街道", "甲社区", "甲社区第1网格", "翠苑一区"):
        assert name in crumbs
    assert crumbs.index("测试区") < crumbs.index("一街道") < crumbs.index("甲社区第1网格")


def test_the_detail_page_links_its_map_only_when_it_has_a_boundary(login: Any) -> None:
    client = login("district_admin")
    assert _geojson("C1") in client.get(_detail("C1")).content.decode()
    assert _geojson("C2") not in client.get(_detail("C2")).content.decode()


def test_the_detail_page_marks_a_vacant_grid(login: Any) -> None:
    body = login("district_admin").get(_detail("C2")).content.decode()
    assert "bg-red-lt" in body  # 乙村第1网格 has no grid worker


# --- GeoJSON --------------------------------------------------------------------------------


def test_the_geojson_of_a_community_holds_its_grids_only(login: Any) -> None:
    response = login("community_worker").get(_geojson("C1"))
    assert response.status_code == 200
    data = response.json()
    assert data["type"] == "FeatureCollection"
    codes = [f["properties"]["code"] for f in data["features"]]
    assert codes == [testing.CODES["A"], testing.CODES["B"]]
    for feature in data["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Polygon"
        assert feature["properties"]["level"] == "grid"
    workers = {f["properties"]["code"]: f["properties"]["workers"] for f in data["features"]}
    assert workers == {testing.CODES["A"]: ["Grid Worker A"], testing.CODES["B"]: ["Grid Worker B"]}


def test_the_geojson_of_a_district_leaves_out_grids_without_a_boundary(login: Any) -> None:
    data = login("district_admin").get(_geojson("D")).json()
    codes = {f["properties"]["code"] for f in data["features"]}
    assert codes == {testing.CODES["A"], testing.CODES["B"]}  # grid Z has no boundary


def test_the_geojson_of_a_grid_holds_the_grid_itself(login: Any) -> None:
    data = login("grid_worker_a").get(_geojson("A")).json()
    assert [f["properties"]["code"] for f in data["features"]] == [testing.CODES["A"]]


def test_a_resident_may_read_the_geojson_of_their_grid(login: Any) -> None:
    assert login("resident_a").get(_geojson("A")).status_code == 200
    assert login("resident_a").get(_geojson("B")).status_code == 404


def test_the_geojson_outside_the_scope_is_404(login: Any) -> None:
    assert login("community_worker").get(_geojson("C2")).status_code == 404
