"""Every write about accounts: users, memberships, tokens, second factors, sign-in records."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from shequ.accounts import scoping
from shequ.accounts.errors import AccountError
from shequ.accounts.models import Membership, TOTPDevice, User
from shequ.accounts.roles import STAFF_ROLES, Role
from shequ.areas.models import Area
from shequ.core import audit
from shequ.core.errors import DomainError
from shequ.lib import totp


@transaction.atomic
def user_create(
    *,
    actor: Any,
    username: str,
    password: str,
    full_name: str = "",
    memberships: list[tuple[Area, str]] | None = None,
    is_superuser: bool = False,
) -> User:
    """Create an account with its memberships; the password must pass the password rules."""
    user = User(username=username, full_name=full_name, is_superuser=is_superuser)
    user.is_staff = is_superuser  # only superusers reach the Django admin
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(AccountError.BAD_PASSWORD, " ".join(exc.messages)) from exc
    user.set_password(password)
    user.save()
    audit.record(
        actor=actor, action="accounts.user_created", obj=user, changes={"username": username}
    )
    for area, role in memberships or []:
        membership_grant(actor=actor, user=user, area=area, role=role)
    return user


@transaction.atomic
def membership_grant(*, actor: Any, user: User, area: Area, role: str) -> Membership:
    membership, created = Membership.objects.get_or_create(user=user, area=area, role=Role(role))
    if created:
        audit.record(
            actor=actor,
            action="accounts.membership_granted",
            obj=membership,
            changes={"user": user.username, "area": area.code, "role": role},
        )
    scoping.forget(user)
    return membership


@transaction.atomic
def membership_revoke(*, actor: Any, membership: Membership) -> None:
    audit.record(
        actor=actor,
        action="accounts.membership_revoked",
        obj=membership,
        changes={"user": membership.user.username, "area": membership.area.code},
    )
    membership.delete()
    scoping.forget(membership.user)


def signed_in(*, user: User, method: str) -> None:
    audit.record(actor=user, action="accounts.signed_in", obj=user, changes={"method": method})


def sign_in_failed(*, username: str, reason: str) -> None:
    audit.record(
        actor=None,
        action="accounts.sign_in_failed",
        object_type="accounts.user",
        object_repr=username[:150],
        changes={"reason": reason},
    )


def signed_out(*, user: User) -> None:
    audit.record(actor=user, action="accounts.signed_out", obj=user)


@transaction.atomic
def token_issue(*, user: User) -> Token:
    token, created = Token.objects.get_or_create(user=user)
    audit.record(
        actor=user, action="accounts.token_issued" if created else "accounts.token_reused", obj=user
    )
    return token


@transaction.atomic
def token_revoke(*, user: User) -> None:
    deleted, _count = Token.objects.filter(user=user).delete()
    if deleted:
        audit.record(actor=user, action="accounts.token_revoked", obj=user)


def is_staff_account(user: User) -> bool:
    return user.is_superuser or bool(scoping.roles_of(user) & STAFF_ROLES)


def totp_enabled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def totp_begin(*, user: User) -> TOTPDevice:
    """Start (or restart) enrolment of an authenticator app; not active until confirmed."""
    if not is_staff_account(user):
        raise DomainError(AccountError.STAFF_ONLY, _("Two-step sign-in is for staff accounts."))
    device, _created = TOTPDevice.objects.select_for_update().get_or_create(
        user=user, defaults={"secret": totp.new_secret()}
    )
    if not device.confirmed:
        device.secret, device.last_step = totp.new_secret(), -1
        device.save(update_fields=["secret", "last_step", "updated_at"])
    return device


def _consume(device: TOTPDevice, code: str) -> bool:
    """Accept a code once: the step is claimed by compare-and-set, so a replay fails."""
    step = totp.verify(device.secret, code, last_step=device.last_step)
    if step is None:
        return False
    claimed = TOTPDevice.objects.filter(pk=device.pk, last_step__lt=step).update(last_step=step)
    return claimed == 1


@transaction.atomic
def totp_confirm(*, user: User, code: str) -> TOTPDevice:
    device = TOTPDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        raise DomainError(AccountError.NO_DEVICE, _("Start the set-up first."))
    if not _consume(device, code):
        raise DomainError(AccountError.BAD_CODE, _("The code is wrong or has expired."))
    device.confirmed = True
    device.save(update_fields=["confirmed", "updated_at"])
    audit.record(actor=user, action="accounts.totp_enabled", obj=user)
    return device


@transaction.atomic
def totp_disable(*, user: User, code: str) -> None:
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    if device is None:
        raise DomainError(AccountError.NO_DEVICE, _("Two-step sign-in is not enabled."))
    if not _consume(device, code):
        raise DomainError(AccountError.BAD_CODE, _("The code is wrong or has expired."))
    device.delete()
    audit.record(actor=user, action="accounts.totp_disabled", obj=user)


def totp_check(*, user: User, code: str) -> bool:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device is not None and _consume(device, code)


@transaction.atomic
def password_changed(*, user: User) -> None:
    audit.record(actor=user, action="accounts.password_changed", obj=user)
