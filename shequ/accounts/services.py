"""Every write about accounts: users, memberships, tokens, second factors, sign-in records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
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
    changes = {"user": membership.user.username, "area": membership.area.code}
    area_path, label, pk = membership.area.path, str(membership), membership.pk
    membership.delete()
    scoping.forget(membership.user)
    audit.record(
        actor=actor,
        action="accounts.membership_revoked",
        object_type="accounts.membership",
        object_id=str(pk),
        object_repr=label,
        area_path=area_path,
        changes=changes,
    )


def signed_in(*, user: User, method: str) -> None:
    audit.record(actor=user, action="accounts.signed_in", obj=user, changes={"method": method})


def sign_in_failed(*, username: str, reason: str) -> None:
    # What was typed as a user name is untrusted: no control characters (NUL breaks PostgreSQL).
    typed = "".join(ch for ch in username if ch.isprintable())[:150]
    user = User.objects.filter(username=typed).first() if typed else None
    audit.record(
        actor=None,
        action="accounts.sign_in_failed",
        object_type="accounts.user",
        object_id=str(user.pk) if user else "",
        object_repr=typed,
        area_path=user.audit_area_path if user else "",
        changes={"reason": reason},
    )


def signed_out(*, user: User) -> None:
    audit.record(actor=user, action="accounts.signed_out", obj=user)


@transaction.atomic
def token_issue(*, user: User) -> Token:
    Token.objects.filter(user=user, created__lt=token_expiry_cutoff()).delete()
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


def token_expiry_cutoff() -> Any:
    """Tokens created before this moment have expired."""
    return timezone.now() - timedelta(days=settings.TOKEN_TTL_DAYS)


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
    # A token obtained with the password alone must not outlive the stronger sign-in.
    Token.objects.filter(user=user).delete()
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


def second_factor_check(*, request: Any, user: User, code: str) -> bool:
    """The second sign-in step, for pages and API alike.

    A wrong code counts as a failed sign-in of the account, so guessing codes runs into the
    same lockout as guessing passwords (django-axes listens to `user_login_failed`).
    """
    credentials = {"username": user.username}
    if AxesProxyHandler.is_locked(request, credentials):
        request.axes_locked_out = True
        return False
    if totp_check(user=user, code=code):
        return True
    sign_in_failed(username=user.username, reason="totp")
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return False


@transaction.atomic
def password_changed(*, user: User) -> None:
    Token.objects.filter(user=user).delete()  # API clients sign in again with the new password
    audit.record(actor=user, action="accounts.password_changed", obj=user)
