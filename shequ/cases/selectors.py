"""Reads of cases: lists and queues per role, duplicate suggestions, the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case as When_
from django.db.models import IntegerField, Prefetch, QuerySet, Value, When
from django.utils import timezone

from shequ.accounts.scoping import scope_q
from shequ.cases import policy
from shequ.cases.access import visible_cases
from shequ.cases.models import Case, CaseEvent, Category
from shequ.cases.states import OPEN, Light, Status
from shequ.lib import geo

QUEUES = ("to_accept", "to_dispatch", "to_handle", "to_verify", "overdue", "reported_by_me")

_LIST_RELATED = ("category__parent", "area", "lead_unit")


def _urgent_first(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Overdue first, then due soon, then by deadline."""
    rank = When_(
        When(light=Light.RED, then=Value(0)),
        When(light=Light.YELLOW, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return qs.annotate(sla_rank=rank).order_by("sla_rank", "due_at", "id")


def queue(actor: Any, name: str) -> QuerySet[Case]:
    """One of the work queues; empty for a queue that is not the actor's."""
    base = Case.objects.select_related(*_LIST_RELATED)
    if name == "to_accept":
        qs = base.filter(scope_q(actor, "area", perm="cases.manage"), status=Status.REPORTED)
    elif name == "to_dispatch":
        qs = base.filter(scope_q(actor, "area", perm="cases.manage"), status=Status.ACCEPTED)
    elif name == "to_handle":
        units = policy.unit_ids(actor)
        qs = base.filter(lead_unit_id__in=units, status__in=[Status.DISPATCHED, Status.IN_PROGRESS])
    elif name == "to_verify":
        qs = base.filter(scope_q(actor, "area", perm="cases.verify"), status=Status.RESOLVED)
    elif name == "overdue":
        qs = base.filter(
            scope_q(actor, "area", perm="cases.view"), light=Light.RED, status__in=list(OPEN)
        )
    elif name == "reported_by_me":
        if not getattr(actor, "is_authenticated", False):
            return Case.objects.none()
        return base.filter(reporter=actor).order_by("-created_at", "-id")
    else:
        return Case.objects.none()
    if name != "to_handle" and not _has_scope(actor, name):
        return Case.objects.none()
    return _urgent_first(qs)


def _has_scope(actor: Any, name: str) -> bool:
    from shequ.accounts.scoping import has_perm

    perm = {
        "to_accept": "cases.manage",
        "to_dispatch": "cases.manage",
        "to_verify": "cases.verify",
        "overdue": "cases.view",
    }[name]
    return has_perm(actor, perm)


def queue_counts(actor: Any) -> dict[str, int]:
    return {name: queue(actor, name).count() for name in QUEUES}


def case_list(actor: Any) -> QuerySet[Case]:
    return visible_cases(actor).select_related(*_LIST_RELATED).order_by("-created_at", "-id")


# The columns a row of the case list API shows (`api.render.case_row`), and no others.
_ROW_FIELDS = (
    *("code", "status", "source", "urgency", "address", "stage", "light", "due_at", "level"),
    *("supervised", "created_at", "updated_at", "version"),
    *("category", "category__code", "category__name", "area", "area__code", "area__name"),
    *("lead_unit", "lead_unit__code"),
)


def case_rows(actor: Any) -> QuerySet[Case]:
    """`case_list` reading only what a row of the list API shows."""
    return (
        visible_cases(actor)
        .select_related("category", "area", "lead_unit")
        .only(*_ROW_FIELDS)
        .order_by("-created_at", "-id")
    )


def duplicates_near(
    *,
    category: Category,
    lat: float,
    lng: float,
    now: dt.datetime | None = None,
    radius_m: float = 100,
    hours: int = 72,
    exclude: int | None = None,
) -> list[Case]:
    """Open cases of the same category within `radius_m` reported in the last `hours`."""
    now = now or timezone.now()
    # About 0.001° of latitude per 111 m; a box first, the exact distance after.
    dlat = radius_m / 111_000 * 1.2
    dlng = dlat * 1.6
    rows = (
        Case.objects.filter(
            category=category,
            created_at__gte=now - dt.timedelta(hours=hours),
            lat__range=(lat - dlat, lat + dlat),
            lng__range=(lng - dlng, lng + dlng),
        )
        .exclude(status__in=[Status.MERGED, Status.REJECTED])
        .select_related("category", "area")
        .order_by("created_at")
    )
    if exclude:
        rows = rows.exclude(pk=exclude)
    return [
        c
        for c in rows[:50]
        if c.lat is not None
        and c.lng is not None
        and geo.distance_m(lng, lat, c.lng, c.lat) <= radius_m
    ]


def timeline(case: Case, *, public: bool = False) -> QuerySet[CaseEvent]:
    events = case.events.select_related("actor", "unit").prefetch_related("photos")
    if public:
        events = events.filter(public=True)
    return events.order_by("at", "id")


def category_tree() -> list[Category]:
    """Active top-level categories with their active children prefetched, in order."""
    children = Category.objects.filter(active=True).order_by("sort", "code")
    return list(
        Category.objects.filter(parent__isnull=True, active=True)
        .prefetch_related(Prefetch("children", queryset=children, to_attr="active_children"))
        .order_by("sort", "code")
    )


def leaf_categories() -> QuerySet[Category]:
    return (
        Category.objects.filter(active=True, children__isnull=True)
        .select_related("parent")
        .order_by("parent__sort", "parent__code", "sort", "code")
    )
