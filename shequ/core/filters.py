"""Filter set for the audit log page and its export."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from shequ.core.models import AuditEntry


class AuditFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(
        label=_("Actor"), field_name="actor_name", lookup_expr="exact", max_length=150
    )
    action = django_filters.CharFilter(label=_("Action"), lookup_expr="startswith", max_length=80)
    object_type = django_filters.CharFilter(label=_("Object type"), max_length=80)
    object_id = django_filters.CharFilter(label=_("Object id"), max_length=64)
    since = django_filters.DateFilter(
        label=_("From"),
        field_name="created_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        label=_("To"),
        field_name="created_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = AuditEntry
        fields = ["actor", "action", "object_type", "object_id", "since", "until"]
