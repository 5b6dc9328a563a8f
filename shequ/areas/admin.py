"""Areas in the admin: created and changed only through the area services (validated, audited)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from shequ.areas import services
from shequ.areas.models import Area
from shequ.core.admin import AuditedAdminMixin
from shequ.core.errors import DomainError


class AreaAdminForm(forms.ModelForm):
    class Meta:
        model = Area
        fields = ["code", "name", "level", "kind", "parent", "geometry", "sort_order"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            if self.instance.pk is None:
                services.area_validate(
                    code=data.get("code", ""),
                    level=data.get("level", ""),
                    parent=data.get("parent"),
                    geometry=data.get("geometry"),
                )
            elif data.get("geometry") is not None:
                services.area_validate(
                    code=self.instance.code,
                    level=self.instance.level,
                    parent=self.instance.parent,
                    geometry=data["geometry"],
                )
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        return data


@admin.register(Area)
class AreaAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = AreaAdminForm
    list_display = ["name", "code", "level", "kind", "parent"]
    list_filter = ["level", "kind"]
    search_fields = ["name", "code"]
    ordering = ["path"]
    autocomplete_fields = ["parent"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A node's place in the tree is fixed once created (its path is in every scope).
        return ["code", "level", "parent"] if obj else []

    def save_model(self, request: HttpRequest, obj: Area, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            services.area_update(
                actor=request.user,
                area=obj,
                name=data["name"],
                kind=data["kind"],
                geometry=data.get("geometry"),
                sort_order=data["sort_order"],
            )
            return
        created = services.area_create(
            actor=request.user,
            code=data["code"],
            name=data["name"],
            level=data["level"],
            parent=data.get("parent"),
            kind=data["kind"],
            geometry=data.get("geometry"),
            sort_order=data["sort_order"],
        )
        obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
