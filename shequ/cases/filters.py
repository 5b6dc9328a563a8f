"""One filter set for the case list page, the case list API and the analysis export."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from shequ.accounts.scoping import subtree_q
from shequ.areas.models import Area
from shequ.cases.models import Case, Category, Unit
from shequ.cases.states import Light, Source, Status


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Case number, description or address"), method="search", max_length=60
    )
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=Status.choices)
    light = django_filters.ChoiceFilter(label=_("SLA"), choices=Light.choices)
    source = django_filters.ChoiceFilter(label=_("Source"), choices=Source.choices)
    category = django_filters.CharFilter(
        label=_("Category code"), method="in_category", max_length=20
    )
    area = django_filters.CharFilter(label=_("Area code"), method="in_area", max_length=32)
    unit = django_filters.CharFilter(label=_("Unit code"), method="of_unit", max_length=40)
    supervised = django_filters.BooleanFilter(label=_("Supervised"))
    created_after = django_filters.DateFilter(
        label=_("Reported from"), field_name="created_at", lookup_expr="date__gte"
    )
    created_before = django_filters.DateFilter(
        label=_("Reported until"), field_name="created_at", lookup_expr="date__lte"
    )

    class Meta:
        model = Case
        fields = [
            "q",
            "status",
            "light",
            "source",
            "category",
            "area",
            "unit",
            "supervised",
            "created_after",
            "created_before",
        ]

    def search(self, qs: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        value = value.strip()
        if not value:
            return qs
        if value.upper().startswith("SJ"):
            return qs.filter(code__startswith=value.upper())
        return qs.filter(Q(description__contains=value) | Q(address__contains=value))

    def in_category(self, qs: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        category = Category.objects.filter(code=value).first()
        if category is None:
            return qs.none()
        ids = [category.pk, *category.children.values_list("pk", flat=True)]
        return qs.filter(category_id__in=ids)

    def in_area(self, qs: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        area = Area.objects.filter(code=value).only("path").first()
        if area is None:
            return qs.none()
        return qs.filter(subtree_q(area.path, "area__path"))

    def of_unit(self, qs: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        unit = Unit.objects.filter(code=value).first()
        return qs.filter(lead_unit=unit) if unit else qs.none()
