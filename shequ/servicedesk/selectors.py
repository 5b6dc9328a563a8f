"""Reads of the service desk: the catalogue, queues, a resident's panel, desk statistics."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models import Case as When_
from django.utils import timezone

from shequ.accounts.roles import PERMISSIONS
from shequ.accounts.scoping import has_perm, memberships, scope_q, scope_q_for_paths
from shequ.areas.models import SEGMENT, Area, Level
from shequ.cases.sla import calendar
from shequ.registry.access import can_see_sensitive
from shequ.servicedesk import policy
from shequ.servicedesk.access import visible_applications
from shequ.servicedesk.models import (
    Application,
    ApplicationEvent,
    Entitlement,
    ServiceItem,
)
from shequ.servicedesk.states import CLOCK_RUNS, FINISHED, ItemCategory, Status

_LIST_RELATED = ("item", "person", "area")

QUEUES = ("to_accept", "under_review", "needs_materials", "overdue", "all")


# The catalogue --------------------------------------------------------------------------------


def catalogue(*, q: str = "", category: str = "") -> QuerySet[ServiceItem]:
    items = ServiceItem.objects.filter(active=True)
    q = q.strip()
    if q:
        items = items.filter(
            Q(name__contains=q)
            | Q(department__contains=q)
            | Q(description__contains=q)
            | Q(conditions__contains=q)
            | Q(code__contains=q.lower())
        )
    if category:
        items = items.filter(category=category)
    return items.order_by("category", "sort", "code")


@dataclass
class CategoryGroup:
    code: str
    label: str
    items: list[ServiceItem]


def catalogue_by_category(items: QuerySet[ServiceItem]) -> list[CategoryGroup]:
    """Items grouped under their category, in the categories' order."""
    groups: dict[str, list[ServiceItem]] = {}
    for item in items:
        groups.setdefault(item.category, []).append(item)
    return [
        CategoryGroup(code, str(label), groups[code])
        for code, label in ItemCategory.choices
        if code in groups
    ]


# Applications ---------------------------------------------------------------------------------


def _urgent_first(qs: QuerySet[Application], now: dt.datetime) -> QuerySet[Application]:
    """Overdue first, then by deadline (a paused clock counts as not overdue)."""
    rank = When_(
        When(status__in=list(CLOCK_RUNS), due_at__lt=now, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.annotate(overdue_rank=rank).order_by("overdue_rank", "due_at", "id")


def overdue_q(now: dt.datetime) -> Q:
    return Q(status__in=list(CLOCK_RUNS), due_at__lt=now)


def queue(actor: Any, name: str, *, now: dt.datetime | None = None) -> QuerySet[Application]:
    """One of the desk's queues, most urgent first; empty for one that is not the actor's."""
    now = now or timezone.now()
    if not has_perm(actor, "desk.view"):
        return Application.objects.none()
    base = Application.objects.filter(scope_q(actor, "area", perm="desk.view")).select_related(
        *_LIST_RELATED
    )
    if name == "to_accept":
        qs = base.filter(status=Status.SUBMITTED)
    elif name == "under_review":
        qs = base.filter(status__in=[Status.ACCEPTED, Status.UNDER_REVIEW])
    elif name == "needs_materials":
        qs = base.filter(status=Status.NEEDS_MATERIALS)
    elif name == "overdue":
        qs = base.filter(overdue_q(now))
    elif name == "all":
        return base.order_by("-created_at", "-id")
    else:
        return Application.objects.none()
    return _urgent_first(qs, now)


def queue_counts(actor: Any, *, now: dt.datetime | None = None) -> dict[str, int]:
    """All the queue sizes in one query."""
    now = now or timezone.now()
    if not has_perm(actor, "desk.view"):
        return dict.fromkeys(QUEUES, 0)
    row = Application.objects.filter(scope_q(actor, "area", perm="desk.view")).aggregate(
        to_accept=Count("pk", filter=Q(status=Status.SUBMITTED)),
        under_review=Count("pk", filter=Q(status__in=[Status.ACCEPTED, Status.UNDER_REVIEW])),
        needs_materials=Count("pk", filter=Q(status=Status.NEEDS_MATERIALS)),
        overdue=Count("pk", filter=overdue_q(now)),
        all=Count("pk"),
    )
    return {name: int(row[name] or 0) for name in QUEUES}


def application_list(actor: Any) -> QuerySet[Application]:
    return visible_applications(actor).select_related(*_LIST_RELATED).order_by("-created_at", "-id")


def my_applications(actor: Any) -> QuerySet[Application]:
    """The applications the actor made or that are for the person their account is."""
    if not getattr(actor, "is_authenticated", False):
        return Application.objects.none()
    q = Q(applicant_user=actor)
    person_id = policy.linked_person_id(actor)
    if person_id is not None:
        q |= Q(person_id=person_id)
    return Application.objects.filter(q).select_related("item").order_by("-created_at", "-id")


def timeline(application: Application) -> QuerySet[ApplicationEvent]:
    return application.events.select_related("actor").order_by("at", "id")


def register_tags(application: Application, viewer: Any) -> list[dict[str, Any]]:
    """The register's tags on the form; sensitive ones only for the applicant and for roles
    allowed to see sensitive tags."""
    tags = list(application.form.get("register", {}).get("tags", []))
    if policy.is_applicant(viewer, application) or can_see_sensitive(viewer):
        return tags
    return [t for t in tags if not t.get("sensitive")]


# A resident at the desk -----------------------------------------------------------------------


@dataclass
class Panel:
    open_applications: list[Application]
    past_applications: list[Application]
    cases: list[Any]
    linked_accounts: int
    entitlements: list[Entitlement]


def person_panel(actor: Any, person: Any) -> Panel:
    """What the desk sees about a resident: applications, cases, entitlements."""
    from shequ.cases.access import visible_cases

    apps = list(
        Application.objects.filter(scope_q(actor, "area", perm="desk.view"), person=person)
        .select_related("item", "area")
        .order_by("-created_at", "-id")[:50]
    )
    # Cases have no person: they are this resident's when reported from an account linked to
    # the person (ResidentLink). Reports by phone or at the desk without an account are not.
    accounts = list(person.accounts.values_list("user_id", flat=True))
    cases = (
        list(
            visible_cases(actor)
            .filter(reporter_id__in=accounts)
            .select_related("category", "area")
            .order_by("-created_at")[:20]
        )
        if accounts
        else []
    )
    entitlements = list(
        Entitlement.objects.visible_to(actor)
        .filter(person=person)
        .select_related("rule__item")
        .order_by("rule__name")
    )
    return Panel(
        open_applications=[a for a in apps if a.status not in FINISHED],
        past_applications=[a for a in apps if a.status in FINISHED][:10],
        cases=cases,
        linked_accounts=len(accounts),
        entitlements=entitlements,
    )


# Desk statistics ------------------------------------------------------------------------------


@dataclass
class DeskStats:
    label: str
    received: int
    finished: int
    finish_rate: float | None  # percent
    avg_hours: float | None  # working hours from submission to decision
    satisfaction: float | None  # mean rating, 1–5
    rated: int


def desk_areas(actor: Any) -> list[Area]:
    """The communities the actor's desk serves: a grid worker's community, a community
    worker's own; street and district staff their whole area."""
    areas: dict[str, Area] = {}
    community_depth = 3 * SEGMENT
    paths = []
    roles = PERMISSIONS["desk.view"]
    for m in memberships(actor):
        if m.role not in roles:
            continue
        path = m.area.path
        paths.append(path[:community_depth] if len(path) > community_depth else path)
    for area in Area.objects.filter(path__in=paths).order_by("path"):
        areas[area.path] = area
    return list(areas.values())


def _stats(qs: QuerySet[Application], label: str, now: dt.datetime) -> DeskStats:
    decided = [Status.APPROVED, Status.DENIED, Status.RATED]
    row = qs.aggregate(
        received=Count("pk"),
        finished=Count("pk", filter=Q(status__in=decided)),
        rated=Count("pk", filter=Q(rating__isnull=False)),
        satisfaction=Avg("rating"),
    )
    cal = calendar()
    spans = list(
        qs.filter(status__in=decided, finished_at__isnull=False)
        .values_list("created_at", "finished_at")
        .order_by("pk")[:2000]
    )
    hours = [cal.working_seconds(a, b) / 3600 for a, b in spans if b is not None]
    received = int(row["received"] or 0)
    finished = int(row["finished"] or 0)
    return DeskStats(
        label=label,
        received=received,
        finished=finished,
        finish_rate=round(100 * finished / received, 1) if received else None,
        avg_hours=round(sum(hours) / len(hours), 1) if hours else None,
        satisfaction=round(float(row["satisfaction"]), 2) if row["satisfaction"] else None,
        rated=int(row["rated"] or 0),
    )


def desk_stats(actor: Any, *, now: dt.datetime | None = None) -> list[DeskStats]:
    """受理量, 办结率, 平均时长 (working hours), 满意度 of the actor's communities: today and the
    last 30 days (by the day applications came in)."""
    from django.utils.translation import gettext as _

    now = now or timezone.now()
    areas = desk_areas(actor)
    base = Application.objects.filter(scope_q(actor, "area", perm="desk.view"))
    if areas:
        base = base.filter(scope_q_for_paths([a.path for a in areas], "area__path"))
    today = timezone.localdate(now)
    start_today = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    start_30 = start_today - dt.timedelta(days=29)
    return [
        _stats(base.filter(created_at__gte=start_today), _("Today"), now),
        _stats(base.filter(created_at__gte=start_30), _("Last 30 days"), now),
    ]


def community_of(area: Area) -> Area:
    """The community an area belongs to (itself above that level)."""
    depth = 3 * SEGMENT
    if area.level in (Level.DISTRICT, Level.STREET, Level.COMMUNITY) or len(area.path) <= depth:
        return area
    return Area.objects.get(path=area.path[:depth])
