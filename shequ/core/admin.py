"""Admin plumbing: every admin change lands in the audit chain; the audit log is read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from rest_framework.authtoken.models import TokenProxy

from shequ.core import audit
from shequ.core.models import AuditEntry


class AuditedAdminMixin:
    """Django's admin calls these hooks for every add, change (password changes included)
    and deletion (bulk ones too); each also becomes an audit entry."""

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit.record(
            actor=request.user, action="admin.added", obj=obj, changes={"message": str(message)}
        )
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit.record(
            actor=request.user, action="admin.changed", obj=obj, changes={"message": str(message)}
        )
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            audit.record(actor=request.user, action="admin.deleted", obj=obj)
        return super().log_deletions(request, queryset)  # type: ignore[misc]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["seq", "created_at", "actor_name", "action", "object_repr", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_name", "action", "object_repr", "object_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def harden_admin_site() -> None:
    """Called from the URLconf, after every app's admin module has registered its models.

    Roles live in memberships and API tokens come from the audited token service, so
    Django's groups and the token admin would be unaudited side doors; unlocking an account
    (deleting django-axes attempts) is kept, and audited.
    """
    from axes.admin import AccessAttemptAdmin
    from axes.models import AccessAttempt

    for model in (Group, TokenProxy):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
    if admin.site.is_registered(AccessAttempt):
        admin.site.unregister(AccessAttempt)
        admin.site.register(
            AccessAttempt,
            type("AuditedAccessAttemptAdmin", (AuditedAdminMixin, AccessAttemptAdmin), {}),
        )
