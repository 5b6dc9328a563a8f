"""One filter set for the area search page and the area list API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from shequ.areas.models import Area, Kind, Level


class AreaFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name or code"), method="search", max_length=50)
    level = django_filters.ChoiceFilter(label=_("Level"), choices=Level.choices)
    kind = django_filters.ChoiceFilter(label=_("Type"), choices=Kind.choices)
    parent = django_filters.CharFilter(
        label=_("Parent code"), field_name="parent__code", max_length=32
    )

    class Meta:
        model = Area
        fields = ["q", "level", "kind", "parent"]

    def search(self, queryset: QuerySet[Area], name: str, value: str) -> QuerySet[Area]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__contains=value) | Q(code__startswith=value))
