"""Every role sees the areas below its memberships and gets 404 for any other area."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from shequ.areas.models import Area
from shequ.core import testing
from shequ.core.tests.scoping import ScopingMatrix


class TestAreaScoping(ScopingMatrix):
    page_roles = {p.username for p in testing.PERSONAS if p.username != "resident_a"}
    api_roles = page_roles

    def inside_object(self, persona: testing.Persona) -> Area:
        return testing.area(persona.inside)

    def outside_object(self, persona: testing.Persona) -> Area:
        # District-wide roles still must not see a district they hold no role in.
        return testing.area(persona.outside)

    def page_url(self, obj: Any) -> str:
        return reverse("areas:detail", args=[obj.code])

    def api_url(self, obj: Any) -> str:
        return reverse("api:area-detail", args=[obj.code])
