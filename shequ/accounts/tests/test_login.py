"""Signing in and out through the pages and the token endpoint: errors, lockout, safe redirects,
expired sessions, and the optional second step (TOTP)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from shequ.accounts import services
from shequ.accounts.models import TOTPDevice
from shequ.core import testing
from shequ.core.models import AuditEntry
from shequ.lib import totp

LOGIN = reverse("accounts:login")
LOGIN_CODE = reverse("accounts:login_code")
LOGOUT = reverse("accounts:logout")
TOKEN = "/api/v1/auth/token/"
# A fixed instant in the middle of a 30-second step, so TOTP tests never straddle a boundary.
NOW = 1_790_000_015.0


def _entries(action: str) -> Any:
    return AuditEntry.objects.filter(action=action).order_by("-seq")


def _sign_in(client: Client, username: str, password: str = testing.PASSWORD, **extra: Any) -> Any:
    return client.post(LOGIN, {"username": username, "password": password, **extra})


# --- the sign-in page -----------------------------------------------------------------------


def test_the_sign_in_page_opens(client: Client, db: Any) -> None:
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
    assert 'name="password"' in response.content.decode()


def test_a_wrong_password_shows_an_error_and_is_audited(client: Client, world: Any) -> None:
    response = _sign_in(client, "community_worker", "Wrong-pass-2026")
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    assert "_auth_user_id" not in client.session
    entry = _entries("accounts.sign_in_failed").first()
    assert entry is not None
    assert entry.object_repr == "community_worker"
    assert entry.changes == {"reason": "password"}
    assert entry.ip == "127.0.0.1"


def test_the_right_password_signs_in_and_is_audited(client: Client, world: Any) -> None:
    response = _sign_in(client, "community_worker")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(testing.persona("community_worker").pk)
    entry = _entries("accounts.signed_in").first()
    assert entry is not None
    assert entry.actor_name == "community_worker"
    assert entry.changes == {"method": "password"}


def test_a_signed_in_user_visiting_the_sign_in_page_is_sent_on(login: Any) -> None:
    response = login("community_worker").get(LOGIN)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_five_wrong_passwords_lock_the_account(client: Client, world: Any) -> None:
    for _ in range(5):
        _sign_in(client, "grid_worker_a", "Wrong-pass-2026")
    response = _sign_in(client, "grid_worker_a")
    assert response.status_code == 403
    body = response.content.decode()
    assert "ti-lock" in body  # our locked_out template
    assert "_auth_user_id" not in client.session
    assert _entries("accounts.sign_in_failed").filter(changes__reason="locked_out").exists()


def test_four_wrong_passwords_do_not_lock_the_account(client: Client, world: Any) -> None:
    for _ in range(4):
        _sign_in(client, "grid_worker_a", "Wrong-pass-2026")
    assert _sign_in(client, "grid_worker_a").status_code == 302


def test_the_lock_is_per_account_not_per_office(client: Client, world: Any) -> None:
    for _ in range(5):
        _sign_in(client, "grid_worker_a", "Wrong-pass-2026")
    assert _sign_in(Client(), "grid_worker_b").status_code == 302


def test_a_locked_account_gets_a_json_403_from_the_token_endpoint(world: Any) -> None:
    client = APIClient()
    for _ in range(5):
        client.post(
            TOKEN, {"username": "grid_worker_a", "password": "Wrong-pass-2026"}, format="json"
        )
    response = client.post(
        TOKEN, {"username": "grid_worker_a", "password": testing.PASSWORD}, format="json"
    )
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "locked_out"
    assert body["message"]


def test_a_lock_from_the_pages_also_closes_the_token_endpoint(client: Client, world: Any) -> None:
    for _ in range(5):
        _sign_in(client, "grid_worker_a", "Wrong-pass-2026")
    response = APIClient().post(
        TOKEN, {"username": "grid_worker_a", "password": testing.PASSWORD}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "locked_out"


@pytest.mark.parametrize("next_url", ["/areas/", "/areas/?q=%E7%BD%91%E6%A0%BC", "/audit/"])
def test_a_sign_in_returns_to_a_safe_next_url(client: Client, world: Any, next_url: str) -> None:
    response = _sign_in(client, "community_worker", next=next_url)
    assert response.status_code == 302
    assert response["Location"] == next_url


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example.com/",
        "//evil.example.com/",
        "http://testserver.evil/",
        "javascript:alert(1)",
    ],
)
def test_a_sign_in_ignores_an_external_next_url(client: Client, world: Any, next_url: str) -> None:
    response = _sign_in(client, "community_worker", next=next_url)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_the_next_url_from_the_query_string_is_kept_in_the_form(client: Client, db: Any) -> None:
    response = client.get(LOGIN, {"next": "/areas/"})
    assert 'name="next" value="/areas/"' in response.content.decode()


# --- expired sessions -----------------------------------------------------------------------


def test_an_expired_session_is_sent_to_sign_in_with_expired_1(client: Client, db: Any) -> None:
    client.cookies["sessionid"] = "expired-session-key"
    response = client.get(reverse("home"))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(LOGIN)
    assert "next=/" in location
    assert "expired=1" in location


def test_the_sign_in_page_explains_an_expired_session(client: Client, db: Any) -> None:
    client.cookies["sessionid"] = "expired-session-key"
    response = client.get(reverse("home"), follow=True)
    assert response.status_code == 200
    assert "alert" in response.content.decode()
    assert response.redirect_chain[-1][0].startswith(LOGIN)


def test_an_expired_session_on_an_htmx_request_gets_hx_redirect(client: Client, db: Any) -> None:
    client.cookies["sessionid"] = "expired-session-key"
    response = client.get(reverse("areas:index"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(LOGIN)
    assert "expired=1" in response["HX-Redirect"]


def test_a_first_visit_without_a_cookie_is_not_called_expired(client: Client, db: Any) -> None:
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert "expired" not in response["Location"]


# --- signing out ----------------------------------------------------------------------------


def test_signing_out_needs_a_post(login: Any) -> None:
    client = login("community_worker")
    assert client.get(LOGOUT).status_code == 405
    assert client.get(reverse("home")).status_code == 200


def test_signing_out_ends_the_session_and_is_audited(login: Any) -> None:
    client = login("community_worker")
    response = client.post(LOGOUT)
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert client.get(reverse("home")).status_code == 302
    entry = _entries("accounts.signed_out").first()
    assert entry is not None
    assert entry.actor_name == "community_worker"


# --- the second step ------------------------------------------------------------------------


def _enrol(username: str) -> str:
    """Turn TOTP on for a persona at NOW; returns the secret (the step of NOW is used up)."""
    user = testing.persona(username)
    device = services.totp_begin(user=user)
    services.totp_confirm(user=user, code=totp.code_at(device.secret, totp.current_step(NOW)))
    return device.secret


def _wrong_code(secret: str) -> str:
    step = totp.current_step(NOW)
    right = {totp.code_at(secret, s) for s in range(step - 2, step + 3)}
    return next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in right)


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_totp_is_for_staff_only(world: Any) -> None:
    from shequ.core.errors import DomainError

    with pytest.raises(DomainError) as info:
        services.totp_begin(user=testing.persona("resident_a"))
    assert info.value.code == "totp_staff_only"
    assert not TOTPDevice.objects.filter(user=testing.persona("resident_a")).exists()


def test_a_totp_user_must_enter_a_code_after_the_password(
    client: Client, world: Any, frozen: None
) -> None:
    secret = _enrol("grid_worker_a")
    response = _sign_in(client, "grid_worker_a", next="/areas/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_CODE)
    assert "_auth_user_id" not in client.session
    # Nothing but the code page is reachable yet.
    assert client.get(reverse("home")).status_code == 302

    wrong = client.post(f"{LOGIN_CODE}?next=/areas/", {"code": _wrong_code(secret)})
    assert wrong.status_code == 200
    assert "invalid-feedback" in wrong.content.decode() or "is-invalid" in wrong.content.decode()
    assert "_auth_user_id" not in client.session
    assert _entries("accounts.sign_in_failed").first().changes == {"reason": "totp"}

    code = totp.code_at(secret, totp.current_step(NOW) + 1)
    right = client.post(f"{LOGIN_CODE}?next=/areas/", {"code": code})
    assert right.status_code == 302
    assert right["Location"] == "/areas/"
    assert client.session["_auth_user_id"] == str(testing.persona("grid_worker_a").pk)
    assert _entries("accounts.signed_in").first().changes == {"method": "password+totp"}


def test_a_totp_code_cannot_be_used_twice(world: Any, frozen: None) -> None:
    secret = _enrol("grid_worker_a")
    code = totp.code_at(secret, totp.current_step(NOW) + 1)
    first = Client()
    _sign_in(first, "grid_worker_a")
    assert first.post(LOGIN_CODE, {"code": code}).status_code == 302

    second = Client()
    _sign_in(second, "grid_worker_a")
    replay = second.post(LOGIN_CODE, {"code": code})
    assert replay.status_code == 200
    assert "_auth_user_id" not in second.session


def test_the_code_used_to_confirm_enrolment_cannot_sign_in(
    client: Client, world: Any, frozen: None
) -> None:
    secret = _enrol("grid_worker_a")
    _sign_in(client, "grid_worker_a")
    response = client.post(LOGIN_CODE, {"code": totp.code_at(secret, totp.current_step(NOW))})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_five_wrong_codes_lock_the_account_like_five_wrong_passwords(
    client: Client, world: Any, frozen: None
) -> None:
    secret = _enrol("grid_worker_a")
    _sign_in(client, "grid_worker_a")
    for _ in range(4):
        assert client.post(LOGIN_CODE, {"code": _wrong_code(secret)}).status_code == 200
    response = client.post(LOGIN_CODE, {"code": _wrong_code(secret)})
    assert response.status_code == 403
    assert "锁定" in response.content.decode()
    # The pending sign-in is gone, so the right code no longer helps …
    code = totp.code_at(secret, totp.current_step(NOW) + 1)
    assert client.post(LOGIN_CODE, {"code": code})["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session
    # … and signing in again with the right password does not reset the count.
    response = client.post(LOGIN, {"username": "grid_worker_a", "password": testing.PASSWORD})
    assert response.status_code == 403


def test_wrong_codes_through_the_api_count_towards_the_lockout(
    client: Client, world: Any, frozen: None
) -> None:
    secret = _enrol("grid_worker_a")
    for _ in range(4):
        response = client.post(
            TOKEN,
            {
                "username": "grid_worker_a",
                "password": testing.PASSWORD,
                "code": _wrong_code(secret),
            },
            content_type="application/json",
        )
        assert response.status_code == 401
    response = client.post(
        TOKEN,
        {"username": "grid_worker_a", "password": testing.PASSWORD, "code": _wrong_code(secret)},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "locked_out"


def test_the_code_page_without_a_pending_sign_in_goes_back_to_sign_in(
    client: Client, db: Any
) -> None:
    response = client.get(LOGIN_CODE)
    assert response.status_code == 302
    assert response["Location"] == LOGIN


def test_the_totp_secret_is_stored_encrypted(world: Any, frozen: None) -> None:
    secret = _enrol("grid_worker_a")
    device = TOTPDevice.objects.get(user=testing.persona("grid_worker_a"))
    assert device.secret == secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_totpdevice WHERE id = %s", [device.pk])
        (raw,) = cursor.fetchone()
    assert secret not in raw
    assert raw.startswith("v1:")


def test_the_token_endpoint_asks_a_totp_user_for_the_code(world: Any, frozen: None) -> None:
    secret = _enrol("grid_worker_a")
    client = APIClient()
    credentials = {"username": "grid_worker_a", "password": testing.PASSWORD}
    missing = client.post(TOKEN, credentials, format="json")
    assert missing.status_code == 401
    assert missing.json()["code"] == "totp_required"
    wrong = client.post(TOKEN, {**credentials, "code": _wrong_code(secret)}, format="json")
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "totp_required"
    code = totp.code_at(secret, totp.current_step(NOW) + 1)
    right = client.post(TOKEN, {**credentials, "code": code}, format="json")
    assert right.status_code == 200
    assert right.json()["token"]
    replay = client.post(TOKEN, {**credentials, "code": code}, format="json")
    assert replay.status_code == 401


def test_the_security_page_enrols_an_authenticator(login: Any, frozen: None) -> None:
    client = login("grid_worker_a")
    url = reverse("accounts:security")
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "begin"})
    assert response.status_code == 200
    assert "data:image/svg+xml;base64," in response.content.decode()
    device = TOTPDevice.objects.get(user=testing.persona("grid_worker_a"))
    assert not device.confirmed
    code = totp.code_at(device.secret, totp.current_step(NOW))
    response = client.post(url, {"action": "confirm", "code": code})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert _entries("accounts.totp_enabled").first().actor_name == "grid_worker_a"


def test_a_totp_sign_in_keeps_every_parameter_of_the_next_url(
    client: Client, world: Any, frozen: None
) -> None:
    secret = _enrol("grid_worker_a")
    next_url = "/areas/?level=grid&kind=urban"
    response = _sign_in(client, "grid_worker_a", next=next_url)
    assert response.status_code == 302
    code_page = response["Location"]
    assert code_page.startswith(LOGIN_CODE)
    code = totp.code_at(secret, totp.current_step(NOW) + 1)
    done = client.post(code_page, {"code": code})
    assert done.status_code == 302
    assert done["Location"] == next_url
