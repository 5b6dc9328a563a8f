"""Case analysis (分析研判): figures, breakdowns, trends, hotspots and alerts for an area.

Definitions (what every figure on the page and in the export means):

- **Reported**: cases reported in the period, whatever became of them (not accepted and merged
  cases included).
- **Resolved**: cases whose resolution (`resolved_at`) falls in the period. A case sent back to
  redo or reopened loses its resolution and counts again when it is resolved again.
- **Closed**: cases closed (status 已结案) in the period; not accepted and merged cases are not.
- **On time**: a case resolved in the period that was never overdue — `Case.overdue_ever` is
  false: the SLA worker sets it when a deadline of any stage (acceptance, dispatch, handling
  with any approved extension, verification) passed. On-time rate = on time / resolved.
- **Average handling time**: the mean, over the cases resolved in the period, of the working
  hours (office hours on working days, `sla.calendar()`) from report to resolution.
- **Satisfaction**: over the cases resolved in the period that were rated, the mean rating and
  the share of ratings 4 or 5.
- **Open now / overdue now**: live, not limited by the period: cases in an open status
  (reported, accepted, dispatched, being handled, resolved awaiting verification; the
  long-term register is not open) and those of them whose SLA light is red.

Every figure but the live two is read from `CaseStat`, one row per (day, area, category, lead
unit), counted on the day the event happened (the resolution's day for resolved, on time,
handling time and rating), and rolled up under districts, streets and communities
(`StatGrain`) so that a district's page reads hundreds of rows, not a million cases.
`stats_refresh` recomputes recent days (run it every few minutes), `stats_rebuild` all of them.
Hotspots and recurring addresses are read from the cases of the period, in a panel the page
loads after its figures.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Case as Choose
from django.db.models import CharField, Count, F, Min, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Cast, Substr, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.accounts.scoping import has_perm, subtree_q, visible_paths
from shequ.areas.models import SEGMENT, Area
from shequ.cases import sla
from shequ.cases.models import Case, CaseEvent, CaseStat, Category, StatGrain, Unit
from shequ.cases.states import OPEN, Light, Status
from shequ.core import audit
from shequ.core.bulk import FastInsert
from shequ.core.errors import NotFound

# ---------------------------------------------------------------------------------------------
# Pre-aggregation

# The counters of a CaseStat row, in this order in the accumulators below.
COUNTERS = (
    "reported",
    "resolved",
    "closed",
    "on_time",
    "overdue",
    "rating_sum",
    "rating_count",
    "rating_good",
    "handle_seconds_sum",
    "handle_count",
)
(REPORTED, RESOLVED, CLOSED, ON_TIME, LATE, R_SUM, R_COUNT, R_GOOD, H_SUM, H_COUNT) = range(10)

StatKey = tuple[dt.date, int, int, int | None]  # day, area, category, lead unit

# Rebuilds go month by month so a year of rows never sits in memory at once.
REBUILD_CHUNK_DAYS = 31
# Both databases: one advisory key so two workers never replace the same days at once.
_LOCK_KEY = 0x5348_4551_5354  # "SHEQST"


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=_tz())


def _lock() -> None:
    """Serialise replacements of stat rows (SQLite serialises writers on its own)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _district_ids() -> list[int]:
    # Every case carries its district, the root of its area's path: with the ids listed, a
    # period is a range of the (district, created_at) index.
    return list(Area.objects.filter(depth=1).values_list("pk", flat=True))


def _count_days(first: dt.date, last: dt.date, *, narrow: bool) -> dict[StatKey, list[int]]:
    """The counters of every (day, area, category, unit) from `first` to `last` inclusive.

    `narrow`: find resolved and closed cases through the indexed event times (every
    resolution and closing writes an event that day) instead of reading the whole table.
    """
    tz = _tz()
    start, end = _midnight(first), _midnight(last + dt.timedelta(days=1))
    acc: dict[StatKey, list[int]] = defaultdict(lambda: [0] * len(COUNTERS))
    touched = CaseEvent.objects.filter(at__gte=start, at__lt=end).values("case_id")

    reported = (
        Case.objects.filter(
            district_id__in=_district_ids(), created_at__gte=start, created_at__lt=end
        )
        .order_by()
        .values("area_id", "category_id", "lead_unit_id", d=TruncDate("created_at", tzinfo=tz))
        .annotate(n=Count("id"))
    )
    for row in reported:
        acc[(row["d"], row["area_id"], row["category_id"], row["lead_unit_id"])][REPORTED] += row[
            "n"
        ]

    resolved = Case.objects.filter(resolved_at__gte=start, resolved_at__lt=end)
    if narrow:
        resolved = resolved.filter(pk__in=touched)
    cal = sla.calendar()
    fields = (
        "created_at",
        "resolved_at",
        "area_id",
        "category_id",
        "lead_unit_id",
        "overdue_ever",
        "rating",
    )
    for created, done, area_id, category_id, unit_id, late, rating in (
        resolved.order_by().values_list(*fields).iterator(chunk_size=5000)
    ):
        counts = acc[(done.astimezone(tz).date(), area_id, category_id, unit_id)]
        counts[RESOLVED] += 1
        counts[LATE if late else ON_TIME] += 1
        counts[H_SUM] += cal.working_seconds(created, done)
        counts[H_COUNT] += 1
        if rating:
            counts[R_SUM] += rating
            counts[R_COUNT] += 1
            counts[R_GOOD] += rating >= 4

    closed = Case.objects.filter(status=Status.CLOSED, closed_at__gte=start, closed_at__lt=end)
    if narrow:
        closed = closed.filter(pk__in=touched)
    for row in (
        closed.order_by()
        .values("area_id", "category_id", "lead_unit_id", d=TruncDate("closed_at", tzinfo=tz))
        .annotate(n=Count("id"))
    ):
        acc[(row["d"], row["area_id"], row["category_id"], row["lead_unit_id"])][CLOSED] += row["n"]
    return acc


def _paths(area_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(area_ids))
    paths: dict[int, str] = {}
    for i in range(0, len(ids), 900):
        paths.update(Area.objects.filter(pk__in=ids[i : i + 900]).values_list("pk", "path"))
    return paths


def _rows(acc: dict[StatKey, list[int]]) -> Iterator[tuple[Any, ...]]:
    """The OWN rows of `acc` and their roll-ups (see `StatGrain`)."""
    paths = _paths(key[1] for key in acc)
    top_of = {pk: parent or pk for pk, parent in Category.objects.values_list("pk", "parent_id")}
    rolled: dict[tuple[dt.date, int, str, int, int | None], list[int]] = defaultdict(
        lambda: [0] * len(COUNTERS)
    )
    for (day, area_id, category_id, unit_id), counts in acc.items():
        path = paths[area_id]
        yield (day, StatGrain.OWN, area_id, path, category_id, unit_id, *counts)
        # A case filed above a level (not possible today) stays under its own area there.
        district, street = path[:SEGMENT], path[: 2 * SEGMENT]
        top = top_of[category_id]
        for key in (
            (day, StatGrain.DISTRICT, district, top, unit_id),
            (day, StatGrain.STREET, street, top, unit_id),
            (day, StatGrain.COMMUNITY, path[: 3 * SEGMENT], top, None),
            (day, StatGrain.DISTRICT_LEAF, district, category_id, None),
            (day, StatGrain.STREET_LEAF, street, category_id, None),
        ):
            into = rolled[key]
            for i, n in enumerate(counts):
                into[i] += n
    for (day, grain, above, category, unit_id), counts in rolled.items():
        # A path segment is the area's zero-padded primary key.
        yield (day, grain, int(above[-SEGMENT:]), above, category, unit_id, *counts)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


# Each daily roll-up and its by-week twin.
WEEKLY: dict[int, int] = {
    StatGrain.DISTRICT: StatGrain.DISTRICT_WEEK,
    StatGrain.STREET: StatGrain.STREET_WEEK,
    StatGrain.COMMUNITY: StatGrain.COMMUNITY_WEEK,
    StatGrain.DISTRICT_LEAF: StatGrain.DISTRICT_LEAF_WEEK,
    StatGrain.STREET_LEAF: StatGrain.STREET_LEAF_WEEK,
}


def _week_rows(first: dt.date, last: dt.date) -> Iterator[tuple[Any, ...]]:
    """The by-week rows of the weeks from `first`'s to `last`'s, from the daily roll-ups."""
    daily = (
        CaseStat.objects.filter(
            grain__in=list(WEEKLY),
            day__gte=_monday(first),
            day__lte=_monday(last) + dt.timedelta(days=6),
        )
        .order_by()
        .values("grain", "day", "area_id", "area_path", "category_id", "unit_id")
        .annotate(**SUMS)
    )
    weeks: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(COUNTERS))
    for row in daily:
        key = (
            _monday(row["day"]),
            WEEKLY[row["grain"]],
            row["area_id"],
            row["area_path"],
            row["category_id"],
            row["unit_id"],
        )
        into = weeks[key]
        for i, name in enumerate(COUNTERS):
            into[i] += row[name]
    for key, counts in weeks.items():
        yield (*key, *counts)


def _replace_days(first: dt.date, last: dt.date, *, narrow: bool) -> int:
    """Recompute the rows of the days `first`..`last` (and of their weeks): delete and insert
    in one transaction."""
    columns = ["day", "grain", "area", "area_path", "category", "unit", *COUNTERS]
    weekly = list(WEEKLY.values())
    with transaction.atomic():
        _lock()
        acc = _count_days(first, last, narrow=narrow)
        days = CaseStat.objects.filter(day__gte=first, day__lte=last)
        days.exclude(grain__in=weekly).delete()
        written = len(FastInsert(CaseStat, columns, now=timezone.now()).insert(_rows(acc)))
        CaseStat.objects.filter(
            grain__in=weekly, day__gte=_monday(first), day__lte=_monday(last)
        ).delete()
        insert = FastInsert(CaseStat, columns, now=timezone.now())
        return written + len(insert.insert(_week_rows(first, last)))


def _runs(days: Iterable[dt.date]) -> Iterator[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) runs."""
    ordered = sorted(set(days))
    while ordered:
        first = last = ordered.pop(0)
        while ordered and ordered[0] == last + dt.timedelta(days=1):
            last = ordered.pop(0)
        yield first, last


# The events on whose days a case is counted: its report, and each resolution and closing (a
# later redo or reopening takes one back, and that day must be counted again without it).
COUNTED_EVENTS = ("reported", "resolve", "close", "auto_close")


def stats_refresh(*, since: dt.date | None = None) -> int:
    """Recompute the stat rows of the days from `since` (default: yesterday) to today, and of
    the earlier days of every case that changed since then; returns the rows written.

    A case's figures sit on several days (reported, resolved, closed), and a later move changes
    earlier days: a dispatch gives last month's case its lead unit, a redo takes back last
    week's resolution, a rating or an overdue flag lands on the resolution's day. Every such
    move writes an event, so the earlier days of the cases with events since `since` (the days
    of their reports, resolutions and closings, past and present) are recomputed too. Run it
    every few minutes.
    """
    today = timezone.localdate()
    since = min(since or today - dt.timedelta(days=1), today)
    start = _midnight(since)
    tz = _tz()
    touched = CaseEvent.objects.filter(at__gte=start).values("case_id")
    days: set[dt.date] = {since + dt.timedelta(days=i) for i in range((today - since).days + 1)}
    days.update(
        CaseEvent.objects.filter(case_id__in=touched, at__lt=start, kind__in=COUNTED_EVENTS)
        .order_by()
        .annotate(d=TruncDate("at", tzinfo=tz))
        .values_list("d", flat=True)
        .distinct()
    )
    for moments in Case.objects.filter(pk__in=touched).values_list(
        "created_at", "resolved_at", "closed_at"
    ):
        days.update(m.astimezone(tz).date() for m in moments if m is not None)
    return sum(_replace_days(a, b, narrow=True) for a, b in _runs(d for d in days if d <= today))


def stats_rebuild() -> int:
    """Recompute every stat row from the cases, a month at a time; returns the rows written."""
    first_at = Case.objects.aggregate(first=Min("created_at"))["first"]
    today = timezone.localdate()
    if first_at is None:
        CaseStat.objects.all().delete()
        return 0
    first = first_at.astimezone(_tz()).date()
    CaseStat.objects.filter(Q(day__lt=first) | Q(day__gt=today)).delete()
    written = 0
    while first <= today:
        last = min(first + dt.timedelta(days=REBUILD_CHUNK_DAYS - 1), today)
        written += _replace_days(first, last, narrow=False)
        first = last + dt.timedelta(days=1)
    return written


# ---------------------------------------------------------------------------------------------
# What the page asks for


@dataclass(frozen=True)
class Scope:
    """Whose cases and which of them: the chosen area (or all of the user's areas), the period,
    a top-level category and a lead unit."""

    roots: tuple[Area, ...]  # the areas the breakdown is under: the chosen one, or the user's
    area: Area | None  # the chosen area; None: all of `roots`
    first: dt.date
    last: dt.date
    category: Category | None = None
    unit: Unit | None = None

    @property
    def base(self) -> Area | None:
        """The one area whose children the breakdown lists (None: the roots themselves)."""
        if self.area is not None:
            return self.area
        return self.roots[0] if len(self.roots) == 1 else None

    @property
    def paths(self) -> list[str]:
        return [self.area.path] if self.area is not None else [r.path for r in self.roots]

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def analysis_roots(user: Any) -> list[Area]:
    """The top areas of the user's analysis scope (the districts for a superuser)."""
    paths = visible_paths(user, perm="cases.analyse")
    if paths is None:
        return list(Area.objects.filter(depth=1).order_by("sort_order", "path"))
    return list(Area.objects.filter(path__in=paths).order_by("path"))


def scope_for(
    user: Any,
    *,
    roots: Sequence[Area],
    area_code: str = "",
    first: dt.date,
    last: dt.date,
    category: Category | None = None,
    unit: Unit | None = None,
) -> Scope:
    """The scope of a request; an area outside the user's is not found (404), like any record
    the user may not see."""
    if not has_perm(user, "cases.analyse"):
        raise NotFound()
    area = None
    if area_code:
        area = Area.objects.filter(code=area_code).first()
        if area is None or not any(area.path.startswith(r.path) for r in roots):
            raise NotFound()
    return Scope(tuple(roots), area, first, last, category, unit)


def _within(scope: Scope, field: str) -> Q:
    q = Q(pk__in=[])
    for path in scope.paths:
        q |= subtree_q(path, field)
    return q


def _category_ids(scope: Scope, categories: dict[int, Category]) -> list[int] | None:
    if scope.category is None:
        return None
    top = scope.category.pk
    return [c.pk for c in categories.values() if c.pk == top or c.parent_id == top]


TOP_GRAINS = {
    StatGrain.DISTRICT,
    StatGrain.STREET,
    StatGrain.COMMUNITY,
    StatGrain.DISTRICT_WEEK,
    StatGrain.STREET_WEEK,
    StatGrain.COMMUNITY_WEEK,
}
UNIT_GRAINS = {
    StatGrain.OWN,
    StatGrain.DISTRICT,
    StatGrain.STREET,
    StatGrain.DISTRICT_WEEK,
    StatGrain.STREET_WEEK,
}


def _whole_weeks(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date] | None:
    """The Mondays of the first and the last whole weeks from `first` to `last`, if any."""
    start = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    end = _monday(last + dt.timedelta(days=1)) - dt.timedelta(days=7)
    return (start, end) if start <= end else None


def _stats(
    scope: Scope,
    categories: dict[int, Category],
    *,
    grain: int = StatGrain.OWN,
    areas: Sequence[str] | None = None,
    unit: bool = True,
    period: bool = False,
) -> QuerySet[CaseStat]:
    """Stat rows of `grain`: those of the areas at `areas` exactly, or (OWN grain) every row in
    the scope's subtrees; with the scope's category (and unit, if `unit` and the grain has one).

    `period`: of the scope's period; a long one reads the by-week twin of a roll-up for its
    whole weeks and the daily rows only for the days before and after them."""

    def rows(of: int) -> QuerySet[CaseStat]:
        qs = CaseStat.objects.filter(grain=of)
        if areas is not None:
            qs = qs.filter(area_path__in=list(areas))
        else:
            qs = qs.filter(_within(scope, "area_path"))
        if scope.category is not None:
            if of in TOP_GRAINS:
                qs = qs.filter(category_id=scope.category.pk)
            else:
                qs = qs.filter(category_id__in=_category_ids(scope, categories) or [])
        if unit and scope.unit is not None:
            assert of in UNIT_GRAINS, "this grain has no lead unit"
            qs = qs.filter(unit=scope.unit)
        return qs.order_by()

    daily = rows(grain)
    if not period:
        return daily
    weeks = None
    if scope.days > WEEKLY_AFTER_DAYS and grain in WEEKLY:
        weeks = _whole_weeks(scope.first, scope.last)
    if weeks is None:
        return daily.filter(day__gte=scope.first, day__lte=scope.last)
    start, end = weeks
    edges = Q(day__gte=scope.first, day__lt=start) | Q(
        day__gt=end + dt.timedelta(days=6), day__lte=scope.last
    )
    return daily.filter(edges) | rows(WEEKLY[grain]).filter(day__gte=start, day__lte=end)


@dataclass
class _Plan:
    """Which stat rows answer the page: `by_area` grouped by `key` for the area table; `whole`
    for the totals, units, categories and trend (None: the same rows as `by_area`); `leaf` for
    the categories under a chosen top-level category when `whole` counts top-level ones."""

    by_area: QuerySet[CaseStat]
    key: Any
    whole: QuerySet[CaseStat] | None = None
    leaf: QuerySet[CaseStat] | None = None
    own: bool = False  # `whole` (or `by_area`) are OWN rows: leaf categories and units


def _plan(scope: Scope, categories: dict[int, Category], lines: Sequence[Area]) -> _Plan:
    """A district's or street's figures come from the rows rolled up under it (totals, units,
    categories, trend) and under its children (the area table): a few hundred rows a day
    whatever the number of cases. Below a street, the cases' own rows are few enough. All of
    them rows of the scope's period."""
    base = scope.base
    depths = {r.depth for r in scope.roots}
    level = base.depth if base is not None else (min(depths) if len(depths) == 1 else 99)
    if level > StatGrain.STREET:
        rows = _stats(scope, categories, period=True)
        return _Plan(rows, _area_key(scope, "area_path"), own=True)
    paths = [base.path] if base is not None else scope.paths
    whole = _stats(scope, categories, grain=level, areas=paths, period=True)
    leaf = None
    if scope.category is not None and scope.unit is None:
        leaf = _stats(scope, categories, grain=10 + level, areas=paths, period=True)
    if base is None:  # the roots themselves are the area table's lines
        return _Plan(whole, F("area_path"), None, leaf)
    if level + 1 == StatGrain.COMMUNITY and scope.unit is not None:
        # Community rows have no unit: the street's own rows, by community.
        by_area = _stats(scope, categories, period=True)
        return _Plan(by_area, _area_key(scope, "area_path"), whole, leaf)
    children = _stats(
        scope, categories, grain=level + 1, areas=[a.path for a in lines], period=True
    )
    return _Plan(children, F("area_path"), whole, leaf)


def _cases(scope: Scope, categories: dict[int, Category]) -> QuerySet[Case]:
    qs = Case.objects.filter(_within(scope, "area__path"))
    ids = _category_ids(scope, categories)
    if ids is not None:
        qs = qs.filter(category_id__in=ids)
    if scope.unit is not None:
        qs = qs.filter(lead_unit=scope.unit)
    return qs.order_by()


def _period_cases(scope: Scope, categories: dict[int, Category]) -> QuerySet[Case]:
    """The cases reported in the period: for a district or a street through the (district,
    created_at) index, the district ids coming from the paths (a path segment is the
    zero-padded primary key); for a community or less through the area index."""
    districts = sorted({int(p[:SEGMENT]) for p in scope.paths})
    qs = Case.objects.filter(
        district_id__in=districts,
        created_at__gte=_midnight(scope.first),
        created_at__lt=_midnight(scope.last + dt.timedelta(days=1)),
    )
    if all(len(p) >= 3 * SEGMENT for p in scope.paths):
        # A community or less: every case of its few areas (the area index), then the period.
        areas = list(Area.objects.filter(_within(scope, "path")).values_list("pk", flat=True))
        qs = Case.objects.filter(
            area_id__in=areas,
            created_at__gte=_midnight(scope.first),
            created_at__lt=_midnight(scope.last + dt.timedelta(days=1)),
        )
    elif any(len(p) > SEGMENT for p in scope.paths):
        # A street: the district's period, then its areas (never a join on the area, which
        # would walk every case of every area).
        qs = qs.filter(area_id__in=Area.objects.filter(_within(scope, "path")).values("pk"))
    ids = _category_ids(scope, categories)
    if ids is not None:
        qs = qs.filter(category_id__in=ids)
    if scope.unit is not None:
        qs = qs.filter(lead_unit=scope.unit)
    return qs.order_by()


def _area_key(scope: Scope, field: str) -> Any:
    """The breakdown row a stat or case belongs to: the child of the base area it lies in
    (the base itself for cases filed directly there), or the root it lies under."""
    base = scope.base
    if base is not None:
        return Substr(field, 1, len(base.path) + SEGMENT)
    whens = [When(subtree_q(r.path, field), then=Value(r.path)) for r in scope.roots]
    return Choose(*whens, default=Value(""))


# ---------------------------------------------------------------------------------------------
# Figures


_ADDED = (*COUNTERS, "open_now", "overdue_now")


@dataclass
class Figures:
    """The figures of one row of a table (or of the whole scope)."""

    reported: int = 0
    resolved: int = 0
    closed: int = 0
    on_time: int = 0
    overdue: int = 0  # resolved late
    rating_sum: int = 0
    rating_count: int = 0
    rating_good: int = 0
    handle_seconds_sum: int = 0
    handle_count: int = 0
    open_now: int = 0
    overdue_now: int = 0

    def add(self, row: dict[str, Any]) -> None:
        for name in _ADDED:
            value = row.get(name)
            if value:
                setattr(self, name, getattr(self, name) + int(value))

    @property
    def on_time_rate(self) -> float | None:
        """Per cent of the resolved cases resolved on time."""
        return 100 * self.on_time / self.resolved if self.resolved else None

    @property
    def avg_hours(self) -> float | None:
        """Mean working hours from report to resolution."""
        return self.handle_seconds_sum / self.handle_count / 3600 if self.handle_count else None

    @property
    def avg_rating(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None

    @property
    def good_rate(self) -> float | None:
        """Per cent of the ratings that are 4 or 5."""
        return 100 * self.rating_good / self.rating_count if self.rating_count else None

    @property
    def empty(self) -> bool:
        return not (self.reported or self.resolved or self.closed or self.open_now)


@dataclass
class Line:
    """A row of a breakdown table."""

    key: str
    label: str
    figures: Figures = field(default_factory=Figures)
    code: str = ""  # the area's code, to drill down; the unit's or category's code
    note: str = ""


@dataclass
class Cell:
    lat: float
    lng: float
    count: int


@dataclass
class Recurring:
    label: str
    count: int
    registered: bool  # a registered dwelling (else the same address text)
    area: Area | None = None  # where the address text is (None for a registered dwelling)


@dataclass
class Alert:
    area: Area
    category: Category
    count: int  # reported in the week up to the period's last day
    history: list[int]  # the 8 weeks before, oldest first
    mean: float
    threshold: float


@dataclass
class Report:
    scope: Scope
    total: Figures
    by_area: list[Line]
    by_unit: list[Line]
    by_category: list[Line]
    trend: dict[str, Any]
    hotspots: list[Cell]
    recurring: list[Recurring]
    alerts: list[Alert]
    weekly: bool


SUMS = {name: Sum(name) for name in COUNTERS}
# Every open case has a stage deadline (`services._start_stage`; the SLA worker relies on it
# too) and no other case has one: stated with every light, the open cases are a range of the
# (light, due_at) index, a few per cent of the table, not a scan of all of it.
OPEN_INDEXED = {"light__in": [Light.GREEN, Light.YELLOW, Light.RED], "due_at__isnull": False}
HOTSPOT_CELL = 0.0015  # degrees: about 167 m north–south, 130–150 m east–west in China
HOTSPOTS = 60
PLACES_CASES = 20_000  # the latest cases of a period the hotspots and addresses are read from
RECURRING_MIN = 3
RECURRING_TOP = 20
ALERT_MIN = 3
ALERT_WEEKS = 8
WEEKLY_AFTER_DAYS = 62  # longer periods are charted by week


def categories_by_id() -> dict[int, Category]:
    return {c.pk: c for c in Category.objects.order_by("sort", "code")}


def _top(category: Category) -> int:
    return category.parent_id or category.pk


def analyse(
    scope: Scope, *, categories: dict[int, Category] | None = None, places: bool = False
) -> Report:
    """Everything the analysis page shows, in a constant number of queries; with `places`, the
    hotspots and recurring addresses too (read from the cases, so the page loads them apart)."""
    categories = categories if categories is not None else categories_by_id()
    base = scope.base
    areas = (
        list(Area.objects.filter(parent=base).order_by("sort_order", "path"))
        if base is not None
        else list(scope.roots)
    )
    plan = _plan(scope, categories, areas)
    total = Figures()
    by_area: dict[str, Figures] = defaultdict(Figures)
    by_unit: dict[int | None, Figures] = defaultdict(Figures)
    by_category: dict[int, Figures] = defaultdict(Figures)
    # Under a chosen top-level category, its own categories (where the rows have them).
    leaf = scope.category is not None and (plan.leaf is not None or plan.own)

    def category_key(category_id: int) -> int:
        return category_id if leaf else _top(categories[category_id])

    whole: list[dict[str, Any]]
    if plan.whole is None:
        whole = list(plan.by_area.values("category_id", "unit_id", key=plan.key).annotate(**SUMS))
    else:
        for row in plan.by_area.values(key=plan.key).annotate(**SUMS):
            by_area[row["key"]].add(row)
        whole = list(plan.whole.values("category_id", "unit_id").annotate(**SUMS))
    live = list(
        _cases(scope, categories)
        .filter(status__in=list(OPEN), **OPEN_INDEXED)
        .values("category_id", unit_id=F("lead_unit_id"), key=_area_key(scope, "area__path"))
        .annotate(open_now=Count("id"), overdue_now=Count("id", filter=Q(light=Light.RED)))
        .order_by()
    )
    for row in [*whole, *live]:
        total.add(row)
        if plan.whole is None or "open_now" in row:
            by_area[row["key"]].add(row)
        by_unit[row["unit_id"]].add(row)
    leaf_rows = (
        list(plan.leaf.values("category_id").annotate(**SUMS)) if plan.leaf is not None else whole
    )
    for row in [*leaf_rows, *live]:
        by_category[category_key(row["category_id"])].add(row)

    found = where(scope, categories) if places else Places([], [], 0, None)
    return Report(
        scope=scope,
        total=total,
        by_area=_area_lines(base, areas, by_area),
        by_unit=_unit_lines(by_unit),
        by_category=[
            Line(str(pk), categories[pk].name, figures, code=categories[pk].code)
            for pk, figures in sorted(
                by_category.items(), key=lambda kv: (categories[kv[0]].sort, categories[kv[0]].code)
            )
        ],
        trend=_trend(scope, plan.whole if plan.whole is not None else plan.by_area),
        hotspots=found.cells,
        recurring=found.recurring,
        alerts=alerts(scope, categories),
        weekly=scope.days > WEEKLY_AFTER_DAYS,
    )


def _area_lines(base: Area | None, areas: list[Area], figures: dict[str, Figures]) -> list[Line]:
    lines = [Line(a.path, a.name, figures.get(a.path, Figures()), code=a.code) for a in areas]
    if base is not None and base.path in figures:
        lines.insert(
            0, Line(base.path, base.name, figures[base.path], note=_("filed at this level"))
        )
    known = {line.key for line in lines}
    # A key without a line: an area added since the stats were counted.
    lines += [Line(k, k, f) for k, f in sorted(figures.items()) if k not in known and k]
    return lines


def _unit_lines(figures: dict[int | None, Figures]) -> list[Line]:
    units = {u.pk: u for u in Unit.objects.filter(pk__in=[k for k in figures if k is not None])}
    lines = [
        Line(str(pk), units[pk].name, f, code=units[pk].code)
        for pk, f in figures.items()
        if pk is not None and pk in units
    ]
    lines.sort(key=lambda line: (-line.figures.reported, -line.figures.open_now, line.label))
    if None in figures:
        lines.append(Line("", _("Not dispatched yet"), figures[None]))
    return lines


def top_lines(lines: list[Line], n: int, label: str) -> tuple[list[Line], Line | None]:
    """The first `n` lines, and one line adding up the rest (None if there is no rest)."""
    if len(lines) <= n:
        return lines, None
    rest = Line("", label % {"n": len(lines) - n})
    for line in lines[n:]:
        rest.figures.add(vars(line.figures))
    return lines[:n], rest


def _trend(scope: Scope, period: QuerySet[CaseStat]) -> dict[str, Any]:
    """Reported, resolved and closed per day (per week, Monday first, for long periods)."""
    by_day: Any = F("day")
    if connection.vendor == "sqlite":
        # Grouped by the bare column, SQLite walks the (day, …) unique index of every area to
        # save a sort, instead of the few rows of the area's own index range (300× slower).
        by_day = Cast("day", CharField())
    per_day = {
        row["d"] if isinstance(row["d"], dt.date) else dt.date.fromisoformat(row["d"]): row
        for row in period.values(d=by_day).annotate(
            reported=Sum("reported"), resolved=Sum("resolved"), closed=Sum("closed")
        )
    }
    weekly = scope.days > WEEKLY_AFTER_DAYS
    buckets: dict[dt.date, list[int]] = {}
    day = scope.first
    while day <= scope.last:
        bucket = day - dt.timedelta(days=day.weekday()) if weekly else day
        counts = buckets.setdefault(bucket, [0, 0, 0])
        row = per_day.get(day)
        if row:
            counts[0] += row["reported"] or 0
            counts[1] += row["resolved"] or 0
            counts[2] += row["closed"] or 0
        day += dt.timedelta(days=1)
    return {
        "labels": [d.strftime("%m-%d") for d in buckets],
        "series": [
            {"key": key, "data": [v[i] for v in buckets.values()]}
            for i, key in enumerate(("reported", "resolved", "closed"))
        ],
    }


@dataclass
class Places:
    """Hotspot cells and recurring addresses, from the latest `PLACES_CASES` cases of the
    period at most (`since`: the day the cases counted start, later than the period's first
    when there were more)."""

    cells: list[Cell]
    recurring: list[Recurring]
    cases: int
    since: dt.date | None


def where(scope: Scope, categories: dict[int, Category] | None = None) -> Places:
    """Where cases cluster (locations snapped to cells of about 150 m, busiest first) and the
    places with at least three cases: the same registered dwelling, or (for cases without one)
    the same address text in the same area (“东门口” of one grid is not “东门口” of another).

    Read from the cases themselves, latest first and at most `PLACES_CASES` of them, in one
    pass: a district's quarter can hold a quarter of a million cases, and the latest tens of
    thousands show where the problems are at a bounded cost."""
    categories = categories if categories is not None else categories_by_id()
    rows = _driver_rows(
        _period_cases(scope, categories)
        .order_by("-created_at")
        .values_list("lat", "lng", "dwelling_id", "area_id", "address", "id")[:PLACES_CASES]
    )
    cells: dict[tuple[int, int], int] = defaultdict(int)
    dwellings: dict[int, int] = defaultdict(int)
    texts: dict[tuple[int, str], int] = defaultdict(int)
    for lat, lng, dwelling_id, area_id, address, _pk in rows:
        if lat is not None and lng is not None:
            cells[(math.floor(lat / HOTSPOT_CELL + 0.5), math.floor(lng / HOTSPOT_CELL + 0.5))] += 1
        if dwelling_id is not None:
            dwellings[dwelling_id] += 1
        elif address:
            texts[(area_id, address)] += 1
    busiest = sorted(cells.items(), key=lambda kv: (-kv[1], kv[0]))[:HOTSPOTS]
    n, since = len(rows), None
    if n == PLACES_CASES:
        oldest = Case.objects.values_list("created_at", flat=True).get(pk=rows[-1][-1])
        since = timezone.localtime(oldest, _tz()).date()
    return Places(
        [Cell(round(y * HOTSPOT_CELL, 6), round(x * HOTSPOT_CELL, 6), c) for (y, x), c in busiest],
        _recurring(dwellings, texts),
        n,
        since,
    )


def _driver_rows(qs: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """The rows of a `values_list` queryset as the database driver returns them: without
    Django's per-row conversions, which cost most of the time of tens of thousands of rows.
    Only for columns the driver and Django read alike (numbers, text; not datetimes)."""
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _recurring(dwellings: dict[int, int], texts: dict[tuple[int, str], int]) -> list[Recurring]:
    def top(counts: dict[Any, int]) -> list[tuple[Any, int]]:
        many = [(k, c) for k, c in counts.items() if c >= RECURRING_MIN]
        return sorted(many, key=lambda kc: (-kc[1], str(kc[0])))[:RECURRING_TOP]

    by_dwelling, by_text = top(dwellings), top(texts)
    places: list[Recurring] = []
    if by_dwelling:
        from shequ.registry.models import Dwelling

        names = dict(
            Dwelling.objects.filter(pk__in=[pk for pk, _c in by_dwelling]).values_list(
                "pk", "standard_address"
            )
        )
        places += [Recurring(names.get(pk, "—"), c, True) for pk, c in by_dwelling]
    if by_text:
        areas = {a.pk: a for a in Area.objects.filter(pk__in={k[0] for k, _c in by_text})}
        places += [Recurring(text, c, False, areas.get(area_id)) for (area_id, text), c in by_text]
    places.sort(key=lambda p: (-p.count, p.label, p.area.path if p.area else ""))
    return places[:RECURRING_TOP]


# ---------------------------------------------------------------------------------------------
# Alerts


def jump_threshold(history: Sequence[int]) -> float:
    """How many cases in a week count as a jump over `history` (the weeks before).

    The mean plus three standard deviations, where the deviation is at least the square root
    of the mean (what a Poisson count varies by) and at least 1, so that a quiet category
    (0 or 1 a week) needs a real cluster, not one more case, to raise an alert.
    """
    n = len(history)
    mean = sum(history) / n if n else 0.0
    # Population deviation in floats (statistics.pstdev works in exact fractions: 50× slower
    # for the thousand community × category pairs of a district).
    spread = math.sqrt(sum((x - mean) ** 2 for x in history) / n) if n else 0.0
    return mean + 3 * max(spread, math.sqrt(mean), 1.0)


def is_jump(count: int, history: Sequence[int]) -> bool:
    """An alert: at least three cases this week, and at or above `jump_threshold`."""
    return count >= ALERT_MIN and count >= jump_threshold(history)


def alert_windows(last: dt.date) -> tuple[dt.date, list[dt.date]]:
    """The first day of the 7 days up to `last`, and the Mondays of the 8 calendar weeks
    before the week that day falls in (oldest first): the usual level is measured on whole
    weeks that end before the 7 days begin."""
    start = last - dt.timedelta(days=6)
    monday = _monday(start)
    return start, [monday - dt.timedelta(weeks=k) for k in range(ALERT_WEEKS, 0, -1)]


def alerts(scope: Scope, categories: dict[int, Category]) -> list[Alert]:
    """Top-level categories whose count in a community in the 7 days up to the period's last
    day jumps above their usual level, the 8 calendar weeks before (see `is_jump` and
    `alert_windows`). Below community level (a grid chosen), the chosen area stands for the
    community. Alerts are about places and kinds of problem: the unit filter does not apply."""
    start, mondays = alert_windows(scope.last)
    community_len = StatGrain.COMMUNITY * SEGMENT
    deepest = max(len(p) for p in scope.paths)
    key: Any
    if deepest <= community_len:
        inside = [p for p in scope.paths if len(p) == community_len]
        if len(inside) < len(scope.paths):
            inside += Area.objects.filter(
                _within(scope, "path"), depth=StatGrain.COMMUNITY
            ).values_list("path", flat=True)
        daily = _stats(
            scope, categories, grain=StatGrain.COMMUNITY, areas=sorted(set(inside)), unit=False
        )
        key, key_len = F("area_path"), community_len
    else:
        daily = _stats(scope, categories, unit=False)
        key, key_len = Substr("area_path", 1, deepest), deepest

    def top(category_id: int) -> int:
        return _top(categories[category_id])

    current: dict[tuple[str, int], int] = defaultdict(int)
    for row in (
        daily.filter(day__gte=start, day__lte=scope.last, reported__gt=0)
        .values("category_id", key=key)
        .annotate(n=Sum("reported"))
    ):
        if len(row["key"]) == key_len:  # not filed above community level (not possible today)
            current[(row["key"], top(row["category_id"]))] += row["n"]
    candidates = {pair for pair, n in current.items() if n >= ALERT_MIN}
    if not candidates:
        return []
    if deepest <= community_len:
        history_rows = _stats(
            scope,
            categories,
            grain=StatGrain.COMMUNITY_WEEK,
            areas=sorted({path for path, _top_id in candidates}),
            unit=False,
        ).filter(day__in=mondays, reported__gt=0)
    else:
        history_rows = daily.filter(
            day__gte=mondays[0], day__lte=mondays[-1] + dt.timedelta(days=6), reported__gt=0
        )
    # One row per area and category with a column per week (not a row per week: a district's
    # thousand communities × categories would be eight thousand rows to read).
    by_week = {
        f"w{i}": Sum("reported", filter=Q(day__gte=monday, day__lt=monday + dt.timedelta(days=7)))
        for i, monday in enumerate(mondays)
    }
    history: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0] * ALERT_WEEKS)
    for row in history_rows.values("category_id", key=key).annotate(**by_week):
        pair = (row["key"], top(row["category_id"]))
        if pair in candidates:
            counts = history[pair]
            for i in range(ALERT_WEEKS):
                counts[i] += row[f"w{i}"] or 0
    found = [
        (path, top_id, current[(path, top_id)], history[(path, top_id)])
        for path, top_id in candidates
        if is_jump(current[(path, top_id)], history[(path, top_id)])
    ]
    if not found:
        return []
    named = {a.path: a for a in Area.objects.filter(path__in=[f[0] for f in found])}
    result = [
        Alert(
            area=named[path],
            category=categories[top_id],
            count=count,
            history=weekly,
            mean=sum(weekly) / len(weekly),
            threshold=jump_threshold(weekly),
        )
        for path, top_id, count, weekly in found
        if path in named
    ]
    result.sort(key=lambda a: (-(a.count - a.threshold), a.area.path, a.category.code))
    return result


# ---------------------------------------------------------------------------------------------
# Export

_FILENAME_JUNK = re.compile(r'[\\/:*?"<>|\s]+')


def _figure_cells(f: Figures) -> list[Any]:
    return [
        f.reported,
        f.resolved,
        f.closed,
        f.on_time_rate,
        f.avg_hours,
        f.avg_rating,
        f.good_rate,
        f.open_now,
        f.overdue_now,
    ]


def figure_headers() -> list[str]:
    return [
        _("Reported"),
        _("Resolved"),
        _("Closed"),
        _("On-time rate (%)"),
        _("Average handling (working hours)"),
        _("Average rating"),
        _("Rated 4–5 (%)"),
        _("Open now"),
        _("Overdue now"),
    ]


def describe(scope: Scope) -> str:
    place = scope.area.name if scope.area else "、".join(r.name for r in scope.roots)
    parts = [place, f"{scope.first:%Y-%m-%d} – {scope.last:%Y-%m-%d}"]
    if scope.category:
        parts.append(scope.category.name)
    if scope.unit:
        parts.append(scope.unit.name)
    return " · ".join(parts)


def _workbook(report: Report, *, who: str, when: str) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    number = book.add_format({"num_format": "0.0"})
    title = _("Case analysis")
    book.set_properties({"title": title, "author": who})

    def text(sheet: Any, row: int, col: int, value: str, fmt: Any = None) -> None:
        # Every text through write_string and csv_safe: names and addresses are typed by
        # people, and "=…" must never become a formula.
        sheet.write_string(row, col, audit.csv_safe(str(value)), fmt)

    def cell(sheet: Any, row: int, col: int, value: Any) -> None:
        if value is None:
            text(sheet, row, col, "—")
        elif isinstance(value, float):
            sheet.write_number(row, col, round(value, 2), number)
        elif isinstance(value, int):
            sheet.write_number(row, col, value)
        else:
            text(sheet, row, col, value)

    def table(name: str, first: str, lines: list[Line]) -> None:
        sheet = book.add_worksheet(name)
        for col, header in enumerate([first, *figure_headers()]):
            text(sheet, 0, col, header, head)
        for row, line in enumerate(lines, start=1):
            text(sheet, row, 0, line.label + (f"（{line.note}）" if line.note else ""))
            for col, value in enumerate(_figure_cells(line.figures), start=1):
                cell(sheet, row, col, value)
        sheet.set_column(0, 0, 28)
        sheet.set_column(1, 9, 12)
        sheet.freeze_panes(1, 1)

    summary = book.add_worksheet(_("Summary"))
    text(summary, 0, 0, title, bold)
    text(summary, 1, 0, describe(report.scope))
    text(summary, 2, 0, _("Exported by %(who)s at %(when)s") % {"who": who, "when": when})
    for row, (header, value) in enumerate(
        zip(figure_headers(), _figure_cells(report.total), strict=True), start=4
    ):
        text(summary, row, 0, header)
        cell(summary, row, 1, value)
    summary.set_column(0, 0, 34)
    summary.set_column(1, 1, 14)

    table(_("By area"), _("Area"), report.by_area)
    table(_("By unit"), _("Lead unit"), report.by_unit)
    table(_("By category"), _("Category"), report.by_category)

    trend = book.add_worksheet(_("Trend"))
    for col, header in enumerate(
        [_("Week from") if report.weekly else _("Day"), _("Reported"), _("Resolved"), _("Closed")]
    ):
        text(trend, 0, col, header, head)
    series = report.trend["series"]
    for row, label in enumerate(report.trend["labels"], start=1):
        text(trend, row, 0, label)
        for col, s in enumerate(series, start=1):
            cell(trend, row, col, s["data"][row - 1])

    places = book.add_worksheet(_("Hotspots"))
    for col, header in enumerate([_("Latitude"), _("Longitude"), _("Cases")]):
        text(places, 0, col, header, head)
    for row, c in enumerate(report.hotspots, start=1):
        places.write_number(row, 0, c.lat)
        places.write_number(row, 1, c.lng)
        places.write_number(row, 2, c.count)
    text(places, 0, 4, _("Recurring addresses"), head)
    text(places, 0, 5, _("Cases"), head)
    for row, p in enumerate(report.recurring, start=1):
        text(places, row, 4, p.label + (f"（{p.area.name}）" if p.area else ""))
        places.write_number(row, 5, p.count)
    places.set_column(4, 4, 40)

    warn = book.add_worksheet(_("Alerts"))
    for col, header in enumerate(
        [_("Area"), _("Category"), _("Last 7 days"), _("Usual (mean of 8 weeks)"), _("Threshold")]
    ):
        text(warn, 0, col, header, head)
    for row, a in enumerate(report.alerts, start=1):
        text(warn, row, 0, a.area.name)
        text(warn, row, 1, a.category.name)
        warn.write_number(row, 2, a.count)
        warn.write_number(row, 3, round(a.mean, 2))
        warn.write_number(row, 4, round(a.threshold, 2))
    warn.set_column(0, 1, 20)
    book.close()
    return buffer.getvalue()


def analysis_export(*, actor: Any, scope: Scope) -> tuple[bytes, str]:
    """The analysis as a workbook (one sheet per table); the export is audited."""
    if not has_perm(actor, "cases.analyse"):
        raise NotFound()
    report = analyse(scope, places=True)
    now = timezone.localtime()
    who = getattr(actor, "full_name", "") or actor.get_username()
    content = _workbook(
        report, who=f"{who}（{actor.get_username()}）", when=f"{now:%Y-%m-%d %H:%M}"
    )
    place = scope.area or (scope.roots[0] if len(scope.roots) == 1 else None)
    audit.record(
        actor=actor,
        action="cases.analysis_exported",
        obj=place,
        object_type="" if place else "cases.casestat",
        changes={
            "area": place.code if place else None,
            "from": scope.first.isoformat(),
            "to": scope.last.isoformat(),
            "category": scope.category.code if scope.category else None,
            "unit": scope.unit.code if scope.unit else None,
        },
    )
    name = _FILENAME_JUNK.sub("_", f"{_('Case analysis')}_{describe(scope)}") + ".xlsx"
    return content, name
