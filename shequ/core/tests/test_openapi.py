"""The OpenAPI schema is valid and documented; the API docs load only local assets."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path
from typing import Any

import yaml
from django.core.management import call_command

TEMPLATES = Path(__file__).resolve().parents[2]


def test_the_openapi_schema_is_valid_without_warnings(db: Any) -> None:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/areas/{code}/" in schema["paths"]
    assert "/api/v1/auth/token/" in schema["paths"]


def test_the_schema_is_public_but_the_data_behind_it_is_not(client: Any, db: Any) -> None:
    # API client developers read the schema before they hold an account; it holds no data.
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"/api/v1/areas/" in response.content
    assert client.get("/api/v1/areas/").status_code == 401


def test_the_api_docs_page_loads_its_assets_from_this_server(login: Any) -> None:
    response = login("community_worker").get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the docs page should load swagger-ui assets"
    assert all(not a.startswith(("http:", "https:", "//")) for a in assets), assets
    assert "<script>" not in html  # the init script is a separate file (CSP)


def test_no_template_loads_anything_from_another_host() -> None:
    offenders = []
    for template in TEMPLATES.rglob("templates/**/*.html"):
        text = template.read_text(encoding="utf-8")
        for url in re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', text):
            offenders.append(f"{template.name}: {url}")
    assert offenders == []
