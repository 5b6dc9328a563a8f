"""The scoping matrix every app inherits: for every persona, a page and an API endpoint, an
object inside and one outside the persona's areas — inside visible, outside 404."""

from __future__ import annotations

from typing import Any

import pytest

from shequ.core import testing

ROLE_CASES = [pytest.param(p, id=p.username) for p in testing.PERSONAS]


class ScopingMatrix:
    """Subclass and define the hooks; both tests then run for every persona.

    - `inside_object(persona)` / `outside_object(persona)` return an object (or None when the
      persona sees everything, e.g. a district-wide role, or may not use the endpoint at all),
    - `page_url(obj)` and `api_url(obj)` return the detail URLs (None to skip one side),
    - `page_roles` / `api_roles`: usernames allowed to use the endpoint at all; others get 403
      on pages and in the API (role check, before any object is looked up).
    """

    page_roles: set[str] | None = None
    api_roles: set[str] | None = None

    def inside_object(self, persona: testing.Persona) -> Any:
        raise NotImplementedError

    def outside_object(self, persona: testing.Persona) -> Any:
        raise NotImplementedError

    def page_url(self, obj: Any) -> str | None:
        return None

    def api_url(self, obj: Any) -> str | None:
        return None

    def _check(
        self,
        client: Any,
        persona: testing.Persona,
        url_of: Any,
        roles: set[str] | None,
        denied_status: int,
    ) -> None:
        inside = self.inside_object(persona)
        outside = self.outside_object(persona)
        allowed = roles is None or persona.username in roles
        if url_of(inside) is None:
            # An app without pages (or without an API) says so explicitly; never a silent pass.
            assert url_of is not None and getattr(self, "no_" + url_of.__name__, False), (
                f"{type(self).__name__} defines no {url_of.__name__}"
            )
            return
        response = client.get(url_of(inside))
        expected = 200 if allowed else denied_status
        assert response.status_code == expected, (
            f"{persona.username} inside {url_of(inside)}: {response.status_code} != {expected}"
        )
        if outside is not None:
            response = client.get(url_of(outside))
            assert response.status_code in ({404} if allowed else {404, denied_status}), (
                f"{persona.username} outside {url_of(outside)}: {response.status_code}"
            )

    @pytest.mark.parametrize("persona", ROLE_CASES)
    def test_page_shows_inside_and_404s_outside(
        self, persona: testing.Persona, client: Any, world: Any
    ) -> None:
        client.force_login(testing.persona(persona.username))
        self._check(client, persona, self.page_url, self.page_roles, 403)

    @pytest.mark.parametrize("persona", ROLE_CASES)
    def test_api_shows_inside_and_404s_outside(self, persona: testing.Persona, world: Any) -> None:
        from rest_framework.test import APIClient

        client = APIClient()
        client.force_authenticate(testing.persona(persona.username))
        self._check(client, persona, self.api_url, self.api_roles, 403)
