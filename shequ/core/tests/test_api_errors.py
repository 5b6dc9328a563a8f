"""Every API error has the shape {"code", "message", "fields" | "extra"}; tokens; pagination;
query-count ceilings on list endpoints and pages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from shequ.core import testing

AREAS = "/api/v1/areas/"
TOKEN = "/api/v1/auth/token/"


def _detail(code: str) -> str:
    return f"{AREAS}{code}/"


def _assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


# --- authentication -------------------------------------------------------------------------


def test_an_anonymous_request_is_401_not_authenticated(api: Any) -> None:
    response = api().get(AREAS)
    _assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Token")


def test_an_unknown_token_is_401_authentication_failed(world: Any) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    _assert_error(client.get(AREAS), 401, "authentication_failed")


# --- not found, invalid input, wrong method -------------------------------------------------


def test_an_unknown_area_code_is_404_not_found(api: Any) -> None:
    body = _assert_error(api("sysadmin").get(_detail("999999999999")), 404, "not_found")
    assert set(body) == {"code", "message"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"level": "bogus"}, "level"),
        ({"kind": "suburban"}, "kind"),
        ({"page": "abc"}, "page"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page_size": "x"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_a_malformed_query_parameter_is_400_invalid_with_fields(
    api: Any, query: dict[str, str], field: str
) -> None:
    body = _assert_error(api("community_worker").get(AREAS, query), 400, "invalid")
    assert field in body["fields"]
    assert all(isinstance(m, str) for m in body["fields"][field])


def test_a_page_past_the_end_is_404_not_found(api: Any) -> None:
    _assert_error(api("community_worker").get(AREAS, {"page": "99"}), 404, "not_found")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writing_to_a_read_only_endpoint_is_405(api: Any, method: str) -> None:
    client = api("sysadmin")
    url = AREAS if method == "post" else _detail(testing.CODES["A"])
    response = getattr(client, method)(url, {}, format="json")
    _assert_error(response, 405, "method_not_allowed")


# --- the token endpoint ---------------------------------------------------------------------


def test_a_token_request_with_a_non_json_body_is_400_parse_error(world: Any) -> None:
    response = APIClient().post(TOKEN, data="{not json", content_type="application/json")
    _assert_error(response, 400, "parse_error")


def test_a_token_request_as_a_form_is_415(world: Any) -> None:
    response = APIClient().post(TOKEN, {"username": "x", "password": "y"}, format="multipart")
    _assert_error(response, 415, "unsupported_media_type")


def test_a_token_request_without_credentials_names_the_missing_fields(world: Any) -> None:
    body = _assert_error(APIClient().post(TOKEN, {}, format="json"), 400, "invalid")
    assert set(body["fields"]) == {"username", "password"}


def test_a_token_request_with_a_wrong_password_is_401(world: Any) -> None:
    response = APIClient().post(
        TOKEN, {"username": "community_worker", "password": "Wrong-pass-1"}, format="json"
    )
    _assert_error(response, 401, "authentication_failed")


def test_a_token_request_for_an_unknown_user_is_401(world: Any) -> None:
    response = APIClient().post(
        TOKEN, {"username": "ghost", "password": testing.PASSWORD}, format="json"
    )
    _assert_error(response, 401, "authentication_failed")


def _token_for(username: str) -> str:
    response = APIClient().post(
        TOKEN, {"username": username, "password": testing.PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    key: str = response.json()["token"]
    return key


def test_a_token_from_the_right_password_authenticates_later_requests(world: Any) -> None:
    key = _token_for("grid_worker_a")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get(AREAS)
    assert response.status_code == 200
    assert {a["code"] for a in response.json()["results"]} == {
        testing.CODES["A"],
        testing.CODES["A1"],
    }


def test_asking_twice_returns_the_same_token(world: Any) -> None:
    assert _token_for("community_worker") == _token_for("community_worker")


def test_a_token_sees_only_its_own_users_areas(world: Any) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {_token_for('grid_worker_b')}")
    assert client.get(_detail(testing.CODES["B"])).status_code == 200
    _assert_error(client.get(_detail(testing.CODES["A"])), 404, "not_found")


def test_a_revoked_token_no_longer_authenticates(world: Any) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {_token_for('grid_worker_b')}")
    assert client.delete("/api/v1/auth/token/revoke/").status_code == 204
    _assert_error(client.get(AREAS), 401, "authentication_failed")


# --- pagination -----------------------------------------------------------------------------


def test_a_list_is_paginated_with_count_next_previous_and_results(api: Any) -> None:
    client = api("community_worker")
    first = client.get(AREAS, {"page_size": "2"}).json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 4  # C1, A, A1, B
    assert first["previous"] is None
    assert "page=2" in first["next"]
    second = client.get(AREAS, {"page_size": "2", "page": "2"}).json()
    assert second["next"] is None
    assert second["previous"] is not None
    codes = [a["code"] for a in first["results"] + second["results"]]
    assert len(codes) == len(set(codes)) == 4


def test_an_error_body_is_json_even_for_an_unknown_api_path(world: Any) -> None:
    response = APIClient().get("/api/v1/no-such-endpoint/")
    _assert_error(response, 404, "not_found")
    json.loads(response.content)


# --- query-count ceilings -------------------------------------------------------------------


def test_the_area_list_api_needs_a_bounded_number_of_queries(
    api: Any, django_assert_max_num_queries: Any
) -> None:
    client = api("district_admin")
    with django_assert_max_num_queries(6):
        response = client.get(AREAS)
    assert response.status_code == 200
    assert response.json()["count"] >= 9


def test_the_area_detail_api_needs_a_bounded_number_of_queries(
    api: Any, django_assert_max_num_queries: Any
) -> None:
    client = api("district_admin")
    with django_assert_max_num_queries(10):
        response = client.get(_detail(testing.CODES["D"]))
    assert response.status_code == 200


def test_the_area_page_needs_a_bounded_number_of_queries(
    login: Any, django_assert_max_num_queries: Any
) -> None:
    client = login("community_worker")
    with django_assert_max_num_queries(15):
        response = client.get(reverse("areas:index"))
    assert response.status_code == 200


def test_the_area_search_page_needs_a_bounded_number_of_queries(
    login: Any, django_assert_max_num_queries: Any
) -> None:
    client = login("district_admin")
    with django_assert_max_num_queries(15):
        response = client.get(reverse("areas:index"), {"q": "网格"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "username", ["community_worker", "district_admin", "auditor", "resident_a"]
)
def test_the_home_page_needs_a_bounded_number_of_queries(
    login: Any, django_assert_max_num_queries: Any, username: str
) -> None:
    client = login(username)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("home"))
    assert response.status_code == 200


def _add_grids(count: int) -> None:
    from shequ.areas import services as areas
    from shequ.areas.models import Level

    c1 = testing.area("C1")
    for n in range(count):
        grid = areas.area_create(
            actor="test",
            code=f"{c1.code}{500 + n}",
            name=f"加密网格{n}",
            level=Level.GRID,
            parent=c1,
            geometry=testing._square(116.02 + n * 0.001, 39.02, 0.001),
        )
        areas.area_create(
            actor="test",
            code=f"{grid.code}01",
            name=f"加密小区{n}",
            level=Level.ESTATE,
            parent=grid,
        )


def test_the_number_of_queries_does_not_grow_with_the_number_of_areas(api: Any, login: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login("community_worker")
    token_client = api("community_worker")
    urls = [
        (client, reverse("home")),
        (client, reverse("areas:index") + "?q=网格"),
        (client, reverse("areas:detail", args=[testing.CODES["C1"]])),
        (client, reverse("areas:children", args=[testing.CODES["C1"]])),
        (token_client, AREAS),
    ]

    def counts() -> list[int]:
        result = []
        for c, url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert c.get(url).status_code == 200
            result.append(len(ctx))
        return result

    counts()  # warm up: the API client's user caches its memberships after the first request
    before = counts()
    _add_grids(8)
    assert counts() == before
