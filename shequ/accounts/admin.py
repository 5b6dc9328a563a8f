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


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["area"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "full_name", "is_active", "last_login"]
    search_fields = ["username", "full_name"]
    fieldsets = (
        (None, {"fields": ("username", "password", "full_name")}),
        ("status", {"fields": ("is_active", "is_superuser", "is_staff", "last_login")}),
    )
    readonly_fields = ["last_login"]

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action="admin.user_changed" if change else "admin.user_created",
            obj=obj,
            changes={"fields": sorted(f for f in form.changed_data if f != "password")},
        )

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

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit.record(actor=request.user, action="admin.user_deleted", obj=obj)
        super().delete_model(request, obj)
