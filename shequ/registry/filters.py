"""One filter set per list: the page and the list API filter through the same one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.scoping import subtree_q
from shequ.areas.models import Area
from shequ.registry.models import Dwelling, Organisation, Person, TagType
from shequ.registry.selectors import address_q, search_people
from shequ.registry.states import (
    DwellingUse,
    Gender,
    OrganisationKind,
    PersonStatus,
    ResidenceType,
)


def _years_ago(years: int) -> dt.date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


class PersonFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Name, pinyin initials, ID or phone (last 4), address"),
        method="search",
        max_length=50,
    )
    residence_type = django_filters.ChoiceFilter(
        label=_("Residence"), choices=ResidenceType.choices
    )
    gender = django_filters.ChoiceFilter(label=_("Gender"), choices=Gender.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=PersonStatus.choices)
    tag = django_filters.CharFilter(label=_("Tag code"), method="with_tag", max_length=40)
    area = django_filters.CharFilter(label=_("Area code"), method="in_area", max_length=32)
    age_min = django_filters.NumberFilter(
        label=_("Age from"), method="older_than", min_value=0, max_value=150
    )
    age_max = django_filters.NumberFilter(
        label=_("Age to"), method="younger_than", min_value=0, max_value=150
    )

    class Meta:
        model = Person
        fields = ["q", "residence_type", "gender", "status", "tag", "area", "age_min", "age_max"]

    def search(self, queryset: QuerySet[Person], name: str, value: str) -> QuerySet[Person]:
        return search_people(queryset, value)

    def with_tag(self, queryset: QuerySet[Person], name: str, value: str) -> QuerySet[Person]:
        today = timezone.localdate()
        tag = TagType.objects.filter(code=value.strip()).first()
        if tag is None:
            return queryset.none()
        current = Q(tags__valid_to__isnull=True) | Q(tags__valid_to__gte=today)
        return queryset.filter(Q(tags__tag=tag) & current).distinct()

    def in_area(self, queryset: QuerySet[Person], name: str, value: str) -> QuerySet[Person]:
        area = Area.objects.filter(code=value.strip()).first()
        if area is None:
            return queryset.none()
        return queryset.filter(subtree_q(area.path, "area__path"))

    def older_than(self, queryset: QuerySet[Person], name: str, value: int) -> QuerySet[Person]:
        return queryset.filter(birth_date__lte=_years_ago(int(value)))

    def younger_than(self, queryset: QuerySet[Person], name: str, value: int) -> QuerySet[Person]:
        return queryset.filter(birth_date__gt=_years_ago(int(value) + 1))


def _in_area(queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
    """Rows filed in the area with this code or anywhere under it."""
    area = Area.objects.filter(code=value.strip()).first()
    if area is None:
        return queryset.none()
    return queryset.filter(subtree_q(area.path, "area__path"))


class OrganisationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Name or unified social credit code"), method="search", max_length=50
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=OrganisationKind.choices)
    area = django_filters.CharFilter(label=_("Area code"), method="in_area", max_length=32)

    class Meta:
        model = Organisation
        fields = ["q", "kind", "area"]

    def search(
        self, queryset: QuerySet[Organisation], name: str, value: str
    ) -> QuerySet[Organisation]:
        value = value.strip()
        if len(value) == 18 and value.isalnum() and value.isascii():
            return queryset.filter(credit_code=value.upper())
        return queryset.filter(name__contains=value)

    def in_area(
        self, queryset: QuerySet[Organisation], name: str, value: str
    ) -> QuerySet[Organisation]:
        return _in_area(queryset, value)


class DwellingFilter(django_filters.FilterSet):
    """Standard addresses down to the room."""

    q = django_filters.CharFilter(label=_("Standard address"), method="search", max_length=50)
    building = django_filters.NumberFilter(label=_("Building id"), field_name="building_id")
    use = django_filters.ChoiceFilter(label=_("Use of the dwelling"), choices=DwellingUse.choices)
    area = django_filters.CharFilter(label=_("Area code"), method="in_area", max_length=32)

    class Meta:
        model = Dwelling
        fields = ["q", "building", "use", "area"]

    def search(self, queryset: QuerySet[Dwelling], name: str, value: str) -> QuerySet[Dwelling]:
        return queryset.filter(address_q(value))

    def in_area(self, queryset: QuerySet[Dwelling], name: str, value: str) -> QuerySet[Dwelling]:
        return _in_area(queryset, value)


class UnresolvedAddressFilter(django_filters.FilterSet):
    """People waiting on an address text, before they are grouped by it."""

    q = django_filters.CharFilter(
        label=_("Address as reported"),
        field_name="address_raw",
        lookup_expr="contains",
        max_length=50,
    )
    area = django_filters.CharFilter(label=_("Area code"), method="in_area", max_length=32)

    class Meta:
        model = Person
        fields = ["q", "area"]

    def in_area(self, queryset: QuerySet[Person], name: str, value: str) -> QuerySet[Person]:
        return _in_area(queryset, value)
