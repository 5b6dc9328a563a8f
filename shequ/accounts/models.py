"""Users, their memberships in areas, and optional second factors."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import STAFF_ROLES, Role
from shequ.core.crypto import EncryptedTextField
from shequ.core.models import FiledUnderArea, TimeStamped


class User(AbstractUser):
    """A person who signs in: a resident, a worker, a supervisor, an auditor or an admin."""

    full_name = models.CharField(_("full name"), max_length=100, blank=True)

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def audit_area_path(self) -> str:
        """Account events are filed under the user's first area (empty for role-less users)."""
        from shequ.accounts.scoping import memberships

        paths = sorted(m.area.path for m in memberships(self))
        return paths[0] if paths else ""


class Membership(FiledUnderArea, TimeStamped):
    """The user holds `role` in `area` and everything below it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, db_index=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "area", "role"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.area}"

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES


class TOTPDevice(TimeStamped):
    """An authenticator app bound to a staff account (optional second factor)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    secret = EncryptedTextField(_("secret"))
    confirmed = models.BooleanField(_("confirmed"), default=False)
    last_step = models.BigIntegerField(default=-1)

    class Meta:
        verbose_name = _("authenticator")
        verbose_name_plural = _("authenticators")

    def __str__(self) -> str:
        return f"TOTP · {self.user}"
