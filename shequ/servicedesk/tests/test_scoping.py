"""Every persona sees the applications inside its areas and gets 404 for one outside, on the
desk's application page and in the API alike; a resident sees only their own."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from shequ.core import testing
from shequ.core.tests.scoping import ScopingMatrix
from shequ.registry import services as registry
from shequ.servicedesk.models import Application
from shequ.servicedesk.tests.conftest import Desk, apply_at_desk, apply_online, make_id

# The area key of the application each persona must see, and of the one it must not (None:
# the persona sees the whole district, so the outside one is in the foreign district).
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
DESK_STAFF = {
    "grid_worker_a",
    "grid_worker_b",
    "community_worker",
    "street_supervisor",
    "district_admin",
    "sysadmin",
}


def foreign_person() -> Any:
    from shequ.areas import services as areas
    from shequ.areas.models import Level

    street = areas.area_create(
        actor="test-setup",
        code="120199001000",
        name="外区一街道",
        level=Level.STREET,
        parent=testing.area("F"),
    )
    community = areas.area_create(
        actor="test-setup",
        code="120199001001",
        name="外区甲社区",
        level=Level.COMMUNITY,
        parent=street,
    )
    return registry.person_create(
        actor="test", area=community, name="赵六", id_number=make_id(birth="19700101", seq="464")
    )


class TestApplicationScoping(ScopingMatrix):
    page_roles = DESK_STAFF  # the desk's application page
    api_roles = DESK_STAFF | {"resident_a"}  # residents read their own through the API

    @pytest.fixture(autouse=True)
    def _applications(self, desk: Desk) -> None:
        testing.superuser()
        in_estate = registry.person_create(
            actor="test",
            area=testing.area("A1"),
            name="孙七",
            id_number=make_id(birth="19380505", seq="575"),
        )
        self.by_area: dict[str, Application] = {
            "A": apply_at_desk(desk),
            "A1": apply_at_desk(desk, in_estate),
            "B": apply_at_desk(desk, desk.li),
            "Z": apply_at_desk(desk, desk.wang, by="root"),
        }
        self.foreign = apply_at_desk(desk, foreign_person(), by="root")
        self.own = apply_online(desk)

    def inside_object(self, persona: testing.Persona) -> Application:
        if persona.username == "resident_a":
            return self.own
        return self.by_area[INSIDE[persona.username]]

    def outside_object(self, persona: testing.Persona) -> Application:
        if persona.username == "resident_a":
            return self.by_area["B"]  # a neighbour's application
        key = OUTSIDE.get(persona.username)
        return self.by_area[key] if key else self.foreign

    def page_url(self, obj: Any) -> str:
        return reverse("desk:application", args=[obj.code])

    def api_url(self, obj: Any) -> str:
        return f"/api/v1/applications/{obj.code}/"


def test_every_persona_is_in_the_matrix() -> None:
    covered = set(INSIDE) | {"resident_a"}
    assert covered == {p.username for p in testing.PERSONAS}


def test_a_resident_reads_their_own_application_page_but_not_a_neighbours(
    desk: Desk, login: Any
) -> None:
    own, other = apply_online(desk), apply_at_desk(desk, desk.li)
    client = login("resident_a")
    assert client.get(reverse("services:my_detail", args=[own.code])).status_code == 200
    assert client.get(reverse("services:my_detail", args=[other.code])).status_code == 404
