"""System administrators manage accounts and memberships here; every change is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.forms import ModelForm
from django.http import HttpRequest

from shequ.accounts import services
from shequ.accounts.models import Membership, User
from shequ.core import audit
from shequ.core.admin import AuditedAdminMixin


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["area"]


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "full_name", "is_active", "last_login"]
    search_fields = ["username", "full_name"]
    fieldsets = (
        (None, {"fields": ("username", "password", "full_name")}),
        ("status", {"fields": ("is_active", "is_superuser", "is_staff", "last_login")}),
    )
    readonly_fields = ["last_login"]

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        before = (
            User.objects.filter(pk=obj.pk).values(*self._tracked).first() if obj.pk else None
        ) or {}
        super().save_model(request, obj, form, change)
        after = {f: getattr(obj, f) for f in self._tracked}
        audit.record(
            actor=request.user,
            action="admin.user_changed" if change else "admin.user_created",
            obj=obj,
            changes=audit.diff(before, after),
        )

    _tracked = ("username", "full_name", "is_active", "is_superuser", "is_staff")

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Memberships change through the account services, so each grant is audited."""
        instances = formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.membership_revoke(actor=request.user, membership=membership)
        for membership in instances:
            if membership.pk is not None:
                old = Membership.objects.get(pk=membership.pk)
                services.membership_revoke(actor=request.user, membership=old)
            services.membership_grant(
                actor=request.user, user=form.instance, area=membership.area, role=membership.role
            )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Accounts are deactivated, never deleted: the audit log keeps pointing at them.
        return False
