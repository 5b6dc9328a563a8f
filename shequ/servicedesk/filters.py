"""One filter set for the desk's application list and the applications API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.scoping import subtree_q
from shequ.areas.models import Area
from shequ.servicedesk.models import Application
from shequ.servicedesk.selectors import overdue_q
from shequ.servicedesk.states import Channel, ItemCategory, Status


class ApplicationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Application number or applicant's name"), method="search", max_length=40
    )
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=Status.choices)
    item = django_filters.CharFilter(label=_("Service code"), field_name="item__code")
    category = django_filters.ChoiceFilter(
        label=_("Category"), field_name="item__category", choices=ItemCategory.choices
    )
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices)
    area = django_filters.CharFilter(label=_("Area code"), method="in_area", max_length=32)
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="is_overdue")
    created_after = django_filters.DateFilter(
        label=_("Submitted from"), field_name="created_at", lookup_expr="date__gte"
    )
    created_before = django_filters.DateFilter(
        label=_("Submitted until"), field_name="created_at", lookup_expr="date__lte"
    )

    class Meta:
        model = Application
        fields = [
            "q",
            "status",
            "item",
            "category",
            "channel",
            "area",
            "overdue",
            "created_after",
            "created_before",
        ]

    def search(self, qs: QuerySet[Application], name: str, value: str) -> QuerySet[Application]:
        value = value.strip()
        if not value:
            return qs
        if value.upper().startswith("BJ"):
            return qs.filter(code__startswith=value.upper())
        return qs.filter(Q(person__name__startswith=value) | Q(item__name__contains=value))

    def in_area(self, qs: QuerySet[Application], name: str, value: str) -> QuerySet[Application]:
        area = Area.objects.filter(code=value).only("path").first()
        if area is None:
            return qs.none()
        return qs.filter(subtree_q(area.path, "area__path"))

    def is_overdue(
        self, qs: QuerySet[Application], name: str, value: bool | None
    ) -> QuerySet[Application]:
        if value is None:
            return qs
        q = overdue_q(timezone.now())
        return qs.filter(q) if value else qs.exclude(q)
