"""Every persona sees the cases inside its areas and gets 404 for one outside, on the case
page and in the API alike; a resident sees only the cases they reported."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from shequ.cases.models import Case
from shequ.cases.testing import CaseWorld
from shequ.cases.tests.test_api import foreign_community, report
from shequ.core import testing
from shequ.core.tests.scoping import ScopingMatrix

# The area key of the case each persona must see, and of the one it must not (None: the
# persona sees the whole district, so the outside case is in the foreign district).
INSIDE = {
    "grid_worker_a": "A1",
    "grid_worker_b": "B",
    "community_worker": "B",
    "street_supervisor": "A",
    "department": "Z",
    "district_admin": "Z",
    "auditor": "Z",
    "community_auditor": "A",
    "sysadmin": "Z",
}
OUTSIDE = {
    "grid_worker_a": "B",
    "grid_worker_b": "A",
    "community_worker": "Z",
    "street_supervisor": "Z",
    "community_auditor": "Z",
}


class TestCaseScoping(ScopingMatrix):
    page_roles = None  # anyone signed in reports cases and may look at the ones they see
    api_roles = None

    @pytest.fixture(autouse=True)
    def _cases(self, cw: CaseWorld) -> None:
        self.by_area: dict[str, Case] = {
            "A": report(cw),
            "A1": report(cw, area=testing.area("A1")),
            "B": report(cw, by="grid_worker_b", area=testing.area("B")),
            "Z": report(cw, by="district_admin", area=testing.area("Z"), source="desk"),
        }
        testing.superuser()  # only a superuser may file a case in the foreign district
        self.foreign = report(
            cw, by="root", area=foreign_community(), source="desk", category=cw.dispute
        )
        self.residents = report(cw, by="resident_a", source="resident")

    def inside_object(self, persona: testing.Persona) -> Case:
        if persona.username == "resident_a":
            return self.residents  # a resident sees only what they reported
        return self.by_area[INSIDE[persona.username]]

    def outside_object(self, persona: testing.Persona) -> Case:
        if persona.username == "resident_a":
            return self.by_area["A"]  # in the resident's own grid, but someone else's report
        key = OUTSIDE.get(persona.username)
        return self.by_area[key] if key else self.foreign

    def page_url(self, obj: Any) -> str:
        return reverse("cases:detail", args=[obj.code])

    def api_url(self, obj: Any) -> str:
        return f"/api/v1/cases/{obj.code}/"


def test_every_persona_is_in_the_matrix() -> None:
    covered = set(INSIDE) | {"resident_a"}
    assert covered == {p.username for p in testing.PERSONAS}
