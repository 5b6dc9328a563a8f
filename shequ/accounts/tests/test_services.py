"""Account services (users, memberships, tokens, second factor), the password rule, and the
scoping primitives every query goes through."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from shequ.accounts import scoping, services
from shequ.accounts.models import Membership, TOTPDevice, User
from shequ.accounts.roles import Role
from shequ.accounts.validators import MixedCharacterClassesValidator, character_classes
from shequ.areas.models import Area
from shequ.core import testing
from shequ.core.errors import DomainError
from shequ.core.models import AuditEntry
from shequ.lib import totp

NOW = 1_790_000_015.0


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _code(secret: str, offset: int = 0) -> str:
    return totp.code_at(secret, totp.current_step(NOW) + offset)


# --- the password rule ----------------------------------------------------------------------


@pytest.mark.parametrize("password", ["abcdefgh", "abcd1234", "ABCDEFGH", "12345678", "abcd!@#$"])
def test_the_password_rule_rejects_fewer_than_three_character_classes(password: str) -> None:
    with pytest.raises(ValidationError) as info:
        MixedCharacterClassesValidator().validate(password)
    assert info.value.code == "password_not_mixed"


@pytest.mark.parametrize("password", ["Abcd1234", "abcd123!", "ABCD12#$", "Ab1!Ab1!"])
def test_the_password_rule_accepts_three_or_more_classes(password: str) -> None:
    MixedCharacterClassesValidator().validate(password)


def test_character_classes_counts_lower_upper_digits_and_symbols() -> None:
    assert character_classes("") == 0
    assert character_classes("a") == 1
    assert character_classes("aA") == 2
    assert character_classes("aA1") == 3
    assert character_classes("aA1 ") == 4


def test_the_configured_validators_include_the_rule_and_a_minimum_length(db: Any) -> None:
    with pytest.raises(ValidationError):
        validate_password("abcd1234")
    with pytest.raises(ValidationError):
        validate_password("Ab1!")  # too short
    validate_password("Zq7-kettle-Lamp")


# --- users ----------------------------------------------------------------------------------


def test_user_create_makes_an_account_with_memberships_and_audits_it(world: Any) -> None:
    grid_b = testing.area("B")
    user = services.user_create(
        actor=testing.persona("sysadmin"),
        username="new_worker",
        password="Strong-pass-42",
        full_name="新 网格员",
        memberships=[(grid_b, Role.GRID_WORKER)],
    )
    assert user.check_password("Strong-pass-42")
    assert not user.is_staff
    assert not user.is_superuser
    assert [(m.area.code, m.role) for m in user.memberships.all()] == [
        (testing.CODES["B"], "grid_worker")
    ]
    created = AuditEntry.objects.get(action="accounts.user_created", object_id=str(user.pk))
    assert created.actor_name == "sysadmin"
    assert created.changes == {"username": "new_worker"}
    granted = AuditEntry.objects.get(
        action="accounts.membership_granted", changes__user="new_worker"
    )
    assert granted.area_path == grid_b.path


@pytest.mark.parametrize("password", ["abcdefgh", "abcd1234", "short1A", "new_worker1A"])
def test_user_create_rejects_a_weak_password_and_writes_nothing(world: Any, password: str) -> None:
    users, entries, memberships = (
        User.objects.count(),
        AuditEntry.objects.count(),
        Membership.objects.count(),
    )
    with pytest.raises(DomainError) as info:
        services.user_create(
            actor="test",
            username="new_worker",
            password=password,
            memberships=[(testing.area("B"), Role.GRID_WORKER)],
        )
    assert info.value.code == "password_rejected"
    assert info.value.message
    assert User.objects.count() == users
    assert AuditEntry.objects.count() == entries
    assert Membership.objects.count() == memberships


def test_only_a_superuser_reaches_the_django_admin(world: Any) -> None:
    boss = services.user_create(
        actor="test", username="boss", password="Strong-pass-42", is_superuser=True
    )
    assert boss.is_staff and boss.is_superuser
    assert not testing.persona("sysadmin").is_staff


# --- memberships ----------------------------------------------------------------------------


def test_membership_grant_is_idempotent_and_audited_once(world: Any) -> None:
    user = testing.persona("grid_worker_a")
    grid_b = testing.area("B")
    before = AuditEntry.objects.filter(action="accounts.membership_granted").count()
    first = services.membership_grant(actor="test", user=user, area=grid_b, role=Role.GRID_WORKER)
    second = services.membership_grant(actor="test", user=user, area=grid_b, role=Role.GRID_WORKER)
    assert first.pk == second.pk
    assert Membership.objects.filter(user=user, area=grid_b).count() == 1
    assert AuditEntry.objects.filter(action="accounts.membership_granted").count() == before + 1
    entry = AuditEntry.objects.filter(action="accounts.membership_granted").order_by("-seq")[0]
    assert entry.changes == {
        "user": "grid_worker_a",
        "area": testing.CODES["B"],
        "role": "grid_worker",
    }
    assert entry.area_path == grid_b.path


def test_membership_grant_refreshes_the_cached_scope(world: Any) -> None:
    user = testing.persona("grid_worker_a")
    assert scoping.visible_paths(user) == [testing.area("A").path]
    services.membership_grant(
        actor="test", user=user, area=testing.area("B"), role=Role.GRID_WORKER
    )
    assert scoping.visible_paths(user) == sorted([testing.area("A").path, testing.area("B").path])


def test_membership_grant_rejects_an_unknown_role(world: Any) -> None:
    with pytest.raises(ValueError):
        services.membership_grant(
            actor="test", user=testing.persona("nobody"), area=testing.area("A"), role="mayor"
        )


def test_membership_revoke_removes_the_scope_and_is_audited(world: Any) -> None:
    user = testing.persona("grid_worker_a")
    membership = user.memberships.get()
    services.membership_revoke(actor="test", membership=membership)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert scoping.visible_paths(user) == []
    entry = AuditEntry.objects.filter(action="accounts.membership_revoked").order_by("-seq")[0]
    assert entry.changes == {"user": "grid_worker_a", "area": testing.CODES["A"]}


# --- tokens ---------------------------------------------------------------------------------


def test_token_issue_reuses_the_token_and_audits_each_issue(world: Any) -> None:
    user = testing.persona("grid_worker_a")
    first = services.token_issue(user=user)
    second = services.token_issue(user=user)
    assert first.key == second.key
    actions = list(
        AuditEntry.objects.filter(actor=user, action__startswith="accounts.token_")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["accounts.token_issued", "accounts.token_reused"]


def test_token_revoke_deletes_the_token_and_audits_only_a_real_revoke(world: Any) -> None:
    user = testing.persona("grid_worker_a")
    services.token_issue(user=user)
    services.token_revoke(user=user)
    services.token_revoke(user=user)
    assert AuditEntry.objects.filter(actor=user, action="accounts.token_revoked").count() == 1


# --- second factor --------------------------------------------------------------------------


def test_totp_begin_refuses_a_resident(world: Any) -> None:
    with pytest.raises(DomainError) as info:
        services.totp_begin(user=testing.persona("resident_a"))
    assert info.value.code == "totp_staff_only"


def test_totp_begin_refuses_a_user_without_any_role(world: Any) -> None:
    with pytest.raises(DomainError) as info:
        services.totp_begin(user=testing.persona("nobody"))
    assert info.value.code == "totp_staff_only"


@pytest.mark.parametrize("username", ["grid_worker_a", "auditor", "sysadmin"])
def test_totp_begin_then_confirm_turns_the_second_step_on(
    world: Any, frozen: None, username: str
) -> None:
    user = testing.persona(username)
    device = services.totp_begin(user=user)
    assert not device.confirmed
    assert not services.totp_enabled(user)
    services.totp_confirm(user=user, code=_code(device.secret))
    assert services.totp_enabled(user)
    assert AuditEntry.objects.filter(actor=user, action="accounts.totp_enabled").exists()


def test_totp_begin_again_before_confirming_issues_a_new_secret(world: Any) -> None:
    user = testing.persona("grid_worker_a")
    first = services.totp_begin(user=user).secret
    second = services.totp_begin(user=user).secret
    assert first != second
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_totp_begin_after_confirming_keeps_the_secret(world: Any, frozen: None) -> None:
    user = testing.persona("grid_worker_a")
    device = services.totp_begin(user=user)
    services.totp_confirm(user=user, code=_code(device.secret))
    assert services.totp_begin(user=user).secret == device.secret
    assert services.totp_enabled(user)


def test_totp_confirm_rejects_a_wrong_code(world: Any, frozen: None) -> None:
    user = testing.persona("grid_worker_a")
    device = services.totp_begin(user=user)
    right = {_code(device.secret, k) for k in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in right)
    with pytest.raises(DomainError) as info:
        services.totp_confirm(user=user, code=wrong)
    assert info.value.code == "totp_bad_code"
    assert not services.totp_enabled(user)


def test_totp_confirm_without_begin_says_so(world: Any) -> None:
    with pytest.raises(DomainError) as info:
        services.totp_confirm(user=testing.persona("grid_worker_a"), code="123456")
    assert info.value.code == "totp_no_device"


def test_totp_check_accepts_a_code_once(world: Any, frozen: None) -> None:
    user = testing.persona("grid_worker_a")
    device = services.totp_begin(user=user)
    services.totp_confirm(user=user, code=_code(device.secret))
    assert not services.totp_check(user=user, code=_code(device.secret))  # used to confirm
    assert services.totp_check(user=user, code=_code(device.secret, 1))
    assert not services.totp_check(user=user, code=_code(device.secret, 1))  # replay
    assert not services.totp_check(user=user, code=_code(device.secret, -1))  # older step


def test_totp_check_is_false_for_a_user_without_a_device(world: Any) -> None:
    assert not services.totp_check(user=testing.persona("grid_worker_a"), code="123456")


def test_totp_disable_needs_a_fresh_code_and_is_audited(world: Any, frozen: None) -> None:
    user = testing.persona("grid_worker_a")
    device = services.totp_begin(user=user)
    services.totp_confirm(user=user, code=_code(device.secret))
    with pytest.raises(DomainError):
        services.totp_disable(user=user, code=_code(device.secret))  # replayed code
    assert services.totp_enabled(user)
    services.totp_disable(user=user, code=_code(device.secret, 1))
    assert not services.totp_enabled(user)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(actor=user, action="accounts.totp_disabled").exists()


def test_the_totp_secret_is_encrypted_at_rest(world: Any) -> None:
    from django.db import connection

    device = services.totp_begin(user=testing.persona("grid_worker_a"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_totpdevice WHERE id = %s", [device.pk])
        (raw,) = cursor.fetchone()
    assert device.secret not in raw
    assert raw.startswith("v1:")
    assert TOTPDevice.objects.get(pk=device.pk).secret == device.secret


# --- scoping primitives ---------------------------------------------------------------------


def test_subtree_bounds_is_the_next_path_of_the_same_width() -> None:
    assert scoping.subtree_bounds("00000001") == ("00000001", "00000002")
    assert scoping.subtree_bounds("0000000100000009") == ("0000000100000009", "0000000100000010")
    assert scoping.subtree_bounds("0000009900000099") == ("0000009900000099", "0000009900000100")


def test_subtree_bounds_cover_the_children_and_nothing_beside() -> None:
    low, high = scoping.subtree_bounds("0000000100000009")
    assert low <= "000000010000000900000001" < high
    assert low <= "0000000100000009999999999999" < high
    assert not (low <= "0000000100000010" < high)
    assert not (low <= "0000000100000008" < high)


def test_collapse_drops_paths_inside_another_and_duplicates() -> None:
    a, a_child, a_grandchild = "00000001", "0000000100000002", "000000010000000200000003"
    b = "00000004"
    assert scoping.collapse([a_grandchild, b, a_child, a, b]) == [a, b]
    assert scoping.collapse([a_child, a_grandchild]) == [a_child]
    assert scoping.collapse([]) == []


def test_collapse_keeps_siblings_whose_paths_share_a_prefix() -> None:
    # Fixed-width segments: 00000001 and 00000010 are siblings, not parent and child.
    assert scoping.collapse(["00000001", "00000010"]) == ["00000001", "00000010"]


def test_a_system_administrator_role_is_scoped_to_its_district(world: Any) -> None:
    assert scoping.visible_paths(testing.persona("sysadmin")) == [testing.area("D").path]


def test_only_a_superuser_sees_every_district(world: Any) -> None:
    assert scoping.visible_paths(testing.superuser()) is None


def test_visible_paths_is_empty_for_a_user_without_a_role(world: Any) -> None:
    assert scoping.visible_paths(testing.persona("nobody")) == []


def test_visible_paths_is_empty_for_an_anonymous_user(db: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert scoping.visible_paths(AnonymousUser()) == []


def test_visible_paths_is_empty_for_a_deactivated_user(world: Any) -> None:
    user = testing.persona("community_worker")
    user.is_active = False
    assert scoping.visible_paths(user) == []


@pytest.mark.parametrize(
    "persona",
    [p for p in testing.PERSONAS if p.username != "sysadmin"],  # sysadmin: None, tested above
    ids=lambda p: p.username,
)
def test_visible_paths_is_the_persona_membership_area(world: Any, persona: testing.Persona) -> None:
    user = testing.persona(persona.username)
    assert scoping.visible_paths(user) == [testing.area(persona.area).path]


def test_visible_paths_honours_the_permission(world: Any) -> None:
    assert scoping.visible_paths(testing.persona("community_worker"), perm="audit.view") == []
    assert scoping.visible_paths(testing.persona("auditor"), perm="audit.view") == [
        testing.area("D").path
    ]


def test_visible_to_returns_exactly_the_subtree(world: Any) -> None:
    codes = set(
        Area.objects.visible_to(testing.persona("community_worker")).values_list("code", flat=True)
    )
    assert codes == {testing.CODES[k] for k in ("C1", "A", "B", "A1")}


def test_has_perm_follows_the_role_table(world: Any) -> None:
    assert scoping.has_perm(testing.persona("auditor"), "audit.view")
    assert not scoping.has_perm(testing.persona("community_worker"), "audit.view")
    assert scoping.has_perm(testing.persona("community_worker"), "areas.browse")
    assert not scoping.has_perm(testing.persona("resident_a"), "areas.browse")
    assert scoping.has_perm(testing.persona("resident_a"), "areas.view")
    assert not scoping.has_perm(testing.persona("nobody"), "areas.view")
    assert not scoping.has_perm(testing.persona("sysadmin"), "no.such.perm")
