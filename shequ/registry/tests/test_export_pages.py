"""The export page hands out a workbook through the export service (masked, audited)."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from django.urls import reverse

from shequ.core import testing
from shequ.core.models import AuditEntry
from shequ.registry import services
from shequ.registry.tests.conftest import Residents


def test_a_community_worker_exports_the_elderly_roster(login: Any, residents: Residents) -> None:
    client = login("community_worker")
    response = client.post(
        reverse("registry:exports"),
        {"template": "高龄老人花名册", "area": testing.area("C1").pk},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    text = "\n".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert "张三" in text and "138****5678" in text and "13812345678" not in text
    assert AuditEntry.objects.filter(action="registry.exported").exists()


def test_full_numbers_need_a_reason(login: Any, residents: Residents) -> None:
    client = login("community_worker")
    response = client.post(
        reverse("registry:exports"),
        {"template": "高龄老人花名册", "area": testing.area("C1").pk, "unmasked": "on"},
    )
    assert response.status_code == 200
    assert "理由" in response.content.decode()  # the form comes back with the service's message


def test_an_auditor_may_not_export(login: Any, residents: Residents) -> None:
    assert login("auditor").get(reverse("registry:exports")).status_code == 403


def test_a_grid_worker_downloads_the_walk_list_of_a_building(login: Any, world: Any) -> None:
    actor = testing.persona("community_worker")
    building = services.building_create(
        actor=actor,
        area=testing.area("A1"),
        code="B-A1-1",
        name="3栋",
        road="文一西路",
        road_number="12",
    )
    dwelling = services.dwelling_create(actor=actor, building=building, unit="2", room="301")
    services.person_create(actor=actor, area=testing.area("A1"), name="住户甲", dwelling=dwelling)
    client = login("grid_worker_a")
    page = client.get(reverse("registry:building", args=[building.pk])).content.decode()
    assert "住户甲" in page and "文一西路12号翠苑1区3栋" in page
    response = client.get(reverse("registry:building_export", args=[building.pk]))
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert (
        login("grid_worker_b")
        .get(reverse("registry:building_export", args=[building.pk]))
        .status_code
        == 404
    )
