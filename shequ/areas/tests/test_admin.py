"""The admin creates and edits areas and memberships only through the audited services."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from shequ.accounts.models import Membership
from shequ.areas.models import Area
from shequ.core import testing
from shequ.core.models import AuditEntry


@pytest.fixture
def admin_client(world: Any) -> Client:
    client = Client()
    client.force_login(testing.superuser())
    return client


def test_an_area_added_in_the_admin_gets_its_path_and_an_audit_entry(admin_client: Client) -> None:
    community = testing.area("C1")
    response = admin_client.post(
        "/admin/areas/area/add/",
        {
            "code": community.code + "009",
            "name": "新网格",
            "level": "grid",
            "kind": "urban",
            "parent": community.pk,
            "geometry": "null",
            "sort_order": 9,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    grid = Area.objects.get(code=community.code + "009")
    assert grid.path.startswith(community.path) and len(grid.path) == len(community.path) + 8
    assert AuditEntry.objects.filter(action="area.created", object_id=str(grid.pk)).exists()


def test_the_admin_refuses_a_bad_code_with_the_services_message(admin_client: Client) -> None:
    before = Area.objects.count()
    response = admin_client.post(
        "/admin/areas/area/add/",
        {
            "code": "999",
            "name": "错编码",
            "level": "grid",
            "kind": "urban",
            "parent": testing.area("C1").pk,
            "geometry": "null",
            "sort_order": 0,
        },
    )
    assert response.status_code == 200
    assert "编码" in response.content.decode()
    assert Area.objects.count() == before


def test_a_membership_granted_in_the_admin_is_audited(admin_client: Client) -> None:
    user = testing.persona("nobody")
    grid = testing.area("B")
    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "username": user.username,
            "full_name": user.full_name,
            "is_active": "on",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-area": grid.pk,
            "memberships-0-role": "grid_worker",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Membership.objects.filter(user=user, area=grid, role="grid_worker").exists()
    assert AuditEntry.objects.filter(
        action="accounts.membership_granted", changes__area=grid.code
    ).exists()


def test_the_audit_log_cannot_be_edited_in_the_admin(admin_client: Client) -> None:
    entry = AuditEntry.objects.order_by("seq").first()
    assert entry is not None
    assert admin_client.get("/admin/core/auditentry/").status_code == 200
    page = admin_client.get(f"/admin/core/auditentry/{entry.pk}/change/")
    assert b'name="action"' not in page.content  # read-only view, no form fields
    assert admin_client.post(f"/admin/core/auditentry/{entry.pk}/delete/").status_code == 403
