"""Regression tests for the security review of the foundation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from shequ.accounts import services as accounts
from shequ.core import audit, testing
from shequ.core.middleware import client_ip, content_security_policy
from shequ.core.models import AuditChainHead, AuditEntry


def test_the_admin_signs_in_through_our_sign_in_page(client: Client, db: Any) -> None:
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "next=/admin/" in response["Location"]


def test_a_nul_byte_in_the_user_name_is_a_failed_sign_in_not_a_crash(
    client: Client, world: Any
) -> None:
    response = client.post("/accounts/login/", {"username": "ad\x00min", "password": "x"})
    assert response.status_code == 200
    entry = AuditEntry.objects.filter(action="accounts.sign_in_failed").order_by("-seq").first()
    assert entry is not None and "\x00" not in entry.object_repr


@pytest.mark.parametrize("url", ["/areas/%00/", "/api/v1/areas/%00/", "/areas/abc/"])
def test_a_malformed_area_code_is_simply_not_found(login: Any, url: str) -> None:
    assert login("community_worker").get(url).status_code == 404


def test_non_ascii_digits_are_rejected_cleanly(login: Any) -> None:
    client = login("community_worker")
    assert client.get("/api/v1/areas/?page=²").status_code == 400
    assert client.get("/api/v1/areas/?page_size=١٢").status_code == 400


@override_settings(BEHIND_PROXY=True)
def test_behind_our_proxy_only_its_own_forwarded_entry_is_trusted() -> None:
    factory = RequestFactory()
    spoofed = factory.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.0.0.7", REMOTE_ADDR="10.0.0.1")
    assert client_ip(spoofed) == "10.0.0.7"
    garbage = factory.get("/", HTTP_X_FORWARDED_FOR="not-an-ip", REMOTE_ADDR="10.0.0.1")
    assert client_ip(garbage) is None
    ipv6 = factory.get("/", HTTP_X_FORWARDED_FOR="2001:DB8:0:0:0:0:0:1")
    assert client_ip(ipv6) == "2001:db8::1"


def test_deleting_an_account_does_not_break_the_audit_chain(world: Any) -> None:
    user = accounts.user_create(actor="test", username="leaver", password=testing.PASSWORD)
    accounts.signed_in(user=user, method="password")
    user.delete()
    checked, problems = audit.verify()
    assert checked > 0
    assert problems == []


def test_accounts_cannot_be_deleted_in_the_admin(client: Client, world: Any) -> None:
    client.force_login(testing.superuser())
    user = testing.persona("nobody")
    assert client.post(f"/admin/accounts/user/{user.pk}/delete/").status_code == 403


def test_a_password_changed_in_the_admin_is_audited(client: Client, world: Any) -> None:
    client.force_login(testing.superuser())
    user = testing.persona("nobody")
    response = client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "New-pass-2026!", "password2": "New-pass-2026!", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert AuditEntry.objects.filter(action="admin.changed", object_id=str(user.pk)).exists()


def test_entries_added_beyond_the_chain_head_are_reported(world: Any) -> None:
    head = AuditChainHead.objects.get(pk=1)
    AuditEntry.objects.create(
        seq=head.seq + 5,
        created_at=timezone.now(),
        action="forged",
        prev_hash=head.hash,
        hash="f" * 64,
    )
    _checked, problems = audit.verify()
    assert any("beyond the chain head" in p.reason for p in problems)


@override_settings(
    MAP_TILE_URL="https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}", MAP_TILE_ORIGINS=[]
)
def test_a_templated_tile_host_becomes_a_valid_csp_wildcard() -> None:
    assert "https://*.tianditu.gov.cn" in content_security_policy()


@override_settings(MAP_TILE_ORIGINS=["https://tiles.example.org"])
def test_explicit_tile_origins_are_used_as_given() -> None:
    assert "img-src 'self' data: blob: https://tiles.example.org;" in content_security_policy()


def test_an_expired_token_is_refused(world: Any) -> None:
    from rest_framework.test import APIClient

    token = accounts.token_issue(user=testing.persona("community_worker"))
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(days=31))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get("/api/v1/areas/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_real_token_sees_only_its_users_areas(world: Any) -> None:
    from rest_framework.test import APIClient

    token = accounts.token_issue(user=testing.persona("grid_worker_b"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(f"/api/v1/areas/{testing.CODES['B']}/").status_code == 200
    assert client.get(f"/api/v1/areas/{testing.CODES['A']}/").status_code == 404


def test_changing_the_password_revokes_api_tokens(world: Any) -> None:
    user = testing.persona("community_worker")
    accounts.token_issue(user=user)
    accounts.password_changed(user=user)
    assert not Token.objects.filter(user=user).exists()


def test_an_htmx_history_restore_gets_the_whole_page(login: Any) -> None:
    client = login("community_worker")
    restore = client.get(
        "/areas/?q=网格", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert b"<html" in restore.content
    partial = client.get("/areas/?q=网格", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content
    assert "HX-Request" in partial["Vary"]
