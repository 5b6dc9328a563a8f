"""Health check, error pages (404/500, HTML and JSON), security headers, the home page per role."""

from __future__ import annotations

import re
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.urls import reverse

from shequ.core import testing

PERSONA_CASES = [pytest.param(p.username, id=p.username) for p in testing.PERSONAS]


# --- health check ---------------------------------------------------------------------------


def test_healthz_answers_ok_in_json(client: Any, db: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_is_down(client: Any, db: Any) -> None:
    with mock.patch(
        "shequ.core.views.connection.cursor", side_effect=OperationalError("database is gone")
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}


# --- error pages ----------------------------------------------------------------------------


def _is_our_error_page(response: Any, status: int) -> bool:
    body = response.content.decode()
    return f'<div class="display-4 fw-bold text-secondary mb-2">{status}</div>' in body


def test_an_unknown_url_shows_our_404_page_to_an_anonymous_visitor(client: Any, db: Any) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert _is_our_error_page(response, 404)


def test_an_unknown_url_shows_our_404_page_to_a_signed_in_user(login: Any) -> None:
    response = login("community_worker").get("/no-such-page/")
    assert response.status_code == 404
    assert _is_our_error_page(response, 404)


def test_an_area_outside_the_scope_shows_our_404_page(login: Any) -> None:
    response = login("community_worker").get(reverse("areas:detail", args=[testing.CODES["Z"]]))
    assert response.status_code == 404
    assert _is_our_error_page(response, 404)


def test_a_page_the_role_may_not_use_shows_our_403_page(login: Any) -> None:
    response = login("resident_a").get(reverse("areas:index"))
    assert response.status_code == 403
    assert _is_our_error_page(response, 403)


def test_an_unknown_api_path_answers_json_404(client: Any, db: Any) -> None:
    response = client.get("/api/unknown-path/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "not_found"
    assert body["message"]


def test_a_crashing_view_shows_our_500_page(login: Any) -> None:
    client = login("community_worker")
    client.raise_request_exception = False
    with mock.patch("shequ.insights.selectors.home", side_effect=RuntimeError("boom")):
        response = client.get(reverse("home"), HTTP_X_REQUEST_ID="req-crash-000001")
    assert response.status_code == 500
    body = response.content.decode()
    assert _is_our_error_page(response, 500)
    assert "<code>req-crash-000001</code>" in body
    assert "boom" not in body
    assert "Traceback" not in body


def test_a_crashing_api_view_answers_json_500(api: Any) -> None:
    client = api("community_worker")
    client.raise_request_exception = False
    with mock.patch("shequ.areas.selectors.area_list", side_effect=RuntimeError("boom")):
        response = client.get("/api/v1/areas/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "boom" not in response.content.decode()


# --- security headers -----------------------------------------------------------------------


def _urls_for_headers() -> list[str]:
    return [
        "/healthz",
        reverse("accounts:login"),
        "/no-such-page/",
        "/api/v1/areas/",
        "/api/unknown-path/",
        reverse("home"),
    ]


@pytest.mark.parametrize("url", _urls_for_headers())
def test_every_response_carries_a_strict_content_security_policy(
    client: Any, db: Any, url: str
) -> None:
    response = client.get(url)
    policy = response["Content-Security-Policy"]
    directives = {d.split()[0]: d for d in (part.strip() for part in policy.split(";")) if d}
    assert directives["script-src"] == "script-src 'self'"
    assert "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy


@pytest.mark.parametrize("url", _urls_for_headers())
def test_every_response_forbids_framing_and_sniffing(client: Any, db: Any, url: str) -> None:
    response = client.get(url)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Request-ID"]


def test_a_signed_in_page_carries_the_security_headers_too(login: Any) -> None:
    response = login("community_worker").get(reverse("home"))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_pages_load_no_inline_scripts(login: Any) -> None:
    """script-src 'self' would block inline scripts; pages must not rely on any."""
    body = login("community_worker").get(reverse("home")).content.decode()
    for tag in re.findall(r"<script\b[^>]*>", body):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son(click|load|change|submit)=", body)


# --- the home page --------------------------------------------------------------------------


def test_the_home_page_sends_anonymous_visitors_to_sign_in(client: Any, db: Any) -> None:
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next=/"


@pytest.mark.parametrize("username", [*PERSONA_CASES, pytest.param("nobody", id="nobody")])
def test_the_home_page_opens_for_every_persona(login: Any, username: str) -> None:
    response = login(username).get(reverse("home"))
    assert response.status_code == 200
    assert b"<html" in response.content


def test_the_home_page_tells_a_role_less_user_to_ask_for_a_role(login: Any) -> None:
    response = login("nobody").get(reverse("home"))
    assert "ti-user-question" in response.content.decode()


def test_the_home_page_of_a_community_worker_names_its_grids(login: Any) -> None:
    body = login("community_worker").get(reverse("home")).content.decode()
    assert "甲社区第1网格" in body
    assert "甲社区第2网格" in body
    assert "乙村第1网格" not in body


def test_htmx_requests_carry_the_csrf_token_from_the_body_tag(login: Any) -> None:
    response = login("community_worker").get(reverse("home"))
    match = re.search(r"<body[^>]*hx-headers='(\{[^']*\})'", response.content.decode())
    assert match, "the <body> tag must carry hx-headers"
    import json

    headers = json.loads(match.group(1))
    assert len(headers["X-CSRFToken"]) >= 32


def test_the_sign_in_page_also_carries_the_csrf_token_for_htmx(client: Any, db: Any) -> None:
    body = client.get(reverse("accounts:login")).content.decode()
    assert re.search(r"<body[^>]*hx-headers='\{\"X-CSRFToken\": \"[A-Za-z0-9]{32,}\"\}'", body)
