"""One filter set for the people search page and the people API."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.scoping import subtree_q
from shequ.areas.models import Area
from shequ.registry.models import Person, TagType
from shequ.registry.selectors import search_q
from shequ.registry.states import Gender, PersonStatus, ResidenceType


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
        return queryset.filter(search_q(value))

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
